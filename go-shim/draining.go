package shim

import (
	"context"

	"google.golang.org/grpc"
)

// Draining returns a channel that is closed once the server that took the
// call of ctx begins to stop: the instance drains (it is being stopped,
// restarted or replaced by a hot update), or its data socket is parked (the
// plugin is being paused). A long-lived stream (a subscription, a watch)
// should then end, returning nil or an error of its choosing, so that its
// client calls again and reaches the instance that serves next; one that
// goes on holds up the stop until the drain's deadline (a pause, until the
// park's grace) and is then cut off with a transport error.
//
//	for {
//		select {
//		case <-shim.Draining(stream.Context()):
//			return status.Error(codes.Unavailable, "moving to the next instance; subscribe again")
//		case <-stream.Context().Done(): // the client went away
//			return stream.Context().Err()
//		case ev := <-events:
//			if err := stream.Send(ev); err != nil {
//				return err
//			}
//		}
//	}
//
// For a ctx of no call go-shim serves, the channel is never closed.
func Draining(ctx context.Context) <-chan struct{} {
	if ch, ok := ctx.Value(drainingKey{}).(chan struct{}); ok {
		return ch
	}
	return nil
}

// drainingKey keys the draining channel of the server that took a call.
type drainingKey struct{}

// drainingInterceptors put draining, a channel closed when their server
// begins to stop, in the context of every call.
func drainingInterceptors(draining chan struct{}) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(context.WithValue(ctx, drainingKey{}, draining), req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &contextStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), drainingKey{}, draining)})
	}
	return unary, stream
}

// A contextStream is a server stream with a context of its own.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
