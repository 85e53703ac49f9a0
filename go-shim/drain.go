package shim

import (
	"sync"
	"sync/atomic"
	"time"
)

// defaultDrainDeadline bounds a drain whose request names no deadline, and
// a drain started by a signal.
const defaultDrainDeadline = 5 * time.Second

// inFlight counts the author's calls in flight.
type inFlight struct{ n atomic.Int64 }

// begin counts a call in; the call counts itself out by calling the result.
func (f *inFlight) begin() (end func()) {
	f.n.Add(1)
	return func() { f.n.Add(-1) }
}

func (f *inFlight) count() uint64 { return uint64(max(f.n.Load(), 0)) }

// A drainer is asked to drain the server, and tells those who serve long
// streams that it is draining.
type drainer struct {
	once      sync.Once
	requested chan time.Duration // receives the first request's deadline
	draining  chan struct{}      // closed once draining has begun
}

func newDrainer() *drainer {
	return &drainer{
		requested: make(chan time.Duration, 1),
		draining:  make(chan struct{}),
	}
}

// request asks for a drain bounded by deadline (0: the default). Only the
// first request counts; it does not wait for the drain.
func (d *drainer) request(deadline time.Duration) {
	if deadline <= 0 {
		deadline = defaultDrainDeadline
	}
	d.once.Do(func() { d.requested <- deadline })
}

// begin marks the start of draining; Run calls it once.
func (d *drainer) begin() { close(d.draining) }
