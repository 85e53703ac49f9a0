package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gRPC-Go's wrapping of a retried call's last error (stream.go).
var exhausted = fmt.Errorf("max retries exhausted: failed after %d attempts: %w", 3, io.EOF)

func TestUnaryEOFIsUnavailable(t *testing.T) {
	invoke := func(err error) error {
		return unaryEOF(context.Background(), "/m", nil, nil, nil, func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return err })
	}
	if got := status.Code(invoke(exhausted)); got != codes.Unavailable {
		t.Errorf("wrapped io.EOF: code %v, want Unavailable", got)
	}
	refused := status.Error(codes.Unavailable, "plugin echo is paused")
	if got := invoke(refused); got != refused {
		t.Errorf("a status error is changed: %v", got)
	}
	other := errors.New("something else")
	if got := invoke(other); got != other {
		t.Errorf("another error is changed: %v", got)
	}
	if got := invoke(nil); got != nil {
		t.Errorf("success is changed: %v", got)
	}
}

type sendFails struct {
	grpc.ClientStream
	err error
}

func (s sendFails) SendMsg(any) error { return s.err }

func TestStreamSendEOFIsPlainEOF(t *testing.T) {
	if err := (eofStream{ClientStream: sendFails{err: exhausted}, clientStreams: true}).SendMsg(nil); err != io.EOF {
		t.Errorf("wrapped io.EOF: %v, want io.EOF", err)
	}
	refused := status.Error(codes.Unavailable, "refused")
	if err := (eofStream{ClientStream: sendFails{err: refused}, clientStreams: true}).SendMsg(nil); err != refused {
		t.Errorf("a status error is changed: %v", err)
	}
}

// TestServerStreamSendEOFIsNil: the stub of a server-streaming call returns
// SendMsg's error as the call's; its Recv has the stream's status.
func TestServerStreamSendEOFIsNil(t *testing.T) {
	open := func(desc *grpc.StreamDesc) grpc.ClientStream {
		s, err := streamEOF(context.Background(), desc, nil, "/m", func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
			return sendFails{err: exhausted}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := open(&grpc.StreamDesc{ServerStreams: true}).SendMsg(nil); err != nil {
		t.Errorf("server-streaming, wrapped io.EOF: %v, want nil", err)
	}
	if err := open(&grpc.StreamDesc{ServerStreams: true, ClientStreams: true}).SendMsg(nil); err != io.EOF {
		t.Errorf("bidi, wrapped io.EOF: %v, want io.EOF", err)
	}
}
