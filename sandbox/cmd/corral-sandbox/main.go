// Command corral-sandbox runs one plugin in its own user, pid, mount, network,
// IPC and UTS namespaces, inside cgroups the supervisor prepared.
//
// "corral-sandbox run" is the launcher the supervisor starts: it reads the
// spec on stdin and reports events on fd 3. It re-executes itself as
// "corral-sandbox init", PID 1 of the sandbox, which builds the root and
// starts the plugin. docs/internals.md describes the contracts.
package main

import (
	"fmt"
	"os"
	"runtime"
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
	if len(os.Args) != 2 {
		usage()
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runLauncher())
	case "init":
		os.Exit(runInit())
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: corral-sandbox run   (spec on stdin, events on fd 3)")
	os.Exit(2)
}
