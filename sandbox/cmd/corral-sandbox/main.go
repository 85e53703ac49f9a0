// Command corral-sandbox runs one plugin in its own user, pid, mount, network,
// IPC and UTS namespaces, inside cgroups the supervisor prepared.
//
// "corral-sandbox run" is the launcher the supervisor starts: it reads the
// spec on stdin and reports events on fd 3. It clones corral-sandbox-init
// (C, beside this binary; sandbox/cmd/corral-sandbox-init) as PID 1 of the
// sandbox, and releases it with what the spec asks (release.go); the init
// builds the root and starts the plugin. docs/internals.md describes the
// contracts.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// setupFailed is the exit status of the launcher and the init when the
// sandbox could not be set up (docs/internals.md).
const setupFailed = 125

func init() {
	// Parent-death signals fire when the thread that set them (or that
	// started the child) exits, not the process. Keeping main on the main
	// thread for good makes both tie to the process's lifetime.
	runtime.LockOSThread()
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "run":
		code := runLauncher(os.Args[2:])
		// Nothing of the sandbox is left by now. Its output and the events
		// end here, so the supervisor need not wait for the exit of every
		// thread of this process.
		for _, fd := range []int{eventsFd, 1, 2} {
			_ = unix.Close(fd)
		}
		os.Exit(code)
	case "instances-fs":
		os.Exit(runInstancesFs(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: corral-sandbox run [--ids|--owner UID:GID] [--spec-fd N]   (spec on fd N, default stdin; events on fd 3)")
	fmt.Fprintln(os.Stderr, "       corral-sandbox instances-fs mount|unmount DIR   (the tmpfs of the supervisor's instance directories)")
	os.Exit(2)
}

// closeOnExecFrom marks every fd from first on close-on-exec. Go opens its
// own fds that way, but fds inherited from whoever started the supervisor
// are not, and exec would otherwise hand them on into the sandbox.
func closeOnExecFrom(first int) {
	if unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	// Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
}
