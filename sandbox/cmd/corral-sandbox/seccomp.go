package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The seccomp filter is classic BPF written out here rather than assembled
// by a library: its argument checks must compare only the low 32 bits of an
// argument the kernel takes as an int (an ioctl request, a socket family),
// or a caller could pass TIOCSTI with high bits set, which the check would
// not see and the kernel would ignore; and a syscall of another ABI on the
// same architecture (x32) must kill, not fail. The policy itself, the
// syscalls allowed and how, is data (seccomp_amd64.go).

// Actions a filter returns.
const (
	actAllow = unix.SECCOMP_RET_ALLOW
	actKill  = unix.SECCOMP_RET_KILL_PROCESS
)

// actErrno fails the syscall with errno instead of running it.
func actErrno(errno unix.Errno) uint32 {
	return unix.SECCOMP_RET_ERRNO | uint32(errno)&unix.SECCOMP_RET_DATA
}

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// rule decides one syscall: the first alternative whose conditions all
// hold returns its action; if none does, otherwise.
type rule struct {
	nr        uint32
	alts      []alt
	otherwise uint32
}

type alt struct {
	conds  []cond
	action uint32
}

// cond tests the low 32 bits of argument arg: equal to val, or (with
// noneOf) sharing no bit with it.
type cond struct {
	arg    int
	val    uint32
	noneOf bool
}

func stmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func jump(code uint16, k uint32, jt, jf int) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k, Jt: uint8(jt), Jf: uint8(jf)}
}

const (
	opLoad = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opRet  = unix.BPF_RET | unix.BPF_K
	opJeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opJset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
)

// assemble compiles a policy for one architecture: anything not of that
// audit arch, any syscall number at or above minForeignNr (another ABI of
// the same arch), and any syscall without a rule is killed.
func assemble(arch uint32, minForeignNr uint32, rules []rule) ([]unix.SockFilter, error) {
	prog := []unix.SockFilter{
		stmt(opLoad, offArch),
		jump(opJeq, arch, 1, 0),
		stmt(opRet, actKill),
		stmt(opLoad, offNr),
		jump(opJge, minForeignNr, 0, 1),
		stmt(opRet, actKill),
	}
	seen := make(map[uint32]bool, len(rules))
	for _, r := range rules {
		if seen[r.nr] {
			return nil, fmt.Errorf("seccomp policy: two rules for syscall %d", r.nr)
		}
		seen[r.nr] = true
		body, err := r.compile()
		if err != nil {
			return nil, err
		}
		if len(body) > 255 {
			return nil, fmt.Errorf("seccomp policy: rule for syscall %d too long", r.nr)
		}
		// A still holds the syscall number here: each body ends in a return
		// on every path, so no body falls through into the next test.
		prog = append(prog, jump(opJeq, r.nr, 0, len(body)))
		prog = append(prog, body...)
	}
	prog = append(prog, stmt(opRet, actKill))
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp policy: %d instructions, at most %d", len(prog), unix.BPF_MAXINSNS)
	}
	return prog, nil
}

// compile turns a rule into straight-line code that always returns.
func (r rule) compile() ([]unix.SockFilter, error) {
	var body []unix.SockFilter
	for _, a := range r.alts {
		n := len(a.conds)
		for i, c := range a.conds {
			if c.arg < 0 || c.arg > 5 {
				return nil, fmt.Errorf("seccomp policy: syscall %d has no argument %d", r.nr, c.arg)
			}
			// On a failed condition, skip the rest of this alternative:
			// the later conditions' two instructions each, and its return.
			skip := 2*(n-i-1) + 1
			body = append(body, stmt(opLoad, uint32(offArgs+8*c.arg+argLowWord)))
			if c.noneOf {
				body = append(body, jump(opJset, c.val, skip, 0))
			} else {
				body = append(body, jump(opJeq, c.val, 0, skip))
			}
		}
		body = append(body, stmt(opRet, a.action))
		if n == 0 {
			return body, nil // unconditional: nothing after it is reached
		}
	}
	return append(body, stmt(opRet, r.otherwise)), nil
}
