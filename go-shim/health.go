package shim

import (
	"context"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// watchLinger is how long a health watch outlives the start of a drain
// when no NOT_SERVING update ends it sooner (a watch of an unknown service).
const watchLinger = 100 * time.Millisecond

// healthServer is the standard health server, except that its watches end
// once they have reported NOT_SERVING during a drain: a supervisor watching
// the instance's health would otherwise hold GracefulStop until the drain's
// deadline.
type healthServer struct {
	*health.Server
	drainer *drainer
}

// Watch serves a health watch, which ends (with status OK) during a drain.
func (h *healthServer) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-h.drainer.draining:
		}
		select {
		case <-ctx.Done():
		case <-time.After(watchLinger):
			cancel()
		}
	}()
	err := h.Server.Watch(req, &watchStream{Health_WatchServer: stream, ctx: ctx, cancel: cancel, draining: h.drainer.draining})
	if stream.Context().Err() == nil && isClosed(h.drainer.draining) {
		return nil
	}
	return err
}

// A watchStream ends the watch, by cancelling its context, once it has
// sent a status other than SERVING during a drain.
type watchStream struct {
	healthpb.Health_WatchServer
	ctx      context.Context
	cancel   context.CancelFunc
	draining <-chan struct{}
}

func (w *watchStream) Context() context.Context { return w.ctx }

func (w *watchStream) Send(m *healthpb.HealthCheckResponse) error {
	err := w.Health_WatchServer.Send(m)
	if m.GetStatus() != healthpb.HealthCheckResponse_SERVING && isClosed(w.draining) {
		w.cancel()
	}
	return err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
