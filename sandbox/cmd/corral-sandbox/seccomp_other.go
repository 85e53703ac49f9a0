//go:build !amd64

package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// The allow-list names x86_64 syscalls; on another architecture the sandbox
// refuses to start rather than run a plugin without one.
func seccompPolicy() ([]unix.SockFilter, error) {
	return nil, fmt.Errorf("no seccomp policy for %s", runtime.GOARCH)
}

func syscallName(uint32) (string, bool) { return "", false }

// argLowWord is unused without a policy.
const argLowWord = 0

// nativeAuditArch is unused without a policy.
const nativeAuditArch = 0
