// Package earlysocket listens on a plugin's instance socket as soon as the
// plugin's process starts, before the packages of gRPC, protobuf and the
// plugin itself are initialized (a few milliseconds of a start).
//
// The supervisor connects when the socket listens. Its side of the
// connection and TLS handshake is then set up while the rest of the process
// initializes, and the handshake waits in the socket until go-shim serves it.
//
// The supervisor asks for this with CORRAL_EARLY_SOCKET, the socket's path.
// The package removes the variable from the environment as it reads it: a
// process the plugin starts, often its own executable again, must not take
// the socket over. The package depends on syscall only: Go initializes
// packages in the order of their import paths as their imports are ready,
// so this one comes right after syscall, ahead of everything heavy. If
// listening fails here, go-shim listens later, as it does without the
// variable, and reports the error then.
package earlysocket

// Env is the variable that names the socket to listen on at the start.
const Env = "CORRAL_EARLY_SOCKET"

// The listening socket made at init, until Take hands it over; fd < 0 when
// there is none.
var (
	path string
	fd   = -1
)

// Take hands over the socket listening since init, and where it listens:
// once, to the caller, which closes it. ok is false if there is none.
func Take() (socketPath string, socketFD int, ok bool) {
	if fd < 0 {
		return "", -1, false
	}
	socketPath, socketFD = path, fd
	fd = -1
	return socketPath, socketFD, true
}
