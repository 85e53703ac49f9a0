package main

import (
	"os"
	"path/filepath"
	"testing"
)

// countMounts returns how many of Corral's tmpfs are mounted at dir.
func countMounts(t *testing.T, dir string) int {
	t.Helper()
	entries, err := readMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.point == dir && e.source == instancesFsSource {
			n++
		}
	}
	return n
}

// A runtime directory reached through a symlink (/var/run -> /run) is the
// same directory: mounted once, however often asked, and unmounted.
func TestInstancesFsThroughASymlink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting takes root")
	}
	base := t.TempDir()
	real := filepath.Join(base, "real", "instances")
	if err := os.MkdirAll(real, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "real"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	through := filepath.Join(base, "link", "instances")
	t.Cleanup(func() {
		for countMounts(t, real) > 0 {
			if runInstancesFs([]string{"unmount", real}) != 0 {
				break
			}
		}
	})
	for range 2 {
		if code := runInstancesFs([]string{"mount", through}); code != 0 {
			t.Fatalf("mount %s: exit %d", through, code)
		}
	}
	if n := countMounts(t, real); n != 1 {
		t.Fatalf("%d mounts of Corral's tmpfs at %s after two mounts through %s, want 1", n, real, through)
	}
	if code := runInstancesFs([]string{"unmount", through}); code != 0 {
		t.Fatalf("unmount %s: exit %d", through, code)
	}
	if n := countMounts(t, real); n != 0 {
		t.Errorf("%d mounts left at %s after the unmount through %s", n, real, through)
	}
}

// Unmounting where there is no directory (a supervisor that never got to
// make it) is nothing to do.
func TestInstancesFsUnmountOfNothing(t *testing.T) {
	if code := runInstancesFs([]string{"unmount", filepath.Join(t.TempDir(), "no", "instances")}); code != 0 {
		t.Errorf("unmount of a directory that is not there: exit %d, want 0", code)
	}
}
