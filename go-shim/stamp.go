package shim

import "os"

// sameFile reports whether a and b, two looks at the same path, are of the
// same, unchanged file: the same inode, size and modification time. A file
// replaced by a rename is always a new inode, however quickly it follows
// the one before; a file rewritten in place is seen by its size or
// modification time.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
