// Package load is the measuring loop of the benchmarks' Go clients
// (bench/loadgen, and bench/goplugin's host for go-plugin), so that every
// number the reports compare was measured the same way: concurrent
// workers, each making one call at a time with a deadline, a warm-up that
// is not counted, then a measured window.
package load

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/status"
)

// maxFailureKinds bounds the distinct failures a report lists.
const maxFailureKinds = 10

// A Report is what a run measured, as the benchmarks print it (JSON).
type Report struct {
	Calls      int            `json:"calls"`
	Failed     int            `json:"failed"`
	Failures   map[string]int `json:"failures"`
	DurationMs float64        `json:"durationMs"`
	Throughput float64        `json:"throughput"`
	LatencyUs  Latencies      `json:"latencyUs"`
}

// Latencies are quantiles of the calls that succeeded, in µs.
type Latencies struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// A Tally is what one worker saw in the measured window.
type Tally struct {
	latencies []time.Duration // of the calls that succeeded
	failures  []error
}

// A Call makes one call, within ctx's deadline.
type Call func(ctx context.Context) error

// Generate runs concurrency workers, each making the calls newCall returns
// for it one after another, each with the given deadline: warmup long
// without measuring, then duration long measured. It returns what each
// worker saw in the measured window.
func Generate(newCall func(worker int) (Call, error), concurrency int, warmup, duration, timeout time.Duration) ([]Tally, error) {
	calls := make([]Call, concurrency)
	for i := range calls {
		call, err := newCall(i)
		if err != nil {
			return nil, err
		}
		calls[i] = call
	}

	start := time.Now().Add(warmup)
	end := start.Add(duration)
	tallies := make([]Tally, concurrency)
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() {
			t := &tallies[i]
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err := call(ctx)
				elapsed := time.Since(t0)
				cancel()
				if t0.Before(start) {
					continue
				}
				if err != nil {
					t.failures = append(t.failures, err)
				} else {
					t.latencies = append(t.latencies, elapsed)
				}
			}
		})
	}
	wg.Wait()
	return tallies, nil
}

// WriteLatencies writes the latencies of the tallies to the named file, in
// µs, one a line.
func WriteLatencies(name string, tallies []Tally) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, t := range tallies {
		for _, d := range t.latencies {
			w.WriteString(strconv.FormatFloat(micros(d), 'f', -1, 64))
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Summarize merges the workers' tallies into a report.
func Summarize(tallies []Tally, duration time.Duration) *Report {
	var all []time.Duration
	r := &Report{Failures: map[string]int{}, DurationMs: float64(duration.Milliseconds())}
	for _, t := range tallies {
		all = append(all, t.latencies...)
		for _, err := range t.failures {
			r.Failed++
			key := failureKey(err)
			if _, seen := r.Failures[key]; seen || len(r.Failures) < maxFailureKinds {
				r.Failures[key]++
			}
		}
	}
	r.Calls = len(all) + r.Failed
	r.Throughput = round(float64(len(all)) / duration.Seconds())
	slices.Sort(all)
	r.LatencyUs = Latencies{
		Min: micros(percentile(all, 0)),
		P50: micros(percentile(all, 0.50)),
		P90: micros(percentile(all, 0.90)),
		P95: micros(percentile(all, 0.95)),
		P99: micros(percentile(all, 0.99)),
		Max: micros(percentile(all, 1)),
	}
	return r
}

// failureKey is "<code>: <message>" of a gRPC status, or the error's text.
func failureKey(err error) string {
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", s.Code(), s.Message())
	}
	return err.Error()
}

// percentile returns the q-th quantile (nearest rank) of sorted durations,
// 0 if there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return round(float64(d) / float64(time.Microsecond)) }

// round rounds to one decimal.
func round(v float64) float64 { return math.Round(v*10) / 10 }
