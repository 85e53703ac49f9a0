package shim

import (
	"os"
	"runtime"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
)

const (
	defaultStatsInterval = time.Second
	minStatsInterval     = 10 * time.Millisecond
	// defaultStatsHeartbeat is the heartbeat, in intervals, of a request
	// that names none.
	defaultStatsHeartbeat = 10
	// defaultHeapDeadband is the least change of a heap figure sent before
	// the heartbeat, for a request that names none.
	defaultHeapDeadband = 1 << 20
)

// Stats samples runtime statistics at the requested interval and streams
// those that changed (see statsFilter), until the caller cancels or the
// server drains.
func (c *control) Stats(req *pluginv1.StatsRequest, stream grpc.ServerStreamingServer[pluginv1.RuntimeStats]) error {
	interval := defaultStatsInterval
	if ms := req.GetIntervalMs(); ms > 0 {
		interval = max(time.Duration(ms)*time.Millisecond, minStatsInterval)
	}
	filter := newStatsFilter(interval, time.Duration(req.GetHeartbeatMs())*time.Millisecond, req.GetHeapDeadbandBytes())
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for _, s := range filter.next(sampleStats(), time.Now()) {
			if err := stream.Send(s); err != nil {
				return err
			}
		}
		select {
		case <-tick.C:
		case <-stream.Context().Done():
			return nil
		case <-c.drainer.draining:
			return nil
		}
	}
}

// A statsFilter decides which samples of a Stats stream are sent: the
// first; one that differs from the last sent (goroutines, NumGC or open fds
// at all, a heap figure by the deadband or more), preceded by the one held
// back from the interval before, if any; and one when the heartbeat has
// passed since the last sent. The rest are held back.
type statsFilter struct {
	interval  time.Duration
	heartbeat time.Duration
	deadband  uint64

	last     *pluginv1.RuntimeStats // the last sample sent
	lastSent time.Time
	held     *pluginv1.RuntimeStats // the last sample held back since then
}

func newStatsFilter(interval, heartbeat time.Duration, deadband uint64) *statsFilter {
	if heartbeat <= 0 {
		heartbeat = defaultStatsHeartbeat * interval
	}
	if deadband == 0 {
		deadband = defaultHeapDeadband
	}
	return &statsFilter{interval: interval, heartbeat: max(heartbeat, interval), deadband: deadband}
}

// next takes the sample of now and returns the samples to send, in order.
func (f *statsFilter) next(s *pluginv1.RuntimeStats, now time.Time) []*pluginv1.RuntimeStats {
	var out []*pluginv1.RuntimeStats
	switch {
	case f.last == nil:
		out = []*pluginv1.RuntimeStats{s}
	case f.changed(s):
		if f.held != nil {
			out = append(out, f.held)
		}
		out = append(out, s)
	// Half an interval early: the ticker's ticks are not exactly on time.
	case now.Sub(f.lastSent) >= f.heartbeat-f.interval/2:
		out = []*pluginv1.RuntimeStats{s}
	default:
		f.held = s
		return nil
	}
	f.last, f.lastSent, f.held = s, now, nil
	return out
}

func (f *statsFilter) changed(s *pluginv1.RuntimeStats) bool {
	l := f.last
	return s.GetGoroutines() != l.GetGoroutines() || s.GetNumGc() != l.GetNumGc() || s.GetOpenFds() != l.GetOpenFds() ||
		differ(s.GetHeapSys(), l.GetHeapSys(), f.deadband) ||
		differ(s.GetHeapInuse(), l.GetHeapInuse(), f.deadband) ||
		differ(s.GetHeapAlloc(), l.GetHeapAlloc(), f.deadband)
}

// differ reports whether a and b are at least deadband apart.
func differ(a, b, deadband uint64) bool {
	if a > b {
		return a-b >= deadband
	}
	return b-a >= deadband
}

// sampleStats samples the process's runtime statistics.
func sampleStats() *pluginv1.RuntimeStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &pluginv1.RuntimeStats{
		UnixMs:     time.Now().UnixMilli(),
		Goroutines: uint64(runtime.NumGoroutine()),
		HeapSys:    m.HeapSys,
		HeapInuse:  m.HeapInuse,
		HeapAlloc:  m.HeapAlloc,
		NumGc:      m.NumGC,
		OpenFds:    openFDs(),
	}
}

// openFDs counts the process's open file descriptors, or returns 0 if
// /proc is not mounted. Since Linux 6.2 the size of /proc/self/fd is the
// count: one stat instead of reading an entry per descriptor. Older kernels
// give 0 there, which a process serving gRPC cannot have: then it lists.
func openFDs() uint64 {
	if info, err := os.Stat("/proc/self/fd"); err == nil && info.Size() > 0 {
		return uint64(info.Size())
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil || len(entries) == 0 {
		return 0
	}
	return uint64(len(entries) - 1) // not the descriptor that read the directory
}
