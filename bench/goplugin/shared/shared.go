// Package shared is what the go-plugin host and plugin of the comparison
// benchmark (bench/goplugin.ts) agree on: the handshake, and the "echo"
// plugin type, which carries corral.test.echo.v1.Echo (the echo test
// plugin's API, test/plugins/echo/api) over go-plugin's gRPC protocol.
package shared

import (
	"context"

	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake is the go-plugin handshake both sides check.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "CORRAL_BENCH_GOPLUGIN",
	MagicCookieValue: "echo",
}

// EchoPlugin is the "echo" plugin type: Impl serves it in the plugin;
// the host dispenses an echov1.EchoClient.
type EchoPlugin struct {
	plugin.Plugin
	Impl echov1.EchoServer
}

// GRPCServer registers the Echo service on go-plugin's gRPC server.
func (p *EchoPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	echov1.RegisterEchoServer(s, p.Impl)
	return nil
}

// GRPCClient returns an Echo client on go-plugin's connection to the plugin.
func (p *EchoPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return echov1.NewEchoClient(c), nil
}

// Plugins is the plugin set both sides use.
func Plugins(impl echov1.EchoServer) plugin.PluginSet {
	return plugin.PluginSet{"echo": &EchoPlugin{Impl: impl}}
}
