package shim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corralhq/corral/go-shim/client"
	"github.com/corralhq/corral/go-shim/internal/crl"
	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// revocationBudget is how soon a revocation must bite (issue 4).
const revocationBudget = time.Second

// connect is in.dial without the cleanup, for connections a test closes
// itself; if serials is not nil, the serial of the server's certificate
// is sent to it at each handshake.
func (in *instance) connect(cert *tls.Certificate, serials chan<- string, opts ...grpc.DialOption) *grpc.ClientConn {
	in.t.Helper()
	config := &tls.Config{RootCAs: in.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13,
		Certificates: []tls.Certificate{*cert}}
	if serials != nil {
		config.VerifyConnection = func(cs tls.ConnectionState) error {
			select {
			case serials <- serialHex(cs.PeerCertificates[0].SerialNumber):
			default:
			}
			return nil
		}
	}
	conn, err := grpc.NewClient("unix://"+filepath.Join(in.dir, "plugin.sock"),
		append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(config))}, opts...)...)
	if err != nil {
		in.t.Fatal(err)
	}
	return conn
}

// revoke publishes a CRL of the instance's CA revoking serials, as the
// supervisor does (atomically), and returns when it was renamed into place.
func (in *instance) revoke(serials ...*big.Int) time.Time {
	in.t.Helper()
	replaceFile(in.t, filepath.Join(in.dir, "crl.pem"), in.ca.crl(in.t, serials...))
	return time.Now()
}

// hookRevoker returns where the revoker of the next Run will be.
func hookRevoker(t *testing.T) **revoker {
	var r *revoker
	testHookRevoker = func(rv *revoker) { r = rv }
	t.Cleanup(func() { testHookRevoker = nil })
	return &r
}

// An event is something a test waits for: when it happened, and how.
type event struct {
	at  time.Time
	err error
}

// TestRevocation revokes the certificate of a client with an active, an
// idle and an in-flight call's connection, several times, and measures
// from the rename of crl.pem to: the next call on the active connection
// failing, the in-flight call failing, the idle connection closed, and a
// new connection refused. Every one must come within a second; a client
// not revoked is served throughout.
func TestRevocation(t *testing.T) {
	log := captureLog(t)
	revoker := hookRevoker(t)
	in := startInstance(t)
	ctx := context.Background()
	bystander := in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/bystander"}}))
	if err := sleep(ctx, bystander, 0); err != nil {
		t.Fatal(err)
	}

	const rounds = 5
	names := []string{"next call on the open connection", "call in flight", "idle connection closed", "new connection refused"}
	latencies := make([][]time.Duration, len(names))
	var revoked []*big.Int
	for round := range rounds {
		id := "spiffe://corral.test/admin/revoked" + string(rune('a'+round))
		l := in.ca.issue(t, leafSpec{uris: []string{id}})
		cert := l.tls()
		active, idle := in.connect(&cert, nil), in.connect(&cert, nil)
		for _, c := range []*grpc.ClientConn{active, idle} {
			if err := sleep(ctx, c, 0); err != nil {
				t.Fatalf("round %d: before the revocation: %v", round, err)
			}
		}

		var revokedAt atomic.Pointer[time.Time]
		events := make([]chan event, len(names))
		for i := range events {
			events[i] = make(chan event, 1)
		}
		// Until a call fails as want says, which must not happen before the
		// revocation.
		until := func(i int, call func() error, want func(error) bool) {
			for {
				if err := call(); err != nil && (revokedAt.Load() == nil || want(err)) {
					events[i] <- event{time.Now(), err}
					return
				}
				if revokedAt.Load() == nil {
					continue
				}
				// After the revocation a call may still pass until the list is
				// loaded; not long.
				if time.Since(*revokedAt.Load()) > 5*time.Second {
					events[i] <- event{time.Now(), nil}
					return
				}
			}
		}
		anyError := func(error) bool { return true }
		go until(0, func() error { return sleep(ctx, active, 0) }, anyError)
		go until(1, func() error { return sleep(ctx, active, time.Minute) }, anyError)
		go func() {
			idle.WaitForStateChange(ctx, connectivity.Ready)
			events[2] <- event{time.Now(), errors.New(idle.GetState().String())}
		}()
		// A connection accepted before the list was loaded is closed; the
		// handshake refused is what counts here.
		go until(3, func() error {
			c := in.connect(&cert, nil)
			defer c.Close()
			return sleep(ctx, c, 0)
		}, func(err error) bool { return strings.Contains(err.Error(), "tls: bad certificate") })
		time.Sleep(50 * time.Millisecond) // the call in flight is in
		select {
		case e := <-events[0]:
			t.Fatalf("round %d: a call failed before the revocation: %v", round, e.err)
		case e := <-events[3]:
			t.Fatalf("round %d: a new connection failed before the revocation: %v", round, e.err)
		default:
		}

		// At any phase of the poll.
		time.Sleep(time.Duration(mathrand.Int64N(int64(crlPollInterval))))
		revoked = append(revoked, l.cert.SerialNumber)
		at := in.revoke(revoked...)
		revokedAt.Store(&at)
		for i, name := range names {
			select {
			case e := <-events[i]:
				if e.err == nil {
					t.Fatalf("round %d: %s: not after 5 s", round, name)
				}
				d := e.at.Sub(at)
				latencies[i] = append(latencies[i], d)
				t.Logf("round %d: %s after %v: %v", round, name, d.Round(time.Microsecond), e.err)
				if d > revocationBudget {
					t.Errorf("round %d: %s after %v, more than %v", round, name, d, revocationBudget)
				}
				code := status.Code(e.err)
				if i != 2 && code != codes.Unavailable && code != codes.Unauthenticated {
					t.Errorf("round %d: %s: %v, want Unavailable or Unauthenticated", round, name, e.err)
				}
				if code == codes.Unauthenticated && !strings.Contains(e.err.Error(), "certificate serial "+serialHex(l.cert.SerialNumber)+" is revoked") {
					t.Errorf("round %d: %s: %v, want it to name the serial", round, name, e.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: %s: nothing after 10 s", round, name)
			}
		}
		active.Close()
		idle.Close()

		serial := serialHex(l.cert.SerialNumber)
		// The new connections' loop ends at its first failure: a handshake
		// refused, or, when its last handshake came just before the list
		// was loaded, that connection closed with the others. The server
		// logs from its own goroutines, after the client has seen either:
		// give it a moment on a busy machine.
		closed := "closed a connection of " + id + ": certificate serial " + serial + " is revoked"
		refused := "refused a connection of " + id + ": certificate serial " + serial + " is revoked"
		logged := func() bool { return log.count(closed) >= 2 && (log.count(refused) > 0 || log.count(closed) >= 3) }
		for start := time.Now(); !logged() && time.Since(start) < 2*time.Second; {
			time.Sleep(10 * time.Millisecond)
		}
		if got := log.count(closed); got < 2 {
			t.Errorf("round %d: logged %d connections closed, want at least 2 (the active and the idle one):\n%s", round, got, log)
		}
		if log.count(refused) == 0 && log.count(closed) < 3 {
			t.Errorf("round %d: the new connection was neither refused nor closed in the log, naming the serial:\n%s", round, log)
		}
		if err := sleep(ctx, bystander, 0); err != nil {
			t.Fatalf("round %d: a client not revoked: %v", round, err)
		}
	}
	if bystander.GetState() != connectivity.Ready {
		t.Errorf("the bystander's connection is %v", bystander.GetState())
	}
	// All connections closed are forgotten: the bystander's and the one of
	// startInstance remain.
	for start := time.Now(); (*revoker).open() != 2; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 2*time.Second {
			t.Errorf("%d connections tracked, want 2", (*revoker).open())
			break
		}
	}
	for i, name := range names {
		slices.Sort(latencies[i])
		t.Logf("%s: median %v, max %v (poll interval %v)", name,
			latencies[i][len(latencies[i])/2].Round(time.Microsecond), latencies[i][len(latencies[i])-1].Round(time.Microsecond), crlPollInterval)
	}
}

// TestRevocationBadUpdate checks that a list that does not verify changes
// nothing: the revocations before stay, and others are served.
// A host application whose certificate is revoked is told so: every call
// on a new connection fails UNAUTHENTICATED through go-shim/client (not the
// UNAVAILABLE of a refused handshake, which it would retry), naming the TLS
// alert; never the "broken pipe" of a write the refusal closed under it.
func TestRevokedClientIsToldSo(t *testing.T) {
	in := startInstance(t)
	ctx := context.Background()
	l := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/revoked"}})
	cert := l.tls()
	in.revoke(l.cert.SerialNumber)
	// Until the list is loaded (a look every 100 ms), a connection may pass.
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		c := in.connect(&cert, nil)
		err := sleep(ctx, c, 0)
		c.Close()
		if err != nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the revoked certificate's calls still pass after 5 s")
		}
	}
	for i := range 20 {
		c := in.connect(&cert, nil, client.DialOptions(client.Options{})...)
		err := sleep(ctx, c, 0)
		c.Close()
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "the plugin refused this application's certificate (tls: bad certificate)") {
			t.Errorf("call %d with the revoked certificate: %v; want Unauthenticated naming the alert", i, err)
		}
		if err != nil && strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("call %d: %v; the refusal closed the connection under the client's write", i, err)
		}
	}
}

// TestExpiredClientIsClosed checks that a connection opened before its
// client's certificate expired is closed when it expires, and that its
// calls are refused from then on, on new connections too.
func TestExpiredClientIsClosed(t *testing.T) {
	log := captureLog(t)
	in := startInstance(t)
	ctx := context.Background()
	notAfter := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	l := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/brief"}, notAfter: notAfter})
	cert := l.tls()
	c := in.connect(&cert, nil)
	defer c.Close()
	if err := sleep(ctx, c, 0); err != nil {
		t.Fatalf("call before the certificate expired: %v", err)
	}
	time.Sleep(time.Until(notAfter) + 300*time.Millisecond)
	if state := c.GetState(); state == connectivity.Ready {
		t.Errorf("the connection is %v after its certificate expired, want it closed", state)
	}
	if got := log.count("closed a connection of spiffe://corral.test/admin/brief: its certificate expired at " + notAfter.UTC().Format(time.RFC3339)); got != 1 {
		t.Errorf("logged the close %d times, want 1:\n%s", got, log)
	}
	if err := sleep(ctx, c, 0); err == nil {
		t.Error("a call after the certificate expired was served")
	}
}

func TestRevocationBadUpdate(t *testing.T) {
	log := captureLog(t)
	in := startInstance(t)
	ctx := context.Background()
	x := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/x"}})
	y := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/y"}})
	xc, yc := x.tls(), y.tls()
	yConn := in.dial(&yc)
	in.revoke(x.cert.SerialNumber)
	time.Sleep(3 * crlPollInterval)

	served := func(step string, cert *tls.Certificate, want bool) {
		t.Helper()
		c := in.connect(cert, nil)
		defer c.Close()
		if err := sleep(ctx, c, 0); (err == nil) != want {
			t.Errorf("%s: new connection of %s: %v, want served %v", step, cert.Leaf.URIs, err, want)
		}
	}
	xc.Leaf, yc.Leaf = x.cert, y.cert
	served("x revoked", &xc, false)
	served("x revoked", &yc, true)

	other := newTestCA(t, "another CA")
	for _, bad := range []struct {
		name string
		crl  []byte
	}{
		{"garbage", []byte("garbage")},
		{"a list of another CA revoking y", other.crl(t, y.cert.SerialNumber)},
		{"a list with a broken signature revoking y", flipLastSignatureBit(t, in.ca.crl(t, y.cert.SerialNumber))},
	} {
		replaceFile(t, filepath.Join(in.dir, "crl.pem"), bad.crl)
		time.Sleep(3 * crlPollInterval)
		served(bad.name, &xc, false)
		served(bad.name, &yc, true)
		if err := sleep(ctx, yConn, 0); err != nil {
			t.Errorf("%s: y's open connection: %v", bad.name, err)
		}
	}
	if got := log.count("refusing the revocation list"); got != 3 {
		t.Errorf("logged %d refusals, want 3:\n%s", got, log)
	}
}

// TestOwnCertificateRevoked checks that an instance whose own certificate
// is revoked logs it and serves on.
func TestOwnCertificateRevoked(t *testing.T) {
	log := captureLog(t)
	in := startInstance(t)
	ctx := context.Background()
	conn := in.dial(in.supervisor())
	own, err := crl.ReadCertificates(filepath.Join(in.dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	in.revoke(own[0].SerialNumber)
	want := "this instance's own certificate (spiffe://corral.test/plugin/greeter, serial " + serialHex(own[0].SerialNumber) + ") is revoked"
	for start := time.Now(); log.count(want) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("not logged %q:\n%s", want, log)
		}
	}
	time.Sleep(3 * crlPollInterval)
	if got := log.count(want); got != 1 {
		t.Errorf("logged %d times, want once", got)
	}
	if err := sleep(ctx, conn, 0); err != nil {
		t.Errorf("open connection: %v", err)
	}
	if err := sleep(ctx, in.dial(in.supervisor()), 0); err != nil {
		t.Errorf("new connection: %v", err)
	}
}

// TestConnectionRecycling serves with a maximum connection age of 100 ms:
// the client is asked to go away again and again, and reconnects without a
// call failing, among them calls that outlive a connection's age.
func TestConnectionRecycling(t *testing.T) {
	in := newInstance(t)
	t.Setenv("CORRAL_MAX_CONNECTION_AGE", "100ms")
	t.Setenv("CORRAL_MAX_CONNECTION_AGE_GRACE", "2s")
	in.start()

	var dials atomic.Int64
	socket := filepath.Join(in.dir, "plugin.sock")
	conn := in.connect(in.supervisor(), nil, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}))
	defer conn.Close()

	var calls, failed atomic.Int64
	stop := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 5 {
		d := time.Duration(0)
		if i == 0 {
			d = 250 * time.Millisecond // longer than a connection lives
		}
		wg.Go(func() {
			for time.Now().Before(stop) {
				calls.Add(1)
				if err := sleep(context.Background(), conn, d); err != nil {
					failed.Add(1)
					t.Errorf("call (%v): %v", d, err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls, %d failed, over %d connections", calls.Load(), failed.Load(), dials.Load())
	if dials.Load() < 5 {
		t.Errorf("%d connections in 1.5 s with a maximum age of 100 ms; want them recycled", dials.Load())
	}
}

// TestMaxConnectionAgeEnvironment checks the environment variables of
// connection recycling.
func TestMaxConnectionAgeEnvironment(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		vars["CORRAL_INSTANCE_DIR"] = "/corral"
		return func(k string) string { return vars[k] }
	}
	e, err := readEnvironment(env(map[string]string{}))
	if err != nil || e.maxConnectionAge != 10*time.Minute || e.maxConnectionAgeGrace != 30*time.Second {
		t.Errorf("defaults: %v, %v, %v", e.maxConnectionAge, e.maxConnectionAgeGrace, err)
	}
	e, err = readEnvironment(env(map[string]string{"CORRAL_MAX_CONNECTION_AGE": "90s", "CORRAL_MAX_CONNECTION_AGE_GRACE": "1m30s"}))
	if err != nil || e.maxConnectionAge != 90*time.Second || e.maxConnectionAgeGrace != 90*time.Second {
		t.Errorf("set: %v, %v, %v", e.maxConnectionAge, e.maxConnectionAgeGrace, err)
	}
	for _, name := range []string{"CORRAL_MAX_CONNECTION_AGE", "CORRAL_MAX_CONNECTION_AGE_GRACE"} {
		for _, v := range []string{"10", "0", "-1s", "soon"} {
			if _, err := readEnvironment(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v, want an error naming it", name, v, err)
			}
		}
	}
}

// rotation writes a new certificate and key of the plugin greeter into the
// instance directory, and returns the new serial. Odd rotations write the
// files in place, even ones replace them by renames.
func (in *instance) rotate(n int) string {
	in.t.Helper()
	l := in.ca.issue(in.t, leafSpec{
		uris:     []string{"spiffe://corral.test/plugin/greeter"},
		dnsNames: []string{"localhost"},
		pluginID: "greeter",
		server:   true,
	})
	if n%2 == 1 {
		writeInstanceDir(in.t, in.dir, in.ca, l)
	} else {
		in.writePair(l.certPEM, l.keyPEM)
	}
	return serialHex(l.cert.SerialNumber)
}

// writePair replaces key.pem, then cert.pem, by renames.
func (in *instance) writePair(certPEM, keyPEM []byte) {
	in.t.Helper()
	replaceFile(in.t, filepath.Join(in.dir, "key.pem"), keyPEM)
	replaceFile(in.t, filepath.Join(in.dir, "cert.pem"), certPEM)
}

// load makes continuous calls on open and on new connections until it is
// stopped, and records which server certificates the new ones saw.
type load struct {
	calls, failed atomic.Int64
	seen          chan string // serials of the server's certificate, per new connection
	stop          chan struct{}
	wg            sync.WaitGroup
}

func startLoad(t *testing.T, in *instance) *load {
	ld := &load{seen: make(chan string, 1<<16), stop: make(chan struct{})}
	ctx := context.Background()
	cert := in.supervisor()
	open := in.connect(cert, nil)
	call := func(c *grpc.ClientConn, what string) {
		ld.calls.Add(1)
		if err := sleep(ctx, c, 0); err != nil {
			ld.failed.Add(1)
			t.Errorf("call on %s: %v", what, err)
		}
	}
	for range 2 {
		ld.wg.Go(func() {
			for !isClosed(ld.stop) {
				call(open, "the open connection")
			}
		})
	}
	for range 2 {
		ld.wg.Go(func() {
			for !isClosed(ld.stop) {
				c := in.connect(cert, ld.seen)
				call(c, "a new connection")
				c.Close()
			}
		})
	}
	t.Cleanup(func() { ld.halt(); open.Close() })
	return ld
}

func (ld *load) halt() {
	if !isClosed(ld.stop) {
		close(ld.stop)
	}
	ld.wg.Wait()
}

// waitSeen waits until a new connection sees the server's certificate
// serial, and fails the test if none does within limit.
func (ld *load) waitSeen(t *testing.T, serial string, limit time.Duration) {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case s := <-ld.seen:
			if s == serial {
				return
			}
		case <-timeout:
			t.Fatalf("no new connection saw the server certificate %s within %v", serial, limit)
		}
	}
}

// expectOnly checks that new connections, for a while, see only the
// server certificate serial.
func (ld *load) expectOnly(t *testing.T, serial string, d time.Duration) {
	t.Helper()
	n := 0
	for timeout := time.After(d); ; {
		select {
		case s := <-ld.seen:
			n++
			if s != serial {
				t.Fatalf("a new connection saw the server certificate %s, want still %s", s, serial)
			}
		case <-timeout:
			if n == 0 {
				t.Fatalf("no new connection in %v", d)
			}
			return
		}
	}
}

// TestRotationUnderLoad rotates the instance's certificate several times
// while clients call on an open connection and on new ones: no call fails,
// and new connections see each new certificate at once.
func TestRotationUnderLoad(t *testing.T) {
	in := startInstance(t)
	ld := startLoad(t, in)
	time.Sleep(50 * time.Millisecond)
	const rotations = 8
	for n := range rotations {
		serial := in.rotate(n)
		start := time.Now()
		ld.waitSeen(t, serial, 2*time.Second)
		t.Logf("rotation %d: new connections serve certificate %s after %v", n, serial, time.Since(start).Round(time.Microsecond))
		time.Sleep(50 * time.Millisecond)
	}
	ld.halt()
	t.Logf("%d calls during %d rotations, %d failed", ld.calls.Load(), rotations, ld.failed.Load())
	if ld.failed.Load() != 0 {
		t.Errorf("%d calls failed", ld.failed.Load())
	}
}

// TestRotationBadUpdate writes broken and mismatched certificates and keys
// while clients call: new connections keep being served with the
// certificate loaded before, until a good pair comes.
func TestRotationBadUpdate(t *testing.T) {
	log := captureLog(t)
	in := startInstance(t)
	ld := startLoad(t, in)
	first := in.rotate(0)
	ld.waitSeen(t, first, 2*time.Second)
	// Forget the handshakes that began before.
	time.Sleep(50 * time.Millisecond)
	for len(ld.seen) > 0 {
		<-ld.seen
	}

	spec := leafSpec{uris: []string{"spiffe://corral.test/plugin/greeter"}, dnsNames: []string{"localhost"}, pluginID: "greeter", server: true}
	a, b := in.ca.issue(t, spec), in.ca.issue(t, spec)
	other := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/plugin/kv"}, dnsNames: []string{"localhost"}, pluginID: "kv", server: true})
	for _, bad := range []struct {
		name         string
		certPEM, key []byte
		want         string
	}{
		{"a certificate with another's key", a.certPEM, b.keyPEM, "private key does not match public key"},
		{"a broken key", a.certPEM, []byte("broken"), "failed to find any PEM data in key input"},
		// (Not a's key: with a's certificate left by the step before, the
		// state between the renames would be a good pair.)
		{"an empty certificate", nil, b.keyPEM, "failed to find any PEM data in certificate input"},
		{"a certificate of another plugin", other.certPEM, other.keyPEM, "not of spiffe://corral.test/plugin/greeter"},
	} {
		since := len(log.String())
		in.writePair(bad.certPEM, bad.key)
		ld.expectOnly(t, first, 300*time.Millisecond)
		// Once per state of the files: the key and the certificate are
		// renamed one after the other, so a handshake between may see a
		// mismatch too.
		if logged := log.String()[since:]; strings.Count(logged, "keeping the certificates loaded before") > 2 || !strings.Contains(logged, bad.want) {
			t.Errorf("%s: want a refusal saying %q logged (at most twice), got:\n%s", bad.name, bad.want, logged)
		}
	}
	good := in.rotate(2)
	ld.waitSeen(t, good, 2*time.Second)
	ld.halt()
	t.Logf("%d calls, %d failed", ld.calls.Load(), ld.failed.Load())
	if ld.failed.Load() != 0 {
		t.Errorf("%d calls failed", ld.failed.Load())
	}
	if _, err := os.Stat(filepath.Join(in.dir, "plugin.sock")); err != nil {
		t.Error(err)
	}
}

// inotifyInstances counts the inotify instances this process holds.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// TestTrustPushes checks both ways go-shim learns of a new revocation
// list, as its supervisor's handshake says. A supervisor that pushes
// (ReloadTrust) gets no watch of the files: a list written is not seen
// until it says so, and is in force when ReloadTrust answers. For one that
// does not push, go-shim watches the files, and a list written bites on its
// own within the second promised.
func TestTrustPushes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the watch is inotify")
	}
	ctx := context.Background()
	served := func(in *instance, l leaf) bool {
		cert := l.tls()
		c := in.connect(&cert, nil)
		defer c.Close()
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return sleep(callCtx, c, 0) == nil
	}

	t.Run("pushed", func(t *testing.T) {
		before := inotifyInstances(t)
		in := startInstance(t)
		control := pluginv1.NewControlClient(in.dial(in.supervisor()))
		if _, err := control.Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1, PushesTrust: true}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * crlPollInterval) // go-shim's polling until the handshake has ended
		if n := inotifyInstances(t); n != before {
			t.Errorf("%d inotify instances, %d before the instance started: want no watch", n, before)
		}
		x := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/x"}})
		in.revoke(x.cert.SerialNumber)
		time.Sleep(3 * crlPollInterval)
		if !served(in, x) {
			t.Fatal("a list written without ReloadTrust bit at once: go-shim still looks on its own")
		}
		resp, err := control.ReloadTrust(ctx, &pluginv1.ReloadTrustRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if served(in, x) {
			t.Error("the revoked certificate was served after ReloadTrust answered")
		}
		data, err := os.ReadFile(filepath.Join(in.dir, "crl.pem"))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		written, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resp.GetCrlNumber(), written.Number.String(); got != want {
			t.Errorf("ReloadTrust answered CRL number %q, want %q (the list written)", got, want)
		}
	})

	t.Run("watched", func(t *testing.T) {
		before := inotifyInstances(t)
		in := startInstance(t)
		control := pluginv1.NewControlClient(in.dial(in.supervisor()))
		if _, err := control.Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1}); err != nil {
			t.Fatal(err)
		}
		for start := time.Now(); inotifyInstances(t) != before+1; time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > time.Second {
				t.Fatalf("%d inotify instances, %d before the instance started: want its watch", inotifyInstances(t), before)
			}
		}
		x := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/x"}})
		revokedAt := in.revoke(x.cert.SerialNumber)
		for served(in, x) {
			if time.Since(revokedAt) > revocationBudget {
				t.Fatalf("the revoked certificate was still served %v after the list was written", revocationBudget)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
