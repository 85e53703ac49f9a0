// Command greeter is the example Corral plugin: a Greeter service served
// through go-shim.
package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	greeterv1 "github.com/corralhq/corral/examples/greeter/api"
	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	g := &greeter{
		greeting: cmp.Or(os.Getenv("GREETING"), "Hello"),
		instance: os.Getenv("CORRAL_INSTANCE_ID"),
		values:   map[string]string{},
	}
	shim.Serve(shim.Plugin{Name: "greeter", Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		greeterv1.RegisterGreeterServer(s, g)
	})
}

type greeter struct {
	greeterv1.UnimplementedGreeterServer
	greeting string
	instance string

	mu     sync.Mutex
	values map[string]string
}

func (g *greeter) SayHello(_ context.Context, req *greeterv1.HelloRequest) (*greeterv1.HelloReply, error) {
	return &greeterv1.HelloReply{
		Message:  fmt.Sprintf("%s, %s!", g.greeting, req.GetName()),
		Instance: g.instance,
	}, nil
}

// Countdown streams from req.From down to 0. A long-lived stream ends when
// the instance drains (a restart, a hot update, a stop) or is paused, so
// that its client calls again and reaches the instance that serves next;
// one that went on would hold the drain up until the plugin's stopTimeout,
// and then be cut off.
func (g *greeter) Countdown(req *greeterv1.CountdownRequest, stream grpc.ServerStreamingServer[greeterv1.CountdownReply]) error {
	tick := time.NewTicker(time.Duration(max(req.GetIntervalMs(), 1)) * time.Millisecond)
	defer tick.Stop()
	for n := req.GetFrom(); ; n-- {
		if err := stream.Send(&greeterv1.CountdownReply{N: n}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-shim.Draining(stream.Context()):
			return status.Errorf(codes.Unavailable, "this instance is going away at %d; call again to count down from there", n-1)
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
}

func (g *greeter) Put(_ context.Context, req *greeterv1.PutRequest) (*greeterv1.PutReply, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.values[req.GetKey()] = req.GetValue()
	return &greeterv1.PutReply{}, nil
}

func (g *greeter) Get(_ context.Context, req *greeterv1.GetRequest) (*greeterv1.GetReply, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.values[req.GetKey()]
	return &greeterv1.GetReply{Value: v, Found: ok}, nil
}
