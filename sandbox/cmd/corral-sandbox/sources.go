package main

import (
	"fmt"
	"strconv"

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

// pluginPath is where the plugin's binary is mounted inside the sandbox.
const pluginPath = "/plugin"

// mountSource is one host path mounted into the sandbox's root.
type mountSource struct {
	name   string // for errors
	path   string // on the host
	target string // inside the sandbox
	// mode is the file type the source must have (S_IFREG or S_IFDIR), or 0
	// for either; the mountpoint made for it is of the same type.
	mode uint32
	attr uint64 // MOUNT_ATTR_* set on the mount
	// recursive takes the mounts beneath path along (AT_RECURSIVE), with
	// attr set on each of them.
	recursive bool
	// private is a fresh tmpfs instead of path (fsopen and fsmount), its
	// root directory owned by uid and gid with mode 0700.
	private  bool
	uid, gid int
}

// grantAttr are the flags of a read-only grant. Not noexec: the usual grant
// is the libraries a dynamically linked binary maps executable.
const grantAttr = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV

// mountSources are the sources of spec, in the order their fds travel with
// it (docs/internals.md, "The root inside"): the binary, the instance
// directory, then each read-only grant.
func mountSources(spec *Spec) []mountSource {
	srcs := []mountSource{
		{
			name:   "binary",
			path:   spec.Binary,
			target: pluginPath,
			mode:   unix.S_IFREG,
			attr:   unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV,
		},
		{
			name:    "instance directory",
			path:    spec.InstanceDir,
			target:  "/corral",
			mode:    unix.S_IFDIR,
			attr:    unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC,
			private: spec.PrivateInstanceDir,
			uid:     spec.UID,
			gid:     spec.GID,
		},
	}
	for _, p := range spec.ReadOnlyPaths {
		// Recursive, unlike the two above: a grant of /usr means what the
		// host sees at /usr, mounts beneath it included.
		srcs = append(srcs, mountSource{name: "read-only path", path: p, target: p, attr: grantAttr, recursive: true})
	}
	return srcs
}

// openMountSources opens a detached mount of each source of spec, in the
// order of mountSources. On error it closes what it opened.
func openMountSources(spec *Spec) ([]int, error) {
	srcs := mountSources(spec)
	fds := make([]int, 0, len(srcs))
	for _, src := range srcs {
		fd, err := src.open()
		if err != nil {
			closeFds(fds)
			return nil, err
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// open clones the mount at the source's path, symlinks followed, into a
// detached mount and sets the source's flags on it.
//
// Without recursive (no AT_RECURSIVE) the sandbox gets the one filesystem
// at path, never mounts that happen to lie beneath it on the host.
func (src mountSource) open() (int, error) {
	if src.private {
		return src.openTmpfs()
	}
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if src.recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src.path, uint(flags))
	if err != nil {
		return -1, fmt.Errorf("%s: open_tree %s: %w", src.name, src.path, err)
	}
	if err := src.prepare(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (src mountSource) prepare(fd int) error {
	if src.mode != 0 {
		mode, err := fileType(fd)
		if err != nil {
			return fmt.Errorf("%s: stat %s: %w", src.name, src.path, err)
		}
		if mode != src.mode {
			what := "a regular file"
			if src.mode == unix.S_IFDIR {
				what = "a directory"
			}
			return fmt.Errorf("%s %s: not %s", src.name, src.path, what)
		}
	}
	// A clone of a shared mount joins its peer group: mounts made beneath it
	// in the sandbox would then propagate to the host. As a slave it still
	// sees the host's unmounts, like every other mount of the sandbox
	// (makeMountsPrivate). A grant (recursive) is private instead: as a
	// slave it also took the mounts the host made beneath it later, and
	// those came without its flags, read-write, suid and dev (a reviewer
	// wrote into a tmpfs mounted under a granted path once the sandbox
	// ran). Private, it keeps what was there at the start, each mount with
	// the grant's flags; a host unmount beneath it is not seen inside.
	propagation := uint64(unix.MS_SLAVE)
	if src.recursive {
		propagation = unix.MS_PRIVATE
	}
	attr := unix.MountAttr{Attr_set: src.attr, Propagation: propagation}
	flags := unix.AT_EMPTY_PATH
	if src.recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", uint(flags), &attr); err != nil {
		return fmt.Errorf("%s: set mount attributes of %s: %w", src.name, src.path, err)
	}
	return nil
}

// openTmpfs makes a detached tmpfs for a private source, as Corral's
// instances tmpfs is made (instancesfs.go): no size or inode count of its
// own, every page and inode charged to the memory cgroup of the sandbox
// that writes them, and the source's flags.
func (src mountSource) openTmpfs() (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("%s: fsopen tmpfs: %w", src.name, err)
	}
	defer unix.Close(fs)
	for _, opt := range [][2]string{{"size", "0"}, {"nr_inodes", "0"}, {"mode", "0700"}, {"uid", strconv.Itoa(src.uid)}, {"gid", strconv.Itoa(src.gid)}} {
		if err := unix.FsconfigSetString(fs, opt[0], opt[1]); err != nil {
			return -1, fmt.Errorf("%s: tmpfs option %s=%s: %w", src.name, opt[0], opt[1], err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("%s: creating a tmpfs: %w", src.name, err)
	}
	fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, int(src.attr))
	if err != nil {
		return -1, fmt.Errorf("%s: fsmount of a tmpfs: %w", src.name, err)
	}
	return fd, nil
}

// fileType is the S_IFMT part of the mode of the file open at fd.
func fileType(fd int) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
