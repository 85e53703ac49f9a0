package shim

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatchFilesSeesRenameWriteAndRemove(t *testing.T) {
	dir := t.TempDir()
	w, err := watchFiles(dir, "crl.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	expectChange := func(what string) {
		t.Helper()
		select {
		case <-w.Changes():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no change reported", what)
		}
	}
	expectQuiet := func(what string) {
		t.Helper()
		select {
		case <-w.Changes():
			t.Fatalf("%s: a change was reported", what)
		case <-time.After(100 * time.Millisecond):
		}
	}

	// Written aside and renamed over, as the supervisor publishes.
	tmp := filepath.Join(dir, "crl.pem.tmp")
	if err := os.WriteFile(tmp, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectQuiet("a file not watched")
	if err := os.Rename(tmp, filepath.Join(dir, "crl.pem")); err != nil {
		t.Fatal(err)
	}
	expectChange("rename over")
	if err := os.WriteFile(filepath.Join(dir, "crl.pem"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectChange("write in place")
	if err := os.Remove(filepath.Join(dir, "crl.pem")); err != nil {
		t.Fatal(err)
	}
	expectChange("remove")
}

func TestWatchFilesCloseEndsTheWatch(t *testing.T) {
	w, err := watchFiles(t.TempDir(), "crl.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Changes(); ok {
		t.Fatal("Changes is still open after Close")
	}
}

func TestWatchFilesRefusesAMissingDirectory(t *testing.T) {
	if _, err := watchFiles(filepath.Join(t.TempDir(), "gone"), "crl.pem"); err == nil {
		t.Fatal("watching a missing directory succeeded")
	}
}

func TestWatchFilesEndsWhenTheDirectoryGoes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "instance")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := watchFiles(dir, "crl.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-w.Changes():
			if !ok {
				return // ended: the revoker polls from here on
			}
		case <-deadline:
			t.Fatal("the watch did not end when its directory was moved away")
		}
	}
}
