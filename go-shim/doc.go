// Package shim is the Corral SDK for Go plugins.
//
// A plugin's main function hands its gRPC services to [Serve]:
//
//	func main() {
//		g := &greeter{} // made once: register is called for every server (see the data socket)
//		shim.Serve(shim.Plugin{Name: "greeter", Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
//			greeterv1.RegisterGreeterServer(s, g)
//		})
//	}
//
// Serve reads the instance's environment (CORRAL_INSTANCE_DIR, CORRAL_SOCKET,
// CORRAL_DATA_SOCKET, CORRAL_MEMORY_LIMIT, CORRAL_MAX_MESSAGE_SIZE,
// CORRAL_MAX_CONNECTION_AGE[_GRACE]), loads the instance's certificates from
// its directory and serves gRPC over TLS 1.3 with client certificates
// required on the instance's Unix socket. Beside the author's services it
// serves the corral.plugin.v1.Control service (handshake, runtime
// statistics, drain, park and unpark, garbage collection on demand,
// goroutine dumps, heap and CPU profiles streamed in the pprof format, and
// call statistics) and the standard grpc.health.v1 health service.
//
// Plugin.UnaryInterceptors and Plugin.StreamInterceptors wrap the calls of
// the author's services (not Control's or health's), inside go-shim's own:
// a call reaches them authorized, counted, and with [Draining] in its context.
//
// A handler that panics fails its own call with codes.Internal ("the handler
// of /pkg.Service/Method panicked: ..."), and go-shim logs the panic with its
// stack; the process, and every other call, go on. (Unrecovered, one bad
// request would end every call in flight with UNAVAILABLE, which clients
// retry, and crash each new instance in turn.) A handler that must not go
// on after a panic, say one holding a lock it cannot release, should
// recover it itself and call os.Exit.
//
// Call statistics: go-shim counts the calls of the author's methods, on both
// sockets, by method and status code, with a histogram of their latency
// (buckets of 0.5 ms to 10 s; a stream is timed whole), and reports them
// in Control.CallStats, which the supervisor calls when its metrics are
// scraped. Control and health calls are not counted.
//
// The data socket: when CORRAL_DATA_SOCKET names one, go-shim also serves the
// author's services and health there, for host applications, on a gRPC
// server of its own with the same certificates, checks and limits; Control
// is not served there (calls to it fail with Unimplemented). The supervisor
// points the plugin's stable address at it (at a hard link of it in a
// directory of its own, which the plugin cannot replace). The data socket serves before
// the instance socket does, so an instance that answers the supervisor's
// handshake is ready for host applications. The instance socket listens
// first: from the process's start when CORRAL_EARLY_SOCKET names it (an
// init function of go-shim's, which runs before the packages of gRPC and
// the plugin are initialized, and removes the variable from the
// environment), so that the supervisor's TLS handshake overlaps the
// process's initialization. The supervisor can park it
// (Control.Park), to send host applications elsewhere while it keeps its
// own connection to the instance, as it does before it pauses the plugin's
// processes: the socket is removed, every connection to it is sent GOAWAY,
// calls that arrive nonetheless fail at once with Unavailable, and those in
// flight have a grace (200 ms unless the request says otherwise) to finish
// before they are ended. Health watches on the data socket end then.
// Control.Unpark serves the socket again, on a new server: register is
// called again for it, so it is called once for every server; a service that
// keeps state is made once, outside register, and registered on each.
//
// Long-lived streams (subscriptions, watches) end when [Draining] of their
// context is closed: a park or a drain has begun, and the client should call
// again, to reach the instance that serves next. One that goes on holds up
// the plugin's stop, restart or hot update until the drain's deadline.
//
// Every message, either way on the data socket, is at most
// CORRAL_MAX_MESSAGE_SIZE bytes long (default 4 MiB), and so is every one
// the instance socket receives; a larger one fails its call with
// ResourceExhausted. What the instance socket sends, which only the
// supervisor reaches, may be up to 16 MiB.
//
// Every call is authorized by the caller's certificate, as docs/internals.md
// describes: the supervisor and administrators may call anything; clients
// only the author's services (and, on the data socket, health), and only
// when their certificate's plugin scope names this plugin.
//
// Certificates rotate: when the supervisor rewrites cert.pem and key.pem,
// new connections are served with the new pair; a pair that does not load
// (broken, mismatched, of another plugin) is logged and the one before kept.
// Connections are recycled: one older than CORRAL_MAX_CONNECTION_AGE (a Go
// duration, default 10m, ±10 %) is asked to go away, and closed with what
// is left on it after CORRAL_MAX_CONNECTION_AGE_GRACE (default 30s); gRPC
// clients reconnect transparently, long streams must be opened again. A
// call still running then loses its answer (its handler is cancelled about
// a second later, and may have finished its work): a client that retries
// UNAVAILABLE, as go-shim/client does, runs it again. Set the grace
// (dataPlane.maxConnectionAgeGrace) above the longest call, or turn
// retrying off for calls not safe to repeat.
//
// Revocation: the supervisor publishes a CRL of its CA at crl.pem in the
// instance directory (PEM, replaced atomically), and then calls
// Control.ReloadTrust, when its handshake said it would (pushes_trust):
// go-shim looks at the file then, and every 10 s besides. For a supervisor
// that does not push, go-shim watches the file with inotify (and polls
// every 100 ms where it cannot); until the handshake it polls. A
// certificate whose serial it lists is refused in the TLS handshake (a
// bad_certificate alert, which go-shim/client reports as Unauthenticated,
// "the plugin refused this application's certificate"; go-shim reads what
// the client sends meanwhile, so the client reads the alert rather than
// fail its write) and in every call on a connection accepted before
// (Unauthenticated, "certificate serial X is revoked"), and its open
// connections are closed, their calls failing. A
// list that does not parse or is not signed by the CA of ca.pem is logged
// and refused, and the list before stays in force. If the instance's own
// certificate is revoked, that is logged.
//
// A drain, asked for by the supervisor's Drain call or by SIGTERM or SIGINT,
// reports the service NOT_SERVING, sends GOAWAY on the data socket's
// connections and then on the instance socket's, lets calls in flight on
// both finish within a deadline and then stops; Serve then exits the process
// with status 0.
//
// Host applications in Go call a plugin through its stable address with
// the subpackage [github.com/corralhq/corral/go-shim/client].
package shim
