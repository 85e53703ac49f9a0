package main

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// child is the init, a child process of the launcher, handled by its pid as
// os.Process was before pidfds. Not an os.Process: the first one a process
// finds or starts makes the Go runtime probe for pidfd support with a
// vfork'd child of its own, 0.2-0.3 ms on a cold start's critical path.
//
// Signals stay safe against the pid's reuse: Wait marks the child done
// while it is still a zombie holding its pid, and only then reaps it.
type child struct {
	Pid  int
	mu   sync.RWMutex
	done bool
}

// Signal sends sig to the child; os.ErrProcessDone once it has been reaped.
func (c *child) Signal(sig syscall.Signal) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.done {
		return os.ErrProcessDone
	}
	return unix.Kill(c.Pid, sig)
}

// Kill sends the child SIGKILL.
func (c *child) Kill() error {
	return c.Signal(unix.SIGKILL)
}

// Wait waits for the child to exit and reaps it.
func (c *child) Wait() (unix.WaitStatus, error) {
	var info unix.Siginfo
	if err := retryEINTR(func() error { return unix.Waitid(unix.P_PID, c.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil) }); err != nil {
		return 0, fmt.Errorf("wait for pid %d: %w", c.Pid, err)
	}
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	var ws unix.WaitStatus
	if err := retryEINTR(func() error { _, err := unix.Wait4(c.Pid, &ws, 0, nil); return err }); err != nil {
		return 0, fmt.Errorf("reap pid %d: %w", c.Pid, err)
	}
	return ws, nil
}

func retryEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// describeWait says how a child ended, as os.ProcessState does.
func describeWait(ws unix.WaitStatus, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return "signal: " + ws.Signal().String()
	default:
		return fmt.Sprintf("wait status %#x", uint32(ws))
	}
}
