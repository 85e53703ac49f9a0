// Command flood is a test plugin that writes to stdout, to show that a
// chatty plugin cannot flood the journal or grow the supervisor's memory,
// and that what its output limits hold back is told. FLOOD_MODE picks what
// it writes:
//
//	""       as fast as it can, forever, every hundredth line 100 KiB long
//	"burst"  FLOOD_LINES numbered lines at once, half a second after it starts, then nothing
//	"long"   one line of FLOOD_LONG_BYTES "a"s between BEGIN and END, then nothing
//	"empty"  empty lines (newlines alone) as fast as it can, forever
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	switch os.Getenv("FLOOD_MODE") {
	case "burst":
		go burst(envInt("FLOOD_LINES"))
	case "long":
		go long(envInt("FLOOD_LONG_BYTES"))
	case "empty":
		go empty()
	default:
		go flood()
	}
	shim.Serve(shim.Plugin{Name: cmp.Or(os.Getenv("CORRAL_PLUGIN"), "flood"), Version: "0.0.0", APIVersion: "1.0"}, func(*grpc.Server) {})
}

func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		fmt.Fprintf(os.Stderr, "flood: %s: %v\n", name, err)
		os.Exit(2)
	}
	return n
}

func flood() {
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	long := strings.Repeat("x", 100<<10)
	for n := 0; ; n++ {
		if n%100 == 0 {
			fmt.Fprintf(w, "flood line %d %s\n", n, long)
		} else {
			fmt.Fprintf(w, "flood line %d\n", n)
		}
	}
}

func burst(lines int) {
	// After go-shim's own lines at start (stderr, the same limit), so that
	// what the limit drops is this burst's alone.
	time.Sleep(500 * time.Millisecond)
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for n := range lines {
		fmt.Fprintf(w, "burst line %d\n", n)
	}
	w.Flush()
}

func long(bytes int) {
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	fmt.Fprintf(w, "BEGIN%sEND\n", strings.Repeat("a", bytes))
	w.Flush()
}

func empty() {
	newlines := []byte(strings.Repeat("\n", 64<<10))
	for {
		if _, err := os.Stdout.Write(newlines); err != nil {
			return
		}
	}
}
