package shim

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

const sleepMethod = "/shimtest.Sleeper/Sleep"

// registerSleeper registers shimtest.Sleeper, whose unary Sleep sleeps for
// the requested duration or until cancelled.
func registerSleeper(s *grpc.Server) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "shimtest.Sleeper",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Sleep",
			Handler: func(_ any, ctx context.Context, dec func(any) error, intercept grpc.UnaryServerInterceptor) (any, error) {
				req := new(durationpb.Duration)
				if err := dec(req); err != nil {
					return nil, err
				}
				sleep := func(ctx context.Context, req any) (any, error) {
					select {
					case <-time.After(req.(*durationpb.Duration).AsDuration()):
						return &emptypb.Empty{}, nil
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
				return intercept(ctx, req, &grpc.UnaryServerInfo{FullMethod: sleepMethod}, sleep)
			},
		}},
	}, nil)
}

// An instance is a plugin served by Run in the test, with a throwaway CA.
type instance struct {
	t      *testing.T
	dir    string
	ca     *testCA
	pool   *x509.CertPool
	cancel context.CancelFunc
	done   chan error // Run's result
	// register is what Run registers; registerSleeper when nil.
	register func(*grpc.Server)
}

// startInstance runs the plugin "greeter" in trust domain corral.test, and
// waits until it serves.
func startInstance(t *testing.T) *instance {
	in := newInstance(t)
	in.start()
	return in
}

// newInstance prepares the instance directory and environment of the
// plugin "greeter" in trust domain corral.test.
func newInstance(t *testing.T) *instance {
	t.Helper()
	return newInstanceWith(t, leafSpec{
		uris:     []string{"spiffe://corral.test/plugin/greeter"},
		dnsNames: []string{"localhost"},
		pluginID: "greeter",
		server:   true,
	})
}

// newInstanceWith is newInstance with the plugin's certificate issued as
// spec says.
func newInstanceWith(t *testing.T, spec leafSpec) *instance {
	t.Helper()
	// A short directory: a Unix socket's path is at most 107 bytes long.
	dir, err := os.MkdirTemp("", "shim")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca := newTestCA(t, "corral test CA")
	writeInstanceDir(t, dir, ca, ca.issue(t, spec))
	t.Setenv("CORRAL_INSTANCE_DIR", dir)
	t.Setenv("CORRAL_SOCKET", filepath.Join(dir, "plugin.sock"))
	t.Setenv("CORRAL_MEMORY_LIMIT", "")

	in := &instance{t: t, dir: dir, ca: ca, pool: x509.NewCertPool(), done: make(chan error, 1)}
	in.pool.AddCert(ca.cert)
	return in
}

// start runs the instance and waits until it serves.
func (in *instance) start() {
	t := in.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	register := in.register
	if register == nil {
		register = registerSleeper
	}
	go func() {
		in.done <- Run(ctx, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"}, register)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	in.waitServing()
}

// waitServing waits until the instance's socket is there and its health is
// SERVING. (Dialing before the socket exists would make gRPC back off.)
func (in *instance) waitServing() {
	t := in.t
	t.Helper()
	socket := filepath.Join(in.dir, "plugin.sock")
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if fi, err := os.Stat(socket); err == nil && fi.Mode().Type() == os.ModeSocket {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("no socket after 5 s")
		}
	}
	sup := in.dial(in.supervisor())
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		resp, err := healthpb.NewHealthClient(sup).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		select {
		case err := <-in.done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("instance not serving after 5 s: %v", err)
		}
	}
}

func (in *instance) supervisor() *tls.Certificate {
	c := in.ca.issue(in.t, leafSpec{uris: []string{"spiffe://corral.test/supervisor"}}).tls()
	return &c
}

func (in *instance) client(spec leafSpec) *tls.Certificate {
	c := in.ca.issue(in.t, spec).tls()
	return &c
}

// dial connects to the instance with cert (none if nil).
func (in *instance) dial(cert *tls.Certificate) *grpc.ClientConn {
	in.t.Helper()
	config := &tls.Config{RootCAs: in.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13}
	if cert != nil {
		config.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient("unix://"+filepath.Join(in.dir, "plugin.sock"),
		grpc.WithTransportCredentials(credentials.NewTLS(config)))
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { conn.Close() })
	return conn
}

// wait waits for Run to return, and fails the test if it does not within
// limit or returns an error.
func (in *instance) wait(limit time.Duration) {
	in.t.Helper()
	select {
	case err := <-in.done:
		if err != nil {
			in.t.Fatalf("Run = %v", err)
		}
		in.done <- nil // for the cleanup
	case <-time.After(limit):
		in.t.Fatalf("Run did not return within %v", limit)
	}
}

func sleep(ctx context.Context, conn *grpc.ClientConn, d time.Duration) error {
	return conn.Invoke(ctx, sleepMethod, durationpb.New(d), &emptypb.Empty{})
}

func TestSupervisor(t *testing.T) {
	in := startInstance(t)
	conn := in.dial(in.supervisor())
	ctx := context.Background()

	hs, err := pluginv1.NewControlClient(conn).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1})
	if err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	if hs.GetProtocolVersion() != 1 || hs.GetPluginName() != "greeter" || hs.GetPluginVersion() != "1.2.3" ||
		hs.GetApiVersion() != "1.0" || hs.GetShimVersion() != Version || !slices.Equal(hs.GetMethods(), []string{sleepMethod}) {
		t.Errorf("Handshake = %v", hs)
	}
	if _, err := pluginv1.NewControlClient(conn).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 2}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Handshake(protocol 2) = %v, want FailedPrecondition", err)
	}
	if err := sleep(ctx, conn, 0); err != nil {
		t.Errorf("Sleep: %v", err)
	}
	for _, service := range []string{"", "shimtest.Sleeper"} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q = %v, %v", service, resp, err)
		}
	}

	stats, err := pluginv1.NewControlClient(conn).Stats(ctx, &pluginv1.StatsRequest{IntervalMs: 10})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := stats.Recv()
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if s.GetGoroutines() == 0 || s.GetHeapSys() == 0 || s.GetHeapAlloc() == 0 || s.GetOpenFds() == 0 ||
			time.Since(time.UnixMilli(s.GetUnixMs())) > time.Minute {
			t.Errorf("Stats = %v", s)
		}
	}
	if fi, err := os.Stat(filepath.Join(in.dir, "plugin.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, %v; want mode 0600", fi.Mode(), err)
	}
}

func TestNoClientCertificate(t *testing.T) {
	in := startInstance(t)
	err := sleep(context.Background(), in.dial(nil), 0)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Sleep without a client certificate = %v, want Unavailable (handshake refused)", err)
	}
}

func TestOtherCA(t *testing.T) {
	in := startInstance(t)
	other := newTestCA(t, "another CA")
	cert := other.issue(t, leafSpec{uris: []string{"spiffe://corral.test/supervisor"}}).tls()
	err := sleep(context.Background(), in.dial(&cert), 0)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Sleep with a certificate of another CA = %v, want Unavailable (handshake refused)", err)
	}
}

func TestClients(t *testing.T) {
	in := startInstance(t)
	ctx := context.Background()
	handshake := func(conn *grpc.ClientConn) error {
		_, err := pluginv1.NewControlClient(conn).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1})
		return err
	}
	health := func(conn *grpc.ClientConn) error {
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	call := func(conn *grpc.ClientConn) error { return sleep(ctx, conn, 0) }

	admin := in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/alice"}}))
	scoped := in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/client/ci"}, scope: []string{"kv", "greeter"}}))
	tests := []struct {
		name string
		conn *grpc.ClientConn
		call func(*grpc.ClientConn) error
		id   string // empty if the call succeeds
	}{
		{"admin calls Handshake", admin, handshake, ""},
		{"admin calls Sleep", admin, call, ""},
		{"client calls Sleep", scoped, call, ""},
		{"client calls Handshake", scoped, handshake, "spiffe://corral.test/client/ci"},
		{"client calls health", scoped, health, "spiffe://corral.test/client/ci"},
		{"client scoped to another plugin", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/client/other"}, scope: []string{"kv"}})), call, "spiffe://corral.test/client/other"},
		{"client without scope", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/client/noscope"}})), call, "spiffe://corral.test/client/noscope"},
		{"another plugin", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/plugin/kv"}})), call, "spiffe://corral.test/plugin/kv"},
		{"supervisor of another trust domain", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://other.test/supervisor"}})), handshake, "spiffe://other.test/supervisor"},
		{"two identities", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/supervisor", "spiffe://corral.test/admin/a"}})), handshake, "2 URI SANs"},
		{"no identity", in.dial(in.client(leafSpec{dnsNames: []string{"x"}})), handshake, "0 URI SANs"},
	}
	for _, tt := range tests {
		err := tt.call(tt.conn)
		switch {
		case tt.id == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.id != "" && (status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), tt.id)):
			t.Errorf("%s: %v, want PermissionDenied naming %q", tt.name, err, tt.id)
		}
	}
}

// TestScopedClients calls the plugin as host applications do, with client
// certificates carrying the contract's plugin-scope extension (RSA 2048
// keys here, where the supervisor's are P-256: either kind is accepted),
// through the whole of TLS and go-shim.
func TestScopedClients(t *testing.T) {
	in := startInstance(t)
	ctx := context.Background()
	scopeOID := contractOID(t, contractPluginScopeOID)
	client := func(name string, scope ...string) *tls.Certificate {
		cert := in.client(leafSpec{uris: []string{"spiffe://corral.test/client/" + name}, scope: scope, rsa: true})
		parsed, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatalf("x509.ParseCertificate: %v", err)
		}
		if !slices.ContainsFunc(parsed.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(scopeOID) && !e.Critical }) {
			t.Fatalf("the certificate of client %s has no plugin-scope extension %s", name, scopeOID)
		}
		return cert
	}

	for _, scope := range [][]string{{"greeter"}, {"kv", "greeter", "cache"}} {
		conn := in.dial(client("app", scope...))
		if err := sleep(ctx, conn, 0); err != nil {
			t.Errorf("client scoped to %q calls Sleep: %v", scope, err)
		}
		_, err := pluginv1.NewControlClient(conn).Drain(ctx, &pluginv1.DrainRequest{})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("client scoped to %q calls Drain: %v, want PermissionDenied", scope, err)
		}
	}
	for _, scope := range [][]string{{"kv"}, {"greeter2", "Greeter"}, {}} {
		err := sleep(ctx, in.dial(client("elsewhere", scope...)), 0)
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "spiffe://corral.test/client/elsewhere") {
			t.Errorf("client scoped to %q calls Sleep: %v, want PermissionDenied naming it", scope, err)
		}
	}
	if err := sleep(ctx, in.dial(in.supervisor()), 0); err != nil {
		t.Errorf("the supervisor calls Sleep after the refusals: %v", err)
	}
}

// TestMisissuedCertificate checks that Run refuses to serve with a
// certificate whose plugin-ID extension is missing or disagrees with its
// URI SAN.
func TestMisissuedCertificate(t *testing.T) {
	uris := []string{"spiffe://corral.test/plugin/greeter"}
	for _, tt := range []struct {
		name string
		spec leafSpec
		want string
	}{
		{"no plugin-ID extension", leafSpec{uris: uris}, "has no plugin-ID extension (1.3.6.1.4.1.61734.1.1)"},
		{"plugin-ID of another plugin", leafSpec{uris: uris, pluginID: "kv"}, `names plugin "kv", but its URI SAN names "greeter"`},
		{"plugin-ID of another case", leafSpec{uris: uris, pluginID: "Greeter"}, `names plugin "Greeter"`},
		{"malformed plugin-ID", leafSpec{uris: uris, extensions: []pkix.Extension{{
			Id: contractOID(t, contractPluginIDOID), Value: []byte{0x13, 0x01, 'g'}}}}, "not a UTF8String"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.dnsNames, tt.spec.server = []string{"localhost"}, true
			in := newInstanceWith(t, tt.spec)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := Run(ctx, Plugin{Name: "greeter", APIVersion: "1.0"}, registerSleeper)
			if err == nil || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), filepath.Join(in.dir, "cert.pem")) {
				t.Errorf("Run = %v, want an error naming cert.pem and saying %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(in.dir, "plugin.sock")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket: %v, want none", err)
			}
		})
	}
}

func TestDrain(t *testing.T) {
	in := startInstance(t)
	conn := in.dial(in.supervisor())
	ctx := context.Background()

	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := watch.Recv(); err != nil || s.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health watch: %v, %v", s, err)
	}
	stats, err := pluginv1.NewControlClient(conn).Stats(ctx, &pluginv1.StatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stats.Recv(); err != nil {
		t.Fatal(err)
	}

	slept := make(chan error, 1)
	go func() { slept <- sleep(ctx, conn, 300*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond) // let the call begin

	start := time.Now()
	resp, err := pluginv1.NewControlClient(conn).Drain(ctx, &pluginv1.DrainRequest{})
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if resp.GetInFlight() != 1 {
		t.Errorf("Drain: %d calls in flight, want 1", resp.GetInFlight())
	}
	if err := <-slept; err != nil {
		t.Errorf("call in flight during the drain: %v", err)
	}
	in.wait(2 * time.Second) // far less than the default deadline of 5 s: no stream holds the drain
	t.Logf("drained in %v", time.Since(start))

	if s, err := watch.Recv(); err != nil || s.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health watch during the drain: %v, %v; want NOT_SERVING", s, err)
	}
	if _, err := watch.Recv(); err != io.EOF {
		t.Errorf("health watch after the drain: %v, want its end", err)
	}
	for {
		if _, err := stats.Recv(); err != nil {
			if err != io.EOF {
				t.Errorf("stats after the drain: %v, want its end", err)
			}
			break
		}
	}
	if err := sleep(ctx, conn, 0); err == nil {
		t.Error("a call after the drain succeeded")
	}
	if _, err := os.Stat(filepath.Join(in.dir, "plugin.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after the drain: %v, want it removed", err)
	}
}

func TestDrainDeadline(t *testing.T) {
	in := startInstance(t)
	conn := in.dial(in.supervisor())
	ctx := context.Background()

	slept := make(chan error, 1)
	go func() { slept <- sleep(ctx, conn, time.Minute) }()
	time.Sleep(50 * time.Millisecond)
	if _, err := pluginv1.NewControlClient(conn).Drain(ctx, &pluginv1.DrainRequest{DeadlineMs: 200}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	in.wait(2 * time.Second)
	select {
	case err := <-slept:
		if err == nil {
			t.Error("the call outliving the drain's deadline succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Error("the call outliving the drain's deadline did not end")
	}
}

func TestCancelDrains(t *testing.T) {
	in := startInstance(t)
	in.cancel()
	in.wait(2 * time.Second)
}

func TestStaleSocket(t *testing.T) {
	in := newInstance(t)
	// A socket left behind, as by an instance that was killed.
	lis, err := net.Listen("unix", filepath.Join(in.dir, "plugin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	lis.(*net.UnixListener).SetUnlinkOnClose(false)
	lis.Close()
	in.start()
}

func TestRunErrors(t *testing.T) {
	t.Setenv("CORRAL_INSTANCE_DIR", t.TempDir()) // no certificates
	if err := Run(context.Background(), Plugin{Name: "greeter", APIVersion: "1.0"}, registerSleeper); err == nil ||
		!strings.Contains(err.Error(), "ca.pem") {
		t.Errorf("Run without certificates = %v, want an error naming ca.pem", err)
	}
	if err := Run(context.Background(), Plugin{}, registerSleeper); err == nil {
		t.Error("Run of a plugin without a name succeeded")
	}
}

// The instance socket listens before go-shim serves it, so the supervisor
// connects while the plugin's register function still runs: that
// connection, and a handshake sent on it at once, wait until the plugin
// serves and then succeed, however long register takes.
func TestHandshakeWaitsForASlowRegister(t *testing.T) {
	in := newInstance(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		<-in.done
	}()
	const slow = 1500 * time.Millisecond
	go func() {
		in.done <- Run(ctx, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"}, func(s *grpc.Server) {
			time.Sleep(slow)
			registerSleeper(s)
		})
	}()
	socket := filepath.Join(in.dir, "plugin.sock")
	for start := time.Now(); !isSocket(socket); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("no instance socket after 5 s")
		}
	}
	began := time.Now()
	callCtx, cancelCall := context.WithTimeout(ctx, 10*time.Second)
	defer cancelCall()
	// Not WaitForReady: as the supervisor's calls, it fails at once if the connection does.
	hs, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Handshake(callCtx, &pluginv1.HandshakeRequest{ProtocolVersion: 1})
	if err != nil {
		t.Fatalf("Handshake while register runs: %v", err)
	}
	if waited := time.Since(began); waited < slow/2 {
		t.Errorf("Handshake answered after %v, before register (%v) could have returned", waited, slow)
	}
	if got := hs.GetMethods(); !slices.Contains(got, sleepMethod) {
		t.Errorf("Handshake methods = %v, want the ones register registered", got)
	}
}

// A plugin process told to by CORRAL_EARLY_SOCKET listens on its instance
// socket from its start, before its main function runs (package
// earlysocket), and Run serves that socket: a handshake sent before Run is
// even called is answered once it serves.
func TestInstanceSocketListensFromTheStart(t *testing.T) {
	if os.Getenv(earlyHelperEnv) != "" {
		t.Skip("the helper process runs TestEarlySocketHelper only")
	}
	in := newInstance(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestEarlySocketHelper$")
	helper.Env = append(os.Environ(), earlyHelperEnv+"=1", "CORRAL_EARLY_SOCKET="+filepath.Join(in.dir, "plugin.sock"))
	goAhead, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var output strings.Builder
	helper.Stdout, helper.Stderr = &output, &output
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- helper.Wait() }()
	defer func() {
		helper.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			helper.Process.Kill()
			<-exited
		}
	}()

	// The helper waits on its stdin before it calls Run; the socket listens
	// already. Its mode becomes 0600 once it listens: that change is what
	// the supervisor waits for (it exists, with the umask's mode, from bind).
	socket := filepath.Join(in.dir, "plugin.sock")
	listening := func() bool {
		fi, err := os.Stat(socket)
		return err == nil && fi.Mode().Type() == os.ModeSocket && fi.Mode().Perm() == 0o600
	}
	for start := time.Now(); !listening(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no instance socket of mode 0600 after 10 s; helper: %s", output.String())
		}
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatalf("connecting before Run: %v", err)
	}
	conn.Close()

	answered := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1})
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("Handshake answered before Run was called: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := goAhead.Write([]byte("run\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Fatalf("Handshake sent before Run: %v; helper: %s", err, output.String())
	}
}

const earlyHelperEnv = "GO_SHIM_EARLY_SOCKET_HELPER"

// TestEarlySocketHelper is the plugin process of
// TestInstanceSocketListensFromTheStart: it calls Run once its stdin says so.
func TestEarlySocketHelper(t *testing.T) {
	if os.Getenv(earlyHelperEnv) == "" {
		t.Skip("run by TestInstanceSocketListensFromTheStart")
	}
	// Gone from the environment, so that no process this one starts takes the socket.
	if v, ok := os.LookupEnv("CORRAL_EARLY_SOCKET"); ok {
		t.Fatalf("CORRAL_EARLY_SOCKET=%q is still in the environment", v)
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"}, registerSleeper); err != nil {
		t.Fatal(err)
	}
}
