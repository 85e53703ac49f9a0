package main

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The sandbox's user namespace is made by a thread acting as the sandbox's
// own uid and gid, so that they, not root, own it. The kernel charges what a
// process makes in a user namespace (inotify instances and watches, fanotify
// groups, user namespaces...) at every level up to the host's, and at each
// level to the owner of the namespace below. Owned by root, a sandbox's
// inotify instances counted against root's 128 (fs.inotify.max_user_instances):
// eight plugins at the sandbox's own cap of 16 left root's daemons none.
// Owned by the sandbox's uid, they count against that uid's alone.
//
// Only the calling thread changes: the launcher's main thread, locked to
// main (init), on which the clone happens. Its real and effective ids become
// the owner's (the real ones too: an init cloned with no ids mapped execs,
// and real ids other than the effective ones would make that exec a
// set-user-ID one, which drops the ambient capabilities it relies on). Its
// saved uid stays 0, so it keeps its permitted capabilities and raises them
// again as effective ones: the clone may still go into a cgroup
// (CLONE_INTO_CGROUP) and the new namespace's ids be mapped. Then it is
// root again. The change clears the thread's parent-death signal: the
// caller sets it again (dieWithParent).

// asOwner runs clone with this thread's real and effective ids those of
// owner, and its capabilities kept.
func asOwner(owner ids, clone func() error) error {
	ruid, euid, _ := unix.Getresuid()
	rgid, egid, _ := unix.Getresgid()
	if err := setThreadIDs(unix.SYS_SETRESGID, owner.gid, owner.gid); err != nil {
		return fmt.Errorf("act as gid %d: %w", owner.gid, err)
	}
	err := setThreadIDs(unix.SYS_SETRESUID, owner.uid, owner.uid)
	if err != nil {
		err = fmt.Errorf("act as uid %d: %w", owner.uid, err)
	} else if err = raisePermitted(); err == nil {
		err = clone()
	}
	// Back to the ids the thread had: its effective capabilities come back
	// with euid 0.
	if e := setThreadIDs(unix.SYS_SETRESUID, ruid, euid); e != nil {
		return fmt.Errorf("act as uid %d again: %w", euid, e)
	}
	if e := setThreadIDs(unix.SYS_SETRESGID, rgid, egid); e != nil {
		return fmt.Errorf("act as gid %d again: %w", egid, e)
	}
	return err
}

// setThreadIDs sets this thread's real and effective uid or gid
// (SYS_SETRESUID or SYS_SETRESGID), leaving its saved one: a raw system
// call, as the libraries' setresuid changes every thread of the process.
func setThreadIDs(call uintptr, real, effective int) error {
	keep := ^uintptr(0) // -1: unchanged
	if _, _, e := unix.RawSyscall(call, uintptr(real), uintptr(effective), keep); e != 0 {
		return e
	}
	return nil
}

// raisePermitted makes this thread's permitted capabilities effective
// again, as a change of euid from 0 clears the effective ones.
func raisePermitted() error {
	header := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&header, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for i := range data {
		data[i].Effective = data[i].Permitted
	}
	if err := unix.Capset(&header, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// nsOwner is the host uid that owns the user namespace of process pid
// (NS_GET_OWNER_UID): for a sandbox's init, the uid it was made as.
func nsOwner(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var uid uint32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.NS_GET_OWNER_UID, uintptr(unsafe.Pointer(&uid))); errno != 0 {
		return 0, fmt.Errorf("NS_GET_OWNER_UID: %w", errno)
	}
	return int(uid), nil
}
