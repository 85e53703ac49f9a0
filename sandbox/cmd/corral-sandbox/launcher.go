package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// eventsFd is where the supervisor reads launcher events.
const eventsFd = 3

// parentPidEnv optionally names the pid the launcher expects as its parent,
// so it can tell "my parent died before I could tie myself to it" from "my
// parent is PID 1", which a supervisor in a container may well be.
const parentPidEnv = "CORRAL_SANDBOX_PARENT_PID"

// runLauncher is "corral-sandbox run [--ids UID:GID]". It returns the
// plugin's exit status, or setupFailed.
//
// With --ids, the init is cloned at once, before the spec is read: its
// namespaces and runtime come up while the supervisor is still preparing the
// instance (certificates, cgroup), which takes the launcher's start-up off
// the critical path. The init still runs nothing until it has been moved into
// its cgroups and been sent the spec.
func runLauncher(args []string) int {
	parentAtStart := os.Getppid()
	parentErr := dieWithParent(parentAtStart)
	// If fd 3 was closed, the number is reused by the first file opened
	// (the Go runtime opens cgroup files read-only at start), and events
	// would go astray.
	if flags, err := unix.FcntlInt(eventsFd, unix.F_GETFL, 0); err != nil || flags&unix.O_ACCMODE == unix.O_RDONLY {
		fmt.Fprintln(os.Stderr, "corral-sandbox run: fd 3 (events) is not open for writing")
		return setupFailed
	}
	closeOnExecFrom(eventsFd)
	events := eventWriter{os.NewFile(eventsFd, "events")}
	if parentErr != nil {
		events.emit(errorEvent("launcher", parentErr))
		return setupFailed
	}
	// Registered before anything else so that an early SIGTERM is not lost:
	// it is delivered to the init (and so to the plugin) once there is one.
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, unix.SIGTERM, unix.SIGINT)

	ids, err := parseIDs(args)
	if err != nil {
		events.emit(errorEvent("args", err))
		return setupFailed
	}
	// Opened before the plugin exists, so that every record of its end is
	// after the read position.
	klog := openKernelLog()
	defer klog.close()

	l := launch{events: events, kernelLog: klog}
	if ids != nil {
		if err := l.startInit(*ids); err != nil {
			events.emit(errorEvent("clone", err))
			return setupFailed
		}
	}
	spec, err := readSpec(os.Stdin)
	if err != nil {
		if l.init != nil {
			return l.abort("spec", err)
		}
		events.emit(errorEvent("spec", err))
		return setupFailed
	}
	if ids != nil && (ids.uid != spec.UID || ids.gid != spec.GID) {
		return l.abort("spec", fmt.Errorf("spec ids %d:%d differ from --ids %d:%d", spec.UID, spec.GID, ids.uid, ids.gid))
	}
	l.spec = spec
	return l.run(signals)
}

// ids are the host uid and gid that root inside the sandbox maps to.
type ids struct{ uid, gid int }

// parseIDs reads the optional "--ids UID:GID" arguments.
func parseIDs(args []string) (*ids, error) {
	switch {
	case len(args) == 0:
		return nil, nil
	case len(args) != 2 || args[0] != "--ids":
		return nil, fmt.Errorf("unexpected arguments %q", args)
	}
	var i ids
	if _, err := fmt.Sscanf(args[1], "%d:%d", &i.uid, &i.gid); err != nil {
		return nil, fmt.Errorf("--ids %q: want UID:GID", args[1])
	}
	if err := checkIDs(i.uid, i.gid); err != nil {
		return nil, fmt.Errorf("--ids: %w", err)
	}
	return &i, nil
}

// dieWithParent asks for SIGKILL when the supervisor dies, then makes sure
// it had not died already.
func dieWithParent(parentAtStart int) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent-death signal: %w", err)
	}
	want := parentAtStart
	if s := os.Getenv(parentPidEnv); s != "" {
		pid, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%s=%q is not a pid", parentPidEnv, s)
		}
		want = pid
	}
	if os.Getppid() != want {
		return errors.New("the supervisor is already gone")
	}
	return nil
}

func readSpec(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("read spec: longer than %d bytes", maxSpecBytes)
	}
	return decodeSpec(data)
}

// launch is one run of the launcher, from starting the init to its exit.
type launch struct {
	spec      *Spec
	events    eventWriter
	kernelLog kernelLog
	init      *exec.Cmd
	channel   channel
}

func (l *launch) run(signals <-chan os.Signal) int {
	if l.init == nil {
		if err := l.startInit(ids{l.spec.UID, l.spec.GID}); err != nil {
			l.events.emit(errorEvent("clone", err))
			return setupFailed
		}
	}
	defer l.channel.close()
	go forwardSignals(signals, l.init.Process)

	if err := joinCgroups(l.init.Process.Pid, l.spec.CgroupProcs); err != nil {
		return l.abort("cgroup", err)
	}
	l.events.emit(event{Type: eventInit, Pid: l.init.Process.Pid})
	sources, err := openMountSources(l.spec)
	if err != nil {
		return l.abort("mount-sources", err)
	}
	err = l.channel.send(l.spec, sources...)
	closeFds(sources) // the init has its own now, or never will
	if err != nil {
		return l.abort("release", err)
	}
	return l.relayReports()
}

// startInit clones the init into its new namespaces. It stays blocked on the
// channel until the launcher sends it the spec.
func (l *launch) startInit(ids ids) error {
	ch, initEnd, err := newChannelPair()
	if err != nil {
		return err
	}
	defer initEnd.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"corral-sandbox", "init"},
		Env:        []string{"GOMAXPROCS=1"}, // the init mostly waits; fewer threads count less against pids.max
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{initEnd}, // becomes initChannelFd
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
				syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: ids.uid, Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: ids.gid, Size: 1}},
			GidMappingsEnableSetgroups: false,
			// Without this the init would keep host root's ids, which the
			// new namespace does not map, and have no capabilities in it.
			Credential: &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		ch.close()
		return fmt.Errorf("start init: %w", err)
	}
	l.init = cmd
	l.channel = ch
	return nil
}

// joinCgroups moves pid (and so everything it will start) into each cgroup.
func joinCgroups(pid int, procsFiles []string) error {
	for _, path := range procsFiles {
		if err := writeExisting(path, strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// writeExisting writes to a file that must exist: cgroup files are never
// created, and creating one by mistake would hide a wrong path.
func writeExisting(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// abort kills the init before it ran anything and reports why.
func (l *launch) abort(stage string, err error) int {
	_ = l.init.Process.Kill()
	_ = l.init.Wait()
	l.events.emit(errorEvent(stage, err))
	return setupFailed
}

// relayReports turns the init's reports into events until the init is
// gone, then returns the launcher's exit status.
func (l *launch) relayReports() int {
	var started, ended bool
	var plugin int // its host pid
	for !ended {
		msg, err := l.channel.receive(0)
		if errors.Is(err, errBadMessage) {
			continue // dropped, its fds closed
		}
		if err != nil {
			break // EOF: the init is gone (or going)
		}
		var e event
		if err := json.Unmarshal(msg.data, &e); err != nil {
			continue
		}
		switch e.Type {
		case eventStarted:
			e.Pid = msg.pid // the kernel translated it to our namespace
			plugin = e.Pid
			started = true
		case eventExited:
			ended = true
			e.Syscall = ""
			if e.Signal == unix.SignalName(unix.SIGSYS) && plugin > 0 {
				e.Syscall, _ = l.kernelLog.seccompKill(plugin, auditWait)
			}
		case eventError:
			ended = true
		default:
			continue
		}
		l.events.emit(e)
	}
	_ = l.init.Wait()
	ws, _ := l.init.ProcessState.Sys().(syscall.WaitStatus)

	switch {
	case ended && ws.Exited():
		return ws.ExitStatus() // the init exits with the plugin's status, or setupFailed
	case started:
		// The init died without a word (killed, or crashed): the plugin went
		// with its pid namespace.
		sig := syscall.SIGKILL
		if ws.Signaled() {
			sig = ws.Signal()
		}
		if !ended {
			l.events.emit(killedEvent(sig))
		}
		return 128 + int(sig)
	default:
		if !ended {
			l.events.emit(errorEvent("init", fmt.Errorf("the init ended (%v) before the plugin started", l.init.ProcessState)))
		}
		return setupFailed
	}
}

// forwardSignals passes SIGTERM and SIGINT on to the init, which passes
// them on to the plugin. Process.Signal is safe after the init was reaped.
func forwardSignals(signals <-chan os.Signal, init *os.Process) {
	for sig := range signals {
		_ = init.Signal(sig)
	}
}
