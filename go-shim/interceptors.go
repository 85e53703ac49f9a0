package shim

import (
	"context"

	"google.golang.org/grpc"
)

// authorsUnary runs the author's unary interceptors (Plugin.UnaryInterceptors),
// the first outermost, around the calls of the author's own services only:
// Control and health calls pass by them. Nil when there are none.
func authorsUnary(isAuthors func(string) bool, interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	if len(interceptors) == 0 {
		return nil
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !isAuthors(info.FullMethod) {
			return handler(ctx, req)
		}
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			interceptor, inner := interceptors[i], next
			next = func(ctx context.Context, req any) (any, error) { return interceptor(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}

// authorsStream is authorsUnary for streams (Plugin.StreamInterceptors).
func authorsStream(isAuthors func(string) bool, interceptors []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	if len(interceptors) == 0 {
		return nil
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !isAuthors(info.FullMethod) {
			return handler(srv, ss)
		}
		next := handler
		for i := len(interceptors) - 1; i >= 0; i-- {
			interceptor, inner := interceptors[i], next
			next = func(srv any, ss grpc.ServerStream) error { return interceptor(srv, ss, info, inner) }
		}
		return next(srv, ss)
	}
}

// unaryChain and streamChain are interceptors as a server option, leaving
// out the nil ones.
func unaryChain(interceptors ...grpc.UnaryServerInterceptor) grpc.ServerOption {
	var kept []grpc.UnaryServerInterceptor
	for _, i := range interceptors {
		if i != nil {
			kept = append(kept, i)
		}
	}
	return grpc.ChainUnaryInterceptor(kept...)
}

func streamChain(interceptors ...grpc.StreamServerInterceptor) grpc.ServerOption {
	var kept []grpc.StreamServerInterceptor
	for _, i := range interceptors {
		if i != nil {
			kept = append(kept, i)
		}
	}
	return grpc.ChainStreamInterceptor(kept...)
}
