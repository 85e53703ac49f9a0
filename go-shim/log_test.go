package shim

import (
	"bytes"
	"strings"
	"testing"
)

// A logCapture holds what logf writes during a test.
type logCapture struct{ buf bytes.Buffer }

// captureLog makes logf write to the returned capture until the test ends.
func captureLog(t *testing.T) *logCapture {
	t.Helper()
	c := &logCapture{}
	logOutput.Lock()
	old := logOutput.w
	logOutput.w = &c.buf
	logOutput.Unlock()
	t.Cleanup(func() {
		logOutput.Lock()
		logOutput.w = old
		logOutput.Unlock()
		if t.Failed() {
			t.Logf("go-shim's log:\n%s", c.String())
		}
	})
	return c
}

func (c *logCapture) String() string {
	logOutput.Lock()
	defer logOutput.Unlock()
	return c.buf.String()
}

// count returns the number of logged lines that contain s.
func (c *logCapture) count(s string) int {
	n := 0
	for line := range strings.Lines(c.String()) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
