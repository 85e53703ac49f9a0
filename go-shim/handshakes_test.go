package shim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// connectWithoutHandshake connects to the socket at path and sends nothing:
// no ClientHello, ever, as a stalled or hostile client may.
func connectWithoutHandshake(t *testing.T, path string) {
	t.Helper()
	connectManyWithoutHandshake(t, path, 1)
}

// connectManyWithoutHandshake makes n such connections, in order, and
// returns them once the server has accepted them.
func connectManyWithoutHandshake(t *testing.T, path string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		raw, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		conns[i] = raw
	}
	time.Sleep(50 * time.Millisecond) // accepted, and in their handshake
	return conns
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

// A client whose TLS handshake is done, with a certificate of the CA, and
// which then sends nothing (no HTTP/2 preface) holds neither a drain nor a
// park: gRPC waited for it up to its connection timeout (10 s).
func TestDrainAndParkNotHeldByAConnectionSilentAfterTLS(t *testing.T) {
	silentAfterTLS := func(t *testing.T, in *dataInstance) {
		cert := in.client(leafSpec{uris: []string{"spiffe://corral.test/client/nosy"}, scope: []string{"someoneelse"}})
		config := &tls.Config{RootCAs: in.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert}, NextProtos: []string{"h2"}}
		conn, err := tls.Dial("unix", in.socket, config)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		time.Sleep(50 * time.Millisecond) // the server's side of the handshake done too
	}
	t.Run("drain", func(t *testing.T) {
		in := startDataInstance(t)
		silentAfterTLS(t, in)
		start := time.Now()
		if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(context.Background(), &pluginv1.DrainRequest{DeadlineMs: 200}); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		in.wait(2 * time.Second)
		t.Logf("drained in %v", time.Since(start))
	})
	t.Run("park", func(t *testing.T) {
		in := startDataInstance(t)
		silentAfterTLS(t, in)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		reply, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Park(ctx, &pluginv1.ParkRequest{GraceMs: 60, AnswerWhenClosed: true})
		if err != nil {
			t.Fatalf("Park with answer_when_closed, after %v: %v", time.Since(start), err)
		}
		if !reply.GetClosed() {
			t.Fatalf("Park answered closed=false after %v", time.Since(start))
		}
	})
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
	flood := connectManyWithoutHandshake(t, in.socket, maxPendingHandshakes+extra)
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

// A flood of another user's connections without a handshake evicts only
// that user's: the oldest connections of everyone else, though older than
// the whole flood, stay.
func TestFloodOfAnotherUserEvictsOnlyItsOwn(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to flood as another uid")
	}
	in := startDataInstance(t)
	// The flooder (uid 65534) must reach the data socket (0666), and run
	// this test binary, through their directories.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	for _, start := range []string{in.dir, binDir} {
		for dir := start; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
			if err := os.Chmod(dir, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := filepath.Join(binDir, "flooder")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}

	// Root's connections first, the oldest of all.
	mine := connectManyWithoutHandshake(t, in.socket, 3)

	flooder := exec.Command(bin, "-test.run=^TestFlooderHelper$")
	flooder.Env = append(os.Environ(), "SHIM_TEST_FLOOD_SOCKET="+in.socket, fmt.Sprintf("SHIM_TEST_FLOOD_CONNS=%d", maxPendingHandshakes+20))
	flooder.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := flooder.CombinedOutput()
	if err != nil {
		t.Fatalf("flooder: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "flooder: 20 of its 20 oldest closed") {
		t.Errorf("the flooder's own oldest connections were not evicted:\n%s", out)
	}
	for i, c := range mine {
		if closedByServer(c) {
			t.Errorf("root's connection %d was closed by another user's flood", i)
		}
	}
}

// TestFlooderHelper is the flooder of TestFloodOfAnotherUserEvictsOnlyItsOwn,
// run in a process of its own as another user; otherwise it does nothing.
// It holds SHIM_TEST_FLOOD_CONNS connections without a handshake and says
// how many of its 20 oldest the server closed.
func TestFlooderHelper(t *testing.T) {
	socket := os.Getenv("SHIM_TEST_FLOOD_SOCKET")
	if socket == "" {
		t.Skip("the flooder of TestFloodOfAnotherUserEvictsOnlyItsOwn")
	}
	n, _ := strconv.Atoi(os.Getenv("SHIM_TEST_FLOOD_CONNS"))
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	closed := 0
	for _, c := range conns[:20] {
		if closedByServer(c) {
			closed++
		}
	}
	fmt.Printf("flooder: %d of its 20 oldest closed\n", closed)
}

// closedByServer says whether the server closed c (EOF) rather than leaving
// it open (a read times out).
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}
