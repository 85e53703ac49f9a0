// Package earlysocket listens on a plugin's instance socket as soon as the
// plugin's process starts, before the packages of gRPC, protobuf and the
// plugin itself are initialized (a few milliseconds of a start).
//
// The supervisor connects when the socket listens. Its side of the
// connection and TLS handshake is then set up while the rest of the process
// initializes, and the handshake waits in the socket until go-shim serves it.
//
// The package depends on syscall only: Go initializes packages in the order
// of their import paths as their imports are ready, so this one comes right
// after syscall, ahead of everything heavy. Nothing happens outside a Corral
// instance (neither CORRAL_SOCKET nor CORRAL_INSTANCE_DIR is set), and if
// listening fails here, go-shim listens later as it would without this
// package, and reports the error then.
package earlysocket

import "syscall"

// The listening socket made at init, until Take hands it over; fd < 0 when
// there is none.
var (
	path string
	fd   = -1
)

func init() {
	path = socketPath()
	if path != "" {
		fd = listen(path)
	}
}

// socketPath is the instance socket as go-shim's environment names it:
// CORRAL_SOCKET, or plugin.sock in CORRAL_INSTANCE_DIR.
func socketPath() string {
	if p, _ := syscall.Getenv("CORRAL_SOCKET"); p != "" {
		return p
	}
	if dir, _ := syscall.Getenv("CORRAL_INSTANCE_DIR"); dir != "" {
		return dir + "/plugin.sock"
	}
	return ""
}

// listen replaces a stale socket at p with a listening one of mode 0600,
// whose mode changes only once it listens: the supervisor watches for that
// change. It returns the socket's descriptor, or -1.
func listen(p string) int {
	if err := syscall.Unlink(p); err != nil && err != syscall.ENOENT {
		return -1
	}
	s, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if err := syscall.Bind(s, &syscall.SockaddrUnix{Name: p}); err != nil {
		syscall.Close(s)
		return -1
	}
	// Only the supervisor connects to this socket: a short backlog will do.
	if err := syscall.Listen(s, syscall.SOMAXCONN); err != nil || syscall.Chmod(p, 0o600) != nil {
		syscall.Close(s)
		syscall.Unlink(p)
		return -1
	}
	return s
}

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
