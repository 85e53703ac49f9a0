package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// A mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	dev          uint64
	root, point  string
	optional     []string // shared:N, master:N, propagate_from:N, unbindable
	fstype       string
	source       string
	superOptions string
}

// readMountinfo reads this process's mount table, in its order: a mount
// comes after the one it is mounted on.
func readMountinfo() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []mountEntry
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		// id parent major:minor root point options [optional...] - type source super
		fields := strings.Fields(scanner.Text())
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) {
			continue
		}
		var major, minor uint32
		if _, err := fmt.Sscanf(fields[2], "%d:%d", &major, &minor); err != nil {
			continue
		}
		entries = append(entries, mountEntry{
			dev:          unix.Mkdev(major, minor),
			root:         unescapeMountinfo(fields[3]),
			point:        unescapeMountinfo(fields[4]),
			optional:     fields[6:sep],
			fstype:       fields[sep+1],
			source:       unescapeMountinfo(fields[sep+2]),
			superOptions: fields[sep+3],
		})
	}
	return entries, scanner.Err()
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range []byte(s[i+1 : i+4]) {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + (c - '0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
