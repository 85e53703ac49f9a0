package main

import "testing"

func TestParseSeccompRecord(t *testing.T) {
	const rec = `5,341,2640796394,-;audit: type=1326 audit(1795695699.046:2): auid=4294967295 uid=201000 gid=201000 ses=4294967295 pid=30515 comm="pid=1" exe="/plugin" sig=31 arch=c000003e syscall=165 compat=0 ip=0x494236 code=0x80000000` + "\n"
	tests := []struct {
		name   string
		record string
		pid    int
		nr     uint32
		ok     bool
	}{
		{"the kernel's record", rec, 30515, 165, true},
		{"with a dictionary", rec + " SUBSYSTEM=x\n", 30515, 165, true},
		{"another pid", rec, 1, 0, false},
		{"written by userspace (facility 1)", "13" + rec[1:], 30515, 0, false},
		{"another record type", `5,1,1,-;audit: type=1300 audit(1:2): pid=30515 sig=31 arch=c000003e syscall=165`, 30515, 0, false},
		{"another signal", `5,1,1,-;audit: type=1326 audit(1:2): pid=30515 sig=9 arch=c000003e syscall=165`, 30515, 0, false},
		{"another arch", `5,1,1,-;audit: type=1326 audit(1:2): pid=30515 sig=31 arch=40000003 syscall=21`, 30515, 0, false},
		{"not a record", "garbage", 30515, 0, false},
	}
	for _, tt := range tests {
		nr, ok := parseSeccompRecord(tt.record, tt.pid)
		if nr != tt.nr || ok != tt.ok {
			t.Errorf("%s: got %d, %v; want %d, %v", tt.name, nr, ok, tt.nr, tt.ok)
		}
	}
}

func TestSyscallName(t *testing.T) {
	for nr, want := range map[uint32]string{0: "read", 165: "mount", 272: "unshare", 435: "clone3"} {
		if got, _ := syscallName(nr); got != want {
			t.Errorf("syscall %d: got %q, want %q", nr, got, want)
		}
	}
}
