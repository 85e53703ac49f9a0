package main

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// releaseReader reads the layout init.c's receive_release reads.
type releaseReader struct {
	t *testing.T
	b []byte
}

func (r *releaseReader) u32() uint32 {
	r.t.Helper()
	if len(r.b) < 4 {
		r.t.Fatal("release too short")
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *releaseReader) u64() uint64 {
	r.t.Helper()
	if len(r.b) < 8 {
		r.t.Fatal("release too short")
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *releaseReader) str() string {
	r.t.Helper()
	n := int(r.u32())
	if n == 0 || len(r.b) < n || r.b[n-1] != 0 {
		r.t.Fatalf("bad string of length %d", n)
	}
	s := string(r.b[:n-1])
	r.b = r.b[n:]
	return s
}

func (r *releaseReader) list() []string {
	n := int(r.u32())
	l := make([]string, n)
	for i := range l {
		l[i] = r.str()
	}
	return l
}

func TestEncodeRelease(t *testing.T) {
	spec := &Spec{
		Binary:         "/opt/plugin",
		Args:           []string{"serve", "--port", "0"},
		Env:            map[string]string{"B": "2", "A": "1"},
		InstanceDir:    "/run/corral/i",
		Hostname:       "greeter",
		WorkspaceBytes: 16 << 20,
		Network:        "none",
		ReadOnlyPaths:  []string{"/usr/lib"},
		Stdin:          "inherit",
		Rlimits:        Rlimits{NoFile: 256, NProc: 64, FSizeBytes: 1 << 20},
	}
	filter := []unix.SockFilter{{Code: 0x20, Jt: 1, Jf: 2, K: 4}, {Code: 0x06, K: unix.SECCOMP_RET_ALLOW}}
	r := &releaseReader{t: t, b: encodeRelease(spec, filter, 3)}
	if got := r.u32(); got != releaseMagic {
		t.Fatalf("magic %#x", got)
	}
	if got := r.u32(); got != releaseNewNetwork|releaseInheritStdin {
		t.Errorf("flags %#x", got)
	}
	for _, want := range []uint64{16 << 20, 256, 64, 1 << 20} {
		if got := r.u64(); got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	}
	if got := r.str(); got != "greeter" {
		t.Errorf("hostname %q", got)
	}
	if got, want := r.list(), []string{"/plugin", "serve", "--port", "0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("argv %q, want %q", got, want)
	}
	if got, want := r.list(), []string{"A=1", "B=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("envp %q, want %q", got, want)
	}
	type mount struct {
		target string
		mode   uint32
	}
	var mounts []mount
	for n := r.u32(); n > 0; n-- {
		mounts = append(mounts, mount{r.str(), r.u32()})
	}
	if want := []mount{{"/plugin", unix.S_IFREG}, {"/corral", unix.S_IFDIR}, {"/usr/lib", 0}}; !reflect.DeepEqual(mounts, want) {
		t.Errorf("mounts %v, want %v", mounts, want)
	}
	if got := r.u32(); got != 3 {
		t.Errorf("tasks %d", got)
	}
	if got := r.u32(); got != 2 {
		t.Fatalf("filter length %d", got)
	}
	if want := []byte{0x20, 0, 1, 2, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}; !reflect.DeepEqual(r.b, want) {
		t.Errorf("filter % x, want % x", r.b, want)
	}

	spec.Network, spec.Stdin = "host", "null"
	r = &releaseReader{t: t, b: encodeRelease(spec, filter, 0)}
	r.u32()
	if got := r.u32(); got != 0 {
		t.Errorf("flags with network host and stdin null: %#x", got)
	}
}
