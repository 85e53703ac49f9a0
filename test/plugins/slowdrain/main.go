// Command slowdrain is a test plugin for draining. It serves
// corral.test.v1.SlowDrain (see slowdrain.proto), whose unary Sleep call
// sleeps for the requested duration, or until it is cancelled.
package main

import (
	"cmp"
	"context"
	"os"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

func main() {
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "slowdrain")
	shim.Serve(shim.Plugin{Name: name, Version: "0.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		s.RegisterService(&serviceDesc, nil)
	})
}

// serviceDesc describes SlowDrain by hand, with well-known request and
// reply types, so that it needs no generated code.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: "corral.test.v1.SlowDrain",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Sleep", Handler: sleepHandler}},
	Metadata:    "slowdrain.proto",
}

func sleep(ctx context.Context, d *durationpb.Duration) (*emptypb.Empty, error) {
	t := time.NewTimer(d.AsDuration())
	defer t.Stop()
	select {
	case <-t.C:
		return &emptypb.Empty{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
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
