package main

// "corral-sandbox instances-fs mount|unmount DIR": the file system of the
// supervisor's instance directories, <runtimeDir>/instances.
//
// Each instance directory belongs to its plugin's uid, which binds its
// sockets there, and the plugin may write anything into it. On the runtime
// directory's own file system (ext4 where /run is not a tmpfs, and any
// runtimeDir an operator picks) that was a host directory with no bound and
// no nosuid: a plugin filled the host's disk through it, and planted a
// setuid copy of its binary that any host user could run to become the
// plugin's uid. A tmpfs of its own, nosuid, nodev and noexec, ends both: a
// plugin's files are charged to its memory cgroup, and nothing there runs
// on the host with the ids of its owner.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// instancesFsSource names the tmpfs in the mount table, so that it is known
// as Corral's (and only it is unmounted).
const instancesFsSource = "corral-instances"

// The tmpfs's flags and its limits: none of its own (see mountInstancesFs).
const (
	instancesFsFlags  = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	instancesFsLimits = "size=0,nr_inodes=0"
)

func runInstancesFs(args []string) int {
	if len(args) != 2 || (args[0] != "mount" && args[0] != "unmount") || !filepath.IsAbs(args[1]) {
		fmt.Fprintln(os.Stderr, "usage: corral-sandbox instances-fs mount|unmount ABSOLUTE-DIR")
		return 2
	}
	// As the mount table has it: a runtimeDir through a symlink
	// (/var/run -> /run) would never be found there.
	dir, err := filepath.EvalSymlinks(filepath.Clean(args[1]))
	if errors.Is(err, fs.ErrNotExist) && args[0] == "unmount" {
		return 0 // nothing there, nothing mounted
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "corral-sandbox instances-fs %s: %v\n", args[0], err)
		return 1
	}
	if args[0] == "mount" {
		err = mountInstancesFs(dir)
	} else {
		err = unmountInstancesFs(dir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "corral-sandbox instances-fs %s %s: %v\n", args[0], dir, err)
		return 1
	}
	return 0
}

// mountInstancesFs mounts a tmpfs of Corral's at dir, unless one is there
// already (left by a supervisor that was killed: its contents are swept by
// the next one, and its options set again, as an older Corral may have
// mounted it with others), and says which on stdout: "mounted" or
// "reused". In a
// mount namespace whose mounts do not reach the host's (a systemd service
// with PrivateTmp=, ProtectSystem=...: a slave of the host's), a mount
// would hide the instance directories from host applications, whose
// stable addresses lead into them: it mounts nothing and says "private
// nosuid" or "private suid", the runtime directory's own file system's
// flag.
func mountInstancesFs(dir string) error {
	entries, err := readMountinfo()
	if err != nil {
		return err
	}
	if topMountOf(entries, dir) == instancesFsSource {
		// A tmpfs can be made unlimited on a remount, never limited again:
		// this always succeeds on Corral's own. Per mount (MS_BIND) for the
		// flags, then the file system for its size and inodes.
		if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|instancesFsFlags, ""); err != nil {
			return fmt.Errorf("remounting the tmpfs left there: %w", err)
		}
		if err := unix.Mount("", dir, "", unix.MS_REMOUNT|instancesFsFlags, instancesFsLimits); err != nil {
			return fmt.Errorf("remounting the tmpfs left there: %w", err)
		}
		fmt.Println("reused")
		return nil
	}
	if private, err := privateMounts(entries, dir); err != nil {
		return err
	} else if private {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			return err
		}
		if st.Flags&unix.ST_NOSUID != 0 {
			fmt.Println("private nosuid")
		} else {
			fmt.Println("private suid")
		}
		return nil
	}
	// No size or inode count of its own (tmpfs's defaults, half the RAM
	// and half its pages, are shared by every instance): one plugin made
	// hard links until none was left, and no other instance could start
	// (3 million links, 2 GiB of charged memory). Every page and inode a
	// plugin makes here is charged to its own memory cgroup: its limit is
	// the bound, and what it uses is its own.
	if err := unix.Mount(instancesFsSource, dir, "tmpfs", instancesFsFlags, "mode=0711,"+instancesFsLimits); err != nil {
		return err
	}
	fmt.Println("mounted")
	return nil
}

// privateMounts reports whether a mount at dir would stay in this process's
// mount namespace, unseen by the host's: the namespace is not PID 1's, or
// (where PID 1's cannot be looked at) the mount dir is on is a slave that
// shares nothing back (what systemd makes of a service's namespace).
func privateMounts(entries []mountEntry, dir string) (bool, error) {
	own, errOwn := os.Readlink("/proc/self/ns/mnt")
	first, errFirst := os.Readlink("/proc/1/ns/mnt")
	if errOwn == nil && errFirst == nil {
		return own != first, nil
	}
	var under *mountEntry
	for i, e := range entries {
		if e.point == dir || e.point == "/" || strings.HasPrefix(dir, e.point+"/") {
			if under == nil || len(e.point) >= len(under.point) {
				under = &entries[i]
			}
		}
	}
	if under == nil {
		return false, fmt.Errorf("no mount holds %s", dir)
	}
	shared, slave := false, false
	for _, tag := range under.optional {
		shared = shared || strings.HasPrefix(tag, "shared:")
		slave = slave || strings.HasPrefix(tag, "master:")
	}
	return slave && !shared, nil
}

// unmountInstancesFs unmounts Corral's tmpfs at dir, if it is there; at
// once, even if something still holds a file of it (the kernel frees it
// when the last is closed).
func unmountInstancesFs(dir string) error {
	top, err := topMount(dir)
	if err != nil || top != instancesFsSource {
		return err
	}
	return unix.Unmount(dir, unix.MNT_DETACH)
}

// topMount returns the source of the topmost mount at dir, "" if none.
func topMount(dir string) (string, error) {
	entries, err := readMountinfo()
	if err != nil {
		return "", err
	}
	return topMountOf(entries, dir), nil
}

func topMountOf(entries []mountEntry, dir string) string {
	source := ""
	for _, e := range entries {
		if e.point == dir {
			source = e.source // a later one is mounted on top
		}
	}
	return source
}
