package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// supervise forwards SIGTERM and SIGINT to the plugin and reaps every child
// of the init (as PID 1 it inherits every orphan of the sandbox) until the
// plugin itself has exited. It returns the plugin's wait status.
func supervise(plugin int, signals <-chan os.Signal) syscall.WaitStatus {
	for sig := range signals {
		if sig != unix.SIGCHLD {
			_ = unix.Kill(plugin, sig.(syscall.Signal))
			continue
		}
		if ws, done := reap(plugin); done {
			return ws
		}
	}
	panic("unreachable: the signal channel is never closed")
}

// reap collects every child that has exited. SIGCHLDs coalesce, so one
// notification may stand for many children.
func reap(plugin int) (syscall.WaitStatus, bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil || pid <= 0:
			return 0, false
		case pid == plugin:
			return ws, true
		}
	}
}

// killRemaining kills whatever the plugin left behind in the sandbox and
// reaps it, so that nothing of the sandbox outlives the "exited" report.
func killRemaining() {
	_ = unix.Kill(-1, unix.SIGKILL) // from PID 1: everyone in the namespace but the init
	for {
		_, err := syscall.Wait4(-1, nil, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return // ECHILD: no one is left
		}
	}
}
