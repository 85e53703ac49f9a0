package main

import (
	"cmp"
	"fmt"
	"slices"

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
//
// The syscall number is looked up in a binary search tree over the ranges
// of numbers that share a decision (most allowed syscalls sit in runs of
// neighbours), rather than tested against each rule in turn: when it loads
// a filter the kernel compiles it and emulates it for every syscall number
// (to cache the ones always allowed), in time that grows with the program's
// length and its paths', and the load is on every sandbox start's path (a
// chain of one test per rule, 611 instructions, took 0.5-0.7 ms).
func assemble(arch uint32, minForeignNr uint32, rules []rule) ([]unix.SockFilter, error) {
	prog := []unix.SockFilter{
		stmt(opLoad, offArch),
		jump(opJeq, arch, 1, 0),
		stmt(opRet, actKill),
		stmt(opLoad, offNr),
		jump(opJge, minForeignNr, 0, 1),
		stmt(opRet, actKill),
	}
	sorted := slices.Clone(rules)
	slices.SortFunc(sorted, func(a, b rule) int { return cmp.Compare(a.nr, b.nr) })
	// The numbers from 0 up, cut where the decision changes: a segment runs
	// from its start up to the next one's, the last one on.
	var segs []segment
	add := func(start uint32, body []unix.SockFilter) {
		if n := len(segs); n > 0 && segs[n-1].start == start {
			segs = segs[:n-1] // replaced
		}
		if n := len(segs); n > 0 && sameReturn(segs[n-1].body, body) {
			return // the previous segment goes on
		}
		segs = append(segs, segment{start, body})
	}
	kill := []unix.SockFilter{stmt(opRet, actKill)}
	add(0, kill)
	for i, r := range sorted {
		if i > 0 && sorted[i-1].nr == r.nr {
			return nil, fmt.Errorf("seccomp policy: two rules for syscall %d", r.nr)
		}
		if r.nr >= minForeignNr {
			return nil, fmt.Errorf("seccomp policy: syscall %d is not below %#x", r.nr, minForeignNr)
		}
		body, err := r.compile()
		if err != nil {
			return nil, err
		}
		add(r.nr, body)
		add(r.nr+1, kill)
	}
	lookup, err := searchTree(segs)
	if err != nil {
		return nil, err
	}
	prog = append(prog, lookup...)
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp policy: %d instructions, at most %d", len(prog), unix.BPF_MAXINSNS)
	}
	return prog, nil
}

// segment is the syscall numbers from start up to the next segment's, and
// the code that decides them.
type segment struct {
	start uint32
	body  []unix.SockFilter // straight-line code that always returns
}

// sameReturn tells whether two bodies are the same lone return.
func sameReturn(a, b []unix.SockFilter) bool {
	return len(a) == 1 && len(b) == 1 && a[0] == b[0] && a[0].Code == opRet
}

// searchTree compiles the lookup of the syscall number, which A holds, in
// segs (sorted, the first starting at 0): a test of A against the start of
// the upper half, the lower half's code, then the upper half's. Each leaf
// is a segment's body, which returns on every path.
func searchTree(segs []segment) ([]unix.SockFilter, error) {
	if len(segs) == 1 {
		return segs[0].body, nil
	}
	mid := len(segs) / 2
	lower, err := searchTree(segs[:mid])
	if err != nil {
		return nil, err
	}
	upper, err := searchTree(segs[mid:])
	if err != nil {
		return nil, err
	}
	if len(lower) > 255 {
		return nil, fmt.Errorf("seccomp policy: %d instructions below syscall %d, more than a jump skips", len(lower), segs[mid].start)
	}
	code := make([]unix.SockFilter, 0, 1+len(lower)+len(upper))
	code = append(code, jump(opJge, segs[mid].start, len(lower), 0))
	code = append(code, lower...)
	return append(code, upper...), nil
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
