// Package echoserver is the Unary that both plugins of the comparison
// benchmark (bench/goplugin.ts) serve. It is a package of its own, apart
// from the go-plugin handshake (package shared), so that the Corral plugin
// links neither go-plugin nor what go-plugin brings (net/rpc, gob, yamux,
// gRPC reflection): their package initializers alone took 0.9 ms of every
// start of it.
package echoserver

import (
	"context"
	"strings"
	"time"

	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Echo is the Unary of the echo test plugin (test/plugins/echo), which both
// plugins of the comparison serve, one through go-shim, the other through
// go-plugin: it echoes the x-echo- metadata, the message and reply_size
// bytes of payload. Unlike the test plugin it does no work at start (the
// test plugin hashes its 17 MB executable to name its release, some 15 ms
// that would pad both starts alike and hide the frameworks' own cost).
type Echo struct {
	echov1.UnimplementedEchoServer
	// Instance and Pid name what answered, as the test plugin's replies do.
	Instance string
	Pid      uint32
}

// Unary replies after sleep_ms (or until cancelled).
func (e *Echo) Unary(ctx context.Context, req *echov1.EchoRequest) (*echov1.EchoReply, error) {
	in, _ := metadata.FromIncomingContext(ctx)
	md := metadata.MD{}
	for k, v := range in {
		if strings.HasPrefix(k, "x-echo-") {
			md[k] = v
		}
	}
	if len(md) > 0 {
		if err := grpc.SetHeader(ctx, md); err != nil {
			return nil, err
		}
		if err := grpc.SetTrailer(ctx, md); err != nil {
			return nil, err
		}
	}
	if ms := req.GetSleepMs(); ms > 0 {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return &echov1.EchoReply{
		Message:       req.GetMessage(),
		Instance:      e.Instance,
		Pid:           e.Pid,
		Payload:       make([]byte, req.GetReplySize()),
		ReceivedBytes: uint64(len(req.GetPayload())),
	}, nil
}
