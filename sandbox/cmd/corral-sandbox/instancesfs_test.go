package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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

// A tmpfs of Corral's left by a killed supervisor, mounted by an older
// Corral with a size and inode count of its own (which one plugin could use
// up for all) and without noexec, is reused with today's options.
func TestInstancesFsReusedGetsTodaysOptions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting takes root")
	}
	dir := filepath.Join(t.TempDir(), "instances")
	if err := os.Mkdir(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(instancesFsSource, dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0711,size=1m,nr_inodes=100"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for countMounts(t, dir) > 0 {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
				break
			}
		}
	})
	if code := runInstancesFs([]string{"mount", dir}); code != 0 {
		t.Fatalf("mount %s: exit %d", dir, code)
	}
	if n := countMounts(t, dir); n != 1 {
		t.Fatalf("%d mounts of Corral's tmpfs at %s, want the one left there", n, dir)
	}
	entries, err := readMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	var super string
	for _, e := range entries {
		if e.point == dir {
			super = e.superOptions
		}
	}
	for _, want := range []string{"size=0k", "nr_inodes=0"} {
		if !slices.Contains(strings.Split(super, ","), want) {
			t.Errorf("options of the reused tmpfs: %q, want %s among them", super, want)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if want := uint64(unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC); uint64(st.Flags)&want != want {
		t.Errorf("flags of the reused tmpfs: %#x, want nosuid, nodev and noexec (%#x)", st.Flags, want)
	}
}
