package main

//go:generate go run mksyscalls.go
//go:generate go test -run TestCompiledPolicy -update-policy .

import (
	"golang.org/x/sys/unix"
)

// nativeAuditArch is the audit arch the filter admits.
const nativeAuditArch = unix.AUDIT_ARCH_X86_64

// argLowWord is where the low 32 bits of a 64-bit argument lie in struct
// seccomp_data: at its start on a little-endian machine.
const argLowWord = 0

// x32SyscallBit marks the syscalls of the x32 ABI, which share the x86_64
// audit arch: everything at or above it is killed.
const x32SyscallBit = 0x40000000

// namespaceFlags are the clone flags that make new namespaces. clone(2)
// with any of them is unshare in disguise; the kernel reads only the low
// 32 bits of the flags, where all of them lie. (CLONE_NEWTIME shares its
// bit with the exit signal in clone(2) and exists only for clone3.)
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// allowedSyscalls may be made with any arguments. The list is what Go
// programs use (the runtime, os, os/exec, net, crypto, time, os/signal,
// gRPC) and what a static or dynamic C program needs to start, so that
// `corral sandbox -- CMD` runs ordinary tools; it is close to the part of
// Docker's default profile that needs no capability. Not here, so killed:
// mount and the new mount API, umount2, pivot_root, chroot, unshare, setns,
// ptrace, process_vm_readv/writev, kcmp, pidfd_getfd, get_robust_list,
// keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd,
// io_uring_*, the module, kexec, reboot, swap, acct, quotactl and clock
// setting calls, open_by_handle_at, name_to_handle_at, iopl, ioperm,
// modify_ldt, syslog, sethostname, setdomainname, vhangup, the NUMA memory
// policy calls, AIO, fanotify, System V and POSIX message IPC, and anything
// newer than this list.
var allowedSyscalls = []uint32{
	// Processes and threads. fork and exec are allowed: the pids limit bounds
	// a fork bomb, and with no_new_privs, nosuid mounts and no capabilities
	// an exec gains nothing. clone is a rule below.
	unix.SYS_ARCH_PRCTL, unix.SYS_SET_TID_ADDRESS, unix.SYS_SET_ROBUST_LIST, unix.SYS_RSEQ,
	unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_EXECVE, unix.SYS_EXECVEAT,
	unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_WAIT4, unix.SYS_WAITID,
	unix.SYS_GETPID, unix.SYS_GETPPID, unix.SYS_GETTID,
	unix.SYS_KILL, unix.SYS_TKILL, unix.SYS_TGKILL, unix.SYS_PIDFD_OPEN, unix.SYS_PIDFD_SEND_SIGNAL,
	unix.SYS_SETSID, unix.SYS_GETSID, unix.SYS_SETPGID, unix.SYS_GETPGID, unix.SYS_GETPGRP,
	unix.SYS_PRCTL, unix.SYS_CAPGET, unix.SYS_CAPSET,
	unix.SYS_PRLIMIT64, unix.SYS_GETRLIMIT, unix.SYS_SETRLIMIT, unix.SYS_GETRUSAGE, unix.SYS_TIMES,
	unix.SYS_UNAME, unix.SYS_SYSINFO, unix.SYS_GETCPU, unix.SYS_GETRANDOM,
	// Restricting oneself further is always allowed.
	unix.SYS_SECCOMP, unix.SYS_LANDLOCK_CREATE_RULESET, unix.SYS_LANDLOCK_ADD_RULE, unix.SYS_LANDLOCK_RESTRICT_SELF,

	// Ids. Without capabilities they can only be set to ids already held,
	// and only 0 is mapped.
	unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID, unix.SYS_GETGROUPS,
	unix.SYS_GETRESUID, unix.SYS_GETRESGID, unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_SETREUID,
	unix.SYS_SETREGID, unix.SYS_SETRESUID, unix.SYS_SETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID,
	unix.SYS_SETGROUPS,

	// Scheduling.
	unix.SYS_SCHED_YIELD, unix.SYS_SCHED_GETAFFINITY, unix.SYS_SCHED_SETAFFINITY,
	unix.SYS_SCHED_GETPARAM, unix.SYS_SCHED_SETPARAM, unix.SYS_SCHED_GETSCHEDULER,
	unix.SYS_SCHED_SETSCHEDULER, unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SYS_SCHED_GET_PRIORITY_MIN,
	unix.SYS_SCHED_RR_GET_INTERVAL, unix.SYS_SCHED_GETATTR, unix.SYS_SCHED_SETATTR,
	unix.SYS_GETPRIORITY, unix.SYS_SETPRIORITY, unix.SYS_IOPRIO_GET, unix.SYS_IOPRIO_SET,

	// Memory.
	unix.SYS_BRK, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_MREMAP,
	unix.SYS_MADVISE, unix.SYS_MSYNC, unix.SYS_MINCORE, unix.SYS_MEMBARRIER,
	unix.SYS_MLOCK, unix.SYS_MLOCK2, unix.SYS_MUNLOCK, unix.SYS_MLOCKALL, unix.SYS_MUNLOCKALL,
	unix.SYS_PKEY_ALLOC, unix.SYS_PKEY_FREE, unix.SYS_PKEY_MPROTECT, unix.SYS_MSEAL,
	unix.SYS_MAP_SHADOW_STACK,

	// Synchronisation.
	unix.SYS_FUTEX, unix.SYS_FUTEX_WAITV, unix.SYS_FUTEX_WAKE, unix.SYS_FUTEX_WAIT, unix.SYS_FUTEX_REQUEUE,

	// Signals and time.
	unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN, unix.SYS_RT_SIGPENDING,
	unix.SYS_RT_SIGTIMEDWAIT, unix.SYS_RT_SIGQUEUEINFO, unix.SYS_RT_TGSIGQUEUEINFO,
	unix.SYS_RT_SIGSUSPEND, unix.SYS_SIGALTSTACK, unix.SYS_PAUSE, unix.SYS_RESTART_SYSCALL,
	unix.SYS_SIGNALFD, unix.SYS_SIGNALFD4, unix.SYS_ALARM, unix.SYS_GETITIMER, unix.SYS_SETITIMER,
	unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_NANOSLEEP,
	unix.SYS_GETTIMEOFDAY, unix.SYS_TIME,
	unix.SYS_TIMER_CREATE, unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME, unix.SYS_TIMER_GETOVERRUN,
	unix.SYS_TIMER_DELETE, unix.SYS_TIMERFD_CREATE, unix.SYS_TIMERFD_SETTIME, unix.SYS_TIMERFD_GETTIME,

	// File descriptors and I/O. ioctl is a rule below.
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PREAD64, unix.SYS_PWRITE64,
	unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_PREADV2, unix.SYS_PWRITEV2, unix.SYS_LSEEK,
	unix.SYS_CLOSE, unix.SYS_CLOSE_RANGE, unix.SYS_DUP, unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_FCNTL,
	unix.SYS_PIPE, unix.SYS_PIPE2, unix.SYS_SENDFILE, unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_VMSPLICE,
	unix.SYS_COPY_FILE_RANGE, unix.SYS_EVENTFD, unix.SYS_EVENTFD2,
	unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_WAIT,
	unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2, unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_SELECT,
	unix.SYS_PSELECT6,

	// Files and directories.
	unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT, unix.SYS_STAT, unix.SYS_FSTAT,
	unix.SYS_LSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX, unix.SYS_STATFS, unix.SYS_FSTATFS,
	unix.SYS_ACCESS, unix.SYS_FACCESSAT, unix.SYS_FACCESSAT2, unix.SYS_READLINK, unix.SYS_READLINKAT,
	unix.SYS_GETDENTS, unix.SYS_GETDENTS64, unix.SYS_GETCWD, unix.SYS_CHDIR, unix.SYS_FCHDIR,
	unix.SYS_MKDIR, unix.SYS_MKDIRAT, unix.SYS_RMDIR, unix.SYS_UNLINK, unix.SYS_UNLINKAT,
	unix.SYS_RENAME, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_LINK, unix.SYS_LINKAT,
	unix.SYS_SYMLINK, unix.SYS_SYMLINKAT, unix.SYS_MKNOD, unix.SYS_MKNODAT,
	unix.SYS_CHMOD, unix.SYS_FCHMOD, unix.SYS_FCHMODAT, unix.SYS_FCHMODAT2,
	unix.SYS_CHOWN, unix.SYS_FCHOWN, unix.SYS_LCHOWN, unix.SYS_FCHOWNAT, unix.SYS_UMASK,
	unix.SYS_UTIME, unix.SYS_UTIMES, unix.SYS_UTIMENSAT, unix.SYS_FUTIMESAT,
	unix.SYS_TRUNCATE, unix.SYS_FTRUNCATE, unix.SYS_FALLOCATE, unix.SYS_FADVISE64, unix.SYS_READAHEAD,
	unix.SYS_FSYNC, unix.SYS_FDATASYNC, unix.SYS_SYNC, unix.SYS_SYNCFS, unix.SYS_SYNC_FILE_RANGE,
	unix.SYS_FLOCK,
	unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR, unix.SYS_LISTXATTR, unix.SYS_LLISTXATTR,
	unix.SYS_FLISTXATTR, unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR,
	unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR,
	unix.SYS_INOTIFY_INIT, unix.SYS_INOTIFY_INIT1, unix.SYS_INOTIFY_ADD_WATCH, unix.SYS_INOTIFY_RM_WATCH,

	// Sockets, once made (socket and socketpair are rules below).
	unix.SYS_CONNECT, unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_BIND, unix.SYS_LISTEN,
	unix.SYS_GETSOCKNAME, unix.SYS_GETPEERNAME, unix.SYS_SETSOCKOPT, unix.SYS_GETSOCKOPT,
	unix.SYS_SENDTO, unix.SYS_RECVFROM, unix.SYS_SENDMSG, unix.SYS_RECVMSG, unix.SYS_SENDMMSG,
	unix.SYS_RECVMMSG, unix.SYS_SHUTDOWN,
}

// argumentRules are the syscalls allowed with some arguments only. A
// function, not a variable: built when the filter is, not at every start.
func argumentRules() []rule {
	return []rule{
		// Threads and forks, but no new namespaces.
		{nr: unix.SYS_CLONE, alts: []alt{{[]cond{{arg: 0, val: namespaceFlags, noneOf: true}}, actAllow}}, otherwise: actKill},
		// clone3 passes its flags in memory, out of a filter's sight. ENOSYS, as
		// in Docker's profile, makes the C library and Go fall back to clone.
		{nr: unix.SYS_CLONE3, otherwise: actErrno(unix.ENOSYS)},
		// TIOCSTI pushes input into a terminal (CVE-2017-5226 in bubblewrap),
		// TIOCLINUX can copy and paste on a virtual console (CVE-2023-28100).
		{nr: unix.SYS_IOCTL, alts: []alt{
			{[]cond{{arg: 1, val: unix.TIOCSTI}}, actKill},
			{[]cond{{arg: 1, val: unix.TIOCLINUX}}, actKill},
		}, otherwise: actAllow},
		// Only the query: changing the execution domain serves to run foreign
		// binaries or weaken address-space randomisation.
		{nr: unix.SYS_PERSONALITY, alts: []alt{{[]cond{{arg: 0, val: 0xffffffff}}, actAllow}}, otherwise: actKill},
		// Memory, but no huge pages of the host's pool: hugetlb memory is
		// charged to no memory limit, and one plugin could take the pool
		// its host's databases or VMs need (a reviewer's 16 MiB sandbox
		// took 128 MiB). Transparent huge pages are ordinary memory.
		{nr: unix.SYS_MMAP, alts: []alt{{[]cond{{arg: 3, val: unix.MAP_HUGETLB, noneOf: true}}, actAllow}}, otherwise: actErrno(unix.EPERM)},
		{nr: unix.SYS_MEMFD_CREATE, alts: []alt{{[]cond{{arg: 1, val: unix.MFD_HUGETLB, noneOf: true}}, actAllow}}, otherwise: actErrno(unix.EPERM)},
		socketRule(),
		// socketpair exists only for unix sockets; another family would at most
		// make the kernel load a module for it.
		{nr: unix.SYS_SOCKETPAIR, alts: []alt{{[]cond{{arg: 0, val: unix.AF_UNIX}}, actAllow}}, otherwise: actErrno(unix.EAFNOSUPPORT)},
	}
}

// socketRule allows unix, IP and route-netlink sockets (net.Interfaces reads
// the interfaces over netlink), IP with the usual protocols only. Other
// families and protocols fail rather than kill: libraries probe for them.
// Refusing them keeps the kernel from loading a protocol module on demand.
// Raw IP sockets still need CAP_NET_RAW, which nothing in the sandbox has.
func socketRule() rule {
	r := rule{nr: unix.SYS_SOCKET, otherwise: actErrno(unix.EAFNOSUPPORT)}
	r.alts = append(r.alts, alt{[]cond{{arg: 0, val: unix.AF_UNIX}}, actAllow})
	inet := map[uint32][]uint32{
		unix.AF_INET:  {0, unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_ICMP, unix.IPPROTO_MPTCP},
		unix.AF_INET6: {0, unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_ICMPV6, unix.IPPROTO_MPTCP},
	}
	for _, family := range []uint32{unix.AF_INET, unix.AF_INET6} {
		for _, proto := range inet[family] {
			r.alts = append(r.alts, alt{[]cond{{arg: 0, val: family}, {arg: 2, val: proto}}, actAllow})
		}
	}
	r.alts = append(r.alts, alt{[]cond{{arg: 0, val: unix.AF_NETLINK}, {arg: 2, val: unix.NETLINK_ROUTE}}, actAllow})
	for _, family := range []uint32{unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK} {
		r.alts = append(r.alts, alt{[]cond{{arg: 0, val: family}}, actErrno(unix.EPROTONOSUPPORT)})
	}
	return r
}

// seccompPolicy is the filter the harden stage loads: compilePolicy's
// program, compiled at build time (zseccomp_amd64.go, go generate), as it
// does not depend on the spec and compiling it costs a start 0.1-0.2 ms.
// TestCompiledPolicy checks that the two agree.
func seccompPolicy() ([]unix.SockFilter, error) {
	return compiledPolicy[:], nil
}

// compilePolicy assembles the filter from the allow-list and the argument rules.
func compilePolicy() ([]unix.SockFilter, error) {
	args := argumentRules()
	rules := make([]rule, 0, len(allowedSyscalls)+len(args))
	for _, nr := range allowedSyscalls {
		rules = append(rules, rule{nr: nr, otherwise: actAllow})
	}
	rules = append(rules, args...)
	return assemble(nativeAuditArch, x32SyscallBit, rules)
}

// syscallName names an x86_64 syscall number, for reports.
func syscallName(nr uint32) (string, bool) {
	if int64(nr) >= int64(len(syscallNames)) || syscallNames[nr] == "" {
		return "", false
	}
	return syscallNames[nr], true
}
