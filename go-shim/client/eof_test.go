package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
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
	if err := (eofStream{sendFails{err: exhausted}}).SendMsg(nil); err != io.EOF {
		t.Errorf("wrapped io.EOF: %v, want io.EOF", err)
	}
	refused := status.Error(codes.Unavailable, "refused")
	if err := (eofStream{sendFails{err: refused}}).SendMsg(nil); err != refused {
		t.Errorf("a status error is changed: %v", err)
	}
}

// badBackend is a health service whose handler fails with the error of a
// call of its own to an mTLS backend that refused it.
type badBackend struct {
	healthpb.UnimplementedHealthServer
}

const backendRefusal = `connection error: desc = "error reading server preface: remote error: tls: certificate required"`

func (badBackend) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return nil, status.Error(codes.Unavailable, backendRefusal)
}

func (badBackend) Watch(*healthpb.HealthCheckRequest, healthpb.Health_WatchServer) error {
	return status.Error(codes.Unavailable, backendRefusal)
}

// A plugin that passes on a TLS refusal of its own backend is not taken for
// a refusal of the application's certificate: that is only for a call that
// got no connection.
func TestAPluginsOwnTLSErrorIsNotARefusedCertificate(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "plugin.sock")
	lis, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, badBackend{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+socket, append(DialOptions(Options{MaxAttempts: 1}), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != backendRefusal {
		t.Errorf("unary: %v; want the plugin's own Unavailable", err)
	}
	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("stream: %v; want the plugin's own Unavailable", err)
	}
}
