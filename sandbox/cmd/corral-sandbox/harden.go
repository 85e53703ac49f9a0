package main

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Securebits (linux/securebits.h) that take root's special treatment away
// for good: exec no longer grants uid 0 capabilities (NOROOT), changing
// uids no longer adjusts them (NO_SETUID_FIXUP), capabilities cannot be
// kept across a uid change (KEEP_CAPS stays off) or made ambient, and none
// of this can be undone (the _LOCKED bits).
const (
	secbitNoroot                = 1 << 0
	secbitNorootLocked          = 1 << 1
	secbitNoSetuidFixup         = 1 << 2
	secbitNoSetuidFixupLocked   = 1 << 3
	secbitKeepCapsLocked        = 1 << 5
	secbitNoCapAmbientRaise     = 1 << 6
	secbitNoCapAmbientRaiseLock = 1 << 7

	lockedSecurebits = secbitNoroot | secbitNorootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLocked |
		secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientRaiseLock
)

// dropPrivileges takes from the init, on all its threads, every privilege
// the plugin must not inherit and that setting up the sandbox does not
// need: the mounts, hostname, network and cgroup namespace need only
// effective capabilities, which it keeps for now. What it sets the plugin
// inherits through fork and keeps through exec:
//
//   - no_new_privs, so exec can never raise privileges (setuid bits, file
//     capabilities);
//   - an empty capability bounding set, no inheritable or ambient
//     capabilities and locked securebits, so the exec'd plugin, uid 0 in its
//     user namespace, starts with no capability in any set.
//
// It needs nothing from the spec, so the init does it first, while the
// launcher (or the supervisor, for a launcher started ahead with --ids)
// still prepares: it takes some 40 rounds of AllThreadsSyscall, a few
// milliseconds. Per-thread state is set on all threads because the Go
// runtime clones new threads from whichever thread, and they must all carry
// it.
func dropPrivileges() error {
	// A dumpable init could be read and written through /proc/1/mem by the
	// plugin, which has its uid, once the init's capabilities are gone.
	// (The dumpable flag is per process, and exec resets it for the plugin.)
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("make the init non-dumpable: %w", err)
	}
	if err := allThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if err := dropBoundingSet(); err != nil {
		return err
	}
	// Like dropping from the bounding set, this needs CAP_SETPCAP, which
	// the init still has.
	if err := allThreadsPrctl(unix.PR_SET_SECUREBITS, lockedSecurebits); err != nil {
		return fmt.Errorf("lock securebits: %w", err)
	}
	if err := setCapabilities(true); err != nil {
		return fmt.Errorf("clear inheritable capabilities: %w", err)
	}
	if err := allThreadsPrctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}

// harden is the last setup stage: the spec's rlimits (soft = hard, and no
// core dumps), then the seccomp filter (seccomp_amd64.go), which from here
// on holds for the init and everything it starts.
//
// The init keeps its permitted and effective capabilities until the plugin
// runs: reporting the plugin's pid (SCM_CREDENTIALS with a pid not its own)
// needs CAP_SYS_ADMIN; dropCapabilities ends that once it is done.
func harden(spec *Spec) error {
	if err := setRlimits(spec.Rlimits); err != nil {
		return err
	}
	prog, err := seccompPolicy()
	if err != nil {
		return err
	}
	return installSeccomp(prog)
}

// setRlimits sets the plugin's limits on the init, soft = hard. Through
// syscall.Setrlimit, not a raw prlimit: for RLIMIT_NOFILE that also stops
// the Go runtime from putting back, in the forked plugin, the soft limit the
// init started with.
func setRlimits(r Rlimits) error {
	limits := []struct {
		name     string
		resource int
		value    uint64
	}{
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, r.NoFile},
		{"RLIMIT_NPROC", unix.RLIMIT_NPROC, r.NProc},
		{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, r.FSizeBytes},
		// A core dump would write the plugin's memory, keys included,
		// where it has no say.
		{"RLIMIT_CORE", unix.RLIMIT_CORE, 0},
	}
	for _, l := range limits {
		// Raising a hard limit needs CAP_SYS_RESOURCE on the host, which the
		// init lacks: a spec above the launcher's own hard limit fails here.
		if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: l.value, Max: l.value}); err != nil {
			return fmt.Errorf("set %s to %d: %w", l.name, l.value, err)
		}
	}
	return nil
}

// allThreadsPrctl runs prctl(option, arg, 0, 0, 0) on every thread of the
// process.
func allThreadsPrctl(option, arg uintptr) error {
	return allThreads(unix.SYS_PRCTL, option, arg, 0)
}

// allThreads runs a syscall (its further arguments 0) on every thread of
// the process. Its arguments must not be pointers: those are only kept
// valid when converted in the call to syscall.AllThreadsSyscall itself.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall6(trap, a1, a2, a3, 0, 0, 0)
	return allThreadsError(errno)
}

// allThreadsError turns what syscall.AllThreadsSyscall returned into an
// error. It fails with ENOTSUP in a binary with cgo, whose threads the Go
// runtime does not all know of.
func allThreadsError(errno syscall.Errno) error {
	switch errno {
	case 0:
		return nil
	case unix.ENOTSUP:
		return fmt.Errorf("%w: corral-sandbox must be built with CGO_ENABLED=0", errno)
	}
	return errno
}

// dropBoundingSet empties the capability bounding set of every thread: no
// exec can then grant a capability, whatever the file says.
func dropBoundingSet() error {
	for c := uintptr(0); ; c++ {
		// PR_CAPBSET_READ fails with EINVAL past the kernel's last
		// capability, which this binary need not know.
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0); err == unix.EINVAL {
			return nil
		}
		if err := allThreadsPrctl(unix.PR_CAPBSET_DROP, c); err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
}

// setCapabilities sets every thread's inheritable capabilities to none and,
// unless keepPermitted, its permitted and effective ones too.
func setCapabilities(keepPermitted bool) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if keepPermitted {
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("capget: %w", err)
		}
	}
	for i := range data {
		data[i].Inheritable = 0
	}
	// capset with pid 0 acts on the calling thread only.
	hdr.Pid = 0
	// Converted in the call itself, which is go:uintptrescapes: hdr and data
	// then stay where the pointers say until it returns.
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if err := allThreadsError(errno); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// dropCapabilities leaves the init with no capability at all, once the
// plugin runs and its pid has been reported.
func dropCapabilities() error {
	if err := setCapabilities(false); err != nil {
		return fmt.Errorf("drop the init's capabilities: %w", err)
	}
	return nil
}
