package earlysocket

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestListenReplacesAStaleSocket(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plugin.sock")
	stale, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // left behind, as by a killed instance

	s := listen(p)
	if s < 0 {
		t.Fatal("listen over a stale socket failed")
	}
	defer syscall.Close(s)
	if fi, err := os.Stat(p); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, %v; want a socket of mode 0600", fi.Mode(), err)
	}
	conn, err := net.Dial("unix", p)
	if err != nil {
		t.Fatalf("the socket does not listen: %v", err)
	}
	conn.Close()
}

func TestListenFailsQuietly(t *testing.T) {
	if s := listen(filepath.Join(t.TempDir(), "missing", "plugin.sock")); s != -1 {
		syscall.Close(s)
		t.Fatalf("listen in a missing directory = %d, want -1", s)
	}
}

func TestTakeHandsOverOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plugin.sock")
	path, fd = p, listen(p)
	if fd < 0 {
		t.Fatal("listen failed")
	}
	got, s, ok := Take()
	if !ok || got != p || s < 0 {
		t.Fatalf("Take() = %q, %d, %v; want %q, a descriptor, true", got, s, ok, p)
	}
	defer syscall.Close(s)
	if _, _, ok := Take(); ok {
		t.Error("a second Take() handed the socket over again")
	}
}

func TestConsumeEnvRemovesTheVariable(t *testing.T) {
	t.Setenv(Env, "/corral/plugin.sock")
	if got := consumeEnv(); got != "/corral/plugin.sock" {
		t.Errorf("consumeEnv() = %q, want /corral/plugin.sock", got)
	}
	if v, ok := os.LookupEnv(Env); ok {
		t.Errorf("%s=%q still in the environment, where a child would inherit it", Env, v)
	}
	if got := consumeEnv(); got != "" {
		t.Errorf("consumeEnv() again = %q, want nothing", got)
	}
}
