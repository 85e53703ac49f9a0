package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setUpNetwork brings up lo in the sandbox's own network namespace. With
// network "host" the init was cloned into the host's, where there is
// nothing to set up (and nothing it could change).
func setUpNetwork(rel *release) error {
	if rel.spec.Network == "host" {
		return nil
	}
	return bringLoopbackUp()
}

// bringLoopbackUp brings up lo, the only interface of the sandbox's new
// network namespace.
func bringLoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}
