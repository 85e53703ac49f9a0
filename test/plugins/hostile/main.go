// Command hostile is the plugin of the sandbox escape suite
// (test/sandbox.escape.test.ts). Each subcommand tries one way out of the
// sandbox, or past one of its limits, and prints one JSON line per try:
//
//	{"attempt":"...","escaped":bool,"detail":"<errno name, or what it saw>"}
//
// It exits 0 when every try was blocked and 42 when one escaped. A try the
// seccomp filter kills prints nothing: the sandbox reports the SIGSYS.
//
// It refuses to run (exit 3) outside a user namespace that maps root to
// another uid: some tries (reboot, settimeofday, kill -1) must never be made
// with the host's privileges.
//
// Files and paths
//
//	read PATH...            open and read each path (a file or a directory)
//	read-host PATH...       each host path as is, via /proc/1/root, /proc/self/root, ../ and /corral/../
//	devices                 open /dev/mem, /dev/kmsg, /proc/kcore and other device-like files
//	write-outside           create or open for writing outside /tmp, /corral and /dev; /proc/sys's mount options
//	write-when SIGNAL PATH  wait until the file SIGNAL exists (the host's word that it has changed
//	                        something meanwhile), then create PATH
//	write-dev               create, chmod and rename in /dev
//	overwrite-exe           open /proc/self/exe and /plugin for writing, chmod and replace /plugin
//	mknod                   make /dev/mem-like device nodes
//	open-by-handle          open the host filesystem's root by file handle (the "shocker" escape)
//
// Processes
//
//	procs HOSTPID           list /proc; look for a host pid
//	signal HOSTPID          signal a host pid
//	kill-all                kill(-1, SIGKILL) with a child of its own running
//	ptrace-init             PTRACE_ATTACH to pid 1
//	fork-bomb MAX           fork until fork fails, report, then hold until SIGTERM
//	inotify MAX             make inotify instances until refused, report, then hold until SIGTERM
//
// Privileges and kernel interfaces (each one syscall)
//
//	mount-tmpfs, remount-root, remount-plugin, fsopen, unshare-user, unshare-mount,
//	setns, pivot-root, chroot, keyctl, bpf, perf-event, init-module, finit-module,
//	kexec-load, reboot, settimeofday, clock-settime, sethostname, syslog, io-uring,
//	nice, userfaultfd, personality
//	hugetlb                 huge pages of the host's pool: mmap(MAP_HUGETLB), memfd_create(MFD_HUGETLB)
//	clone-newuser           a new user namespace by clone3, then by clone
//	init-memory             pid 1's memory, environment and fds through /proc, then process_vm_readv
//	pidfd-getfd             take pid 1's fd 3 (its channel to the launcher) with pidfd_getfd
//	caps-raise              capset, raise an ambient capability, clear securebits, unset no_new_privs
//	status                  capabilities, NoNewPrivs and Seccomp from /proc/self/status
//	rlimits                 raise each rlimit above its hard limit; lower oom_score_adj
//	exec-creds ATTEMPT PATH exec PATH; it reports whether uid or capabilities grew
//	setuid-copy             copy itself to /tmp, make it setuid root, exec it as exec-creds does
//
// Network and terminals
//
//	connect TARGET...       tcp:HOST:PORT, unix:PATH or unix:@ABSTRACT
//	raw-sockets             AF_PACKET and AF_INET SOCK_RAW sockets
//	tiocsti                 open any tty in /dev, then push a character into the input of fds 0-2
//
// Limits
//
//	memory-hog MAXMIB       allocate and touch memory until killed
//	fill PATH MAXBYTES      write PATH until the write fails
//	fds MAX                 open files until open fails
//	spin SECONDS THREADS    burn CPU on THREADS threads
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// escapedStatus is the exit status when any try escaped.
const escapedStatus = 42

var anyEscaped bool

type result struct {
	Attempt string `json:"attempt"`
	Escaped bool   `json:"escaped"`
	Detail  string `json:"detail"`
}

// report prints one try's result at once, so a later try that gets the
// process killed cannot take it away.
func report(attempt string, escaped bool, detail string) {
	b, err := json.Marshal(result{Attempt: attempt, Escaped: escaped, Detail: detail})
	if err != nil {
		fail(err.Error())
	}
	os.Stdout.Write(append(b, '\n'))
	anyEscaped = anyEscaped || escaped
}

// reportErr reports a try that escaped if err is nil, and was blocked with
// err's errno otherwise.
func reportErr(attempt string, err error, success string) {
	if err == nil {
		report(attempt, true, success)
		return
	}
	report(attempt, false, errnoName(err))
}

// errnoName is the symbolic name of err's errno ("EPERM"), or its text.
func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
		return errno.Error()
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timeout"
	}
	return err.Error()
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "hostile:", msg)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: hostile SUBCOMMAND [ARGS] (see the package comment)")
	}
	mustBeConfined()
	sub, args := os.Args[1], os.Args[2:]
	tries := map[string]func([]string){
		"read":           func(a []string) { readPaths(a) },
		"read-host":      readHost,
		"devices":        func([]string) { devices() },
		"write-outside":  func([]string) { writeOutside() },
		"write-dev":      func([]string) { writeDev() },
		"write-when":     func(a []string) { writeWhen(strArg(a, 0), strArg(a, 1)) },
		"overwrite-exe":  func([]string) { overwriteExe() },
		"mknod":          func([]string) { mknod() },
		"open-by-handle": func([]string) { openByHandle() },
		"procs":          func(a []string) { procs(intArg(a, 0)) },
		"signal":         func(a []string) { signalHost(intArg(a, 0)) },
		"kill-all":       func([]string) { killAll() },
		"ptrace-init":    func([]string) { ptraceInit() },
		"fork-bomb":      func(a []string) { forkBomb(intArg(a, 0)) },
		"inotify":        func(a []string) { inotifyHog(intArg(a, 0)) },
		"mount-tmpfs":    func([]string) { mountTmpfs() },
		"remount-root":   func([]string) { remount("remount-root", "/") },
		"remount-plugin": func([]string) { remount("remount-plugin", "/plugin") },
		"fsopen":         func([]string) { fsopen() },
		"unshare-user":   func([]string) { unshareUser() },
		"unshare-mount":  func([]string) { unshareMount() },
		"setns":          func([]string) { setns() },
		"pivot-root":     func([]string) { pivotRoot() },
		"chroot":         func([]string) { chroot() },
		"keyctl":         func([]string) { keyctl() },
		"bpf":            func([]string) { bpf() },
		"perf-event":     func([]string) { perfEvent() },
		"init-module":    func([]string) { initModule() },
		"finit-module":   func([]string) { finitModule() },
		"kexec-load":     func([]string) { kexecLoad() },
		"reboot":         func([]string) { reboot() },
		"settimeofday":   func([]string) { settimeofday() },
		"clock-settime":  func([]string) { clockSettime() },
		"sethostname":    func([]string) { sethostname() },
		"syslog":         func([]string) { syslog() },
		"io-uring":       func([]string) { ioUring() },
		"nice":           func([]string) { nice() },
		"caps-raise":     func([]string) { capsRaise() },
		"clone-newuser":  func([]string) { cloneNewUser() },
		"init-memory":    func([]string) { initMemory() },
		"pidfd-getfd":    func([]string) { pidfdGetfd() },
		"userfaultfd":    func([]string) { userfaultfd() },
		"hugetlb":        func([]string) { hugetlb() },
		"personality":    func([]string) { personality() },
		"status":         func([]string) { status() },
		"rlimits":        func([]string) { rlimits() },
		"exec-creds":     func(a []string) { execCreds(strArg(a, 0), strArg(a, 1)) },
		"setuid-copy":    func([]string) { setuidCopy() },
		"creds":          func(a []string) { creds(strArg(a, 0), strArg(a, 1), strArg(a, 2)) },
		"connect":        connect,
		"raw-sockets":    func([]string) { rawSockets() },
		"tiocsti":        func([]string) { tiocsti() },
		"memory-hog":     func(a []string) { memoryHog(intArg(a, 0)) },
		"fill":           func(a []string) { fill(strArg(a, 0), int64(intArg(a, 1))) },
		"fds":            func(a []string) { fds(intArg(a, 0)) },
		"spin":           func(a []string) { spin(intArg(a, 0), intArg(a, 1)) },
		"sleep-forever":  func([]string) { sleepForever() },
	}
	try, ok := tries[sub]
	if !ok {
		fail("unknown subcommand " + sub)
	}
	try(args)
	if anyEscaped {
		os.Exit(escapedStatus)
	}
	os.Exit(0)
}

func strArg(args []string, i int) string {
	if len(args) <= i {
		fail(fmt.Sprintf("%s: missing argument %d", os.Args[1], i+1))
	}
	return args[i]
}

func intArg(args []string, i int) int {
	n, err := strconv.Atoi(strArg(args, i))
	if err != nil {
		fail(fmt.Sprintf("%s: argument %d: %v", os.Args[1], i+1, err))
	}
	return n
}

// mustBeConfined exits unless root is mapped to another uid, i.e. unless
// this process is in a user namespace of its own.
func mustBeConfined() {
	b, err := os.ReadFile("/proc/self/uid_map")
	fields := strings.Fields(string(b))
	if err != nil || len(fields) < 3 || fields[0] != "0" || fields[1] == "0" {
		fmt.Fprintf(os.Stderr, "hostile: refusing to run outside a sandbox (uid_map %q, %v)\n", b, err)
		os.Exit(3)
	}
}

// --- files and paths ---

// readPath opens path and reads a little of it (or lists it, if a directory).
func readPath(attempt, path string) {
	f, err := os.Open(path)
	if err != nil {
		report(attempt, false, errnoName(err))
		return
	}
	defer f.Close()
	if names, err := f.Readdirnames(16); err == nil {
		report(attempt, true, "listed "+strings.Join(names, ","))
		return
	}
	buf := make([]byte, 64)
	n, err := f.Read(buf)
	if err != nil && err != io.EOF {
		report(attempt, false, "opened, read: "+errnoName(err))
		return
	}
	report(attempt, true, fmt.Sprintf("read %q", buf[:n]))
}

func readPaths(paths []string) {
	for _, p := range paths {
		readPath("read:"+p, p)
	}
}

// readHost tries each host path as is and by the ways a path may lead out of
// a chroot or a mount namespace.
func readHost(paths []string) {
	if err := os.Chdir("/tmp"); err != nil {
		fail(err.Error())
	}
	up := strings.Repeat("../", 16)
	for _, p := range paths {
		rel := strings.TrimPrefix(p, "/")
		variants := []struct{ how, path string }{
			{"direct", p},
			{"proc-1-root", "/proc/1/root/" + rel},
			{"proc-self-root", "/proc/self/root/" + rel},
			{"proc-1-cwd", "/proc/1/cwd/" + up + rel},
			{"dotdot", up + rel},
			{"corral-dotdot", "/corral/" + up + rel},
		}
		for _, v := range variants {
			readPath(v.how+":"+p, v.path)
		}
	}
}

func devices() {
	for _, p := range []string{
		"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/nvme0n1",
		"/dev/net/tun", "/dev/fuse", "/dev/shm", "/proc/kcore", "/proc/kmsg", "/sys/kernel",
	} {
		f, err := os.Open(p)
		if err != nil {
			report("open:"+p, false, errnoName(err))
			continue
		}
		f.Close()
		report("open:"+p, true, "opened")
	}
}

// writeOutside tries to write everywhere but the workspace and /corral.
// Files the host shares are opened for writing but never written.
func writeOutside() {
	create := func(path string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
		}
		reportErr("create:"+path, err, "created")
	}
	for _, p := range []string{"/escaped", "/plugin.d", "/corral/../escaped", "/proc/escaped"} {
		create(p)
	}
	openForWrite := func(path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		reportErr("open-write:"+path, err, "opened for writing")
	}
	for _, p := range []string{
		"/plugin", "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern",
		"/proc/sys/vm/drop_caches", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/core/somaxconn",
		"/proc/sysrq-trigger",
	} {
		openForWrite(p)
	}
	reportErr("mkdir:/escaped.d", os.Mkdir("/escaped.d", 0o755), "made")
	reportErr("symlink:/escaped-link", os.Symlink("/tmp", "/escaped-link"), "made")
	opts := mountOptions("/proc/sys")
	report("mount-options:/proc/sys", !strings.HasPrefix(opts+",", "ro,"), opts)
}

// writeDev tries to write into /dev: its devices and the tmpfs under them.
func writeDev() {
	f, err := os.OpenFile("/dev/escaped", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
	}
	reportErr("create:/dev/escaped", err, "created")
	reportErr("mkdir:/dev/escaped.d", os.Mkdir("/dev/escaped.d", 0o755), "made")
	reportErr("chmod:/dev/null", os.Chmod("/dev/null", 0o777), "changed")
	reportErr("rename:/dev/zero", os.Rename("/dev/zero", "/dev/zero2"), "renamed")
}

// mountOptions are the per-mount options of the mount at dir (the last one
// there), or "not a mount point".
func mountOptions(dir string) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		fail(err.Error())
	}
	opts := "not a mount point"
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == dir {
			opts = f[5]
		}
	}
	return opts
}

func overwriteExe() {
	for _, p := range []string{"/proc/self/exe", "/plugin"} {
		for _, mode := range []struct {
			name string
			flag int
		}{{"wronly", os.O_WRONLY}, {"rdwr", os.O_RDWR}} {
			f, err := os.OpenFile(p, mode.flag, 0)
			if err == nil {
				f.Close()
			}
			reportErr("open-"+mode.name+":"+p, err, "opened for writing")
		}
	}
	reportErr("chmod:/plugin", os.Chmod("/plugin", 0o777), "changed")
	reportErr("truncate:/plugin", unix.Truncate("/plugin", 0), "truncated")
	replacement := "/tmp/plugin-replacement"
	if err := os.WriteFile(replacement, []byte("#!/bin/sh\n"), 0o755); err != nil {
		fail(err.Error())
	}
	reportErr("rename-over:/plugin", os.Rename(replacement, "/plugin"), "replaced")
	reportErr("unlink:/plugin", os.Remove("/plugin"), "removed")
}

func mknod() {
	for _, p := range []string{"/tmp/mem", "/dev/mem2", "/corral/mem"} {
		// 1:1 is /dev/mem.
		reportErr("mknod:"+p, unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 1))), "made")
	}
}

// openByHandle opens inode 2 (the root of ext4 and most filesystems) of the
// filesystem /corral lives on: the host's.
func openByHandle() {
	dir, err := unix.Open("/corral", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		fail("open /corral: " + err.Error())
	}
	defer unix.Close(dir)
	handle := make([]byte, 8) // FILEID_INO32_GEN: inode 2, generation 0
	handle[0] = 2
	fd, err := unix.OpenByHandleAt(dir, unix.NewFileHandle(1, handle), unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		report("open-by-handle", false, errnoName(err))
		return
	}
	defer unix.Close(fd)
	names, _ := os.NewFile(uintptr(fd), "host-root").Readdirnames(16)
	report("open-by-handle", true, "opened the host filesystem's root: "+strings.Join(names, ","))
}

// --- processes ---

func procs(hostPid int) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		fail(err.Error())
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	self := strconv.Itoa(os.Getpid())
	others := 0
	for _, p := range pids {
		if p != "1" && p != self {
			others++
		}
	}
	report("list-proc", others > 0, "pids "+strings.Join(pids, ",")+" self "+self)
	readPath("proc-host-pid", fmt.Sprintf("/proc/%d/cmdline", hostPid))
}

func signalHost(pid int) {
	reportErr("kill-0", unix.Kill(pid, 0), "the host pid exists here")
	reportErr("kill-SIGKILL", unix.Kill(pid, unix.SIGKILL), "signalled")
	reportErr("kill-group-SIGKILL", unix.Kill(-pid, unix.SIGKILL), "signalled")
}

// killAll is `kill -1`: SIGKILL to every process it may signal. Its own
// child must die, the host must not notice.
func killAll() {
	child := exec.Command("/plugin", "sleep-forever")
	if err := child.Start(); err != nil {
		fail(err.Error())
	}
	err := unix.Kill(-1, unix.SIGKILL)
	waitErr := child.Wait()
	detail := "kill(-1): ok"
	if err != nil {
		detail = "kill(-1): " + errnoName(err)
	}
	report("kill-all", false, detail+"; own child: "+fmt.Sprint(waitErr))
}

func ptraceInit() {
	runtime.LockOSThread() // ptrace is per thread
	if err := unix.PtraceAttach(1); err != nil {
		report("ptrace-attach-1", false, errnoName(err))
		return
	}
	var ws unix.WaitStatus
	_, _ = unix.Wait4(1, &ws, unix.WALL, nil)
	_ = unix.PtraceDetach(1)
	report("ptrace-attach-1", true, "attached to pid 1")
}

// forkPauser forks a child that does nothing but pause, with raw system
// calls only: one task per child, no Go runtime in it. nosplit, so the child
// never calls into the runtime for more stack.
//
//go:nosplit
func forkPauser() (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		for {
			syscall.RawSyscall6(syscall.SYS_PAUSE, 0, 0, 0, 0, 0, 0)
		}
	}
	return int(pid), errno
}

// inotifyHog makes inotify instances until inotify_init1 fails (or max),
// reports how many it got, and holds them until SIGTERM: each counts
// against root's max_user_instances too, unless the sandbox bounds them.
func inotifyHog(max int) {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	var fds []int
	var err error
	for len(fds) < max {
		var fd int
		if fd, err = unix.InotifyInit1(unix.IN_CLOEXEC); err != nil {
			break
		}
		fds = append(fds, fd)
	}
	if err == nil {
		report("inotify", true, fmt.Sprintf("made %d inotify instances without a failure", max))
	} else {
		report("inotify", false, fmt.Sprintf("%s after %d instances", errnoName(err), len(fds)))
	}
	<-term
}

// forkBomb forks until fork fails (or max children), frees a few slots so
// it can still report, reports, and holds the rest until SIGTERM.
func forkBomb(max int) {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	// No new threads or garbage while at the limit: a runtime that cannot
	// start a thread dies, and the report with it.
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	pids := make([]int, 0, max)
	var errno syscall.Errno
	for len(pids) < max {
		pid, e := forkPauser()
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			errno = e
			break
		}
		pids = append(pids, pid)
	}
	// Raw system calls while at the limit: a blocking syscall.Kill or
	// syscall.Wait4 lets the runtime hand this P to a new thread, which it
	// cannot start there ("fatal error: newosproc"). A raw call keeps the P.
	for i := 0; i < 4 && len(pids) > 0; i++ {
		last := pids[len(pids)-1]
		pids = pids[:len(pids)-1]
		syscall.RawSyscall(syscall.SYS_KILL, uintptr(last), uintptr(syscall.SIGKILL), 0)
		for {
			_, _, e := syscall.RawSyscall6(syscall.SYS_WAIT4, uintptr(last), 0, 0, 0, 0, 0)
			if e != syscall.EINTR {
				break
			}
		}
	}
	if errno == 0 {
		report("fork-bomb", true, fmt.Sprintf("forked %d processes without a failure", max))
	} else {
		report("fork-bomb", false, fmt.Sprintf("%s after %d processes", unix.ErrnoName(errno), len(pids)+4))
	}
	<-term
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if anyEscaped {
		os.Exit(escapedStatus)
	}
	os.Exit(0)
}

// --- privileges and kernel interfaces ---

func mountTmpfs() {
	if err := os.MkdirAll("/tmp/x", 0o755); err != nil {
		fail(err.Error())
	}
	reportErr("mount-tmpfs", unix.Mount("tmpfs", "/tmp/x", "tmpfs", 0, "size=1m"), "mounted a tmpfs at /tmp/x")
}

func remount(attempt, path string) {
	err := unix.Mount("", path, "", unix.MS_REMOUNT|unix.MS_BIND, "")
	if err == nil {
		// The remount took; show whether writing does too.
		probe := filepath.Join(path, "escaped")
		if path == "/plugin" {
			f, werr := os.OpenFile(path, os.O_WRONLY, 0)
			if werr == nil {
				f.Close()
			}
			report(attempt, true, "remounted read-write; open for writing: "+fmt.Sprint(werr))
			return
		}
		werr := os.WriteFile(probe, []byte("x"), 0o644)
		report(attempt, true, "remounted read-write; write: "+fmt.Sprint(werr))
		return
	}
	report(attempt, false, errnoName(err))
}

// fsopen is the new mount API, which a filter on mount(2) alone would miss.
func fsopen() {
	fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err == nil {
		unix.Close(fd)
	}
	reportErr("fsopen", err, "opened a tmpfs filesystem context")
}

// rawForkUnshare forks a single-threaded child (unshare(CLONE_NEWUSER)
// refuses a multi-threaded caller) that calls unshare(flags) and exits
// with the errno. nosplit for the reason forkPauser is.
//
//go:nosplit
func rawForkUnshare(flags uintptr) (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		_, _, e := syscall.RawSyscall6(syscall.SYS_UNSHARE, flags, 0, 0, 0, 0, 0)
		syscall.RawSyscall6(syscall.SYS_EXIT_GROUP, uintptr(e), 0, 0, 0, 0, 0)
	}
	return int(pid), errno
}

// unshareUser asks for a new user namespace, in which it would be root with
// every capability: first in this (multi-threaded) process, then in a
// single-threaded child.
func unshareUser() {
	runtime.LockOSThread()
	reportErr("unshare-user", unix.Unshare(unix.CLONE_NEWUSER), "in a new user namespace")
	pid, errno := rawForkUnshare(unix.CLONE_NEWUSER)
	if errno != 0 {
		fail("fork: " + errno.Error())
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		fail("wait: " + err.Error())
	}
	switch {
	case ws.Signaled():
		report("unshare-user-single-threaded", false, "killed by "+unix.SignalName(ws.Signal()))
	case ws.ExitStatus() == 0:
		report("unshare-user-single-threaded", true, "in a new user namespace")
	default:
		report("unshare-user-single-threaded", false, unix.ErrnoName(syscall.Errno(ws.ExitStatus())))
	}
}

func unshareMount() {
	runtime.LockOSThread()
	reportErr("unshare-mount", unix.Unshare(unix.CLONE_NEWNS), "in a new mount namespace")
}

// setns tries to join pid 1's namespaces, of which one is not the
// plugin's: the init's cgroup namespace is the host's. Its own mount
// namespace it can always open, so setns(2) is called at least once.
// Joining a namespace it is in already changes nothing: only joining
// another one escapes.
func setns() {
	runtime.LockOSThread()
	type target struct{ path, ns string }
	var targets []target
	for _, ns := range []string{"cgroup", "mnt", "net", "pid", "uts", "ipc", "user"} {
		targets = append(targets, target{"/proc/1/ns/" + ns, ns})
	}
	targets = append(targets, target{"/proc/self/ns/mnt", "mnt"})
	for _, t := range targets {
		fd, err := unix.Open(t.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			report("open:"+t.path, false, errnoName(err))
			continue
		}
		own, _ := os.Readlink("/proc/thread-self/ns/" + t.ns)
		theirs, _ := os.Readlink(t.path)
		err = unix.Setns(fd, 0)
		unix.Close(fd)
		switch {
		case err != nil:
			report("setns:"+t.path, false, errnoName(err))
		case own == theirs:
			report("setns:"+t.path, false, "joined its own "+own)
		default:
			report("setns:"+t.path, true, "left "+own+" for "+theirs)
		}
	}
}

func pivotRoot() {
	if err := os.MkdirAll("/tmp/old", 0o755); err != nil {
		fail(err.Error())
	}
	reportErr("pivot-root", unix.PivotRoot("/tmp", "/tmp/old"), "pivoted to /tmp")
}

// chroot tries the classic break-out: chroot into a subdirectory while
// holding the old root open, then walk up from it.
func chroot() {
	if err := os.MkdirAll("/tmp/jail", 0o755); err != nil {
		fail(err.Error())
	}
	root, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		fail(err.Error())
	}
	if err := unix.Chroot("/tmp/jail"); err != nil {
		report("chroot", false, errnoName(err))
		return
	}
	_ = unix.Fchdir(root)
	for range 64 {
		_ = unix.Chdir("..")
	}
	_ = unix.Chroot(".")
	entries, _ := os.ReadDir("/")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	_, shadow := os.Stat("/etc/shadow")
	report("chroot", shadow == nil, "chroot works; walking up reached a root holding "+strings.Join(names, ","))
}

func keyctl() {
	id, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 1, 0, 0)
	reportErr("keyctl", err, fmt.Sprintf("session keyring %d", id))
	id, err = unix.AddKey("user", "corral-escape", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
	reportErr("add_key", err, fmt.Sprintf("added key %d", id))
}

func bpf() {
	attr := struct{ mapType, keySize, valueSize, maxEntries, flags uint32 }{unix.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		report("bpf", false, unix.ErrnoName(errno))
		return
	}
	unix.Close(int(fd))
	report("bpf", true, "created a BPF map")
}

func perfEvent() {
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Bits:   unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err == nil {
		unix.Close(fd)
	}
	reportErr("perf_event_open", err, "opened a perf event")
}

func initModule() {
	reportErr("init_module", unix.InitModule([]byte{0x7f, 'E', 'L', 'F'}, ""), "loaded a module")
}

func finitModule() {
	fd, err := unix.Open("/plugin", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fail(err.Error())
	}
	reportErr("finit_module", unix.FinitModule(fd, "", 0), "loaded a module")
}

func kexecLoad() {
	_, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0, 0, 0)
	if errno != 0 {
		report("kexec_load", false, unix.ErrnoName(errno))
		return
	}
	report("kexec_load", true, "kexec_load accepted")
}

// reboot asks for a restart. In a pid namespace of its own, with the
// capability, that kills the sandbox's init; it can never reach the host
// from a user namespace of its own (mustBeConfined).
func reboot() {
	reportErr("reboot", unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART), "reboot accepted")
}

// settimeofday and clockSettime set the clock to what it already is.
func settimeofday() {
	tv := unix.NsecToTimeval(time.Now().UnixNano())
	reportErr("settimeofday", unix.Settimeofday(&tv), "set the clock")
}

func clockSettime() {
	ts := unix.NsecToTimespec(time.Now().UnixNano())
	reportErr("clock_settime", unix.ClockSettime(unix.CLOCK_REALTIME, &ts), "set the clock")
}

func sethostname() {
	before, _ := os.Hostname()
	err := unix.Sethostname([]byte("escaped"))
	after, _ := os.Hostname()
	if err != nil {
		report("sethostname", false, errnoName(err))
		return
	}
	report("sethostname", true, fmt.Sprintf("hostname %s -> %s", before, after))
}

func syslog() {
	buf := make([]byte, 4096)
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	reportErr("syslog", err, fmt.Sprintf("read %d bytes of the kernel log", n))
}

func ioUring() {
	params := make([]byte, 120) // struct io_uring_params, zeroed
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])), 0)
	if errno != 0 {
		report("io_uring_setup", false, unix.ErrnoName(errno))
		return
	}
	unix.Close(int(fd))
	report("io_uring_setup", true, "set up an io_uring")
}

func nice() {
	reportErr("setpriority", unix.Setpriority(unix.PRIO_PROCESS, 0, -10), "nice -10")
}

func userfaultfd() {
	fd, _, errno := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
	if errno != 0 {
		report("userfaultfd", false, unix.ErrnoName(errno))
		return
	}
	unix.Close(int(fd))
	report("userfaultfd", true, "made a userfaultfd")
}

// personality switches address-space randomisation off for its next exec.
func personality() {
	const addrNoRandomize = 0x0040000
	_, _, errno := unix.Syscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
	if errno != 0 {
		report("personality", false, unix.ErrnoName(errno))
		return
	}
	report("personality", true, "ADDR_NO_RANDOMIZE set")
}

// capsRaise tries each way to get a capability back.
func capsRaise() {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	all := [2]unix.CapUserData{
		{Effective: ^uint32(0), Permitted: ^uint32(0), Inheritable: ^uint32(0)},
		{Effective: 0x1ff, Permitted: 0x1ff, Inheritable: 0x1ff},
	}
	reportErr("capset-all", unix.Capset(&hdr, &all[0]), "holds every capability")
	const capSysAdmin = 21
	reportErr("ambient-raise", unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, capSysAdmin, 0, 0), "raised CAP_SYS_ADMIN")
	reportErr("securebits-clear", unix.Prctl(unix.PR_SET_SECUREBITS, 0, 0, 0, 0), "securebits cleared")
	reportErr("no-new-privs-unset", unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), "no_new_privs unset")
}

// rawClone clones with flags (a new namespace among them) into a child that
// exits at once; nosplit for the reason forkPauser is.
//
//go:nosplit
func rawClone(flags uintptr) (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		syscall.RawSyscall6(syscall.SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0)
	}
	return int(pid), errno
}

// cloneArgs is struct clone_args up to exit_signal.
type cloneArgs struct {
	flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls uint64
}

//go:nosplit
func rawClone3(args *cloneArgs) (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(unix.SYS_CLONE3, uintptr(unsafe.Pointer(args)), unsafe.Sizeof(*args), 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		syscall.RawSyscall6(syscall.SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0)
	}
	return int(pid), errno
}

// cloneNewUser is unshare(CLONE_NEWUSER) in disguise: a child in a new
// user namespace, where it would hold every capability.
func cloneNewUser() {
	reap := func(attempt string, pid int, errno syscall.Errno) {
		if errno != 0 {
			report(attempt, false, unix.ErrnoName(errno))
			return
		}
		_, _ = syscall.Wait4(pid, nil, 0, nil)
		report(attempt, true, "a child in a new user namespace")
	}
	args := cloneArgs{flags: unix.CLONE_NEWUSER, exitSignal: uint64(syscall.SIGCHLD)}
	pid, errno := rawClone3(&args)
	reap("clone3-newuser", pid, errno)
	pid, errno = rawClone(unix.CLONE_NEWUSER | uintptr(syscall.SIGCHLD))
	reap("clone-newuser", pid, errno)
}

// initMemory tries to read and write the init's memory, environment and
// file descriptors.
func initMemory() {
	const text = 0x400000 // where a non-PIE amd64 Go binary's text starts
	openAndRead := func(attempt, path string, flag int) {
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			report(attempt, false, errnoName(err))
			return
		}
		defer f.Close()
		buf := make([]byte, 16)
		n, err := f.ReadAt(buf, 0)
		if path == "/proc/1/mem" {
			n, err = f.ReadAt(buf, text)
		}
		report(attempt, true, fmt.Sprintf("opened; read %d bytes (%v)", n, err))
	}
	openAndRead("open:/proc/1/mem", "/proc/1/mem", os.O_RDONLY)
	openAndRead("open-write:/proc/1/mem", "/proc/1/mem", os.O_RDWR)
	openAndRead("open:/proc/1/environ", "/proc/1/environ", os.O_RDONLY)
	openAndRead("open:/proc/1/fd/3", "/proc/1/fd/3", os.O_RDONLY)
	buf := make([]byte, 16)
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: text, Len: len(buf)}}
	n, err := unix.ProcessVMReadv(1, local, remote, 0)
	reportErr("process_vm_readv", err, fmt.Sprintf("read %d bytes of pid 1", n))
}

// pidfdGetfd takes a copy of pid 1's fd 3, its channel to the launcher,
// over which it could pass for the init.
func pidfdGetfd() {
	pidfd, err := unix.PidfdOpen(1, 0)
	if err != nil {
		report("pidfd_open", false, errnoName(err))
		return
	}
	fd, err := unix.PidfdGetfd(pidfd, 3, 0)
	if err == nil {
		unix.Close(fd)
	}
	reportErr("pidfd_getfd", err, "took pid 1's fd 3")
}

// statusFields reads fields of /proc/self/status.
func statusFields(names ...string) map[string]string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail(err.Error())
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		out[n] = fields[n]
	}
	return out
}

var capFields = []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}

// status reports the process's privileges; it "escaped" if it holds any
// capability, may gain privileges on exec, or has no seccomp filter.
func status() {
	names := append(append([]string{}, capFields...), "NoNewPrivs", "Seccomp", "Seccomp_filters")
	fields := statusFields(names...)
	var parts []string
	escaped := false
	for _, n := range names {
		parts = append(parts, n+"="+fields[n])
	}
	for _, c := range capFields {
		escaped = escaped || fields[c] != "0000000000000000"
	}
	escaped = escaped || fields["NoNewPrivs"] != "1" || fields["Seccomp"] != "2"
	report("status", escaped, strings.Join(parts, " "))
}

func rlimits() {
	for _, r := range []struct {
		name string
		res  int
	}{{"NOFILE", unix.RLIMIT_NOFILE}, {"NPROC", unix.RLIMIT_NPROC}, {"FSIZE", unix.RLIMIT_FSIZE}, {"CORE", unix.RLIMIT_CORE}} {
		var cur unix.Rlimit
		if err := unix.Prlimit(0, r.res, nil, &cur); err != nil {
			fail(err.Error())
		}
		if cur.Max == unix.RLIM_INFINITY {
			report("raise-rlimit:"+r.name, true, "the hard limit is unlimited")
			continue
		}
		raised := unix.Rlimit{Cur: cur.Max + 1, Max: cur.Max + 1}
		reportErr("raise-rlimit:"+r.name, unix.Prlimit(0, r.res, &raised, nil), fmt.Sprintf("raised %d to %d", cur.Max, raised.Max))
	}
	// -1000 would make the OOM killer pass it over.
	err := os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0)
	reportErr("oom_score_adj", err, "set -1000")
}

// execCreds execs path, which reports (as creds) whether its uid or
// capabilities grew over this process's.
func execCreds(attempt, path string) {
	caps := statusFields("CapEff")["CapEff"]
	err := syscall.Exec(path, []string{path, "creds", attempt, strconv.Itoa(os.Geteuid()), caps}, os.Environ())
	report(attempt, false, "exec: "+errnoName(err))
}

// setuidCopy makes a setuid-root copy of itself in the workspace and execs it.
func setuidCopy() {
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		fail(err.Error())
	}
	const copy = "/tmp/hostile-setuid"
	if err := os.WriteFile(copy, self, 0o755); err != nil {
		fail(err.Error())
	}
	if err := os.Chown(copy, 0, 0); err != nil {
		fail(err.Error())
	}
	if err := os.Chmod(copy, 0o755|os.ModeSetuid|os.ModeSetgid); err != nil {
		fail(err.Error())
	}
	execCreds("setuid-copy", copy)
}

// creds runs after an exec: did the euid change, or did it gain a
// capability it had not before?
func creds(attempt, euidBefore, capsBefore string) {
	caps := statusFields("CapEff")["CapEff"]
	before, err1 := strconv.ParseUint(capsBefore, 16, 64)
	after, err2 := strconv.ParseUint(caps, 16, 64)
	if err1 != nil || err2 != nil {
		fail(fmt.Sprintf("capabilities %q, %q", capsBefore, caps))
	}
	euid := strconv.Itoa(os.Geteuid())
	gained := euid != euidBefore || after&^before != 0
	report(attempt, gained, fmt.Sprintf("euid %s -> %s, CapEff %s -> %s", euidBefore, euid, capsBefore, caps))
	if gained {
		os.Exit(escapedStatus)
	}
	os.Exit(0)
}

// --- network and terminals ---

func connect(targets []string) {
	for _, t := range targets {
		network, addr, ok := strings.Cut(t, ":")
		if !ok {
			fail("target " + t + " is not NETWORK:ADDRESS")
		}
		conn, err := net.DialTimeout(network, addr, 2*time.Second)
		if err != nil {
			report("connect:"+t, false, errnoName(err))
			continue
		}
		_, _ = conn.Write([]byte("escaped\n"))
		conn.Close()
		report("connect:"+t, true, "connected")
	}
}

func rawSockets() {
	for _, s := range []struct {
		name              string
		family, typ, prot int
	}{
		{"AF_PACKET", unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL))},
		{"AF_INET-SOCK_RAW", unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP},
		{"AF_INET6-SOCK_RAW", unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6},
	} {
		fd, err := unix.Socket(s.family, s.typ|unix.SOCK_CLOEXEC, s.prot)
		if err == nil {
			unix.Close(fd)
		}
		reportErr("socket:"+s.name, err, "opened")
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// tiocsti pushes a character into the input queue of each terminal it can
// reach, which would run it as typed by the terminal's user.
func tiocsti() {
	c := byte('x')
	push := func(attempt string, fd int) {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		if errno != 0 {
			report(attempt, false, unix.ErrnoName(errno))
			return
		}
		report(attempt, true, "pushed a character")
	}
	for _, p := range []string{"/dev/tty", "/dev/console", "/dev/ptmx", "/dev/pts/ptmx", "/dev/tty0", "/dev/tty1"} {
		fd, err := unix.Open(p, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			report("tiocsti:"+p, false, "open: "+errnoName(err))
			continue
		}
		push("tiocsti:"+p, fd)
		unix.Close(fd)
	}
	// The request with bits above the 32 the kernel reads: a filter that
	// compared all 64 would let it through.
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, 0, 1<<32|unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
	if errno == 0 {
		report("tiocsti:fd0-high-bits", true, "pushed a character")
	} else {
		report("tiocsti:fd0-high-bits", false, unix.ErrnoName(errno))
	}
	for fd := 0; fd <= 2; fd++ {
		push(fmt.Sprintf("tiocsti:fd%d", fd), fd)
	}
}

// --- limits ---

// memoryHog allocates and touches memory 1 MiB at a time, keeping it all.
func memoryHog(maxMiB int) {
	debug.SetGCPercent(-1)
	var chunks [][]byte
	for range maxMiB {
		chunk := make([]byte, 1<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		chunks = append(chunks, chunk)
	}
	report("memory-hog", true, fmt.Sprintf("allocated and touched %d MiB", len(chunks)))
}

// fill writes path until a write fails (or max bytes are written).
func fill(path string, max int64) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		fail(err.Error())
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var written int64
	for written < max {
		n, err := f.Write(buf)
		written += int64(n)
		if err != nil {
			report("fill", false, fmt.Sprintf("%s after %d bytes", errnoName(err), written))
			return
		}
	}
	report("fill", true, fmt.Sprintf("wrote %d bytes without a failure", written))
}

// fds opens /dev/null until open fails (or max files are open).
func fds(max int) {
	for n := 0; n < max; n++ {
		if _, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			report("fds", false, fmt.Sprintf("%s after %d files", errnoName(err), n))
			return
		}
	}
	report("fds", true, fmt.Sprintf("opened %d files without a failure", max))
}

var sink uint64

// spin burns CPU on threads threads for seconds.
func spin(seconds, threads int) {
	runtime.GOMAXPROCS(threads)
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var x uint64
			for time.Now().Before(deadline) {
				for k := 0; k < 100_000; k++ {
					x += uint64(k)
				}
			}
			mu.Lock()
			sink += x
			mu.Unlock()
		}()
	}
	wg.Wait()
	report("spin", false, fmt.Sprintf("spun %d threads for %ds", threads, seconds))
}

// sleepForever sleeps without tripping the runtime's deadlock detector.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// writeWhen waits until signal exists, then creates path.
func writeWhen(signal, path string) {
	for {
		if _, err := os.Lstat(signal); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	err := os.WriteFile(path, []byte("written from the sandbox\n"), 0o644)
	reportErr("write-when", err, "created "+path)
}

// hugetlb asks for memory from the host's huge page pool, which no memory
// limit counts: by mmap and by memfd_create. Refused by the filter (EPERM);
// a host without a pool would say ENOMEM to the mmap, which is no proof.
func hugetlb() {
	const size = 2 << 20
	addr, _, errno := unix.Syscall6(unix.SYS_MMAP, 0, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_HUGETLB, ^uintptr(0), 0)
	if errno != 0 {
		report("mmap-hugetlb", false, unix.ErrnoName(errno))
	} else {
		unix.Syscall(unix.SYS_MUNMAP, addr, size, 0)
		report("mmap-hugetlb", true, "mapped huge pages")
	}
	fd, err := unix.MemfdCreate("hugetlb", unix.MFD_HUGETLB)
	if err == nil {
		unix.Close(fd)
	}
	reportErr("memfd-hugetlb", err, "made a hugetlb memfd")
}
