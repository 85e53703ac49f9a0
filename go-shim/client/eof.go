package client

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gRPC-Go (v1.85) wraps the error of a retried call's last attempt, "max
// retries exhausted: failed after 3 attempts: %w": when that attempt's
// send found its stream already closed, the error wraps io.EOF, and
// SendMsg's own check (err != io.EOF) no longer tells it to read the
// call's status. The caller then got that error, with no status (code
// Unknown), instead of the UNAVAILABLE and reason the stream ended with:
// seen about once in 1,600 calls while a plugin was paused and resumed.

// unaryEOF turns such an error into UNAVAILABLE, which the caller can act
// on (and which is what ended the stream: a refusal or a drain).
func unaryEOF(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return unavailableOnEOF(invoker(ctx, method, req, reply, cc, opts...))
}

func unavailableOnEOF(err error) error {
	if err == nil || err == io.EOF || !errors.Is(err, io.EOF) {
		return err
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.Unavailable, "the connection closed while the call was sent: %v", err)
}

// streamEOF gives a stream's SendMsg back its documented io.EOF, after
// which RecvMsg returns the stream's status. For a server-streaming call,
// nil, as gRPC's own wrapper makes of a plain io.EOF there (inside this
// interceptor, so too early for the wrapped one): its generated stub
// returns SendMsg's error as the call's, where nil lets its Recv report
// the stream's status.
func streamEOF(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, unavailableOnEOF(err)
	}
	return eofStream{ClientStream: stream, clientStreams: desc.ClientStreams}, nil
}

type eofStream struct {
	grpc.ClientStream
	clientStreams bool
}

func (s eofStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	if err != nil && err != io.EOF && errors.Is(err, io.EOF) {
		if _, ok := status.FromError(err); !ok {
			if !s.clientStreams {
				return nil
			}
			return io.EOF
		}
	}
	return err
}
