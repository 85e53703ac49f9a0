package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// eventOOM tells that the kernel's OOM killer acted in the instance's
// memory cgroup (cgroup v1). The supervisor then reads the cgroup's kill
// count at once, where it would otherwise see it at its next sample: on v1
// the kernel kills one process, which may leave the plugin itself running.
// (On v2 the instance's cgroup is an OOM group: the plugin dies with it, and
// its exit says so.)
const eventOOM = "oom"

// watchOOM arranges an eventOOM for every OOM notification of the v1 memory
// cgroup among procsFiles (the one with memory.oom_control), through an
// eventfd registered in its cgroup.event_control. It returns nil and does
// nothing when there is none (cgroup v2). The watch lasts as long as the
// launcher: the kernel also signals the eventfd when the cgroup is removed,
// which happens only once the launcher has reported the end.
func watchOOM(procsFiles []string, events eventWriter) error {
	for _, procs := range procsFiles {
		dir := filepath.Dir(procs)
		control, err := os.Open(filepath.Join(dir, "memory.oom_control"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("opening the memory cgroup's OOM control: %w", err)
		}
		defer control.Close() // registered, the kernel holds its own reference
		efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
		if err != nil {
			return fmt.Errorf("eventfd: %w", err)
		}
		registration := fmt.Sprintf("%d %d", efd, control.Fd())
		if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(registration), 0); err != nil {
			unix.Close(efd)
			return fmt.Errorf("registering for OOM notifications in %s: %w", dir, err)
		}
		go relayOOM(efd, events)
		return nil
	}
	return nil
}

// relayOOM emits eventOOM for each notification until the eventfd fails.
func relayOOM(efd int, events eventWriter) {
	var count [8]byte
	for {
		_, err := unix.Read(efd, count[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		events.emit(event{Type: eventOOM})
	}
}
