// Command badproto is a test plugin built against another Control protocol
// version (see its ldflags file): the supervisor must refuse it at the
// handshake, and it must refuse the supervisor.
package main

import (
	"cmp"
	"os"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "badproto")
	shim.Serve(shim.Plugin{Name: name, Version: "0.0.0", APIVersion: "1.0"}, func(*grpc.Server) {})
}
