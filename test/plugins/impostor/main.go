// Command impostor is a test plugin that claims, in its handshake, to be
// the greeter plugin whatever name it is configured under: the supervisor
// must refuse it.
package main

import (
	greeterv1 "github.com/corralhq/corral/examples/greeter/api"
	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	shim.Serve(shim.Plugin{Name: "greeter", Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		greeterv1.RegisterGreeterServer(s, greeterv1.UnimplementedGreeterServer{})
	})
}
