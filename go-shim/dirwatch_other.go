//go:build !linux

package shim

import "errors"

// inotifyWatch has no implementation here: the revoker polls.
type inotifyWatch struct{}

func watchFiles(dir string, names ...string) (*inotifyWatch, error) {
	return nil, errors.New("no file watching on this system")
}

func (w *inotifyWatch) Changes() <-chan struct{} { return nil }
func (w *inotifyWatch) Close() error             { return nil }
