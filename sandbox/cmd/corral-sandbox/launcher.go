package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// eventsFd is where the supervisor reads launcher events.
const eventsFd = 3

// parentPidEnv optionally names the pid the launcher expects as its parent,
// so it can tell "my parent died before I could tie myself to it" from "my
// parent is PID 1", which a supervisor in a container may well be.
const parentPidEnv = "CORRAL_SANDBOX_PARENT_PID"

// dropSupplementaryGroups drops the process's supplementary groups, if it
// has any. Setgroups changes every thread's credentials, the runtime
// stopping each thread in turn to do it: 1-2 ms this early in the
// launcher's start, on the path of every cold start, for nothing when there
// are none (the front dropped them, or the caller had none). Every thread
// was cloned from the first with the groups it had, so one thread's
// groups are all threads'.
func dropSupplementaryGroups() error {
	groups, err := unix.Getgroups()
	if err == nil && len(groups) == 0 {
		return nil
	}
	return syscall.Setgroups(nil)
}

// runLauncher is "corral-sandbox run [--ids UID:GID] [--spec-fd N]". It
// returns the plugin's exit status, or setupFailed.
//
// The init is cloned at once, before the spec is read: its namespaces come
// up and it drops its privileges while the supervisor is still preparing the
// instance (certificates, cgroup), which takes that off the critical path.
// With --ids its ids are mapped at once; without, they are mapped once the
// spec names them, and the init, which until then has none (it waits, and
// runs nothing else), moves itself into the instance cgroups (startUnmapped).
// Either way it runs nothing of the plugin's until it is in its cgroups and
// has been sent its release.
//
// The spec is read from fd N (default 0, stdin). With another fd, the
// launcher's stdin is free to be the plugin's (spec "stdin": "inherit"), and
// the init gets it from the start.
func runLauncher(args []string) int {
	traceAt("launcher", "start", processStart)
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
	eventsFile := os.NewFile(eventsFd, "events")
	events := newEventWriter(eventsFile)
	// The caller's supplementary groups (host gid 0 under sudo, say) would
	// follow into the sandbox, where setgroups is denied and nothing could
	// drop them. (The front, when there is one, has dropped them already.)
	if err := dropSupplementaryGroups(); err != nil && os.Geteuid() == 0 {
		events.emit(errorEvent("launcher", fmt.Errorf("dropping the supplementary groups: %w", err)))
		return setupFailed
	}
	if parentErr != nil {
		events.emit(errorEvent("launcher", parentErr))
		return setupFailed
	}
	// Registered before anything else so that an early SIGTERM is not lost:
	// it is delivered to the init (and so to the plugin) once there is one.
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, unix.SIGTERM, unix.SIGINT)

	// Checked before the launcher opens any file of its own, which would
	// otherwise take a closed spec fd's number.
	opts, err := parseArgs(args)
	if err != nil {
		events.emit(errorEvent("args", err))
		return setupFailed
	}
	// Opened before the plugin exists, so that every record of its end is
	// after the read position.
	klog := openKernelLog()
	defer klog.close()

	l := launch{events: events, kernelLog: klog, stdinToInit: opts.specFd != 0, parentAtStart: parentAtStart}
	if opts.owner != nil {
		l.owner = *opts.owner
	}
	if opts.ids != nil {
		if code, ok := l.startEarly(*opts.ids, opts.cgroups); !ok {
			return code
		}
	}
	trace("launcher", "ready")
	spec, err := l.readSpecCloning(opts)
	trace("launcher", "spec")
	if err == nil && spec.Stdin == "inherit" && !l.stdinToInit {
		err = errors.New(`stdin "inherit" needs the spec on another fd than stdin (--spec-fd)`)
	}
	if err == nil && opts.owner != nil && (opts.owner.uid != spec.UID || opts.owner.gid != spec.GID) {
		flag := "--owner"
		if opts.ids != nil {
			flag = "--ids"
		}
		err = fmt.Errorf("spec ids %d:%d differ from %s %d:%d", spec.UID, spec.GID, flag, opts.owner.uid, opts.owner.gid)
	}
	if err == nil && l.init != nil && l.unmapped {
		// Made before the spec, by the front or by startUnmapped: as the
		// ids it names, which own its user namespace, the kernel says. The
		// uid only: a namespace's owner is a uid, to which the kernel
		// charges what is made in it; nothing is charged to a gid.
		if owner, ownerErr := nsOwner(l.init.Pid); ownerErr != nil {
			err = fmt.Errorf("the early init's user namespace: %w", ownerErr)
		} else if owner != spec.UID {
			err = fmt.Errorf("spec uid %d differs from the owner %d of the early init's user namespace", spec.UID, owner)
		}
	}
	if err == nil && len(opts.cgroups) > 0 && !slices.Equal(opts.cgroups, spec.CgroupProcs) {
		err = fmt.Errorf("spec cgroupProcs %q differ from --cgroups %q", spec.CgroupProcs, opts.cgroups)
	}
	if err != nil {
		if l.init != nil {
			return l.abort("spec", err)
		}
		events.emit(errorEvent("spec", err))
		return setupFailed
	}
	l.spec = spec
	l.owner = ids{spec.UID, spec.GID}
	code := l.run(signals)
	// Nothing of the sandbox is left (the init is reaped): the supervisor
	// may take the reported end as final now, rather than after this
	// process's own exit, which takes a while longer on a busy host.
	_ = eventsFile.Close()
	return code
}

// ids are the host uid and gid that root inside the sandbox maps to.
type ids struct{ uid, gid int }

// launcherArgs are the options of "corral-sandbox run".
type launcherArgs struct {
	ids *ids
	// owner (--owner, or --ids) owns the sandbox's user namespace: the
	// spec's ids, known before the spec. Without, the init is cloned only
	// once the spec is read.
	owner *ids
	// ownerLater (--owner-fd): the owner is not known yet; the front reads
	// it from that fd and makes the namespaces with it, and the launcher
	// adopts the init they made once their owner is checked against the
	// spec (nsOwner).
	ownerLater bool
	specFd     int
	// cgroups (with ids) are the cgroup.procs files the early init is
	// placed in at once, before the spec: a warm launcher's cgroup.
	cgroups []string
}

// parseArgs reads the optional "--ids UID:GID" and "--spec-fd N" arguments.
func parseArgs(args []string) (launcherArgs, error) {
	var opts launcherArgs
	ownerFd := -1
	seen := map[string]bool{}
	for len(args) > 0 {
		name := args[0]
		if (name != "--ids" && name != "--owner" && name != "--owner-fd" && name != "--spec-fd" && name != "--cgroups") || len(args) < 2 || seen[name] {
			return opts, fmt.Errorf("unexpected arguments %q", args)
		}
		seen[name] = true
		var err error
		switch name {
		case "--ids":
			opts.ids, err = parseIDs(name, args[1])
		case "--owner":
			opts.owner, err = parseIDs(name, args[1])
		case "--owner-fd":
			// The front's to read: only checked here, as the front does.
			fd, convErr := strconv.Atoi(args[1])
			if convErr != nil || fd <= eventsFd {
				err = fmt.Errorf("--owner-fd %q: want a file descriptor above %d", args[1], eventsFd)
			}
			opts.ownerLater, ownerFd = true, fd
		case "--spec-fd":
			opts.specFd, err = parseSpecFd(args[1])
		case "--cgroups":
			opts.cgroups = strings.Split(args[1], ",")
			err = checkProcsFiles(opts.cgroups)
		}
		if err != nil {
			return opts, err
		}
		args = args[2:]
	}
	if len(opts.cgroups) > 0 && opts.ids == nil {
		return opts, errors.New("--cgroups needs --ids")
	}
	if opts.ids != nil && opts.owner != nil {
		return opts, errors.New("--owner and --ids: --ids names the owner too")
	}
	if opts.ownerLater && (opts.ids != nil || opts.owner != nil) {
		return opts, errors.New("--owner-fd with --owner or --ids: the owner is named once")
	}
	if opts.ownerLater && ownerFd == opts.specFd {
		return opts, fmt.Errorf("--owner-fd %d is the spec's fd", ownerFd)
	}
	if opts.ids != nil {
		opts.owner = opts.ids
	}
	return opts, nil
}

// startEarly clones the init before the spec (--ids), and with --cgroups
// places it in its cgroups right away, while nothing waits for it. Without,
// the init moves itself into the spec's once it has its release, as one
// cloned by startUnmapped does. It reports the exit status when it failed.
func (l *launch) startEarly(ids ids, cgroups []string) (int, bool) {
	join, cloneErr, cgroupErr := l.startInitInCgroups(&ids, "none", cgroups)
	switch {
	case cgroupErr != nil && l.init != nil:
		return l.abort("cgroup", cgroupErr), false
	case cgroupErr != nil:
		l.events.emit(errorEvent("cgroup", cgroupErr))
		return setupFailed, false
	case cloneErr != nil:
		l.events.emit(errorEvent("clone", cloneErr))
		return setupFailed, false
	}
	if err := joinCgroups(l.init.Pid, join); err != nil {
		return l.abort("cgroup", err), false
	}
	l.placed = len(cgroups) > 0
	return 0, true
}

// readSpecCloning reads the spec. Without --ids it first adopts the init
// the front made; failing that, it clones one meanwhile (startUnmapped), on
// the main thread, the spec read on another.
func (l *launch) readSpecCloning(opts launcherArgs) (*Spec, error) {
	specFile := os.NewFile(uintptr(opts.specFd), "spec")
	if opts.ownerLater {
		// The front's init if it made one; else the init is cloned after
		// the spec, as the spec's ids.
		l.adoptEarlyInit()
		return readSpec(specFile)
	}
	// Without an owner known before the spec, the init is cloned after it.
	if opts.ids != nil || opts.owner == nil || l.adoptEarlyInit() {
		return readSpec(specFile)
	}
	type read struct {
		spec *Spec
		err  error
	}
	done := make(chan read, 1)
	go func() {
		spec, err := readSpec(specFile)
		done <- read{spec, err}
	}()
	l.startUnmapped()
	r := <-done
	return r.spec, r.err
}

// earlyInitEnv, set by the front (sandbox/cmd/corral-sandbox-init, "front")
// that execs the launcher in its place, as "PID FD": the pid of the front's
// fork, which makes the namespaces and forks the init into them, and the
// launcher's end of the init's channel.
const earlyInitEnv = "CORRAL_SANDBOX_EARLY_INIT"

// adoptEarlyInit takes on the init the front's fork made, if there is one:
// once the fork has ended, the init is a child of this process (a child
// subreaper), in namespaces of its own, its ids not mapped yet, as
// startUnmapped would have made it. Its hello on the channel tells its pid.
// It reports whether it did.
func (l *launch) adoptEarlyInit() bool {
	value, ok := os.LookupEnv(earlyInitEnv)
	if !ok {
		return false
	}
	_ = os.Unsetenv(earlyInitEnv)
	var mid, fd int
	if _, err := fmt.Sscanf(value, "%d %d", &mid, &fd); err != nil || mid <= 0 || fd <= eventsFd {
		return false
	}
	unix.CloseOnExec(fd)
	ch := channel{fd: fd}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(mid, &ws, 0, nil)
		if err != unix.EINTR {
			if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
				ch.close()
				return false
			}
			break
		}
	}
	msg, err := ch.receive(0)
	if err == nil {
		var e event
		if json.Unmarshal(msg.data, &e) != nil || e.Type != eventHello {
			err = fmt.Errorf("unexpected message %q", msg.data)
		}
	}
	var proc *child
	if err == nil {
		proc, err = adoptChild(msg.pid, fd)
	}
	if err != nil {
		ch.close() // an init left, if any, ends on it
		return false
	}
	l.init, l.channel, l.unmapped = proc, ch, true
	trace("launcher", "adopted")
	return true
}

// adoptChild checks that pid is a child of this process and fd a socket, and
// returns the child.
func adoptChild(pid, fd int) (*child, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, fmt.Errorf("fd %d is not a socket", fd)
	}
	if pid <= 0 {
		return nil, errors.New("no pid")
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	// pid (comm) state ppid ...; comm may hold anything but ")".
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
		return nil, fmt.Errorf("pid %d is not a child of the launcher", pid)
	}
	return &child{Pid: pid}, nil
}

// startUnmapped clones the init before the spec without --ids: into its
// namespaces, but with no uid or gid mapped in its user namespace yet, and
// with its capabilities there kept through the exec as ambient ones (an
// unmapped uid is not root). run maps the spec's ids once it has them; the
// init then takes them (setresuid/setresgid to 0) before anything else, and
// moves itself into the instance cgroups through the v1 tasks files the
// launcher opens for it: a thread moving itself skips the kernel's global
// threadgroup lock, which moving it from outside would wait on (an RCU grace
// period, 8-33 ms under load). Until then it runs nothing but its own start.
// If the clone fails, run clones the init the usual way once the spec is in.
//
// It runs on the main thread, which lives as long as the process: the
// init's parent-death signal fires when the thread that cloned it ends.
func (l *launch) startUnmapped() {
	l.unmapped = l.startInit(nil, "none", nil) == nil
}

func parseIDs(flag, arg string) (*ids, error) {
	var i ids
	if _, err := fmt.Sscanf(arg, "%d:%d", &i.uid, &i.gid); err != nil {
		return nil, fmt.Errorf("%s %q: want UID:GID", flag, arg)
	}
	if err := checkIDs(i.uid, i.gid); err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return &i, nil
}

// parseSpecFd reads "--spec-fd N": stdin, or an fd above the events' that
// is open for reading.
func parseSpecFd(arg string) (int, error) {
	fd, err := strconv.Atoi(arg)
	if err != nil || (fd != 0 && fd <= eventsFd) {
		return 0, fmt.Errorf("--spec-fd %q: want 0 or a number above %d", arg, eventsFd)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_ACCMODE == unix.O_WRONLY {
		return 0, fmt.Errorf("--spec-fd %d: not open for reading", fd)
	}
	return fd, nil
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

// readSpec reads the spec from f to its end, then closes f.
// The spec is the one JSON object on the spec fd, and is read as far as its
// closing brace, not to the end of the stream: the supervisor's end of it is
// closed a moment after the write, on a later turn of its event loop, time
// that a start need not wait for.
func readSpec(f *os.File) (*Spec, error) {
	defer f.Close()
	var data json.RawMessage
	limited := &io.LimitedReader{R: f, N: maxSpecBytes + 1}
	if err := json.NewDecoder(limited).Decode(&data); err != nil {
		if limited.N <= 0 {
			return nil, fmt.Errorf("read spec: longer than %d bytes", maxSpecBytes)
		}
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return decodeSpec(data)
}

// launch is one run of the launcher, from starting the init to its exit.
type launch struct {
	spec      *Spec
	events    eventWriter
	kernelLog kernelLog
	// stdinToInit: the launcher's stdin is not the spec's, and the init
	// gets it, for the plugin if the spec says so.
	stdinToInit bool
	// parentAtStart: the supervisor, whose death must end the launcher.
	parentAtStart int
	// owner: the ids that own the sandbox's user namespace (asOwner): the
	// spec's, or before the spec --ids or --owner, which it must name.
	owner   ids
	init    *child
	channel channel
	// placed: the init was put in the spec's cgroups when it was cloned.
	placed bool
	// unmapped: the init was cloned before the spec, its ids not mapped yet
	// (startUnmapped).
	unmapped bool
	// selfPlaced: the init is to move itself into the v1 cgroups through
	// the tasks files sent with its release; the init event waits for its
	// report of that.
	selfPlaced bool
}

func (l *launch) run(signals <-chan os.Signal) int {
	if l.init != nil && l.spec.Network == "host" {
		// The init cloned ahead (before the spec) has a network namespace of
		// its own, which it cannot leave for the host's: that needs privilege
		// over the host's. A plugin on the host network starts from a new
		// clone.
		l.discardInit()
	}
	join := l.spec.CgroupProcs // the cgroup.procs files the init is still to be written into
	if l.init != nil && l.placed {
		join = nil
	}
	var tasks []int // the v1 tasks files an init cloned ahead moves itself into
	defer func() { closeFds(tasks) }()
	if l.init != nil && l.unmapped {
		if err := mapIDs(l.init.Pid, ids{l.spec.UID, l.spec.GID}); err != nil {
			return l.abort("clone", err)
		}
		l.unmapped = false
	}
	if l.init != nil && !l.placed {
		// An init cloned ahead, not in its cgroups yet: it moves itself into
		// the v1 ones (startUnmapped tells why).
		var err error
		if tasks, join, err = openSelfMove(l.spec.CgroupProcs); err != nil {
			return l.abort("cgroup", err)
		}
		l.selfPlaced = len(tasks) > 0
	}
	if l.init == nil {
		var cloneErr, cgroupErr error
		join, cloneErr, cgroupErr = l.startInitInCgroups(&ids{l.spec.UID, l.spec.GID}, l.spec.Network, l.spec.CgroupProcs)
		switch {
		case cgroupErr != nil && l.init != nil:
			return l.abort("cgroup", cgroupErr)
		case cgroupErr != nil:
			l.events.emit(errorEvent("cgroup", cgroupErr))
			return setupFailed
		case cloneErr != nil:
			l.events.emit(errorEvent("clone", cloneErr))
			return setupFailed
		}
	}
	defer func() { l.channel.close() }() // the channel of the init in the end
	go forwardSignals(signals, l.init)

	trace("launcher", "cloned")
	if err := joinCgroups(l.init.Pid, join); err != nil {
		return l.abort("cgroup", err)
	}
	if !l.selfPlaced {
		l.events.emit(event{Type: eventInit, Pid: l.init.Pid})
	}
	filter, err := seccompPolicy()
	if err != nil {
		return l.abortPlaced("harden", err)
	}
	sources, err := openMountSources(l.spec)
	if err != nil {
		return l.abortPlaced("mount-sources", err)
	}
	trace("launcher", "sources")
	err = l.channel.sendBytes(encodeRelease(l.spec, filter, len(tasks)), append(sources, tasks...)...)
	closeFds(sources) // the init has its own now, or never will
	closeFds(tasks)
	tasks = nil
	if err != nil {
		return l.abort("release", err)
	}
	trace("launcher", "released")
	if err := watchOOM(l.spec.CgroupProcs, l.events); err != nil {
		// Not fatal: the supervisor's samples see the kill count all the same, later.
		trace("launcher", "oom-watch: "+err.Error())
	}
	code := l.relayReports()
	trace("launcher", "end")
	return code
}

// startInit clones the init into its new namespaces: all of them, but with
// network "host" not a network namespace. It stays blocked on the channel
// until the launcher sends it its release. With ids nil, none are mapped
// (startUnmapped). With cgroupDir (a cgroup v2 directory, open), the init
// starts in that cgroup (clone3 with CLONE_INTO_CGROUP).
func (l *launch) startInit(ids *ids, network string, cgroupDir *os.File) error {
	initFile, err := openInit()
	if err != nil {
		return err
	}
	defer initFile.Close()
	ch, initEnd, err := newChannelPair()
	if err != nil {
		return err
	}
	defer initEnd.Close()
	flags := syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	if network != "host" {
		flags |= syscall.CLONE_NEWNET
	}
	var stdin *os.File // nil: /dev/null
	if l.stdinToInit {
		stdin = os.Stdin
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(int(initFile.Fd())),
		Args:       []string{initBinary},
		Env:        initEnv(),
		Stdin:      stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{initEnd}, // becomes initChannelFd
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: uintptr(flags),
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	if cgroupDir != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgroupDir.Fd())
	}
	if ids != nil {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: ids.uid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: ids.gid, Size: 1}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
		// Without this the init would keep host root's ids, which the new
		// namespace does not map, and have no capabilities in it.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	} else {
		caps, err := allCapabilities()
		if err != nil {
			ch.close()
			return err
		}
		// Unmapped, the init is not root in its namespace: exec would take
		// its capabilities there, but for ambient ones.
		cmd.SysProcAttr.AmbientCaps = caps
	}
	trace("launcher", "clone")
	if err := asOwner(l.owner, cmd.Start); err != nil {
		ch.close()
		return fmt.Errorf("start init: %w", err)
	}
	// Handled by pid from here on, like an adopted init.
	l.init = &child{Pid: cmd.Process.Pid}
	_ = cmd.Process.Release()
	l.channel = ch
	// asOwner's change of ids cleared this thread's parent-death signal: set
	// again, and had the supervisor died meanwhile, when its death could not
	// end this process, nobody is left to tell. The init, whose parent-death
	// signal is this thread's, ends with it.
	if err := dieWithParent(l.parentAtStart); err != nil {
		os.Exit(setupFailed)
	}
	return nil
}

// startInitInCgroups clones the init (startInit) into the instance cgroups.
// A cgroup v2 cgroup takes it at the clone itself (CLONE_INTO_CGROUP, Linux
// 5.7): no migration, which would wait for the kernel's global threadgroup
// lock (an RCU grace period, 8-33 ms under load). For the v1 hierarchies the
// calling thread, the launcher's locked main thread, moves itself into them,
// clones the init, and moves back into its own before the launcher does
// anything more (threadMove). rest are the cgroup.procs files the init must
// still be written into: the v2 one if the kernel would not clone into it,
// and all of them if the thread could not move (then it moved back before
// the clone). cgroupErr: the thread could not move back, so the launcher,
// which would be charged to the instance, must not go on.
func (l *launch) startInitInCgroups(ids *ids, network string, procsFiles []string) (rest []string, cloneErr, cgroupErr error) {
	move, rest := planThreadMove(procsFiles)
	into, intoFile := openCloneInto(rest)
	if into != nil {
		defer into.Close()
		rest = slices.DeleteFunc(slices.Clone(rest), func(f string) bool { return f == intoFile })
	}
	start := func() error {
		if into != nil {
			if err := l.startInit(ids, network, into); err == nil {
				trace("launcher", "cloned-into-cgroup")
				return nil
			}
			// A kernel without CLONE_INTO_CGROUP, or clone3 refused around
			// us (a container's seccomp filter): it is written in instead.
			rest = append(rest, intoFile)
		}
		return l.startInit(ids, network, nil)
	}
	if move == nil {
		return rest, start(), nil
	}
	trace("launcher", "move")
	if err := move.enter(); err != nil {
		if err := move.leave(); err != nil {
			return nil, nil, err
		}
		return procsFiles, l.startInit(ids, network, nil), nil
	}
	defer func() {
		// Deferred, so that the thread moves back even if the clone panics.
		if err := move.leave(); err != nil {
			cgroupErr = err
		}
		trace("launcher", "moved-back")
	}()
	return rest, start(), nil
}

// openCloneInto opens the directory of the one cgroup v2 cgroup.procs file
// among files, for startInit to clone the init into; nil if there is none
// (or it cannot be opened: then it is written into as the others are).
func openCloneInto(files []string) (dir *os.File, file string) {
	for _, f := range files {
		var fs unix.Statfs_t
		if unix.Statfs(filepath.Dir(f), &fs) != nil || fs.Type != cgroupV2Magic {
			continue
		}
		d, err := os.OpenFile(filepath.Dir(f), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, ""
		}
		return d, f
	}
	return nil, ""
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
	l.discardInit()
	l.events.emit(errorEvent(stage, err))
	return setupFailed
}

// abortPlaced is abort for a failure after the init's placement: an init
// that was to move itself into its cgroups with its release, which it will
// not get now, is placed from outside first, so that the init event still
// comes before the error, as it does otherwise.
func (l *launch) abortPlaced(stage string, err error) int {
	if l.selfPlaced {
		if err := joinCgroups(l.init.Pid, l.spec.CgroupProcs); err != nil {
			return l.abort("cgroup", err)
		}
		l.selfPlaced = false
		l.events.emit(event{Type: eventInit, Pid: l.init.Pid})
	}
	return l.abort(stage, err)
}

// discardInit kills the init before it ran anything.
func (l *launch) discardInit() {
	_ = l.init.Kill()
	_, _ = l.init.Wait()
	l.channel.close()
	l.init, l.channel = nil, channel{fd: -1}
	l.placed, l.unmapped = false, false
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
		case eventPlaced:
			// The init moved itself into its cgroups (startUnmapped).
			if !l.selfPlaced {
				continue
			}
			l.selfPlaced = false
			e = event{Type: eventInit, Pid: l.init.Pid}
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
		trace("launcher", "event-"+e.Type)
		l.events.emit(e)
	}
	ws, waitErr := l.init.Wait()
	trace("launcher", "reaped")

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
			l.events.emit(errorEvent("init", fmt.Errorf("the init ended (%s) before the plugin started", describeWait(ws, waitErr))))
		}
		return setupFailed
	}
}

// forwardSignals passes SIGTERM and SIGINT on to the init, which passes
// them on to the plugin. child.Signal is safe after the init was reaped.
func forwardSignals(signals <-chan os.Signal, init *child) {
	for sig := range signals {
		if s, ok := sig.(syscall.Signal); ok {
			awaitHandler(init.Pid, s)
			_ = init.Signal(s)
		}
	}
}

// handlerWait bounds how long a signal for the init waits for its handler.
const handlerWait = time.Second

// awaitHandler waits until the process pid catches sig (its SigCgt in
// /proc says so), or is gone, or handlerWait has passed. The init is PID 1
// of its pid namespace, to which the kernel delivers only the signals it
// has a handler for: a SIGTERM forwarded in the microseconds between its
// clone and its sigaction (one that came while the spec was read, say) was
// dropped, and the plugin ran on.
func awaitHandler(pid int, sig syscall.Signal) {
	for deadline := time.Now().Add(handlerWait); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		caught, err := caughtSignals(pid)
		if err != nil || caught&(1<<(uint(sig)-1)) != 0 {
			return
		}
	}
}

// caughtSignals is the SigCgt mask of /proc/<pid>/status: bit n-1 for signal n.
func caughtSignals(pid int) (uint64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			return strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
		}
	}
	return 0, errors.New("no SigCgt in " + fmt.Sprintf("/proc/%d/status", pid))
}

// initEnv is the init's environment: nothing (the plugin's is in the
// release), but tracing if it is on.
func initEnv() []string {
	env := []string{}
	if tracing {
		env = append(env, traceEnv+"=1")
	}
	return env
}

// mapIDs maps root in the user namespace of pid to the host ids, as the
// clone does for an init cloned with them: uid 0 to uid, gid 0 to gid,
// setgroups denied.
func mapIDs(pid int, i ids) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	for _, w := range []struct{ file, data string }{
		{"uid_map", fmt.Sprintf("0 %d 1\n", i.uid)},
		{"setgroups", "deny"},
		{"gid_map", fmt.Sprintf("0 %d 1\n", i.gid)},
	} {
		if err := writeExisting(dir+w.file, w.data); err != nil {
			return fmt.Errorf("map the init's ids: %w", err)
		}
	}
	return nil
}

// allCapabilities lists every capability this kernel knows.
func allCapabilities() ([]uintptr, error) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return nil, err
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || last < 0 || last > 63 {
		return nil, fmt.Errorf("/proc/sys/kernel/cap_last_cap: %q", data)
	}
	caps := make([]uintptr, last+1)
	for c := range caps {
		caps[c] = uintptr(c)
	}
	return caps, nil
}
