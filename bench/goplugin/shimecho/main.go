// Command shimecho is the Corral side of the comparison benchmark
// (bench/goplugin.ts): the same Unary (echoserver.Echo) as the go-plugin
// plugin, served through go-shim as the "echo" plugin (the echo test
// plugin's API, so Corral's clients of it, bench/loadgen among them, call
// it unchanged). Like the echo test plugin, it takes the name it is
// configured under from CORRAL_PLUGIN, so that `npm run bench -- scale`
// can run hundreds of it under distinct names.
package main

import (
	"cmp"
	"os"

	"github.com/corralhq/corral/bench/goplugin/echoserver"
	shim "github.com/corralhq/corral/go-shim"
	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"google.golang.org/grpc"
)

func main() {
	e := &echoserver.Echo{Instance: os.Getenv("CORRAL_INSTANCE_ID"), Pid: uint32(os.Getpid())}
	shim.Serve(shim.Plugin{Name: cmp.Or(os.Getenv("CORRAL_PLUGIN"), "echo"), Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		echov1.RegisterEchoServer(s, e)
	})
}
