// Package shim is the Corral SDK for Go plugins.
//
// A plugin's main function hands its gRPC services to [Serve]:
//
//	func main() {
//		shim.Serve(shim.Plugin{Name: "greeter", Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
//			greeterv1.RegisterGreeterServer(s, &greeter{})
//		})
//	}
//
// Serve reads the instance's environment (CORRAL_INSTANCE_DIR, CORRAL_SOCKET,
// CORRAL_MEMORY_LIMIT, CORRAL_MAX_CONNECTION_AGE[_GRACE]), loads the
// instance's certificates from its directory and serves gRPC over TLS 1.3
// with client certificates required on the instance's Unix socket. Beside the author's services it serves the
// corral.plugin.v1.Control service (handshake, runtime statistics, drain,
// garbage collection on demand, and goroutine dumps, heap and CPU profiles
// streamed in the pprof format) and the standard grpc.health.v1 health
// service.
//
// Every call is authorized by the caller's certificate, as docs/internals.md
// describes: the supervisor and administrators may call anything; clients
// only the author's services, and only when their certificate's plugin scope
// names this plugin.
//
// Certificates rotate: when the supervisor rewrites cert.pem and key.pem,
// new connections are served with the new pair; a pair that does not load
// (broken, mismatched, of another plugin) is logged and the one before kept.
// Connections are recycled: one older than CORRAL_MAX_CONNECTION_AGE (a Go
// duration, default 10m, ±10 %) is asked to go away, and closed with what
// is left on it after CORRAL_MAX_CONNECTION_AGE_GRACE (default 30s); gRPC
// clients reconnect transparently, long streams must be opened again.
//
// Revocation: the supervisor publishes a CRL of its CA at crl.pem in the
// instance directory (PEM, replaced atomically), which go-shim looks at
// every 100 ms. A certificate whose serial it lists is refused in the TLS
// handshake and in every call (Unauthenticated, "certificate serial X is
// revoked"), and its open connections are closed, their calls failing. A
// list that does not parse or is not signed by the CA of ca.pem is logged
// and refused, and the list before stays in force. If the instance's own
// certificate is revoked, that is logged.
//
// A drain, asked for by the supervisor's Drain call or by SIGTERM or SIGINT,
// reports the service NOT_SERVING, lets calls in flight finish within a
// deadline and then stops; Serve then exits the process with status 0.
package shim
