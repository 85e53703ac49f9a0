package earlysocket

import "syscall"

func init() {
	path = consumeEnv()
	if path != "" {
		fd = listen(path)
	}
}

// consumeEnv returns the value of Env and removes it from the environment.
func consumeEnv() string {
	p, ok := syscall.Getenv(Env)
	if ok {
		syscall.Unsetenv(Env)
	}
	return p
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
