// Command stubborn is a test plugin that will not stop by itself. It
// ignores SIGTERM and SIGINT; it serves corral.test.v1.SlowDrain (see
// test/plugins/slowdrain/slowdrain.proto), whose Sleep ignores cancellation
// and a drain, so its calls stay in flight past the drain's deadline (and
// hold go-shim's drain, whose server waits for its handlers); and if the
// drain ever ends it does not exit. With STUBBORN_CHILD=1 it also
// starts a copy of itself that ignores SIGTERM and only sleeps, so that
// something forked is left to be killed too. Only SIGKILL ends it.
package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

func main() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
	if os.Getenv("STUBBORN_ROLE") == "child" {
		fmt.Fprintln(os.Stderr, "stubborn: child ignoring SIGTERM")
		stay()
	}
	if os.Getenv("STUBBORN_CHILD") == "1" {
		child := exec.Command("/proc/self/exe")
		child.Env = append(os.Environ(), "STUBBORN_ROLE=child")
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			fmt.Fprintf(os.Stderr, "stubborn: starting the child: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "stubborn: started child %d\n", child.Process.Pid)
	}
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "stubborn")
	// Run, not Serve: Serve would stop on SIGTERM, which this plugin ignores.
	err := shim.Run(context.Background(), shim.Plugin{Name: name, Version: "0.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		s.RegisterService(&serviceDesc, nil)
	})
	fmt.Fprintf(os.Stderr, "stubborn: drained (err: %v); not exiting\n", err)
	stay()
}

// stay never returns.
func stay() {
	for {
		time.Sleep(time.Hour)
	}
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: "corral.test.v1.SlowDrain",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Sleep", Handler: sleepHandler}},
	Metadata:    "slowdrain.proto",
}

// sleep sleeps for the requested duration whatever happens to the call.
func sleep(_ context.Context, d *durationpb.Duration) (*emptypb.Empty, error) {
	time.Sleep(d.AsDuration())
	return &emptypb.Empty{}, nil
}

func sleepHandler(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	req := new(durationpb.Duration)
	if err := dec(req); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return sleep(ctx, req)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/corral.test.v1.SlowDrain/Sleep"}
	return interceptor(ctx, req, info, func(ctx context.Context, req any) (any, error) {
		return sleep(ctx, req.(*durationpb.Duration))
	})
}
