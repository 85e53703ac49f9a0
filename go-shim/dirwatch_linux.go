package shim

import (
	"fmt"
	"os"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifyWatch tells when one of some files in a directory may have
// changed (created, written, renamed over, removed), by Linux's inotify; it
// may also tell when nothing did, and the receiver looks for itself. The inotify descriptor is
// non-blocking and wrapped in an os.File, so its reads wait in Go's network
// poller rather than holding a thread, and Close ends them.
type inotifyWatch struct {
	file    *os.File
	names   []string
	changes chan struct{}
	done    chan struct{}
}

// inotifyMask is every way a file in the directory can come to have other
// contents, or stop being there.
const inotifyMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE |
	unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// watchFiles watches dir for changes to the files called names in it.
func watchFiles(dir string, names ...string) (*inotifyWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, inotifyMask); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	w := &inotifyWatch{
		file:    os.NewFile(uintptr(fd), "inotify:"+dir),
		names:   names,
		changes: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go w.read()
	return w, nil
}

// Changes receives after a change, pending changes coalesced into one. It
// is closed when the watch ends (it failed, or the directory went away): the
// receiver must then look by itself.
func (w *inotifyWatch) Changes() <-chan struct{} { return w.changes }

func (w *inotifyWatch) Close() error {
	err := w.file.Close()
	<-w.done
	return err
}

func (w *inotifyWatch) read() {
	defer close(w.done)
	defer close(w.changes)
	buf := make([]byte, 4096)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			return
		}
		changed, over := w.scan(buf[:n])
		if changed {
			w.notify()
		}
		if over {
			return
		}
	}
}

// scan reports whether a batch of events touches a watched file or
// overflowed (then anything may have changed), and whether the watch is
// over: the directory itself was removed or moved away, so that changes to
// the files are no longer seen.
func (w *inotifyWatch) scan(events []byte) (changed, over bool) {
	for len(events) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&events[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(events) {
			return true, false
		}
		if ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED|unix.IN_UNMOUNT) != 0 {
			return true, true
		}
		name := unix.ByteSliceToString(events[unix.SizeofInotifyEvent:end])
		if ev.Mask&unix.IN_Q_OVERFLOW != 0 || slices.Contains(w.names, name) {
			changed = true
		}
		events = events[end:]
	}
	return changed, false
}

func (w *inotifyWatch) notify() {
	select {
	case w.changes <- struct{}{}:
	default: // one is pending already
	}
}
