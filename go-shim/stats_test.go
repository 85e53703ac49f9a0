package shim

import (
	"os"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
)

// statsAt is an idle plugin's sample at tick i.
func statsAt(i int) *pluginv1.RuntimeStats {
	return &pluginv1.RuntimeStats{
		UnixMs: int64(i) * 100, Goroutines: 12, HeapSys: 8 << 20, HeapInuse: 3 << 20, HeapAlloc: 2 << 20, NumGc: 4, OpenFds: 9,
	}
}

// runFilter feeds samples at ticks 0..len(samples)-1, 100 ms apart, and returns the ticks (UnixMs/100) of the samples sent, in order.
func runFilter(f *statsFilter, samples []*pluginv1.RuntimeStats) []int64 {
	start := time.Unix(0, 0)
	var sent []int64
	for i, s := range samples {
		for _, out := range f.next(s, start.Add(time.Duration(i)*100*time.Millisecond)) {
			sent = append(sent, out.GetUnixMs()/100)
		}
	}
	return sent
}

func equalTicks(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStatsFilterIdle(t *testing.T) {
	// Nothing changes: the first sample, then one per heartbeat (10 intervals by default).
	f := newStatsFilter(100*time.Millisecond, 0, 0)
	samples := make([]*pluginv1.RuntimeStats, 35)
	for i := range samples {
		samples[i] = statsAt(i)
	}
	if got, want := runFilter(f, samples), []int64{0, 10, 20, 30}; !equalTicks(got, want) {
		t.Errorf("sent ticks %v, want %v", got, want)
	}
}

func TestStatsFilterChange(t *testing.T) {
	f := newStatsFilter(100*time.Millisecond, 0, 0)
	samples := make([]*pluginv1.RuntimeStats, 12)
	for i := range samples {
		samples[i] = statsAt(i)
	}
	samples[5].Goroutines = 3000 // a storm at tick 5, sent with tick 4 before it
	for i := 6; i < 12; i++ {
		samples[i].Goroutines = 3000
	}
	samples[6].Goroutines = 3001 // moving on: sent alone, its predecessor was sent
	for i := 7; i < 12; i++ {
		samples[i].Goroutines = 3001
	}
	if got, want := runFilter(f, samples), []int64{0, 4, 5, 6}; !equalTicks(got, want) {
		t.Errorf("sent ticks %v, want %v", got, want)
	}
}

func TestStatsFilterWhatCounts(t *testing.T) {
	for name, change := range map[string]func(s *pluginv1.RuntimeStats){
		"a GC":                     func(s *pluginv1.RuntimeStats) { s.NumGc++ },
		"an fd":                    func(s *pluginv1.RuntimeStats) { s.OpenFds++ },
		"a goroutine fewer":        func(s *pluginv1.RuntimeStats) { s.Goroutines-- },
		"HeapAlloc by 1 MiB":       func(s *pluginv1.RuntimeStats) { s.HeapAlloc += 1 << 20 },
		"HeapInuse by -1 MiB":      func(s *pluginv1.RuntimeStats) { s.HeapInuse -= 1 << 20 },
		"HeapSys by 1 MiB":         func(s *pluginv1.RuntimeStats) { s.HeapSys += 1 << 20 },
		"no: HeapAlloc by 1 MiB-1": nil,
	} {
		f := newStatsFilter(100*time.Millisecond, 0, 0)
		samples := []*pluginv1.RuntimeStats{statsAt(0), statsAt(1)}
		if change != nil {
			change(samples[1])
		} else {
			samples[1].HeapAlloc += 1<<20 - 1
		}
		got := runFilter(f, samples)
		if want := change != nil; (len(got) == 2) != want {
			t.Errorf("%s: sent ticks %v; want the change sent: %v", name, got, want)
		}
	}
}

func TestStatsFilterOptions(t *testing.T) {
	samples := make([]*pluginv1.RuntimeStats, 6)
	for i := range samples {
		samples[i] = statsAt(i)
	}
	// A heartbeat of one interval sends every sample, as before there were heartbeats.
	if got, want := runFilter(newStatsFilter(100*time.Millisecond, 100*time.Millisecond, 0), samples), []int64{0, 1, 2, 3, 4, 5}; !equalTicks(got, want) {
		t.Errorf("heartbeat = interval: sent ticks %v, want %v", got, want)
	}
	// Less than an interval counts as one.
	if got, want := runFilter(newStatsFilter(100*time.Millisecond, time.Millisecond, 0), samples), []int64{0, 1, 2, 3, 4, 5}; !equalTicks(got, want) {
		t.Errorf("heartbeat < interval: sent ticks %v, want %v", got, want)
	}
	// A deadband of its own.
	for _, s := range samples[2:] {
		s.HeapAlloc += 4096
	}
	if got, want := runFilter(newStatsFilter(100*time.Millisecond, time.Second, 4096), samples), []int64{0, 1, 2}; !equalTicks(got, want) {
		t.Errorf("deadband 4096: sent ticks %v, want %v", got, want)
	}
}

func TestOpenFDsCountsDescriptors(t *testing.T) {
	before := openFDs()
	if before == 0 {
		t.Skip("no /proc here")
	}
	var files []*os.File
	for range 5 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if got := openFDs(); got != before+5 {
		t.Errorf("with 5 more files open, openFDs() = %d, want %d", got, before+5)
	}
	for _, f := range files {
		f.Close()
	}
	if got := openFDs(); got != before {
		t.Errorf("after closing them, openFDs() = %d, want %d", got, before)
	}
}
