package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// threadMove takes the launcher's calling thread into the instance cgroups
// of the v1 hierarchies and back, so that the init, cloned from that thread
// meanwhile, starts in them: a child starts in the cgroups of the thread that
// forks it.
//
// A thread moves itself by writing "0" to a hierarchy's "tasks" file. That
// skips the kernel's global cgroup_threadgroup_rwsem, which writing the
// init's pid to "cgroup.procs" takes for writing, and which waits for an RCU
// grace period (milliseconds, tens of them on a busy host). The caller must
// be locked to its OS thread (main.go locks the main goroutine).
type threadMove struct {
	into []string // the instance's tasks files
	back []string // the tasks files of the thread's own cgroups, by hierarchy
	// entered counts the hierarchies of into the thread moved to.
	entered int
}

const (
	cgroupV1Magic = 0x27e0eb   // CGROUP_SUPER_MAGIC
	cgroupV2Magic = 0x63677270 // CGROUP2_SUPER_MAGIC
)

// planThreadMove finds, for each cgroup.procs file of a v1 hierarchy, the
// tasks file beside it and the tasks file of the calling thread's own cgroup
// in that hierarchy. rest are the files the init must still be written into
// (cgroup.procs of a v2 hierarchy, whose threads may not sit in different
// cgroups). move is nil if there is nothing to move or any file cannot be
// placed; then rest is every file.
func planThreadMove(procsFiles []string) (move *threadMove, rest []string) {
	if len(procsFiles) == 0 {
		return nil, procsFiles
	}
	var v1 []string
	for _, file := range procsFiles {
		var fs unix.Statfs_t
		if err := unix.Statfs(filepath.Dir(file), &fs); err != nil {
			return nil, procsFiles
		}
		switch fs.Type {
		case cgroupV1Magic:
			v1 = append(v1, file)
		case cgroupV2Magic:
			rest = append(rest, file)
		default:
			return nil, procsFiles
		}
	}
	if len(v1) == 0 {
		return nil, procsFiles
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, procsFiles
	}
	mounts, err := cgroupV1Mounts()
	if err != nil {
		return nil, procsFiles
	}
	move = &threadMove{}
	for _, file := range v1 {
		dir := filepath.Dir(file)
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return nil, procsFiles
		}
		m, ok := mounts[st.Dev]
		if !ok {
			return nil, procsFiles
		}
		path, ok := m.ownPath(own)
		if !ok {
			return nil, procsFiles
		}
		move.into = append(move.into, filepath.Join(dir, "tasks"))
		move.back = append(move.back, filepath.Join(path, "tasks"))
	}
	return move, rest
}

// enter moves the calling thread into each instance cgroup, stopping at the
// first failure. leave must follow in every case.
func (m *threadMove) enter() error {
	for _, file := range m.into {
		if err := writeExisting(file, "0"); err != nil {
			return err
		}
		m.entered++
	}
	return nil
}

// leave moves the calling thread back into its own cgroups, in every
// hierarchy it entered, and reports the first failure.
func (m *threadMove) leave() error {
	var first error
	for _, file := range m.back[:m.entered] {
		if err := writeExisting(file, "0"); err != nil && first == nil {
			first = fmt.Errorf("move the launcher back: %w", err)
		}
	}
	if first == nil {
		m.entered = 0
	}
	return first
}

// ownCgroups reads the calling thread's cgroups in the v1 hierarchies: the
// path of its cgroup (as the cgroup namespace shows it) by the hierarchy's
// controllers ("memory", "cpu,cpuacct", "name=systemd").
func ownCgroups() (map[string]string, error) {
	data, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("/proc/thread-self/cgroup: bad line %q", line)
		}
		if fields[1] != "" { // v2 has none
			own[fields[1]] = fields[2]
		}
	}
	return own, nil
}

// cgroupV1Mount is where a v1 hierarchy is mounted.
type cgroupV1Mount struct {
	root, point string
	options     map[string]bool // the super options: its controllers among them
}

// ownPath returns the directory of the thread's own cgroup in m's hierarchy,
// if it is beneath m's root.
func (m cgroupV1Mount) ownPath(own map[string]string) (string, bool) {
	for controllers, path := range own {
		all := true
		for _, c := range strings.Split(controllers, ",") {
			all = all && m.options[c]
		}
		if !all {
			continue
		}
		rel, err := filepath.Rel(m.root, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", false
		}
		return filepath.Join(m.point, rel), true
	}
	return "", false
}

// cgroupV1Mounts reads /proc/self/mountinfo for the v1 cgroup mounts, by
// device: each hierarchy has its own. Of several mounts of one hierarchy,
// the one with the shortest root is kept.
func cgroupV1Mounts() (map[uint64]cgroupV1Mount, error) {
	entries, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	mounts := map[uint64]cgroupV1Mount{}
	for _, e := range entries {
		if e.fstype != "cgroup" {
			continue
		}
		m := cgroupV1Mount{root: e.root, point: e.point, options: map[string]bool{}}
		for _, o := range strings.Split(e.superOptions, ",") {
			m.options[o] = true
		}
		if old, ok := mounts[e.dev]; !ok || len(m.root) < len(old.root) {
			mounts[e.dev] = m
		}
	}
	if len(mounts) == 0 {
		return nil, errors.New("no cgroup v1 mounts")
	}
	return mounts, nil
}

// openSelfMove opens, beside each cgroup.procs file of a v1 hierarchy, its
// tasks file, for an init that moves itself in (startUnmapped): writing "0"
// there moves the writing thread alone, which skips the global threadgroup
// lock, and an fd the launcher opened carries its permission (the kernel
// checks the opener's credentials), where the init's own ids have none on
// the host's cgroupfs. rest are the files the init's pid must still be
// written into (cgroup.procs of a v2 hierarchy, or of anything else, which
// fails there as it would have).
func openSelfMove(procsFiles []string) (fds []int, rest []string, err error) {
	for _, file := range procsFiles {
		dir := filepath.Dir(file)
		var fs unix.Statfs_t
		if err := unix.Statfs(dir, &fs); err != nil {
			closeFds(fds)
			return nil, nil, fmt.Errorf("statfs %s: %w", dir, err)
		}
		if fs.Type != cgroupV1Magic {
			rest = append(rest, file)
			continue
		}
		tasks := filepath.Join(dir, "tasks")
		fd, err := unix.Open(tasks, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeFds(fds)
			return nil, nil, fmt.Errorf("open %s: %w", tasks, err)
		}
		fds = append(fds, fd)
	}
	return fds, rest, nil
}
