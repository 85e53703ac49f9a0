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
// CORRAL_MEMORY_LIMIT), loads the instance's certificates from its directory
// and serves gRPC over TLS 1.3 with client certificates required on the
// instance's Unix socket. Beside the author's services it serves the
// corral.plugin.v1.Control service (handshake, runtime statistics, drain) and
// the standard grpc.health.v1 health service.
//
// Every call is authorized by the caller's certificate, as docs/internals.md
// describes: the supervisor and administrators may call anything; clients
// only the author's services, and only when their certificate's plugin scope
// names this plugin.
//
// A drain, asked for by the supervisor's Drain call or by SIGTERM or SIGINT,
// reports the service NOT_SERVING, lets calls in flight finish within a
// deadline and then stops; Serve then exits the process with status 0.
package shim
