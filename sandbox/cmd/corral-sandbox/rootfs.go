package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The root is built the way bubblewrap builds one: a tmpfs over /tmp serves
// as a scratch root, the host's root is kept at /oldroot while the new root
// is assembled at /newroot, then /newroot becomes the root and everything
// else is detached. The binary and the instance directory are mounts the
// launcher opened (sources.go); only the devices are bound from /oldroot,
// whose /dev any uid may walk to.
const (
	scratchDir = "/tmp"
	oldRoot    = "/oldroot"
	newRoot    = "/newroot"
)

// devices are bound from the host's /dev into the sandbox's.
var devices = []string{"null", "zero", "full", "urandom"}

// makeMountsPrivate stops mounts made in the sandbox from propagating to
// the host (and keeps the host's later unmounts reaching us).
func makeMountsPrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a recursive slave: %w", err)
	}
	return nil
}

// buildRoot assembles the sandbox's root (docs/internals.md, "The root
// inside") and makes it the root of the mount namespace. It consumes the
// release's mount sources: attached or not, they are closed.
func buildRoot(rel *release) error {
	defer closeFds(rel.sources)
	if err := enterScratchRoot(); err != nil {
		return err
	}
	if err := mountTmpfs(newRoot, unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return err
	}
	steps := []func() error{
		func() error { return attachMountSources(rel.spec, rel.sources, newRoot) },
		func() error {
			opts := "mode=1777,size=" + strconv.FormatInt(rel.spec.WorkspaceBytes, 10)
			return mountTmpfs(newRoot+"/tmp", unix.MS_NOSUID|unix.MS_NODEV, opts)
		},
		buildDev,
		func() error {
			return mountFresh("proc", newRoot+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		},
		protectProc,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return pivotInto(newRoot)
}

// enterScratchRoot mounts a tmpfs over /tmp and makes it the root, with the
// host's root at /oldroot and an empty /newroot to build in.
func enterScratchRoot() error {
	if err := mountTmpfs(scratchDir, unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return err
	}
	for _, dir := range []string{oldRoot, newRoot} {
		if err := os.Mkdir(scratchDir+dir, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Chdir(scratchDir); err != nil {
		return fmt.Errorf("chdir %s: %w", scratchDir, err)
	}
	if err := unix.PivotRoot(scratchDir, scratchDir+oldRoot); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", scratchDir, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// buildDev mounts a tmpfs at /dev holding only the harmless devices, then
// makes it read-only: writable, it would be room for files beside the
// workspace, bounded by the memory limit alone. The devices, mounts of
// their own, stay writable.
func buildDev() error {
	dev := newRoot + "/dev"
	flags := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC)
	if err := mountTmpfs(dev, flags, "mode=0755"); err != nil {
		return err
	}
	for _, name := range devices {
		if err := bindFile(oldRoot+"/dev/"+name, dev+"/"+name, flags); err != nil {
			return err
		}
	}
	if err := unix.Mount("", dev, "", unix.MS_REMOUNT|unix.MS_RDONLY|flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", dev, err)
	}
	return nil
}

// readOnlyProc are the parts of /proc that configure the kernel rather than
// describe processes; bubblewrap and runc make the same ones read-only.
// Most are host-wide and need host privileges to change anyway, but
// /proc/sys/net belongs to the sandbox's network namespace, which its root
// owns.
var readOnlyProc = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// protectProc binds each of readOnlyProc that exists over itself, read-only.
func protectProc() error {
	for _, name := range readOnlyProc {
		path := newRoot + "/proc/" + name
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			continue // /proc/bus, say, only exists with a bus to show
		}
		if err := bind(path, path, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC); err != nil {
			return err
		}
	}
	return nil
}

// pivotInto makes dir the root and detaches the old one (with the host's
// root beneath it), then makes the new root read-only.
func pivotInto(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detach below then takes it, and everything under it, away.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", dir, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return nil
}

func mountTmpfs(dir string, flags uintptr, opts string) error {
	return mountFresh("tmpfs", dir, "tmpfs", flags, opts)
}

// mountFresh mounts a new filesystem at dir, creating dir if need be.
func mountFresh(source, dir, fstype string, flags uintptr, opts string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(source, dir, fstype, flags, opts); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, err)
	}
	return nil
}

// bindFile binds the file src at dst, creating dst as an empty file.
func bindFile(src, dst string, flags uintptr) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	return bind(src, dst, flags)
}

// bind binds src at dst, then applies flags to the new mount.
//
// MS_REC because, in a user namespace, a mount cannot be bound apart from
// the mounts beneath it. The remount must also repeat the flags the host's
// mount already has: the kernel locks them (a mount from a more privileged
// namespace cannot be made, say, suid or exec again), and a remount that
// would clear one fails with EPERM.
func bind(src, dst string, flags uintptr) error {
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s at %s: %w", src, dst, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dst, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dst, err)
	}
	flags |= unix.MS_REMOUNT | unix.MS_BIND | lockedFlags(st.Flags)
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", dst, err)
	}
	return nil
}

// lockedFlags maps statfs's ST_* flags of a mount to the MS_* flags a
// remount must keep.
func lockedFlags(st int64) uintptr {
	pairs := []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	}
	var ms uintptr
	for _, p := range pairs {
		if st&p.st != 0 {
			ms |= p.ms
		}
	}
	return ms
}
