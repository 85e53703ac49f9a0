//go:build amd64

package main

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data.
type seccompData struct {
	nr   uint32
	arch uint32
	args [6]uint64
}

// runFilter interprets the classic BPF a seccomp filter is made of (the
// instructions assemble emits) on one syscall, as the kernel would.
func runFilter(t *testing.T, prog []unix.SockFilter, d seccompData) uint32 {
	t.Helper()
	var raw [64]byte
	binary.LittleEndian.PutUint32(raw[0:], d.nr)
	binary.LittleEndian.PutUint32(raw[4:], d.arch)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(raw[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case opLoad:
			if ins.K%4 != 0 || ins.K+4 > uint32(len(raw)) {
				t.Fatalf("pc %d: load at %d", pc, ins.K)
			}
			acc = binary.LittleEndian.Uint32(raw[ins.K:])
		case opRet:
			return ins.K
		case opJeq, opJge, opJset:
			var taken bool
			switch ins.Code {
			case opJeq:
				taken = acc == ins.K
			case opJge:
				taken = acc >= ins.K
			case opJset:
				taken = acc&ins.K != 0
			}
			if taken {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		default:
			t.Fatalf("pc %d: unexpected instruction %#x", pc, ins.Code)
		}
	}
	t.Fatalf("fell off the end of the filter for %+v", d)
	return 0
}

// decide is the policy's decision, read from the rules directly.
func decide(rules []rule, d seccompData) uint32 {
	if d.arch != nativeAuditArch || d.nr >= x32SyscallBit {
		return actKill
	}
	for _, r := range rules {
		if r.nr != d.nr {
			continue
		}
		for _, a := range r.alts {
			ok := true
			for _, c := range a.conds {
				v := uint32(d.args[c.arg]) // the low 32 bits
				if c.noneOf {
					ok = ok && v&c.val == 0
				} else {
					ok = ok && v == c.val
				}
			}
			if ok {
				return a.action
			}
		}
		return r.otherwise
	}
	return actKill
}

// TestSeccompPolicy checks the filter against the rules it is compiled
// from for every syscall number up to well past the last, both ABIs'
// boundaries and another arch, with the arguments the rules test (also
// with high bits set, which must not count) and others.
func TestSeccompPolicy(t *testing.T) {
	prog, err := seccompPolicy()
	if err != nil {
		t.Fatal(err)
	}
	var rules []rule
	for _, nr := range allowedSyscalls {
		rules = append(rules, rule{nr: nr, otherwise: actAllow})
	}
	rules = append(rules, argumentRules()...)
	values := []uint64{0, 1, 2, 0xffffffff, 1 << 32, 0xffffffff00000000}
	for _, r := range rules {
		for _, a := range r.alts {
			for _, c := range a.conds {
				values = append(values, uint64(c.val), uint64(c.val)|1<<32, uint64(c.val)|0xdead<<40, uint64(c.val)^1)
			}
		}
	}
	tested := map[uint32]bool{} // syscalls whose arguments the rules test
	for _, r := range rules {
		if len(r.alts) > 0 {
			tested[r.nr] = true
		}
	}
	var nrs []uint32
	for nr := uint32(0); nr < 1100; nr++ {
		nrs = append(nrs, nr)
	}
	nrs = append(nrs, x32SyscallBit-1, x32SyscallBit, x32SyscallBit+1, x32SyscallBit+unix.SYS_READ, 0xffffffff)
	checked := 0
	for _, arch := range []uint32{nativeAuditArch, unix.AUDIT_ARCH_I386, 0} {
		for _, nr := range nrs {
			argSets := [][6]uint64{{}, {1, 2, 3, 4, 5, 6}, {0xffffffff, 1 << 32}}
			if arch == nativeAuditArch && tested[nr] {
				for _, v := range values {
					for i := range 6 {
						var args [6]uint64
						args[i] = v
						argSets = append(argSets, args)
					}
					argSets = append(argSets, [6]uint64{v, v, v, v, v, v})
					for _, w := range values {
						argSets = append(argSets, [6]uint64{v, 0, w, 0, 0, 0}, [6]uint64{v, w, 0, 0, 0, 0})
					}
				}
			}
			for _, args := range argSets {
				d := seccompData{nr: nr, arch: arch, args: args}
				if got, want := runFilter(t, prog, d), decide(rules, d); got != want {
					t.Fatalf("syscall %d arch %#x args %#x: filter returns %#x, rules say %#x", nr, arch, args, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d instructions, %d cases", len(prog), checked)
}

func TestAssembleRefusesDuplicatesAndForeignNumbers(t *testing.T) {
	if _, err := assemble(nativeAuditArch, x32SyscallBit, []rule{{nr: 1, otherwise: actAllow}, {nr: 1, otherwise: actKill}}); err == nil {
		t.Error("two rules for one syscall: no error")
	}
	if _, err := assemble(nativeAuditArch, x32SyscallBit, []rule{{nr: x32SyscallBit, otherwise: actAllow}}); err == nil {
		t.Error("a rule for an x32 number: no error")
	}
}
