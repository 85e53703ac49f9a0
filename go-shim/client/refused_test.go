package client

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

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
