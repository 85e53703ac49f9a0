package shim

import (
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The methods of shimtest.Ticker.
const (
	tickMethod = "/shimtest.Ticker/Tick" // a server stream: three messages, the interval it is sent apart
	chatMethod = "/shimtest.Ticker/Chat" // a bidi stream: echoes until the client half-closes
)

// registerTicker registers shimtest.Sleeper and shimtest.Ticker.
func registerTicker(srv *grpc.Server) {
	registerSleeper(srv)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "shimtest.Ticker",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{
			{
				StreamName:    "Tick",
				ServerStreams: true,
				Handler: func(_ any, stream grpc.ServerStream) error {
					interval := new(durationpb.Duration)
					if err := stream.RecvMsg(interval); err != nil {
						return err
					}
					for range 3 {
						select {
						case <-time.After(interval.AsDuration()):
						case <-stream.Context().Done():
							return stream.Context().Err()
						}
						if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				StreamName:    "Chat",
				ServerStreams: true,
				ClientStreams: true,
				Handler: func(_ any, stream grpc.ServerStream) error {
					for {
						m := new(emptypb.Empty)
						if err := stream.RecvMsg(m); err == io.EOF {
							return nil
						} else if err != nil {
							return err
						}
						if err := stream.SendMsg(m); err != nil {
							return err
						}
					}
				},
			},
		},
	}, nil)
}

// startTickerInstance runs the plugin "greeter" with a data socket, serving
// shimtest.Sleeper and shimtest.Ticker, and waits until it serves.
func startTickerInstance(t *testing.T) *dataInstance {
	t.Helper()
	in := &dataInstance{instance: newInstance(t)}
	in.socket = filepath.Join(in.dir, "data.sock")
	t.Setenv("CORRAL_DATA_SOCKET", in.socket)
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		in.done <- Run(ctx, Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"}, registerTicker)
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
	return in
}

// callStatsOf returns the instance's CallStats by method.
func (in *instance) callStatsOf() map[string]*pluginv1.MethodCalls {
	in.t.Helper()
	resp, err := pluginv1.NewControlClient(in.dial(in.supervisor())).CallStats(context.Background(), &pluginv1.CallStatsRequest{})
	if err != nil {
		in.t.Fatalf("CallStats: %v", err)
	}
	byMethod := map[string]*pluginv1.MethodCalls{}
	for _, m := range resp.GetMethods() {
		byMethod[m.GetMethod()] = m
	}
	if !slices.IsSortedFunc(resp.GetMethods(), func(a, b *pluginv1.MethodCalls) int {
		return cmpString(a.GetMethod(), b.GetMethod())
	}) {
		in.t.Errorf("CallStats: methods not sorted: %v", slices.Collect(maps.Keys(byMethod)))
	}
	return byMethod
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wantBounds are the histogram's bounds, as the supervisor exports them.
var wantBounds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, math.Inf(1)}

// checkHistogram checks the invariants of m's histogram: go-shim's bounds,
// cumulative counts that never decrease, the last equal to count and to the
// calls by code.
func checkHistogram(t *testing.T, m *pluginv1.MethodCalls) {
	t.Helper()
	if !slices.Equal(m.GetBucketUpperBoundsSeconds(), wantBounds) {
		t.Errorf("%s: bounds %v, want %v", m.GetMethod(), m.GetBucketUpperBoundsSeconds(), wantBounds)
	}
	counts := m.GetBucketCumulativeCounts()
	if len(counts) != len(wantBounds) {
		t.Fatalf("%s: %d bucket counts, want %d", m.GetMethod(), len(counts), len(wantBounds))
	}
	if !slices.IsSorted(counts) {
		t.Errorf("%s: cumulative counts decrease: %v", m.GetMethod(), counts)
	}
	var byCode uint64
	for _, n := range m.GetCodes() {
		byCode += n
	}
	if counts[len(counts)-1] != m.GetCount() || m.GetCount() != byCode {
		t.Errorf("%s: +Inf bucket %d, count %d, calls by code %d: want them equal", m.GetMethod(), counts[len(counts)-1], m.GetCount(), byCode)
	}
}

// countAt is m's cumulative count at the bucket of bound le.
func countAt(t *testing.T, m *pluginv1.MethodCalls, le float64) uint64 {
	t.Helper()
	i := slices.Index(m.GetBucketUpperBoundsSeconds(), le)
	if i < 0 || i >= len(m.GetBucketCumulativeCounts()) {
		t.Fatalf("%s: no bucket of bound %v", m.GetMethod(), le)
	}
	return m.GetBucketCumulativeCounts()[i]
}

// TestCallStatsCodes checks that the author's calls are counted by method
// and code, on both sockets, refusals included, and nothing else is.
func TestCallStatsCodes(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())

	for range 3 {
		if err := sleep(ctx, app, 0); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := sleep(short, app, 10*time.Second); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Sleep past its deadline: %v, want DeadlineExceeded", err)
	}
	other := in.dialData(in.client(leafSpec{uris: []string{"spiffe://corral.test/client/other"}, scope: []string{"kv"}}))
	if err := sleep(ctx, other, 0); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Sleep by a client of another plugin: %v, want PermissionDenied", err)
	}
	// The instance socket's calls count too.
	if err := sleep(ctx, in.dial(in.supervisor()), 0); err != nil {
		t.Fatalf("Sleep on the instance socket: %v", err)
	}
	// Health and Control do not.
	if _, err := healthpb.NewHealthClient(app).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("health on the data socket: %v", err)
	}
	if _, err := pluginv1.NewControlClient(in.dial(in.supervisor())).Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1}); err != nil {
		t.Fatalf("Handshake: %v", err)
	}

	// The handler sees the deadline pass a little after the client: wait
	// for its call to be counted.
	var stats map[string]*pluginv1.MethodCalls
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		stats = in.callStatsOf()
		if stats[sleepMethod].GetCount() == 6 || time.Since(start) > 5*time.Second {
			break
		}
	}
	if got := slices.Sorted(maps.Keys(stats)); !slices.Equal(got, []string{sleepMethod}) {
		t.Errorf("methods counted: %v, want only %s", got, sleepMethod)
	}
	m := stats[sleepMethod]
	if m == nil {
		t.Fatal("Sleep not counted")
	}
	want := map[string]uint64{"OK": 4, "DEADLINE_EXCEEDED": 1, "PERMISSION_DENIED": 1}
	if !maps.Equal(m.GetCodes(), want) {
		t.Errorf("Sleep's calls by code = %v, want %v", m.GetCodes(), want)
	}
	checkHistogram(t, m)
	if m.GetCount() != 6 {
		t.Errorf("Sleep's count = %d, want 6", m.GetCount())
	}
	// The call that timed out took at least its 50 ms; the others far less
	// than 250 ms.
	if n := countAt(t, m, 0.025); n > 5 {
		t.Errorf("Sleep: %d calls within 25 ms, want at most 5: %v", n, m.GetBucketCumulativeCounts())
	}
	if n := countAt(t, m, 0.25); n < 5 {
		t.Errorf("Sleep: %d calls within 250 ms, want at least 5: %v", n, m.GetBucketCumulativeCounts())
	}
	if m.GetSumSeconds() < 0.04 {
		t.Errorf("Sleep's sum = %v s, want about the 0.05 s of the call that timed out, at least", m.GetSumSeconds())
	}
}

// TestCallStatsHistogram checks the buckets a call's latency is counted in:
// at most its bound, cumulatively.
func TestCallStatsHistogram(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	for range 2 {
		if err := sleep(ctx, app, 0); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	}
	if err := sleep(ctx, app, 300*time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if err := sleep(ctx, app, 1100*time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	m := in.callStatsOf()[sleepMethod]
	if m == nil {
		t.Fatal("Sleep not counted")
	}
	checkHistogram(t, m)
	t.Logf("Sleep: %v, sum %v s", m.GetBucketCumulativeCounts(), m.GetSumSeconds())
	for _, tt := range []struct {
		le   float64
		want uint64
	}{{0.25, 2}, {0.5, 3}, {1, 3}, {2.5, 4}, {math.Inf(1), 4}} {
		// The quick ones are well within 250 ms; the slow ones within 200 ms
		// of their sleep.
		if n := countAt(t, m, tt.le); n != tt.want {
			t.Errorf("Sleep: %d calls within %v s, want %d", n, tt.le, tt.want)
		}
	}
	if s := m.GetSumSeconds(); s < 1.4 || s > 2 {
		t.Errorf("Sleep's sum = %v s, want 1.4 s and a little", s)
	}
}

// TestCallStatsStreams checks that a stream is counted once and timed whole,
// from its start to its handler's return, and with its end's code.
func TestCallStatsStreams(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())

	// Three messages 150 ms apart: 450 ms.
	tick, err := app.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, tickMethod)
	if err != nil {
		t.Fatal(err)
	}
	if err := tick.SendMsg(durationpb.New(150 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	tick.CloseSend()
	received := 0
	for {
		if err := tick.RecvMsg(new(emptypb.Empty)); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("Tick: %v", err)
		}
		received++
	}
	if received != 3 {
		t.Fatalf("Tick: %d messages, want 3", received)
	}

	// A bidi stream held open 300 ms, then cancelled by the client.
	chatCtx, cancelChat := context.WithCancel(ctx)
	chat, err := app.NewStream(chatCtx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, chatMethod)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := chat.SendMsg(&emptypb.Empty{}); err != nil {
			t.Fatal(err)
		}
		if err := chat.RecvMsg(new(emptypb.Empty)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	cancelChat()

	// One more, half-closed at once: OK.
	chat2, err := app.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, chatMethod)
	if err != nil {
		t.Fatal(err)
	}
	chat2.CloseSend()
	if err := chat2.RecvMsg(new(emptypb.Empty)); err != io.EOF {
		t.Fatalf("Chat half-closed: %v, want EOF", err)
	}

	var stats map[string]*pluginv1.MethodCalls
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		stats = in.callStatsOf()
		if stats[chatMethod].GetCount() == 2 || time.Since(start) > 5*time.Second {
			break
		}
	}
	m := stats[tickMethod]
	if m == nil {
		t.Fatal("Tick not counted")
	}
	checkHistogram(t, m)
	if !maps.Equal(m.GetCodes(), map[string]uint64{"OK": 1}) {
		t.Errorf("Tick's codes = %v, want one OK", m.GetCodes())
	}
	if countAt(t, m, 0.25) != 0 || countAt(t, m, 1) != 1 || m.GetSumSeconds() < 0.45 {
		t.Errorf("Tick: buckets %v, sum %v s; want the one stream of 450 ms and a little", m.GetBucketCumulativeCounts(), m.GetSumSeconds())
	}

	m = stats[chatMethod]
	if m == nil {
		t.Fatal("Chat not counted")
	}
	checkHistogram(t, m)
	if want := map[string]uint64{"OK": 1, "CANCELLED": 1}; !maps.Equal(m.GetCodes(), want) {
		t.Errorf("Chat's codes = %v, want %v", m.GetCodes(), want)
	}
	if countAt(t, m, 0.25) != 1 || countAt(t, m, 1) != 2 || m.GetSumSeconds() < 0.3 {
		t.Errorf("Chat: buckets %v, sum %v s; want a quick stream and one of 300 ms and a little", m.GetBucketCumulativeCounts(), m.GetSumSeconds())
	}
}

// TestCallStatsAuthorization checks that CallStats is the supervisor's and
// administrators' only, as the other Control calls, and is not served on the
// data socket.
func TestCallStatsAuthorization(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		conn *grpc.ClientConn
		want codes.Code
	}{
		{"supervisor", in.dial(in.supervisor()), codes.OK},
		{"admin", in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/alice"}})), codes.OK},
		{"client scoped to the plugin", in.dial(in.scoped()), codes.PermissionDenied},
		{"client scoped to the plugin, on the data socket", in.dialData(in.scoped()), codes.Unimplemented},
		{"supervisor, on the data socket", in.dialData(in.supervisor()), codes.Unimplemented},
	} {
		_, err := pluginv1.NewControlClient(tt.conn).CallStats(ctx, &pluginv1.CallStatsRequest{})
		if status.Code(err) != tt.want {
			t.Errorf("%s calls CallStats: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestCallStatsRecord checks the counting itself: a latency on a bound is
// counted in its bucket, codes gRPC does not define are named by number,
// and concurrent calls are all counted.
func TestCallStatsRecord(t *testing.T) {
	s := newCallStats(func(string) bool { return true }, &inFlight{})
	s.record("/a.A/M", codes.OK, 500*time.Microsecond)        // on the first bound
	s.record("/a.A/M", codes.OK, 500*time.Microsecond+1)      // just above it
	s.record("/a.A/M", codes.Unavailable, 10*time.Second)     // on the last
	s.record("/a.A/M", codes.Code(42), 11*time.Second)        // above every bound
	s.record("/a.A/M", codes.Unavailable, 3*time.Millisecond) // in the middle

	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				s.record("/b.B/N", codes.Code(w%2), time.Duration(i)*time.Millisecond)
			}
		})
	}
	wg.Wait()

	snap := s.snapshot()
	if len(snap) != 2 || snap[0].GetMethod() != "/a.A/M" || snap[1].GetMethod() != "/b.B/N" {
		t.Fatalf("snapshot = %v", snap)
	}
	a := snap[0]
	checkHistogram(t, a)
	wantCounts := []uint64{1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5}
	if !slices.Equal(a.GetBucketCumulativeCounts(), wantCounts) {
		t.Errorf("cumulative counts = %v, want %v", a.GetBucketCumulativeCounts(), wantCounts)
	}
	if want := map[string]uint64{"OK": 2, "UNAVAILABLE": 2, "CODE_42": 1}; !maps.Equal(a.GetCodes(), want) {
		t.Errorf("codes = %v, want %v", a.GetCodes(), want)
	}
	if want := 21.004; math.Abs(a.GetSumSeconds()-want) > 1e-6 {
		t.Errorf("sum = %v s, want %v", a.GetSumSeconds(), want)
	}

	b := snap[1]
	checkHistogram(t, b)
	if b.GetCount() != workers*each {
		t.Errorf("concurrent calls counted: %d, want %d", b.GetCount(), workers*each)
	}
	if want := map[string]uint64{"OK": workers / 2 * each, "CANCELLED": workers / 2 * each}; !maps.Equal(b.GetCodes(), want) {
		t.Errorf("concurrent calls by code = %v, want %v", b.GetCodes(), want)
	}
	// 0..999 ms: 1 within 0.5 ms, 2 within 1 ms, ... 1000 within 1 s.
	for _, tt := range []struct {
		le   float64
		want uint64
	}{{0.0005, 1}, {0.001, 2}, {0.1, 101}, {0.5, 501}, {1, 1000}} {
		if n := countAt(t, b, tt.le); n != tt.want*workers {
			t.Errorf("concurrent calls within %v s: %d, want %d", tt.le, n, tt.want*workers)
		}
	}
}

func TestCodeOf(t *testing.T) {
	ctx := context.Background()
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Millisecond))
	defer cancel()
	later, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, tt := range []struct {
		ctx  context.Context
		err  error
		want codes.Code
	}{
		{ctx, nil, codes.OK},
		{ctx, status.Error(codes.NotFound, "no"), codes.NotFound},
		{ctx, errors.New("plain"), codes.Unknown},
		{ctx, context.Canceled, codes.Canceled},
		{ctx, context.DeadlineExceeded, codes.DeadlineExceeded},
		{later, context.Canceled, codes.Canceled},
		// Reset by the client at its deadline.
		{expired, context.Canceled, codes.DeadlineExceeded},
		{expired, status.Error(codes.Canceled, "reset"), codes.DeadlineExceeded},
		{expired, status.Error(codes.Internal, "oops"), codes.Internal},
	} {
		if got := codeOf(tt.ctx, tt.err); got != tt.want {
			t.Errorf("codeOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// BenchmarkCallStatsRecord measures the cost of counting a call, from many
// goroutines at once.
func BenchmarkCallStatsRecord(b *testing.B) {
	s := newCallStats(func(string) bool { return true }, &inFlight{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.record(sleepMethod, codes.OK, 3*time.Millisecond)
		}
	})
}

// TestDrainedFinalCounts checks that Drained, asked before the drain, waits
// for the calls in flight on both sockets to end and answers with every
// call counted, those calls included.
func TestDrainedFinalCounts(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	sup := in.dial(in.supervisor())
	control := pluginv1.NewControlClient(sup)

	for range 2 {
		if err := sleep(ctx, app, 0); err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	}
	type answer struct {
		resp *pluginv1.CallStatsResponse
		err  error
		at   time.Time
	}
	drained := make(chan answer, 1)
	go func() {
		resp, err := control.Drained(ctx, &pluginv1.DrainedRequest{})
		drained <- answer{resp, err, time.Now()}
	}()
	// One call in flight on each socket when the drain begins.
	slept := make(chan time.Time, 2)
	for _, conn := range []*grpc.ClientConn{app, sup} {
		go func() {
			if err := sleep(ctx, conn, 300*time.Millisecond); err != nil {
				t.Errorf("call in flight during the drain: %v", err)
			}
			slept <- time.Now()
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the calls begin
	select {
	case a := <-drained:
		t.Fatalf("Drained answered before any drain: %v, %v", a.resp, a.err)
	default:
	}
	if resp, err := control.Drain(ctx, &pluginv1.DrainRequest{}); err != nil || resp.GetInFlight() != 2 {
		t.Fatalf("Drain = %v, %v; want 2 calls in flight", resp, err)
	}

	a := <-drained
	if a.err != nil {
		t.Fatalf("Drained: %v", a.err)
	}
	var m *pluginv1.MethodCalls
	for _, mc := range a.resp.GetMethods() {
		if mc.GetMethod() == sleepMethod {
			m = mc
		}
	}
	if m == nil || m.GetCodes()["OK"] != 4 || len(m.GetCodes()) != 1 {
		t.Fatalf("Drained's Sleep: %v, want 4 calls, all OK", m)
	}
	checkHistogram(t, m)
	if n := countAt(t, m, 0.25); n != 2 {
		t.Errorf("Sleep: %d calls within 250 ms, want the 2 before the drain: %v", n, m.GetBucketCumulativeCounts())
	}
	for range 2 {
		<-slept
	}
	in.wait(2 * time.Second)
}

// TestDrainedEndsAtTheDrainsDeadline checks that a drain whose deadline
// passes stops Drained with the calls it waited for: no counts are final.
func TestDrainedEndsAtTheDrainsDeadline(t *testing.T) {
	in := startTickerInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))

	go func() { _ = sleep(ctx, app, time.Minute) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := control.Drain(ctx, &pluginv1.DrainRequest{DeadlineMs: 200}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	start := time.Now()
	resp, err := control.Drained(ctx, &pluginv1.DrainedRequest{})
	// The deadline stops both servers: Drained is stopped with the call
	// still running, or, when the data server's stop ends that call first,
	// it answers with the final counts, the call counted CANCELLED (which
	// one wins is the scheduler's; both tell the truth).
	switch {
	case err == nil:
		methods := resp.GetMethods()
		if len(methods) != 1 || methods[0].GetMethod() != "/shimtest.Sleeper/Sleep" || len(methods[0].GetCodes()) != 1 || methods[0].GetCodes()["CANCELLED"] != 1 {
			t.Errorf("Drained = %v, want the call still running at the deadline counted CANCELLED, and nothing else", resp)
		}
	case status.Code(err) != codes.Unavailable && status.Code(err) != codes.Canceled:
		t.Errorf("Drained: %v, want UNAVAILABLE or CANCELLED", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Drained failed after %v, want at about the drain's 200 ms deadline", d)
	}
	in.wait(2 * time.Second)
}

// TestCallStatsCountsWhatTheClientGot checks that calls failing outside
// their handler are counted with the code their client got: a request over
// the message limit (never handed to a handler) and a reply over it (its
// handler returned nil).
func TestCallStatsCountsWhatTheClientGot(t *testing.T) {
	in := startDataInstance(t)
	ctx := context.Background()
	app := in.dialData(in.scoped())
	big := grpc.MaxCallSendMsgSize(64 << 20)
	if err := app.Invoke(ctx, echoMethod, wrapperspb.Bytes([]byte("hi")), new(wrapperspb.BytesValue)); err != nil {
		t.Fatalf("Echo: %v", err)
	}
	err := app.Invoke(ctx, echoMethod, wrapperspb.Bytes(make([]byte, defaultMaxMessageSize+10)), new(wrapperspb.BytesValue), big)
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("Echo over the limit: %v, want ResourceExhausted", err)
	}
	err = app.Invoke(ctx, fillMethod, wrapperspb.UInt64(defaultMaxMessageSize+10), new(wrapperspb.BytesValue), grpc.MaxCallRecvMsgSize(64<<20))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("Fill over the limit: %v, want ResourceExhausted", err)
	}
	var got map[string]*pluginv1.MethodCalls
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(10 * time.Millisecond) {
		if got = in.callStatsOf(); got[echoMethod].GetCount() == 2 && got[fillMethod].GetCount() == 1 {
			break
		}
	}
	if want := map[string]uint64{"OK": 1, "RESOURCE_EXHAUSTED": 1}; !maps.Equal(got[echoMethod].GetCodes(), want) {
		t.Errorf("Echo's calls by code = %v, want %v", got[echoMethod].GetCodes(), want)
	}
	if want := map[string]uint64{"RESOURCE_EXHAUSTED": 1}; !maps.Equal(got[fillMethod].GetCodes(), want) {
		t.Errorf("Fill's calls by code = %v, want %v", got[fillMethod].GetCodes(), want)
	}
}

func TestEndCode(t *testing.T) {
	now := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(-time.Millisecond))
	defer cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		end  *stats.End
		want codes.Code
	}{
		{"OK in time", context.Background(), &stats.End{EndTime: now}, codes.OK},
		{"OK past the deadline: the handler ignored it", ctx, &stats.End{EndTime: now}, codes.DeadlineExceeded},
		{"an error past the deadline", ctx, &stats.End{EndTime: now, Error: status.Error(codes.Internal, "x")}, codes.Internal},
		{"over the limit", context.Background(), &stats.End{EndTime: now, Error: status.Error(codes.ResourceExhausted, "x")}, codes.ResourceExhausted},
	} {
		if got := endCode(tt.ctx, tt.end); got != tt.want {
			t.Errorf("%s: endCode = %v, want %v", tt.name, got, tt.want)
		}
	}
}
