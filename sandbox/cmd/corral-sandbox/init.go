package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// stage is one named step of setting up the sandbox; its name is the stage
// of the error event if it fails.
type stage struct {
	name string
	run  func(*release) error
}

// release is what the launcher sends the init to release it: the spec, and
// the mount sources it opened for it, in the order of mountSources.
type release struct {
	spec    *Spec
	sources []int
}

// setupStages run in order inside the new namespaces before the plugin is
// started, after dropPrivileges. The init's main thread runs them and then
// forks the plugin, which inherits its state: its cgroup namespace (per
// thread), and what dropPrivileges and harden set (no_new_privs,
// capabilities, securebits, rlimits, seccomp), which the init applies to
// all its threads so that it holds whichever thread the fork happens on.
// harden comes last: nothing after it may need a syscall the seccomp filter
// refuses.
var setupStages = []stage{
	{"mounts", func(*release) error { return makeMountsPrivate() }},
	{"rootfs", buildRoot},
	{"hostname", func(r *release) error { return unix.Sethostname([]byte(r.spec.Hostname)) }},
	{"network", setUpNetwork},
	{"cgroupns", func(*release) error { return enterCgroupNamespace() }},
	{"harden", func(r *release) error { return harden(r.spec) }},
}

// runInit is "corral-sandbox init": PID 1 of the sandbox. It returns the
// plugin's exit status, or setupFailed.
func runInit() int {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "corral-sandbox: init is started by the launcher, not by hand")
		return setupFailed
	}
	closeOnExecFrom(initChannelFd)
	ch := channel{fd: initChannelFd}

	// Registered before the plugin exists, so no child's exit and no
	// forwarded signal is missed.
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT)

	// Before the spec: a failure is reported once it has come, when the
	// launcher listens.
	dropErr := dropPrivileges()
	rel, err := receiveRelease(ch)
	if err != nil {
		if errors.Is(err, errLauncherGone) {
			return setupFailed
		}
		_ = ch.send(errorEvent("spec", err))
		return setupFailed
	}
	if dropErr != nil {
		closeFds(rel.sources)
		_ = ch.send(errorEvent("privileges", dropErr))
		return setupFailed
	}
	for _, st := range setupStages {
		if err := st.run(rel); err != nil {
			_ = ch.send(errorEvent(st.name, err))
			return setupFailed
		}
	}
	plugin, err := startPlugin(rel.spec)
	if err != nil {
		_ = ch.send(errorEvent("exec", err))
		return setupFailed
	}
	// Sent before anything is reaped, so the plugin's pid is still valid
	// when the kernel translates it for the launcher.
	if err := ch.sendWithPid(event{Type: eventStarted, Pid: plugin}, plugin); err != nil {
		return setupFailed // the launcher is gone; the kernel ends us all
	}
	// Passing another process's pid was the last thing that needed a
	// capability; from here on, signalling and reaping processes of its own
	// uid is all the init does.
	if err := dropCapabilities(); err != nil {
		_ = unix.Kill(plugin, unix.SIGKILL)
		supervise(plugin, signals)
		killRemaining()
		_ = ch.send(errorEvent("harden", err))
		return setupFailed
	}
	ws := supervise(plugin, signals)
	killRemaining()
	_ = ch.send(exitedEvent(ws))
	return exitStatus(ws)
}

var errLauncherGone = errors.New("the launcher closed the channel")

// receiveRelease waits until the launcher has put the init into its
// cgroups and sent the spec with the mount sources.
func receiveRelease(ch channel) (*release, error) {
	msg, err := ch.receive(fixedSources + maxGrants)
	switch {
	case errors.Is(err, errBadMessage):
		return nil, err
	case err != nil:
		return nil, errLauncherGone
	}
	var s Spec
	if err := json.Unmarshal(msg.data, &s); err != nil {
		closeFds(msg.fds)
		return nil, fmt.Errorf("decode spec: %w", err)
	}
	if want := len(mountSources(&s)); len(msg.fds) != want {
		closeFds(msg.fds)
		return nil, fmt.Errorf("%d mount sources came with the spec, want %d", len(msg.fds), want)
	}
	return &release{spec: &s, sources: msg.fds}, nil
}

// pluginPath is where the plugin's binary is mounted inside the sandbox.
const pluginPath = "/plugin"

// startPlugin starts the plugin with exactly the spec's environment and
// arguments; stdin /dev/null, or the launcher's stdin (the init's) if the
// spec says "inherit"; stdout and stderr those of the launcher; in its own
// session. It returns the plugin's pid in the sandbox's namespace.
//
// It must be called on the init's main thread, the one whose cgroup
// namespace enterCgroupNamespace replaced. The fork inherits the harden
// stage's state, so it and the child's steps up to exec get only what the
// seccomp filter allows: no unsharing here.
func startPlugin(spec *Spec) (int, error) {
	var stdin uintptr // 0: the init's stdin, the launcher's
	if spec.Stdin != "inherit" {
		devNull, err := os.Open("/dev/null")
		if err != nil {
			return 0, err
		}
		defer devNull.Close()
		stdin = devNull.Fd()
	}
	argv := append([]string{pluginPath}, spec.Args...)
	pid, err := syscall.ForkExec(pluginPath, argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   spec.environ(),
		Files: []uintptr{stdin, 1, 2},
		Sys: &syscall.SysProcAttr{
			Setsid:    true,
			Pdeathsig: syscall.SIGKILL,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", pluginPath, err)
	}
	return pid, nil
}

// enterCgroupNamespace gives the calling thread, and so the plugin forked
// from it, a cgroup namespace rooted at the instance cgroup, which the init
// is in by now. It is done here rather than at the fork because the
// seccomp filter the fork inherits refuses unshare.
func enterCgroupNamespace() error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare the cgroup namespace: %w", err)
	}
	return nil
}
