package shim

import (
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// latencyBounds are the upper bounds of the call latency histogram's buckets,
// Prometheus-style; a last bucket, +Inf, takes the calls above them.
var latencyBounds = [...]time.Duration{
	500 * time.Microsecond,
	time.Millisecond,
	2500 * time.Microsecond,
	5 * time.Millisecond,
	10 * time.Millisecond,
	25 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	250 * time.Millisecond,
	500 * time.Millisecond,
	time.Second,
	2500 * time.Millisecond,
	5 * time.Second,
	10 * time.Second,
}

// numCodes is the number of status codes gRPC defines, OK to Unauthenticated.
const numCodes = int(codes.Unauthenticated) + 1

// codeNames are the canonical names of the status codes, as the gRPC spec
// and the supervisor's metrics spell them (codes.Code.String says
// "Unavailable", not "UNAVAILABLE").
var codeNames = [numCodes]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// codeName is the canonical name of c; "CODE_<n>" for a code gRPC does not
// define (a handler may return any).
func codeName(c codes.Code) string {
	if int(c) < numCodes {
		return codeNames[c]
	}
	return "CODE_" + strconv.FormatUint(uint64(c), 10)
}

// callStats counts the author's calls since the instance started, on both
// sockets: per full method, the calls by status code and a histogram of
// their latency. It is a stats handler of both servers (grpc.StatsHandler),
// so a call is counted once it has ended, with the status its client got:
// also a request over the message limit, a reply that could not be encoded
// or sent, and refusals by authorization or a parked data socket, which
// interceptors never see or see as a success. A call is timed from its
// beginning (its headers read) to its end (its status sent); a stream is
// timed whole. Calls of methods not served are not counted.
//
// It also counts the calls in flight, each from its beginning until it has
// been recorded: once none is in flight during a drain, the counts are
// final (see [control.Drained]).
//
// Recording is lock-free once a method has been called: a sync.Map lookup
// and a few atomic adds.
type callStats struct {
	counted  func(fullMethod string) bool // whether a method's calls are counted: the author's
	inFlight *inFlight
	methods  sync.Map // full method → *methodStats
}

func newCallStats(counted func(fullMethod string) bool, flight *inFlight) *callStats {
	return &callStats{counted: counted, inFlight: flight}
}

// methodStats are the counts of one method.
type methodStats struct {
	codes   [numCodes]atomic.Uint64
	buckets [len(latencyBounds) + 1]atomic.Uint64 // not cumulative; the last is +Inf
	nanos   atomic.Int64                          // the sum of the latencies

	otherMu    sync.Mutex
	otherCodes map[codes.Code]uint64 // codes gRPC does not define
}

// record counts a call of fullMethod that took d and ended with code c.
func (s *callStats) record(fullMethod string, c codes.Code, d time.Duration) {
	v, ok := s.methods.Load(fullMethod)
	if !ok {
		v, _ = s.methods.LoadOrStore(fullMethod, new(methodStats))
	}
	m := v.(*methodStats)
	if int(c) < numCodes {
		m.codes[c].Add(1)
	} else {
		m.otherMu.Lock()
		if m.otherCodes == nil {
			m.otherCodes = map[codes.Code]uint64{}
		}
		m.otherCodes[c]++
		m.otherMu.Unlock()
	}
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	m.buckets[i].Add(1)
	m.nanos.Add(int64(d))
}

// deadlineSlack is how close to its deadline a call may be cancelled and
// still be counted as having exceeded it: see codeOf.
const deadlineSlack = 10 * time.Millisecond

// codeOf is the status code of a call whose handler returned err, as its
// client sees it: a context error is CANCELLED or DEADLINE_EXCEEDED, as
// grpc-go sends it. A call cancelled at its deadline (within deadlineSlack)
// counts as DEADLINE_EXCEEDED: a client whose deadline passes resets the
// call (RST_STREAM CANCEL, the same as a cancellation), which often reaches
// the server before its own timer fires, and reports DEADLINE_EXCEEDED.
func codeOf(ctx context.Context, err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	s, ok := status.FromError(err)
	if !ok {
		s = status.FromContextError(err)
	}
	if s.Code() == codes.Canceled {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < deadlineSlack {
			return codes.DeadlineExceeded
		}
	}
	return s.Code()
}

// A countedCall is what the stats handler keeps of a call it counts, from
// its tag to its end.
type countedCall struct {
	method string
	end    func() // ends its count in flight; nil before its beginning
}

type countedCallKey struct{}

// TagRPC marks the calls of the author's methods for HandleRPC.
func (s *callStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if !s.counted(info.FullMethodName) {
		return ctx
	}
	return context.WithValue(ctx, countedCallKey{}, &countedCall{method: info.FullMethodName})
}

// HandleRPC counts a marked call in flight at its beginning, and records
// it at its end. grpc-go ends every call it began, once.
func (s *callStats) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	call, ok := ctx.Value(countedCallKey{}).(*countedCall)
	if !ok {
		return
	}
	switch rs := rs.(type) {
	case *stats.Begin:
		call.end = s.inFlight.begin()
	case *stats.End:
		s.record(call.method, endCode(ctx, rs), rs.EndTime.Sub(rs.BeginTime))
		if call.end != nil {
			call.end()
		}
	}
}

func (s *callStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (s *callStats) HandleConn(context.Context, stats.ConnStats) {}

// endCode is the code a call that ended so was given to its client: its
// status (codeOf), but DEADLINE_EXCEEDED for one that ended "OK" at or past
// its deadline: its handler ignored the deadline and returned, and its
// client, whose own timer fired, had been told DEADLINE_EXCEEDED.
func endCode(ctx context.Context, end *stats.End) codes.Code {
	c := codeOf(ctx, end.Error)
	if deadline, ok := ctx.Deadline(); ok && c == codes.OK && !end.EndTime.Before(deadline) {
		return codes.DeadlineExceeded
	}
	return c
}

// snapshot returns the counts of every method called so far, by method
// name. Each method's histogram is read bucket by bucket while calls may
// be recorded: its count is that of its +Inf bucket, and may differ from the
// sum of its codes by the calls recorded meanwhile.
func (s *callStats) snapshot() []*pluginv1.MethodCalls {
	bounds := make([]float64, 0, len(latencyBounds)+1)
	for _, b := range latencyBounds {
		bounds = append(bounds, b.Seconds())
	}
	bounds = append(bounds, math.Inf(1))

	var out []*pluginv1.MethodCalls
	s.methods.Range(func(k, v any) bool {
		m := v.(*methodStats)
		mc := &pluginv1.MethodCalls{
			Method:                   k.(string),
			Codes:                    map[string]uint64{},
			BucketUpperBoundsSeconds: bounds,
			BucketCumulativeCounts:   make([]uint64, len(m.buckets)),
			SumSeconds:               float64(m.nanos.Load()) / float64(time.Second),
		}
		for c := range m.codes {
			if n := m.codes[c].Load(); n > 0 {
				mc.Codes[codeNames[c]] = n
			}
		}
		m.otherMu.Lock()
		for c, n := range m.otherCodes {
			mc.Codes[codeName(c)] = n
		}
		m.otherMu.Unlock()
		var cumulative uint64
		for i := range m.buckets {
			cumulative += m.buckets[i].Load()
			mc.BucketCumulativeCounts[i] = cumulative
		}
		mc.Count = cumulative
		out = append(out, mc)
		return true
	})
	slices.SortFunc(out, func(a, b *pluginv1.MethodCalls) int {
		switch {
		case a.Method < b.Method:
			return -1
		case a.Method > b.Method:
			return 1
		}
		return 0
	})
	return out
}
