package client

import (
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
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
	// Whether the call reached a plugin: only one that did not was refused
	// a connection (see refusedCertificate).
	var reached peer.Peer
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&reached))...)
	if reached.Addr == nil {
		if refused := refusedCertificate(err); refused != nil {
			return refused
		}
	}
	return unavailableOnEOF(err)
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
// which RecvMsg returns the stream's status.
func streamEOF(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		// A stream that could not begin had no connection: a refusal of the
		// application's certificate shows here, never later in RecvMsg,
		// where errors are the plugin's.
		if refused := refusedCertificate(err); refused != nil {
			return nil, refused
		}
		return nil, unavailableOnEOF(err)
	}
	return eofStream{stream}, nil
}

type eofStream struct{ grpc.ClientStream }

func (s eofStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	if err != nil && err != io.EOF && errors.Is(err, io.EOF) {
		if _, ok := status.FromError(err); !ok {
			return io.EOF
		}
	}
	return err
}

// refusedCertificate turns the UNAVAILABLE of a call that got no connection
// because the plugin refused its TLS handshake (the application's
// certificate revoked, expired, or not of the plugin's CA: the plugin's
// alert) into UNAUTHENTICATED, which says so (gRPC's retry policy has tried
// again already). Nil for any other error. Only for a call that reached no
// plugin: one that did may return such an error of its own (from a backend
// of its own), which is the plugin's to report.
func refusedCertificate(err error) error {
	s, ok := status.FromError(err)
	if !ok || s.Code() != codes.Unavailable {
		return nil
	}
	_, alert, found := strings.Cut(s.Message(), "remote error: tls: ")
	if !found {
		return nil
	}
	alert, _, _ = strings.Cut(alert, "\"")
	return status.Errorf(codes.Unauthenticated, "the plugin refused this application's certificate (tls: %s): revoked, expired, or not issued by the plugin's CA; %s", alert, s.Message())
}
