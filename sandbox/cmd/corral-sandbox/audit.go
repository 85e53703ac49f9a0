package main

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The seccomp filter kills a plugin with SIGSYS, and its parent learns no
// more than that. Which syscall it was, the kernel tells only the audit
// log: with kill_process in /proc/sys/kernel/seccomp/actions_logged (the
// default), every such kill makes a record of type 1326 (AUDIT_SECCOMP)
// with the host pid and the syscall number. Without an audit daemon the
// kernel prints it to its log, where the launcher, host root, reads it:
//
//	audit: type=1326 audit(…): auid=… uid=… gid=… ses=… pid=4242 comm="plugin" exe="/plugin" sig=31 arch=c000003e syscall=165 compat=0 ip=… code=0x80000000
//
// The kernel prints audit records through a rate limit (10 in 5 seconds,
// host-wide); a record it drops leaves the kill unexplained, and so does a
// host whose audit daemon takes the records for itself.

// seccompAuditType is AUDIT_SECCOMP.
const seccompAuditType = "1326"

// auditWait bounds how long the launcher waits for the record: the kernel
// prints it from its audit thread, a moment after the kill.
const auditWait = time.Second

// kernelLog reads the kernel's log (/dev/kmsg) from where it stood when the
// launcher opened it. fd is -1 if it could not be opened.
type kernelLog struct {
	fd int
}

// openKernelLog opens /dev/kmsg positioned after its last record, so that
// only records made from now on are read.
func openKernelLog() kernelLog {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return kernelLog{fd: -1}
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return kernelLog{fd: -1}
	}
	return kernelLog{fd: fd}
}

// seccompKill returns the name of the syscall for which the seccomp filter
// killed the process with host pid pid, waiting up to wait for the record.
func (k kernelLog) seccompKill(pid int, wait time.Duration) (string, bool) {
	if k.fd < 0 {
		return "", false
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 8192) // a record is at most 1024 bytes of text, escaped
	for {
		n, err := unix.Read(k.fd, buf)
		switch {
		case err == unix.EINTR, err == unix.EPIPE:
			// EPIPE: records were overwritten before we read them; the read
			// position has moved on to the oldest one left.
			continue
		case err == unix.EAGAIN:
			left := time.Until(deadline)
			if left <= 0 {
				return "", false
			}
			fds := []unix.PollFd{{Fd: int32(k.fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
				return "", false
			}
			continue
		case err != nil:
			return "", false
		}
		if nr, ok := parseSeccompRecord(string(buf[:n]), pid); ok {
			if name, ok := syscallName(nr); ok {
				return name, true
			}
			return "syscall_" + strconv.FormatUint(uint64(nr), 10), true
		}
	}
}

// parseSeccompRecord returns the syscall number of a /dev/kmsg record that
// is the kernel's seccomp kill record for pid on this architecture.
//
// Records userspace writes to /dev/kmsg cannot pass for the kernel's: the
// kernel files them under a facility other than 0. Within the message,
// the strings a process controls (comm, exe) are quoted or hex-encoded and
// hold no spaces, so splitting at spaces cannot be fooled by them.
func parseSeccompRecord(record string, pid int) (uint32, bool) {
	prefix, msg, ok := strings.Cut(record, ";")
	if !ok {
		return 0, false
	}
	prio, _, _ := strings.Cut(prefix, ",")
	if p, err := strconv.Atoi(prio); err != nil || p>>3 != 0 {
		return 0, false
	}
	msg, _, _ = strings.Cut(msg, "\n") // the dictionary, if any, follows
	if !strings.HasPrefix(msg, "audit: type="+seccompAuditType+" ") {
		return 0, false
	}
	fields := make(map[string]string)
	for _, f := range strings.Fields(msg) {
		if key, value, ok := strings.Cut(f, "="); ok {
			if _, dup := fields[key]; !dup {
				fields[key] = value
			}
		}
	}
	if fields["pid"] != strconv.Itoa(pid) || fields["sig"] != strconv.Itoa(int(unix.SIGSYS)) ||
		fields["arch"] != strconv.FormatUint(uint64(nativeAuditArch), 16) {
		return 0, false
	}
	nr, err := strconv.ParseUint(fields["syscall"], 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(nr), true
}

func (k kernelLog) close() {
	if k.fd >= 0 {
		unix.Close(k.fd)
	}
}
