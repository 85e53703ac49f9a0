package shim

import (
	"context"

	"google.golang.org/grpc"
)

// authorsUnary returns the author's unary interceptors (Plugin.UnaryInterceptors),
// each passed by by the calls of anything but the author's own services
// (Control, health), for gRPC to chain after go-shim's own.
func authorsUnary(isAuthors func(string) bool, interceptors []grpc.UnaryServerInterceptor) []grpc.UnaryServerInterceptor {
	only := make([]grpc.UnaryServerInterceptor, len(interceptors))
	for i, interceptor := range interceptors {
		only[i] = func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if !isAuthors(info.FullMethod) {
				return handler(ctx, req)
			}
			return interceptor(ctx, req, info, handler)
		}
	}
	return only
}

// authorsStream is authorsUnary for streams (Plugin.StreamInterceptors).
func authorsStream(isAuthors func(string) bool, interceptors []grpc.StreamServerInterceptor) []grpc.StreamServerInterceptor {
	only := make([]grpc.StreamServerInterceptor, len(interceptors))
	for i, interceptor := range interceptors {
		only[i] = func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if !isAuthors(info.FullMethod) {
				return handler(srv, ss)
			}
			return interceptor(srv, ss, info, handler)
		}
	}
	return only
}
