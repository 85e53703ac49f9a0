package shim

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// logOutput is where logf writes: stderr, where the supervisor collects the
// plugin's output, unless a test captures it.
var logOutput struct {
	sync.Mutex
	w io.Writer // nil: os.Stderr
}

// logf reports an event of the shim on stderr, where the supervisor
// collects the plugin's output.
func logf(format string, args ...any) {
	logOutput.Lock()
	defer logOutput.Unlock()
	w := logOutput.w
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "corral go-shim: "+format+"\n", args...)
}
