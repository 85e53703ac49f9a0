package shim

import (
	"context"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A handler that panics fails its own call with INTERNAL, and the panic and
// its stack are logged. Unrecovered, it would end the process and every
// call in flight with it, each failing UNAVAILABLE, which clients retry: the
// same request would then crash each new instance in turn, until the
// plugin is quarantined. (As net/http does for a handler's panic.)

func recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer recovered(info.FullMethod, &err)
	return handler(ctx, req)
}

func recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer recovered(info.FullMethod, &err)
	return handler(srv, ss)
}

// recovered turns a panic of a handler of method into the call's error.
func recovered(method string, err *error) {
	if r := recover(); r != nil {
		logf("the handler of %s panicked: %v\n%s", method, r, debug.Stack())
		*err = status.Errorf(codes.Internal, "the handler of %s panicked: %v", method, r)
	}
}
