package shim

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/corralhq/corral/go-shim/internal/earlysocket"
	"github.com/corralhq/corral/go-shim/internal/identity"
	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// Version is the go-shim release, reported to the supervisor in the
// handshake.
const Version = "0.1.0"

// A Plugin describes a plugin to the supervisor.
type Plugin struct {
	// Name is the plugin's name; it must equal the name the plugin is
	// configured under.
	Name string
	// Version is the plugin's own release, free-form (e.g. "1.4.2").
	Version string
	// APIVersion is the version of the plugin's gRPC API, "MAJOR.MINOR".
	APIVersion string
	// UnaryInterceptors and StreamInterceptors wrap the calls of the
	// author's own services, on both sockets (Control and health calls pass
	// by them), innermost: after go-shim has authorized the caller, counted
	// the call and put [Draining] in its context. For logging, tracing, an
	// author's own metrics or auth. The first is outermost.
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
}

// Serve serves plugin with the services register registers, until it is
// drained by the supervisor or by SIGTERM or SIGINT; then it exits the
// process with status 0. If it cannot serve, it prints why on stderr and
// exits with status 1. It does not return.
//
// register is called once for every grpc.Server go-shim runs: the instance
// socket's, and each of the data socket's (a new one every time the
// supervisor unparks it). It should only register services, the same ones
// every time; the services may share their state across servers.
func Serve(plugin Plugin, register func(*grpc.Server)) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := Run(ctx, plugin, register)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: corral go-shim: %v\n", plugin.Name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Run is [Serve] for programs that manage their own process: it serves
// until the server is drained, by the supervisor or because ctx is done,
// and returns nil then. It runs only under a supervisor, which gives it its
// instance directory and certificate: test a plugin's services with a
// grpc.Server of the test's own, and the plugin under Corral. It returns an error if it cannot serve,
// among others if the instance's certificate is not a plugin's: its URI SAN
// spiffe://<trust-domain>/plugin/<name> and its plugin-ID extension must
// name the same plugin. It reads the environment and sets the Go runtime's
// memory limit, as Serve does.
func Run(ctx context.Context, plugin Plugin, register func(*grpc.Server)) error {
	if plugin.Name == "" {
		return errors.New("plugin has no name")
	}
	if !isAPIVersion(plugin.APIVersion) {
		return fmt.Errorf("Plugin.APIVersion %q is not MAJOR.MINOR (e.g. \"1.0\"), which the config's apiVersion is checked against", plugin.APIVersion)
	}
	if register == nil {
		return errors.New("register is nil: pass a function that registers the plugin's services on the grpc.Server it is given")
	}
	// A nil interceptor would fail every call it wraps, as a panic of the
	// handler's, on an instance that reports itself healthy.
	for i, in := range plugin.UnaryInterceptors {
		if in == nil {
			return fmt.Errorf("Plugin.UnaryInterceptors[%d] is nil", i)
		}
	}
	for i, in := range plugin.StreamInterceptors {
		if in == nil {
			return fmt.Errorf("Plugin.StreamInterceptors[%d] is nil", i)
		}
	}
	version, err := parseProtocolVersion()
	if err != nil {
		return err
	}
	env, err := readEnvironment(os.Getenv)
	if err != nil {
		return err
	}
	if limit := softMemoryLimit(env.memoryLimit); limit > 0 && !env.goMemLimit {
		debug.SetMemoryLimit(limit)
	}

	// The instance socket listens first (from the process's start, see
	// package earlysocket), and is served last. The supervisor connects as
	// soon as it listens: its TLS handshake begins while the rest is set up,
	// and waits in the socket until the server below takes it. Its handshake
	// call is answered only once everything, the data socket included,
	// serves.
	lis, err := instanceListener(env.socket)
	if err != nil {
		return err
	}
	handedOver := false // to srv.Serve, which closes it
	defer func() {
		if !handedOver {
			lis.Close()
		}
	}()

	certs := newCertFiles(env.instanceDir)
	_, leaf, err := certs.load()
	if err != nil {
		return fmt.Errorf("loading certificates: %w", err)
	}
	trustDomain, configured, err := identity.Plugin(leaf)
	if err != nil {
		return fmt.Errorf("%s: %w", certs.cert, err)
	}
	// Rewritten certificates must be of the same plugin, in the same trust
	// domain: the policy below is of this one.
	certs.vetWith(func(cert *x509.Certificate) error {
		td, name, err := identity.Plugin(cert)
		if err == nil && (td != trustDomain || name != configured) {
			err = fmt.Errorf("certificate is of spiffe://%s/plugin/%s, not of spiffe://%s/plugin/%s, as before",
				td, name, trustDomain, configured)
		}
		return err
	})

	// Revocation: refused in the handshake and in every call, and the
	// connections of a newly revoked certificate closed.
	revoked := newRevoker(env.instanceDir, certs.current)
	revoked.refresh()
	if testHookRevoker != nil {
		testHookRevoker(revoked)
	}
	certs.checkPeersWith(revoked.checkHandshake)
	drainer := newDrainer()
	watchCtx, stopWatching := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		revoked.watch(watchCtx, drainer.draining)
	}()
	defer func() {
		stopWatching()
		<-watching
	}()

	var (
		flight = &inFlight{}
		pol    = &policy{trustDomain: trustDomain, plugin: configured, services: map[string]bool{}}
		g      = &guard{policy: pol, revoked: revoked.check}
		// The author's calls on both sockets, counted (and those in flight
		// too) by the outermost interceptors of every server; pol.services
		// is filled in below, before any call.
		calls = newCallStats(pol.isAuthors, flight)
	)
	drainingUnary, drainingStream := drainingInterceptors(drainer.draining)
	// What the instance socket's server and the data socket's have in common.
	common := []grpc.ServerOption{
		grpc.Creds(revoked.credentials(credentials.NewTLS(certs.serverConfig()), trustDomain)),
		// Not gRPC's 120 s: a client that connects and never finishes its
		// TLS handshake holds an fd (of the supervisor's too, through its
		// TCP relay) meanwhile.
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      env.maxConnectionAge,
			MaxConnectionAgeGrace: env.maxConnectionAgeGrace,
		}),
		// Clients ping to notice a peer that is gone (Corral's Node client
		// every 2 s while it has calls, its Go client every 30 s). gRPC's
		// default policy takes a ping sooner than 5 min after the last for
		// abuse, and after three closes the connection with its calls: a
		// quiet stream died at 2 min.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minClientPingInterval, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(env.maxMessageSize),
	}
	srv := grpc.NewServer(slices.Concat(common, []grpc.ServerOption{
		// Only the supervisor (root) reaches the instance socket. What it
		// sends back, go-shim's own answers among it (a handshake naming
		// every method, call counts, profiles in 64 KiB chunks), is not
		// held to the data plane's limit, however small that is set.
		grpc.MaxSendMsgSize(max(env.maxMessageSize, instanceSendLimit)),
		grpc.StatsHandler(calls),
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{recoverUnary, g.unary, drainingUnary}, authorsUnary(pol.isAuthors, plugin.UnaryInterceptors)...)...),
		grpc.ChainStreamInterceptor(append([]grpc.StreamServerInterceptor{recoverStream, g.stream, drainingStream}, authorsStream(pol.isAuthors, plugin.StreamInterceptors)...)...),
	})...)
	register(srv)
	var methods []string
	for name, info := range srv.GetServiceInfo() {
		if name == pluginv1.Control_ServiceDesc.ServiceName || name == healthpb.Health_ServiceDesc.ServiceName {
			return fmt.Errorf("the plugin registers %s, which go-shim serves itself", name)
		}
		pol.services[name] = true
		for _, m := range info.Methods {
			methods = append(methods, "/"+name+"/"+m.Name)
		}
	}
	slices.Sort(methods)
	if len(methods) == 0 {
		// Not refused: a plugin may serve nothing yet. But every call to it
		// fails with Unimplemented, which is more often a register that
		// forgot its service, or registered it under a condition.
		logf("the plugin registers no service of its own: every call to it fails with Unimplemented")
	}
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, &healthServer{Server: hs, drainer: drainer})

	// The data socket: the author's services and health, for host
	// applications, whose clients may check health there. It shares the
	// call counts and the count in flight, so that Drain counts its calls too.
	var data *dataPlane
	if env.dataSocket != "" {
		dataPol := *pol
		dataPol.clientHealth = true
		dg := &guard{policy: &dataPol, revoked: revoked.check}
		data = newDataPlane(env.dataSocket, authorsUnary(pol.isAuthors, plugin.UnaryInterceptors), authorsStream(pol.isAuthors, plugin.StreamInterceptors), slices.Concat(common, []grpc.ServerOption{
			grpc.MaxSendMsgSize(env.maxMessageSize),
			grpc.StatsHandler(calls),
			grpc.ChainUnaryInterceptor(recoverUnary, dg.unary),
			grpc.ChainStreamInterceptor(recoverStream, dg.stream),
		}), register, hs)
	}
	pluginv1.RegisterControlServer(srv, &control{
		plugin:   plugin,
		version:  version,
		methods:  methods,
		inFlight: flight,
		drainer:  drainer,
		data:     data,
		calls:    calls,
		revoked:  revoked,
	})

	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range pol.services {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	// The data socket serves before the instance socket does: the
	// supervisor, whose handshake on the instance socket tells it the
	// instance is up, may then point the plugin's stable address at it.
	var dataFailed <-chan error // nil, never ready, without a data socket
	if data != nil {
		if err := data.open(); err != nil {
			return err
		}
		dataFailed = data.failed
	}
	// abort stops everything at once, when Run fails.
	abort := func() {
		srv.Stop()
		if data != nil {
			stopped := data.stop(0)
			data.halt()
			<-stopped
		}
	}
	serving := make(chan error, 1)
	handedOver = true
	go func() { serving <- srv.Serve(newHandshakeListener(lis)) }()

	var deadline time.Duration
	select {
	case err := <-serving:
		abort()
		return fmt.Errorf("serving %s: %w", env.socket, err)
	case err := <-dataFailed:
		abort()
		<-serving
		return err
	case deadline = <-drainer.requested:
	case <-ctx.Done():
		deadline = defaultDrainDeadline
	}
	drain(srv, hs, drainer, flight, data, deadline)
	<-serving
	return nil
}

// instanceSendLimit is the least limit of a message sent on the instance
// socket: above go-shim's largest answers (a handshake of the 10 000
// methods a plugin may have, a profile chunk) with room to spare.
const instanceSendLimit = 16 << 20

// handshakeTimeout bounds a connection's TLS handshake.
const handshakeTimeout = 10 * time.Second

// minClientPingInterval is the shortest interval between a client's
// keepalive pings that go-shim accepts: below the Node client's 2 s, with
// room for a timer that fires early.
const minClientPingInterval = 1 * time.Second

// testHookRevoker, if not nil, is given the revoker of Run.
var testHookRevoker func(*revoker)

// drain stops srv and the data plane, if there is one: it reports
// NOT_SERVING, sends GOAWAY on the data socket's connections, then on the
// instance socket's, ends the long streams go-shim serves and lets the calls
// in flight on both finish within deadline, then stops both servers hard.
func drain(srv *grpc.Server, hs *health.Server, d *drainer, flight *inFlight, data *dataPlane, deadline time.Duration) {
	d.begin()
	var dataStopped <-chan struct{}
	if data != nil {
		dataStopped = data.stop(deadline)
	}
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		if dataStopped != nil {
			<-dataStopped
		}
		close(stopped)
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		logf("drain deadline of %v passed with %d calls in flight; stopping them", deadline, flight.count())
		if data != nil {
			data.halt()
		}
		srv.Stop()
		// Not waiting for GracefulStop: it also waits for the handlers to
		// return, and one that ignores its cancelled context would hold the
		// drain, and the process, for good.
		if dataStopped != nil {
			<-dataStopped
		}
	}
}

// instanceListener returns the listener of the instance socket at path: the
// one listening since the process started, if it listens there, else a new
// one.
func instanceListener(path string) (net.Listener, error) {
	early, fd, ok := earlysocket.Take()
	if ok && filepath.Clean(early) == filepath.Clean(path) {
		f := os.NewFile(uintptr(fd), path)
		lis, err := net.FileListener(f) // a duplicate of f's descriptor
		f.Close()
		if err == nil {
			// As for a listener of net.Listen's: the socket goes with it.
			lis.(*net.UnixListener).SetUnlinkOnClose(true)
			return lis, nil
		}
		logf("using the instance socket listening since the start failed; listening anew: %v", err)
	} else if ok {
		// CORRAL_EARLY_SOCKET named another socket than CORRAL_SOCKET:
		// not the instance's.
		os.NewFile(uintptr(fd), early).Close()
		os.Remove(early)
	}
	return listen(path, 0o600)
}

// listen listens on the Unix socket at path with the given mode, replacing
// a stale socket left there.
func listen(path string, mode fs.FileMode) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket: %w", err)
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, mode); err != nil {
		lis.Close()
		return nil, err
	}
	return lis, nil
}

// isAPIVersion reports whether v is MAJOR.MINOR, or MAJOR alone, in
// decimal digits: what the supervisor compares with the config's apiVersion.
func isAPIVersion(v string) bool {
	major, minor, dotted := strings.Cut(v, ".")
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	return digits(major) && (!dotted || digits(minor))
}
