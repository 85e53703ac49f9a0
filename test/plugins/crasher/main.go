// Command crasher is a test plugin that serves, then exits with status 3
// after CRASH_AFTER_MS milliseconds (default 0: right after starting).
package main

import (
	"cmp"
	"fmt"
	"os"
	"strconv"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "crasher")
	after, err := strconv.Atoi(cmp.Or(os.Getenv("CRASH_AFTER_MS"), "0"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "crasher: CRASH_AFTER_MS: %v\n", err)
		os.Exit(1)
	}
	time.AfterFunc(time.Duration(after)*time.Millisecond, func() {
		fmt.Fprintf(os.Stderr, "crasher: crashing after %d ms\n", after)
		os.Exit(3)
	})
	shim.Serve(shim.Plugin{Name: name, Version: "0.0.0", APIVersion: "1.0"}, func(*grpc.Server) {})
}
