package shim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// defaultParkGrace bounds the calls in flight of a park whose request names
// no grace. It is short: the supervisor parks an instance it is about to
// stop, and a call still running then would hang until it is continued.
const defaultParkGrace = 200 * time.Millisecond

// errDataPlaneStopped is returned by [dataPlane.unpark] once a drain has
// stopped the data plane for good.
var errDataPlaneStopped = errors.New("the data socket is stopped: the plugin is draining")

// A dataState is the state of a [dataPlane].
type dataState int

const (
	dataParked  dataState = iota // not serving; unpark serves again (also the state before open)
	dataServing                  // a data server listens on the data socket
	dataStopped                  // stopped for good by a drain
)

func (s dataState) String() string {
	switch s {
	case dataParked:
		return "parked"
	case dataServing:
		return "serving"
	case dataStopped:
		return "stopped"
	}
	return fmt.Sprintf("dataState(%d)", int(s))
}

// A dataPlane serves the author's services and health to host applications
// on the data socket, on a grpc.Server of its own, so that the supervisor
// can send those clients away (park) while it keeps its own connection to
// the instance socket. A grpc.Server cannot serve again once stopped: each
// unpark makes a new one.
type dataPlane struct {
	path     string              // the data socket
	opts     []grpc.ServerOption // credentials, limits and the guard, as the instance socket's
	register func(*grpc.Server)  // the author's
	// The author's interceptors, innermost.
	authorsUnary  []grpc.UnaryServerInterceptor
	authorsStream []grpc.StreamServerInterceptor
	health        *health.Server // shared with the instance socket: one status for both
	failed        chan error     // receives the first error of a data server that stopped serving by itself

	mu    sync.Mutex
	state dataState
	srv   *dataServer // the latest server; stopping or stopped unless state is dataServing
}

// newDataPlane returns a parked data plane of the socket at path; open
// serves it.
func newDataPlane(path string, authorsUnary []grpc.UnaryServerInterceptor, authorsStream []grpc.StreamServerInterceptor, opts []grpc.ServerOption, register func(*grpc.Server), hs *health.Server) *dataPlane {
	return &dataPlane{
		path:          path,
		authorsUnary:  authorsUnary,
		authorsStream: authorsStream,
		opts:          opts,
		register:      register,
		health:        hs,
		failed:        make(chan error, 1),
	}
}

// open listens on the data socket and serves it.
func (p *dataPlane) open() error {
	return p.unpark(context.Background())
}

// park takes the data socket out of service: it removes the socket file, so
// that no new connection reaches the server, and stops the server, letting
// the calls in flight finish within grace (see [dataServer.stop]). It does
// not wait for the server to stop. It returns the author's calls in flight
// on the data socket then, 0 if it was not serving, and a channel closed
// once the server has stopped, its connections all closed (that of the
// stop under way or done, when it was not serving; nil if none was ever).
func (p *dataPlane) park(grace time.Duration, reason string) (uint64, <-chan struct{}) {
	if reason == "" {
		reason = "no reason given"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != dataServing {
		logf("data socket %s is %v; asked to park it (%s)", p.path, p.state, reason)
		if p.srv == nil {
			return 0, nil
		}
		return 0, p.srv.stopped
	}
	n := p.srv.flight.count()
	logf("parking data socket %s (%s): %d calls in flight, %v to finish", p.path, reason, n, grace)
	p.removeSocket()
	p.srv.stop(grace, true)
	p.state = dataParked
	return n, p.srv.stopped
}

// unpark waits for the stop of a park to finish, then serves the data socket
// again with a new server. It does nothing if the data socket serves, and
// fails with errDataPlaneStopped once a drain has stopped it.
func (p *dataPlane) unpark(ctx context.Context) error {
	for {
		p.mu.Lock()
		switch p.state {
		case dataServing:
			p.mu.Unlock()
			return nil
		case dataStopped:
			p.mu.Unlock()
			return errDataPlaneStopped
		}
		parked := p.srv
		if parked == nil || isClosed(parked.stopped) {
			defer p.mu.Unlock()
			return p.serveLocked()
		}
		p.mu.Unlock()

		// Until the parked server has stopped, its listener may be open and
		// its calls running. The wait is bounded by the park's grace; it is
		// not made under mu, so that a drain can halt the server meanwhile.
		select {
		case <-parked.stopped:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the parked data server to stop: %w", ctx.Err())
		}
	}
}

// serveLocked makes a new data server and serves the data socket with it.
// p.mu is held.
func (p *dataPlane) serveLocked() error {
	srv, err := p.newServer()
	if err != nil {
		return err
	}
	if p.srv != nil {
		logf("data socket %s serves again", p.path)
	}
	p.srv = srv
	p.state = dataServing
	return nil
}

// stop stops the data plane for good, for a drain: a serving data server is
// stopped as park stops it, with deadline for its grace; a parked one goes on
// stopping (halt hurries it). It does not wait; the result is closed once the
// data server has stopped.
func (p *dataPlane) stop(deadline time.Duration) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == dataServing {
		p.removeSocket()
		p.srv.stop(deadline, false)
	}
	p.state = dataStopped
	if p.srv == nil {
		stopped := make(chan struct{})
		close(stopped)
		return stopped
	}
	return p.srv.stopped
}

// stoppedForGood reports whether a drain has stopped the data plane and its
// last server has stopped: every call it took has ended, and it takes none.
func (p *dataPlane) stoppedForGood() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == dataStopped && (p.srv == nil || isClosed(p.srv.stopped))
}

// halt ends what calls remain on the data server at once; a drain whose
// deadline has passed calls it.
func (p *dataPlane) halt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		p.srv.halt()
	}
}

// removeSocket removes the data socket file. The data plane removes it
// itself, rather than leaving it to the listener's Close, so that it is gone
// before park answers, and so that a listener closed late cannot remove the
// socket of the server that replaced it.
func (p *dataPlane) removeSocket() {
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logf("removing data socket: %v", err)
	}
}

// registerOn has register register the author's services on srv. A panic
// in register, which runs again for every new data server (after a park),
// is returned as an error, with its stack logged: the data plane's lock is
// held meanwhile, and a panic recovered further up (the Unpark call's)
// would leave it held, and every later stop waiting for it.
func registerOn(srv *grpc.Server, register func(*grpc.Server)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			logf("the plugin's register function panicked: %v\n%s", r, debug.Stack())
			err = fmt.Errorf("the plugin's register function panicked: %v", r)
		}
	}()
	register(srv)
	return nil
}

// newServer makes a data server, listens on the data socket and serves it.
func (p *dataPlane) newServer() (*dataServer, error) {
	s := &dataServer{
		path:    p.path,
		drainer: newDrainer(),
		halting: make(chan struct{}),
		served:  make(chan struct{}),
		stopped: make(chan struct{}),
	}
	drainingUnary, drainingStream := drainingInterceptors(s.drainer.draining)
	s.srv = grpc.NewServer(slices.Concat(p.opts, []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{s.unary, drainingUnary}, p.authorsUnary...)...),
		grpc.ChainStreamInterceptor(append([]grpc.StreamServerInterceptor{s.stream, drainingStream}, p.authorsStream...)...),
	})...)
	if err := registerOn(s.srv, p.register); err != nil {
		return nil, err
	}
	healthpb.RegisterHealthServer(s.srv, &healthServer{Server: p.health, drainer: s.drainer})

	// Host applications of any uid reach the data socket through the
	// plugin's stable address; their certificate decides what they may call.
	lis, err := listen(p.path, 0o666)
	if err != nil {
		return nil, fmt.Errorf("data socket: %w", err)
	}
	if ul, ok := lis.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // see removeSocket
	}
	go func() {
		defer close(s.served)
		// Serve returns nil once the server is stopped, or
		// grpc.ErrServerStopped if it was stopped before Serve began.
		if err := s.srv.Serve(newHandshakeListener(lis)); err != nil && !isClosed(s.drainer.draining) {
			select {
			case p.failed <- fmt.Errorf("serving data socket %s: %w", p.path, err):
			default:
			}
		}
	}()
	return s, nil
}

// A dataServer is one server of a [dataPlane], from the open or unpark that
// made it to the park or drain that stops it.
type dataServer struct {
	path    string
	srv     *grpc.Server
	flight  inFlight // the author's calls on this server
	drainer *drainer // begun when the server begins to stop: it ends health watches
	// refusing is set by a park: calls still arriving on the old connections
	// are refused rather than begun on a process about to be stopped.
	refusing atomic.Bool

	haltOnce sync.Once
	halting  chan struct{} // closed to end the calls in flight at once
	served   chan struct{} // closed once Serve has returned
	stopped  chan struct{} // closed once the server has stopped
}

// stop stops the server within grace, without waiting: GracefulStop closes
// the listener, sends GOAWAY on every connection and waits for their calls.
// With refuseNew (a park: the process is about to be stopped), calls that
// still arrive before the clients have seen the GOAWAY are refused with
// UNAVAILABLE, so that none begins on a server that will hang; without (a
// drain: another instance serves, and this one finishes its work), they are
// served, as HTTP/2 promises for streams the GOAWAY admits. After grace, or
// once halt is called, Stop closes the connections with the calls that
// remain. The server must be stopped only once.
func (s *dataServer) stop(grace time.Duration, refuseNew bool) {
	s.refusing.Store(refuseNew)
	s.drainer.begin()
	go func() {
		defer close(s.stopped)
		graceful := make(chan struct{})
		go func() {
			s.srv.GracefulStop()
			close(graceful)
		}()
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-graceful:
		case <-timer.C:
			logf("data socket %s: the grace of %v passed with %d of the author's calls in flight; ending what calls remain",
				s.path, grace, s.flight.count())
			s.srv.Stop()
		case <-s.halting:
			s.srv.Stop()
		}
		// Not waiting for graceful after Stop: GracefulStop also waits for
		// the handlers to return, and one that ignores its cancelled context
		// would hold an unpark forever.
		<-s.served
	}()
}

// halt ends the calls in flight of a server that is stopping, at once.
func (s *dataServer) halt() {
	s.haltOnce.Do(func() { close(s.halting) })
}

// admit refuses a call once a park has begun to stop the server, so that
// calls sent before the client saw the GOAWAY fail fast (and go elsewhere)
// rather than begin on a process about to be stopped; it counts the
// author's calls in.
func (s *dataServer) admit(fullMethod string) (end func(), err error) {
	if s.refusing.Load() {
		return nil, status.Errorf(codes.Unavailable, "the data socket %s is going away; call again", s.path)
	}
	if serviceOf(fullMethod) == healthpb.Health_ServiceDesc.ServiceName {
		return func() {}, nil
	}
	return s.flight.begin(), nil
}

func (s *dataServer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	end, err := s.admit(info.FullMethod)
	if err != nil {
		return nil, err
	}
	defer end()
	return handler(ctx, req)
}

func (s *dataServer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	end, err := s.admit(info.FullMethod)
	if err != nil {
		return err
	}
	defer end()
	return handler(srv, ss)
}
