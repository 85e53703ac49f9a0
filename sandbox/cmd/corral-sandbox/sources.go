package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The host paths the sandbox's root takes mounts of are opened by the
// launcher, not looked up by the init. The init's root maps to an
// unprivileged host uid, which may not be allowed to walk to them at all
// (a checkout under /root, a mktemp -d directory): a sandbox must not need
// the host's directories to be traversable by others. The launcher, host
// root in the host's mount namespace, clones each source as a detached
// mount (open_tree), sets its flags, and passes it to the init with the
// spec; the init only attaches it (move_mount).

// mountSource is one host path mounted into the sandbox's root.
type mountSource struct {
	name   string // for errors
	path   func(*Spec) string
	target string // inside the sandbox
	mode   uint32 // file type the source must have (S_IFREG or S_IFDIR)
	attr   uint64 // MOUNT_ATTR_* set on the mount
}

// mountSources are the sources, in the order their fds travel with the
// spec (docs/internals.md, "The root inside").
var mountSources = []mountSource{
	{
		name:   "binary",
		path:   func(s *Spec) string { return s.Binary },
		target: pluginPath,
		mode:   unix.S_IFREG,
		attr:   unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV,
	},
	{
		name:   "instance directory",
		path:   func(s *Spec) string { return s.InstanceDir },
		target: "/corral",
		mode:   unix.S_IFDIR,
		attr:   unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC,
	},
}

// openMountSources opens a detached mount of each source of spec, in the
// order of mountSources. On error it closes what it opened.
func openMountSources(spec *Spec) ([]int, error) {
	fds := make([]int, 0, len(mountSources))
	for _, src := range mountSources {
		fd, err := src.open(src.path(spec))
		if err != nil {
			closeFds(fds)
			return nil, err
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// open clones the mount at path, symlinks followed, into a detached mount
// of path alone and sets the source's flags on it.
//
// Not recursive (no AT_RECURSIVE): the sandbox gets the one filesystem at
// path, never mounts that happen to lie beneath it on the host.
func (src mountSource) open(path string) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("%s: open_tree %s: %w", src.name, path, err)
	}
	if err := src.prepare(fd, path); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (src mountSource) prepare(fd int, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%s: stat %s: %w", src.name, path, err)
	}
	if st.Mode&unix.S_IFMT != src.mode {
		what := "a regular file"
		if src.mode == unix.S_IFDIR {
			what = "a directory"
		}
		return fmt.Errorf("%s %s: not %s", src.name, path, what)
	}
	// A clone of a shared mount joins its peer group: mounts made beneath it
	// in the sandbox would then propagate to the host. As a slave it still
	// sees the host's unmounts, like every other mount of the sandbox
	// (makeMountsPrivate).
	attr := unix.MountAttr{Attr_set: src.attr, Propagation: unix.MS_SLAVE}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return fmt.Errorf("%s: set mount attributes of %s: %w", src.name, path, err)
	}
	return nil
}

// attachMountSources attaches the detached mounts the launcher sent, in the
// order of mountSources, at their targets beneath root.
func attachMountSources(fds []int, root string) error {
	for i, src := range mountSources {
		target := root + src.target
		if err := src.makeTarget(target); err != nil {
			return err
		}
		if err := unix.MoveMount(fds[i], "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach the %s at %s: %w", src.name, target, err)
		}
	}
	return nil
}

// makeTarget creates the empty file or directory the source is mounted on.
func (src mountSource) makeTarget(target string) error {
	if src.mode == unix.S_IFDIR {
		return os.Mkdir(target, 0o755)
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444)
	if err != nil {
		return err
	}
	return f.Close()
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
