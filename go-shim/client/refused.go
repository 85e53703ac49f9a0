package client

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// unaryRefused tells a call that got no connection because the plugin
// refused the application's certificate so (refusedCertificate).
func unaryRefused(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	// Whether the call reached a plugin: only one that did not was refused
	// a connection.
	var reached peer.Peer
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&reached))...)
	if reached.Addr == nil {
		if refused := refusedCertificate(err); refused != nil {
			return refused
		}
	}
	return err
}

// streamRefused is unaryRefused for streams. A stream that could not begin
// had no connection: a refusal of the certificate shows here, never later
// in RecvMsg, where errors are the plugin's.
func streamRefused(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, opts...)
	if refused := refusedCertificate(err); err != nil && refused != nil {
		return nil, refused
	}
	return stream, err
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
