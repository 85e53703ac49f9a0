// Command plugin is the go-plugin side of the comparison benchmark
// (bench/goplugin.ts): the echo test plugin's Unary (echoserver.Echo) served
// over hashicorp/go-plugin's gRPC protocol.
package main

import (
	"os"

	"github.com/corralhq/corral/bench/goplugin/echoserver"
	"github.com/corralhq/corral/bench/goplugin/shared"
	"github.com/hashicorp/go-plugin"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         shared.Plugins(&echoserver.Echo{Instance: "goplugin", Pid: uint32(os.Getpid())}),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
