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
)

// Stats streams runtime statistics at the requested interval until the
// caller cancels or the server drains.
func (c *control) Stats(req *pluginv1.StatsRequest, stream grpc.ServerStreamingServer[pluginv1.RuntimeStats]) error {
	interval := defaultStatsInterval
	if ms := req.GetIntervalMs(); ms > 0 {
		interval = max(time.Duration(ms)*time.Millisecond, minStatsInterval)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := stream.Send(sampleStats()); err != nil {
			return err
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
// /proc is not mounted.
func openFDs() uint64 {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil || len(entries) == 0 {
		return 0
	}
	return uint64(len(entries) - 1) // not the descriptor that read the directory
}
