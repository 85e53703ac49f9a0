package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The init (sandbox/cmd/corral-sandbox-init/init.c) is a small static C
// program, not this binary run a second time: it is on every start's
// critical path, and a Go runtime would take a millisecond or two to come
// up there, and dozens of stop-the-world rounds to drop privileges on each
// of its threads. The launcher does the deciding instead: it checks the
// spec, computes the plugin's environment and the seccomp filter, and sends
// the init a release that says only what to do.

// initBinary is the init's file name, beside the launcher's own.
const initBinary = "corral-sandbox-init"

// openInit opens the init's binary. The init is exec'd through the open fd
// (/proc/self/fd/N), as it was through /proc/self/exe when it was this
// binary: a magic link, so the sandbox's unprivileged uid need not be able
// to walk to the binary's directory (a checkout under /root).
func openInit() (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the launcher's own binary: %w", err)
	}
	path := filepath.Join(filepath.Dir(exe), initBinary)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the init %s (scripts/build-go.sh builds it): %w", path, err)
	}
	// Above the fds the clone's child rearranges before the exec (it moves
	// its stdio and extra files into place through the lowest free numbers
	// from 4 on), which might otherwise land on this one.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minInitFd)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("open the init %s: %w", path, err)
	}
	return os.NewFile(uintptr(high), path), nil
}

// minInitFd is the lowest fd the init's binary is held at while it is
// exec'd.
const minInitFd = 64

// Release layout, read by init.c's receive_release: "CRL1", then
// little-endian fields; a string is a u32 length (its NUL included) and its
// bytes with the NUL; a list a u32 count and that many strings.
//
//	u32 flags, u64 workspace bytes, u64 nofile, u64 nproc, u64 fsize,
//	str hostname, list argv ("/plugin" first), list envp ("NAME=value"),
//	u32 mounts, then per mount: str target, u32 mode (S_IFREG, S_IFDIR or 0
//	for the source's own), u32 tasks, u32 filter length, then the filter's
//	instructions (struct sock_filter, 8 bytes each).
//
// The mounts are mountSources(spec), in order; their fds travel with the
// release as SCM_RIGHTS, followed by those of "tasks" v1 tasks files the
// init moves itself into (startUnmapped) before anything else, and reports
// "placed".
const (
	releaseMagic        = 0x314c5243 // "CRL1"
	releaseNewNetwork   = 1          // the init has a network namespace of its own: bring lo up
	releaseInheritStdin = 2          // the plugin's stdin is the init's, not /dev/null
)

// encodeRelease compiles spec and the seccomp filter into the init's release.
func encodeRelease(spec *Spec, filter []unix.SockFilter, tasks int) []byte {
	var b []byte
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	str := func(s string) {
		u32(uint32(len(s) + 1))
		b = append(b, s...)
		b = append(b, 0)
	}
	list := func(l []string) {
		u32(uint32(len(l)))
		for _, s := range l {
			str(s)
		}
	}
	var flags uint32
	if spec.Network != "host" {
		flags |= releaseNewNetwork
	}
	if spec.Stdin == "inherit" {
		flags |= releaseInheritStdin
	}
	u32(releaseMagic)
	u32(flags)
	u64(uint64(spec.WorkspaceBytes))
	u64(spec.Rlimits.NoFile)
	u64(spec.Rlimits.NProc)
	u64(spec.Rlimits.FSizeBytes)
	str(spec.Hostname)
	list(append([]string{pluginPath}, spec.Args...))
	list(spec.environ())
	srcs := mountSources(spec)
	u32(uint32(len(srcs)))
	for _, src := range srcs {
		str(src.target)
		u32(src.mode)
	}
	u32(uint32(tasks))
	u32(uint32(len(filter)))
	for _, ins := range filter {
		b = binary.LittleEndian.AppendUint16(b, ins.Code)
		b = append(b, ins.Jt, ins.Jf)
		u32(ins.K)
	}
	return b
}
