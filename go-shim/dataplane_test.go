package shim

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The methods of shimtest.Bytes.
const (
	echoMethod      = "/shimtest.Bytes/Echo"      // returns the bytes it is sent
	fillMethod      = "/shimtest.Bytes/Fill"      // returns as many bytes as it is asked for
	holdMethod      = "/shimtest.Bytes/Hold"      // a stream: one message, a second once released
	subscribeMethod = "/shimtest.Bytes/Subscribe" // a stream: one message, then UNAVAILABLE "subscribe again" once its server drains
	panicMethod     = "/shimtest.Bytes/Panic"     // panics with the string it is sent
)

// A bytesService is shimtest.Bytes, with shimtest.Sleeper beside it.
type bytesService struct {
	release    chan struct{} // closed to let Hold send its second message and end
	registered atomic.Int32  // the calls of register
	panicAt    int32         // if not 0, the call of register that panics
}

func newBytesService(t *testing.T) *bytesService {
	s := &bytesService{release: make(chan struct{})}
	// Hold ignores cancellation, as a careless handler may: the test
	// releases it at its end, after whatever it has stopped.
	t.Cleanup(func() { close(s.release) })
	return s
}

// register registers shimtest.Sleeper and shimtest.Bytes on srv.
func (b *bytesService) register(srv *grpc.Server) {
	if b.registered.Add(1) == b.panicAt {
		panic("register fails this time")
	}
	registerSleeper(srv)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "shimtest.Bytes",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Echo", Handler: unaryHandler(echoMethod, func(_ context.Context, req *wrapperspb.BytesValue) (any, error) {
				return req, nil
			})},
			{MethodName: "Fill", Handler: unaryHandler(fillMethod, func(_ context.Context, req *wrapperspb.UInt64Value) (any, error) {
				return wrapperspb.Bytes(make([]byte, req.GetValue())), nil
			})},
			{MethodName: "Panic", Handler: unaryHandler(panicMethod, func(_ context.Context, req *wrapperspb.StringValue) (any, error) {
				panic(req.GetValue())
			})},
		},
		Streams: []grpc.StreamDesc{{
			StreamName:    "Subscribe",
			ServerStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				if err := firstAnswer(stream); err != nil {
					return err
				}
				select {
				case <-Draining(stream.Context()):
					return status.Error(codes.Unavailable, "this instance is going away: subscribe again")
				case <-stream.Context().Done():
					return stream.Context().Err()
				}
			},
		}, {
			StreamName:    "Hold",
			ServerStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				if err := firstAnswer(stream); err != nil {
					return err
				}
				<-b.release
				return stream.SendMsg(&emptypb.Empty{})
			},
		}},
	}, nil)
}

// firstAnswer takes a server stream's request and sends its first message.
func firstAnswer(stream grpc.ServerStream) error {
	if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
		return err
	}
	return stream.SendMsg(&emptypb.Empty{})
}

// unaryHandler is the handler of a unary method that f serves.
func unaryHandler[Req any, PReq interface {
	*Req
	proto.Message
}](fullMethod string, f func(context.Context, PReq) (any, error)) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(_ any, ctx context.Context, dec func(any) error, intercept grpc.UnaryServerInterceptor) (any, error) {
		req := PReq(new(Req))
		if err := dec(req); err != nil {
			return nil, err
		}
		if intercept == nil {
			return f(ctx, req)
		}
		return intercept(ctx, req, &grpc.UnaryServerInfo{FullMethod: fullMethod}, func(ctx context.Context, req any) (any, error) {
			return f(ctx, req.(PReq))
		})
	}
}

// holdOn begins a Hold on conn and waits for its first message: a call in
// flight that ignores its context, until the test releases it.
func holdOn(t *testing.T, conn *grpc.ClientConn) grpc.ClientStream {
	t.Helper()
	return firstMessage(t, conn, holdMethod)
}

// firstMessage begins the server stream method on conn, sends its request
// and waits for its first message.
func firstMessage(t *testing.T, conn *grpc.ClientConn, method string) grpc.ClientStream {
	t.Helper()
	stream, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return stream
}

// A dataInstance is an instance with a data socket.
type dataInstance struct {
	*instance
	socket  string // the data socket
	service *bytesService
}

// startDataInstance runs the plugin "greeter" with a data socket, serving
// shimtest.Bytes and shimtest.Sleeper, and waits until it serves. It checks
// that the data socket listens by the time the instance socket answers.
func startDataInstance(t *testing.T) *dataInstance {
	t.Helper()
	return startDataInstanceOf(t, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"})
}

// startDataInstanceOf is startDataInstance of plugin (its name greeter).
func startDataInstanceOf(t *testing.T, plugin Plugin) *dataInstance {
	t.Helper()
	return startDataInstanceWithService(t, plugin, func(*bytesService) {})
}

// startDataInstanceWithService is startDataInstanceOf with the service
// changed by tweak before it is registered.
func startDataInstanceWithService(t *testing.T, plugin Plugin, tweak func(*bytesService)) *dataInstance {
	t.Helper()
	in := &dataInstance{instance: newInstance(t), service: newBytesService(t)}
	tweak(in.service)
	in.socket = filepath.Join(in.dir, "data.sock")
	t.Setenv("CORRAL_DATA_SOCKET", in.socket)

	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		in.done <- Run(ctx, plugin, in.service.register)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	for start := time.Now(); !isSocket(filepath.Join(in.dir, "plugin.sock")); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("no instance socket after 5 s")
		}
	}
	// The instance socket listens before go-shim serves it: a call made now
	// waits there, and is answered only once the data socket listens too.
	callCtx, cancelCall := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelCall()
	if _, err := healthpb.NewHealthClient(in.dial(in.supervisor())).Check(callCtx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("health check on the instance socket: %v", err)
	}
	if !isSocket(in.socket) {
		t.Fatal("the instance socket answered, the data socket is not there: the data socket must serve first")
	}
	in.waitServing()
	return in
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Type() == os.ModeSocket
}

// dialData connects to the data socket with cert.
func (in *dataInstance) dialData(cert *tls.Certificate) *grpc.ClientConn {
	in.t.Helper()
	return in.dialAt(in.socket, cert)
}

// dialAt connects to the socket at path with cert (none if nil), as dial
// does to the instance socket.
func (in *instance) dialAt(path string, cert *tls.Certificate) *grpc.ClientConn {
	in.t.Helper()
	config := &tls.Config{RootCAs: in.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13}
	if cert != nil {
		config.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { conn.Close() })
	return conn
}

// scoped returns the certificate of a host application scoped to greeter.
func (in *dataInstance) scoped() *tls.Certificate {
	return in.client(leafSpec{uris: []string{"spiffe://corral.test/client/app"}, scope: []string{"greeter"}})
}

func (in *dataInstance) park(req *pluginv1.ParkRequest) *pluginv1.ParkResponse {
	in.t.Helper()
	resp, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Park(context.Background(), req)
	if err != nil {
		in.t.Fatalf("Park: %v", err)
	}
	return resp
}

func (in *dataInstance) unpark() {
	in.t.Helper()
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Unpark(context.Background(), &pluginv1.UnparkRequest{}); err != nil {
		in.t.Fatalf("Unpark: %v", err)
	}
}

func TestDataSocket(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	sup := in.dialData(in.supervisor())

	if err := sleep(ctx, app, 0); err != nil {
		t.Errorf("client calls Sleep on the data socket: %v", err)
	}
	if err := app.Invoke(ctx, echoMethod, wrapperspb.Bytes([]byte("hi")), new(wrapperspb.BytesValue)); err != nil {
		t.Errorf("client calls Echo on the data socket: %v", err)
	}
	for _, service := range []string{"", "shimtest.Sleeper", "shimtest.Bytes"} {
		resp, err := healthpb.NewHealthClient(app).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("client checks the health of %q on the data socket: %v, %v", service, resp, err)
		}
	}
	// Control is not served there, to anyone: the call fails before it is
	// authorized.
	for name, conn := range map[string]*grpc.ClientConn{"client": app, "supervisor": sup} {
		_, err := pluginv1.NewControlClient(conn).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("%s calls Handshake on the data socket: %v, want Unimplemented", name, err)
		}
	}
	// Health is for clients on the data socket only.
	if _, err := healthpb.NewHealthClient(in.dial(in.scoped())).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("client checks health on the instance socket: %v, want PermissionDenied", err)
	}
	// The guard is the instance socket's.
	other := in.dialData(in.client(leafSpec{uris: []string{"spiffe://corral.test/client/other"}, scope: []string{"kv"}}))
	if err := sleep(ctx, other, 0); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "client/other") {
		t.Errorf("client of another plugin calls Sleep on the data socket: %v, want PermissionDenied naming it", err)
	}
	if _, err := healthpb.NewHealthClient(other).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("client of another plugin checks health on the data socket: %v, want PermissionDenied", err)
	}
	if err := sleep(ctx, in.dialData(nil), 0); status.Code(err) != codes.Unavailable {
		t.Errorf("Sleep without a client certificate on the data socket = %v, want Unavailable (handshake refused)", err)
	}
	// The instance socket is as it was: the author's services, Control.
	if err := sleep(ctx, in.dial(in.supervisor()), 0); err != nil {
		t.Errorf("supervisor calls Sleep on the instance socket: %v", err)
	}
	if fi, err := os.Stat(in.socket); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("data socket: %v, %v; want mode 0666", fi.Mode(), err)
	}
	if n := in.service.registered.Load(); n != 2 {
		t.Errorf("register called %d times, want 2: once per server", n)
	}
}

func TestPark(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	if err := sleep(ctx, app, 0); err != nil { // the connection is open
		t.Fatalf("Sleep: %v", err)
	}

	if resp := in.park(&pluginv1.ParkRequest{Reason: "test"}); resp.GetInFlight() != 0 {
		t.Errorf("Park: %d calls in flight, want 0", resp.GetInFlight())
	}
	if _, err := os.Stat(in.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data socket after Park: %v, want it removed", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	err := sleep(callCtx, app, 0)
	took := time.Since(start)
	t.Logf("call on a connection open at Park: %v after %v", err, took)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("call on a connection open at Park: %v, want Unavailable", err)
	}
	if took > 500*time.Millisecond {
		t.Errorf("call on a connection open at Park failed after %v, want at once", took)
	}
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1}); err != nil {
		t.Errorf("Handshake on the instance socket while parked: %v", err)
	}
	if err := sleep(ctx, in.dial(in.supervisor()), 0); err != nil {
		t.Errorf("Sleep on the instance socket while parked: %v", err)
	}
	in.park(&pluginv1.ParkRequest{}) // again: nothing to do

	in.unpark()
	if fi, err := os.Stat(in.socket); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o666 {
		t.Fatalf("data socket after Unpark: %v, %v; want a socket, mode 0666", fi, err)
	}
	if err := sleep(ctx, in.dialData(in.scoped()), 0); err != nil {
		t.Errorf("Sleep on a new connection after Unpark: %v", err)
	}
	in.unpark() // again: nothing to do
	if err := sleep(ctx, in.dialData(in.scoped()), 0); err != nil {
		t.Errorf("Sleep after a second Unpark: %v", err)
	}
	if n := in.service.registered.Load(); n != 3 {
		t.Errorf("register called %d times, want 3: the instance socket's server, two data servers", n)
	}

	// A park after an unpark parks the new server.
	in.park(&pluginv1.ParkRequest{})
	if _, err := os.Stat(in.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data socket after the second Park: %v, want it removed", err)
	}
}

// TestParkLetsCallsFinish checks that a stream in flight at Park finishes
// within the grace, and that Unpark waits for it.
func TestParkLetsCallsFinish(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	hold, err := app.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, holdMethod)
	if err != nil {
		t.Fatal(err)
	}
	if err := hold.SendMsg(&emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := hold.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := hold.RecvMsg(new(emptypb.Empty)); err != nil { // the call is in flight
		t.Fatalf("Hold: %v", err)
	}

	if resp := in.park(&pluginv1.ParkRequest{GraceMs: 60_000, Reason: "test"}); resp.GetInFlight() != 1 {
		t.Errorf("Park: %d calls in flight, want 1", resp.GetInFlight())
	}
	if err := sleep(ctx, app, 0); status.Code(err) != codes.Unavailable {
		t.Errorf("new call on the connection of a call in flight at Park: %v, want Unavailable", err)
	}
	// Unpark waits for the parked server to stop, which waits for the call.
	sup := pluginv1.NewControlClient(in.dial(in.supervisor()))
	shortCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := sup.Unpark(shortCtx, &pluginv1.UnparkRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Unpark while a call runs within the grace: %v, want DeadlineExceeded", err)
	}

	in.service.release <- struct{}{} // Hold sends its second message and ends
	if err := hold.RecvMsg(new(emptypb.Empty)); err != nil {
		t.Errorf("Hold after Park: %v", err)
	}
	if err := hold.RecvMsg(new(emptypb.Empty)); err != io.EOF {
		t.Errorf("Hold's end after Park: %v, want its end", err)
	}
	in.unpark()
	if err := sleep(ctx, in.dialData(in.scoped()), 0); err != nil {
		t.Errorf("Sleep after Unpark: %v", err)
	}
}

// TestParkGrace checks that a call outliving the park's grace is ended, and
// that Unpark does not wait for a handler that ignores its cancellation.
func TestParkGrace(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	hold := holdOn(t, in.dialData(in.scoped()))
	start := time.Now()
	in.park(&pluginv1.ParkRequest{GraceMs: 50})
	err := hold.RecvMsg(new(emptypb.Empty))
	t.Logf("call outliving a grace of 50 ms: %v after %v", err, time.Since(start))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("call outliving the grace: %v, want Unavailable", err)
	}
	in.unpark() // Hold's handler still runs, until the test's end
	if err := sleep(ctx, in.dialData(in.scoped()), 0); err != nil {
		t.Errorf("Sleep after Unpark: %v", err)
	}
}

func TestParkAnswersOnceTheConnectionsAreClosed(t *testing.T) {
	in := startDataInstance(t)
	// Hold ignores its context: only the connection's close ends it.
	hold := holdOn(t, in.dialData(in.scoped()))
	start := time.Now()
	resp := in.park(&pluginv1.ParkRequest{GraceMs: 100, AnswerWhenClosed: true})
	if !resp.GetClosed() || resp.GetInFlight() != 1 {
		t.Fatalf("Park = %v; want closed, with 1 call in flight", resp)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("Park answered after %v, before the grace ended its call", waited)
	}
	// Its connection is closed by then: the stream ends now, not at a deadline.
	ended := make(chan error, 1)
	go func() { ended <- hold.RecvMsg(new(emptypb.Empty)) }()
	select {
	case err := <-ended:
		if status.Code(err) != codes.Unavailable {
			t.Errorf("the held stream ended with %v, want UNAVAILABLE", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the held stream's connection is still open 2 s after Park answered")
	}
	// Asked again, parked already: closed at once.
	if resp := in.park(&pluginv1.ParkRequest{AnswerWhenClosed: true}); !resp.GetClosed() {
		t.Errorf("Park of a parked instance = %v; want closed", resp)
	}
}

func TestParkEndsHealthWatches(t *testing.T) {
	in := startDataInstance(t)
	watch, err := healthpb.NewHealthClient(in.dialData(in.scoped())).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := watch.Recv(); err != nil || s.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health watch: %v, %v", s, err)
	}
	// A grace longer than the test's: the watch must end by itself.
	in.park(&pluginv1.ParkRequest{GraceMs: 60_000})
	if _, err := watch.Recv(); err != io.EOF {
		t.Errorf("health watch after Park: %v, want its end", err)
	}
	in.unpark()
}

// subscribe begins a Subscribe on conn and waits for its first message.
func subscribe(t *testing.T, conn *grpc.ClientConn) grpc.ClientStream {
	t.Helper()
	return firstMessage(t, conn, subscribeMethod)
}

// A stream that watches Draining ends by itself, with its own status, as
// soon as a park or a drain begins: neither waits for its grace.
func TestDrainingEndsLongStreams(t *testing.T) {
	const want = "rpc error: code = Unavailable desc = this instance is going away: subscribe again"
	in := startDataInstance(t)
	sub := subscribe(t, in.dialData(in.scoped()))
	start := time.Now()
	if resp := in.park(&pluginv1.ParkRequest{GraceMs: 60_000, AnswerWhenClosed: true}); !resp.GetClosed() {
		t.Fatalf("Park = %v; want closed", resp)
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Errorf("Park answered after %v: the subscription held it", waited)
	}
	if err := sub.RecvMsg(new(emptypb.Empty)); err == nil || err.Error() != want {
		t.Errorf("the subscription on the data socket ended with %v, want %q", err, want)
	}
	in.unpark()

	// A drain ends it on either socket.
	onData := subscribe(t, in.dialData(in.scoped()))
	onInstance := subscribe(t, in.dial(in.supervisor()))
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(context.Background(), &pluginv1.DrainRequest{DeadlineMs: 60_000}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	for name, sub := range map[string]grpc.ClientStream{"data": onData, "instance": onInstance} {
		if err := sub.RecvMsg(new(emptypb.Empty)); err == nil || err.Error() != want {
			t.Errorf("the subscription on the %s socket ended with %v, want %q", name, err, want)
		}
	}
	in.wait(10 * time.Second)
	if ch := Draining(context.Background()); ch != nil {
		t.Errorf("Draining of a context of no call = %v, want nil (never closed)", ch)
	}
}

func TestParkWithoutDataSocket(t *testing.T) {
	in := startInstance(t)
	ctx := context.Background()
	sup := pluginv1.NewControlClient(in.dial(in.supervisor()))
	_, err := sup.Park(ctx, &pluginv1.ParkRequest{})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "CORRAL_DATA_SOCKET") {
		t.Errorf("Park without a data socket: %v, want FailedPrecondition naming CORRAL_DATA_SOCKET", err)
	}
	_, err = sup.Unpark(ctx, &pluginv1.UnparkRequest{})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "CORRAL_DATA_SOCKET") {
		t.Errorf("Unpark without a data socket: %v, want FailedPrecondition naming CORRAL_DATA_SOCKET", err)
	}
}

func TestParkAuthorization(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	client := pluginv1.NewControlClient(in.dial(in.scoped()))
	if _, err := client.Park(ctx, &pluginv1.ParkRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("client calls Park: %v, want PermissionDenied", err)
	}
	if _, err := client.Unpark(ctx, &pluginv1.UnparkRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("client calls Unpark: %v, want PermissionDenied", err)
	}
	if !isSocket(in.socket) {
		t.Error("the data socket is gone after refused Parks")
	}
	admin := pluginv1.NewControlClient(in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/alice"}})))
	if _, err := admin.Park(ctx, &pluginv1.ParkRequest{}); err != nil {
		t.Errorf("admin calls Park: %v", err)
	}
	if _, err := admin.Unpark(ctx, &pluginv1.UnparkRequest{}); err != nil {
		t.Errorf("admin calls Unpark: %v", err)
	}
}

func TestDrainWithDataSocket(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	slept := make(chan error, 1)
	go func() { slept <- sleep(ctx, app, 300*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond) // let the call begin

	resp, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(ctx, &pluginv1.DrainRequest{})
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if resp.GetInFlight() != 1 {
		t.Errorf("Drain: %d calls in flight, want 1 (on the data socket)", resp.GetInFlight())
	}
	if err := <-slept; err != nil {
		t.Errorf("call in flight on the data socket during the drain: %v", err)
	}
	in.wait(2 * time.Second)
	if err := sleep(ctx, app, 0); err == nil {
		t.Error("a call on the data socket after the drain succeeded")
	}
	for _, socket := range []string{in.socket, filepath.Join(in.dir, "plugin.sock")} {
		if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the drain: %v, want it removed", socket, err)
		}
	}
}

func TestDrainWhileParked(t *testing.T) {
	in := startDataInstance(t)
	in.park(&pluginv1.ParkRequest{})
	in.cancel()
	in.wait(2 * time.Second)
}

// TestDrainDeadlineEndsParkGrace checks that a drain ends the calls of a
// park within its own deadline, when the park's grace is longer.
func TestDrainDeadlineEndsParkGrace(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	hold := holdOn(t, in.dialData(in.scoped()))
	in.park(&pluginv1.ParkRequest{GraceMs: 60_000})
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Drain(ctx, &pluginv1.DrainRequest{DeadlineMs: 100}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	in.wait(2 * time.Second)
	if err := hold.RecvMsg(new(emptypb.Empty)); status.Code(err) != codes.Unavailable {
		t.Errorf("call outliving the drain's deadline: %v, want Unavailable", err)
	}
}

func TestMaxMessageSize(t *testing.T) {
	const limit = 64 << 10
	t.Setenv("CORRAL_MAX_MESSAGE_SIZE", "65536")
	in := startDataInstance(t)
	ctx := context.Background()
	for name, conn := range map[string]*grpc.ClientConn{
		"data socket":     in.dialData(in.scoped()),
		"instance socket": in.dial(in.supervisor()),
	} {
		for _, tt := range []struct {
			size int
			want codes.Code
		}{{limit - 1, codes.OK}, {limit, codes.OK}, {limit + 1, codes.ResourceExhausted}} {
			req := bytesOfSize(t, tt.size)
			err := conn.Invoke(ctx, echoMethod, req, new(wrapperspb.BytesValue))
			if status.Code(err) != tt.want {
				t.Errorf("%s: Echo of a %d-byte message: %v, want %v", name, tt.size, err, tt.want)
			}
			// What the instance socket sends is not held to the limit: only
			// the supervisor reaches it, and go-shim's answers may be larger.
			want := tt.want
			if name == "instance socket" {
				want = codes.OK
			}
			n := uint64(len(req.GetValue()))
			err = conn.Invoke(ctx, fillMethod, wrapperspb.UInt64(n), new(wrapperspb.BytesValue))
			if status.Code(err) != want {
				t.Errorf("%s: Fill answering a %d-byte message: %v, want %v", name, tt.size, err, want)
			}
		}
	}
}

// bytesOfSize returns a BytesValue whose encoding is size bytes long.
func bytesOfSize(t *testing.T, size int) *wrapperspb.BytesValue {
	t.Helper()
	for n := size; n >= 0; n-- {
		m := wrapperspb.Bytes(make([]byte, n))
		if proto.Size(m) == size {
			return m
		}
	}
	t.Fatalf("no BytesValue encodes in %d bytes", size)
	return nil
}

func TestReadEnvironmentDataPlane(t *testing.T) {
	for _, tt := range []struct {
		name       string
		vars       map[string]string
		dataSocket string
		maxMessage int
		err        string // in the error, if any
	}{
		{name: "defaults", maxMessage: 4194304},
		{name: "data socket", vars: map[string]string{"CORRAL_DATA_SOCKET": "/corral/data.sock"},
			dataSocket: "/corral/data.sock", maxMessage: 4194304},
		{name: "message size", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "1024"}, maxMessage: 1024},
		{name: "largest message size", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "2147483647"}, maxMessage: 2147483647},
		{name: "data socket is the instance socket", vars: map[string]string{"CORRAL_DATA_SOCKET": "/corral/./plugin.sock"},
			err: `CORRAL_DATA_SOCKET="/corral/./plugin.sock"`},
		{name: "zero", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "0"}, err: `CORRAL_MAX_MESSAGE_SIZE="0"`},
		{name: "negative", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "-1"}, err: `CORRAL_MAX_MESSAGE_SIZE="-1"`},
		{name: "unit", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "4MiB"}, err: `CORRAL_MAX_MESSAGE_SIZE="4MiB"`},
		{name: "fraction", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "1.5"}, err: `CORRAL_MAX_MESSAGE_SIZE="1.5"`},
		{name: "too large", vars: map[string]string{"CORRAL_MAX_MESSAGE_SIZE": "2147483648"}, err: `CORRAL_MAX_MESSAGE_SIZE="2147483648"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"CORRAL_INSTANCE_DIR": "/corral"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			env, err := readEnvironment(func(k string) string { return vars[k] })
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("readEnvironment = %+v, %v; want an error naming %s", env, err, tt.err)
				}
			case err != nil:
				t.Errorf("readEnvironment: %v", err)
			case env.dataSocket != tt.dataSocket || env.maxMessageSize != tt.maxMessage:
				t.Errorf("readEnvironment: data socket %q, max message size %d; want %q, %d",
					env.dataSocket, env.maxMessageSize, tt.dataSocket, tt.maxMessage)
			}
		})
	}
}

// TestDataPlaneStates drives a dataPlane by itself, without TLS.
func TestDataPlaneStates(t *testing.T) {
	dir, err := os.MkdirTemp("", "shim")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "data.sock")
	p := newDataPlane(path, nil, nil, nil, registerSleeper, health.NewServer())
	ctx := context.Background()

	if err := p.open(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := sleep(ctx, conn, 0); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	parked := p.srv
	p.park(time.Second, "test")
	if p.state != dataParked {
		t.Errorf("state after park: %v", p.state)
	}
	// The server refuses calls once it is stopping, whether or not the
	// client has seen its GOAWAY yet.
	if _, err := parked.admit(sleepMethod); status.Code(err) != codes.Unavailable {
		t.Errorf("a parked server admits a call: %v, want Unavailable", err)
	}
	if err := p.unpark(ctx); err != nil {
		t.Fatalf("unpark: %v", err)
	}
	if !isClosed(parked.stopped) {
		t.Error("unpark returned before the parked server stopped")
	}
	if p.state != dataServing || p.srv == parked {
		t.Errorf("after unpark: state %v, a new server: %v", p.state, p.srv != parked)
	}
	<-p.stop(time.Second)
	if p.state != dataStopped {
		t.Errorf("state after stop: %v", p.state)
	}
	if err := p.unpark(ctx); !errors.Is(err, errDataPlaneStopped) {
		t.Errorf("unpark after stop: %v, want errDataPlaneStopped", err)
	}
	if n, _ := p.park(time.Second, "test"); n != 0 {
		t.Errorf("park after stop: %d calls in flight", n)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data socket after stop: %v, want it removed", err)
	}
	select {
	case err := <-p.failed:
		t.Errorf("a data server failed: %v", err)
	default:
	}
}

// The author's interceptors wrap the author's calls on both sockets, after
// go-shim's authorization and with Draining in the context; Control and
// health calls pass by them.
func TestAuthorsInterceptors(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	record := func(ctx context.Context, method, kind string) {
		mu.Lock()
		defer mu.Unlock()
		if Draining(ctx) == nil {
			kind += " (no Draining)"
		}
		seen = append(seen, kind+" "+method)
	}
	plugin := Plugin{
		Name: "greeter", Version: "1.2.3", APIVersion: "1.0",
		UnaryInterceptors: []grpc.UnaryServerInterceptor{
			func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				record(ctx, info.FullMethod, "outer")
				return handler(ctx, req)
			},
			func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				record(ctx, info.FullMethod, "inner")
				return handler(ctx, req)
			},
		},
		StreamInterceptors: []grpc.StreamServerInterceptor{
			func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
				record(ss.Context(), info.FullMethod, "stream")
				return handler(srv, ss)
			},
		},
	}
	in := startDataInstanceOf(t, plugin)
	ctx := context.Background()
	mu.Lock()
	seen = nil // the start's own health check and handshake
	mu.Unlock()
	app := in.dialData(in.scoped())
	if err := app.Invoke(ctx, echoMethod, wrapperspb.Bytes([]byte("hi")), new(wrapperspb.BytesValue)); err != nil {
		t.Fatal(err)
	}
	if _, err := healthpb.NewHealthClient(app).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	sup := in.dial(in.supervisor())
	if err := sleep(ctx, sup, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := pluginv1.NewControlClient(sup).CallStats(ctx, &pluginv1.CallStatsRequest{}); err != nil {
		t.Fatal(err)
	}
	firstMessage(t, app, subscribeMethod).CloseSend()
	// A client out of scope is refused before the author's interceptors.
	stranger := in.dialData(in.client(leafSpec{uris: []string{"spiffe://corral.test/client/stranger"}, scope: []string{"other"}}))
	if err := stranger.Invoke(ctx, echoMethod, wrapperspb.Bytes(nil), new(wrapperspb.BytesValue)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a client out of scope: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"outer " + echoMethod, "inner " + echoMethod, "outer " + sleepMethod, "inner " + sleepMethod, "stream " + subscribeMethod}
	if !slices.Equal(seen, want) {
		t.Errorf("the author's interceptors saw %q, want %q", seen, want)
	}
}

// TestRegisterPanicsOnUnpark checks that a register function that panics
// when Unpark makes a new data server fails the Unpark, and leaves the
// instance able to stop: the panic once left the data plane's lock held,
// and the drain of every later stop waited on it until the kill.
func TestRegisterPanicsOnUnpark(t *testing.T) {
	log := captureLog(t)
	in := startDataInstanceWithService(t, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"}, func(b *bytesService) { b.panicAt = 3 })
	in.park(&pluginv1.ParkRequest{Reason: "test"})
	_, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Unpark(context.Background(), &pluginv1.UnparkRequest{})
	if err == nil || !strings.Contains(err.Error(), "the plugin's register function panicked: register fails this time") {
		t.Errorf("Unpark with register panicking: %v", err)
	}
	if log.count("the plugin's register function panicked: register fails this time") != 1 {
		t.Errorf("the panic is not logged once: %q", log.String())
	}
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of its context's end: the drain waits on the data plane")
	}
	in.done <- nil // for the cleanup's wait
}

func TestNilInterceptorsAreRefused(t *testing.T) {
	var unary grpc.UnaryServerInterceptor
	err := Run(context.Background(), Plugin{Name: "greeter", APIVersion: "1.0", UnaryInterceptors: []grpc.UnaryServerInterceptor{recoverUnary, unary}}, func(*grpc.Server) {})
	if err == nil || err.Error() != "Plugin.UnaryInterceptors[1] is nil" {
		t.Errorf("Run with a nil unary interceptor: %v", err)
	}
	var stream grpc.StreamServerInterceptor
	err = Run(context.Background(), Plugin{Name: "greeter", APIVersion: "1.0", StreamInterceptors: []grpc.StreamServerInterceptor{stream}}, func(*grpc.Server) {})
	if err == nil || err.Error() != "Plugin.StreamInterceptors[0] is nil" {
		t.Errorf("Run with a nil stream interceptor: %v", err)
	}
}
