// Command flood is a test plugin that writes to stdout as fast as it can,
// every hundredth line 100 KiB long, to show that a chatty plugin cannot
// flood the journal or grow the supervisor's memory.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"strings"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	go flood()
	shim.Serve(shim.Plugin{Name: cmp.Or(os.Getenv("CORRAL_PLUGIN"), "flood"), Version: "0.0.0", APIVersion: "1.0"}, func(*grpc.Server) {})
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
