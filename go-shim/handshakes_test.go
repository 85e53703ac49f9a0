package shim

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// connectWithoutHandshake connects to the socket at path and sends nothing:
// no ClientHello, ever, as a stalled or hostile client may.
func connectWithoutHandshake(t *testing.T, path string) {
	t.Helper()
	raw, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	time.Sleep(50 * time.Millisecond) // accepted, and in its handshake
}

func TestDrainNotHeldByAConnectionWithoutHandshake(t *testing.T) {
	for _, socket := range []string{"data.sock", "plugin.sock"} {
		t.Run(socket, func(t *testing.T) {
			in := startDataInstance(t)
			connectWithoutHandshake(t, filepath.Join(in.dir, socket))
			if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(context.Background(), &pluginv1.DrainRequest{DeadlineMs: 200}); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			// gRPC waits for a connection in its handshake up to 120 s.
			in.wait(2 * time.Second)
		})
	}
}

func TestUnparkNotHeldByAConnectionWithoutHandshake(t *testing.T) {
	in := startDataInstance(t)
	connectWithoutHandshake(t, in.socket)
	in.park(&pluginv1.ParkRequest{GraceMs: 60})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Unpark(ctx, &pluginv1.UnparkRequest{}); err != nil {
		t.Fatalf("Unpark after a park of 60 ms: %v", err)
	}
	if !isSocket(in.socket) {
		t.Fatal("no data socket after the unpark")
	}
}

func TestDrainDeadlineEndsHandlersThatIgnoreIt(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	// Hold ignores its cancelled context, on the instance socket (where
	// admins, and hosts of a plugin without a data socket, call).
	admin := in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/alice"}})
	holdOn(t, in.dial(admin))
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(ctx, &pluginv1.DrainRequest{DeadlineMs: 100}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	in.wait(2 * time.Second)
}

// A flood of connections that never start their handshake holds at most
// maxPendingHandshakes of the plugin's fds, the oldest let go first, and
// does not keep a host application's call from being answered.
func TestFloodOfConnectionsWithoutHandshakeEvictsTheOldest(t *testing.T) {
	in := startDataInstance(t)
	const extra = 20
	flood := make([]net.Conn, maxPendingHandshakes+extra)
	for i := range flood {
		raw, err := net.Dial("unix", in.socket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		flood[i] = raw
	}
	// closedByServer says whether the server closed c (EOF) rather than
	// leaving it open (the read times out).
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	for i, c := range flood[:extra] {
		if !closedByServer(c) {
			t.Errorf("connection %d of %d, among the oldest, was not closed", i, len(flood))
		}
	}
	if closedByServer(flood[len(flood)-1]) {
		t.Error("the newest connection was closed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(in.dialData(in.scoped())).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("a host application's call during the flood: %v", err)
	}
}
