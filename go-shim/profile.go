package shim

import (
	"context"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	// profileChunkSize bounds the data of one ProfileChunk.
	profileChunkSize = 64 << 10
	// defaultProfileMaxBytes bounds a profile whose request names no bound.
	defaultProfileMaxBytes = 16 << 20
	// defaultCPUProfileDuration is the length of a CPU profile whose request
	// names none; maxCPUProfileDuration the longest one allowed.
	defaultCPUProfileDuration = time.Second
	maxCPUProfileDuration     = 30 * time.Second

	contentTypeText  = "text/plain; charset=utf-8"
	contentTypePprof = "application/vnd.google.protobuf+gzip"
)

// CollectGarbage runs runtime.GC and debug.FreeOSMemory and reports the
// runtime's statistics before and after.
func (c *control) CollectGarbage(_ context.Context, _ *pluginv1.CollectGarbageRequest) (*pluginv1.CollectGarbageResponse, error) {
	before := sampleStats()
	start := time.Now()
	runtime.GC()
	debug.FreeOSMemory()
	took := time.Since(start)
	after := sampleStats()
	return &pluginv1.CollectGarbageResponse{
		Before:     before,
		After:      after,
		DurationUs: uint64(took.Microseconds()),
	}, nil
}

// cpuProfiling is held while Profile takes a CPU profile: the Go runtime
// takes one at a time per process, and a second request is refused rather
// than queued.
var cpuProfiling sync.Mutex

// Profile captures the requested profile and streams it in chunks.
func (c *control) Profile(req *pluginv1.ProfileRequest, stream grpc.ServerStreamingServer[pluginv1.ProfileChunk]) error {
	maxBytes := req.GetMaxBytes()
	if maxBytes == 0 {
		maxBytes = defaultProfileMaxBytes
	}
	w := &chunkWriter{send: stream.Send, kind: req.GetKind(), maxBytes: maxBytes}
	var err error
	switch req.GetKind() {
	case pluginv1.ProfileRequest_GOROUTINE:
		w.contentType = contentTypeText
		err = pprof.Lookup("goroutine").WriteTo(w, 2)
	case pluginv1.ProfileRequest_HEAP:
		w.contentType = contentTypePprof
		if req.GetGcFirst() {
			runtime.GC()
		}
		err = pprof.Lookup("heap").WriteTo(w, 0)
	case pluginv1.ProfileRequest_CPU:
		w.contentType = contentTypePprof
		err = c.cpuProfile(stream.Context(), req, w)
	default:
		return status.Errorf(codes.InvalidArgument, "unknown profile kind %v; want GOROUTINE, HEAP or CPU", req.GetKind())
	}
	if w.err != nil {
		return w.err
	}
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Errorf(codes.Internal, "writing the %v profile: %v", req.GetKind(), err)
	}
	return w.finish()
}

// errProfileAbandoned unblocks the CPU profile's writer when its reader
// stops before the profile's end.
var errProfileAbandoned = errors.New("profile abandoned")

// cpuProfile takes a CPU profile for the request's duration, or until ctx
// is done (an error) or the server drains (the profile so far), and writes
// it to w.
func (c *control) cpuProfile(ctx context.Context, req *pluginv1.ProfileRequest, w io.Writer) error {
	d := defaultCPUProfileDuration
	if ms := req.GetDurationMs(); ms > 0 {
		d = time.Duration(ms) * time.Millisecond
		if d > maxCPUProfileDuration {
			return status.Errorf(codes.InvalidArgument, "CPU profile of %v requested; at most %v (duration_ms %d)",
				d, maxCPUProfileDuration, maxCPUProfileDuration.Milliseconds())
		}
	}
	if !cpuProfiling.TryLock() {
		return status.Error(codes.FailedPrecondition, "a CPU profile is already being taken in this process; the Go runtime takes one at a time")
	}
	defer cpuProfiling.Unlock()

	// The runtime writes the profile from its own goroutine, all of it when
	// the profile stops; the pipe streams it from here, never more than a
	// chunk in memory.
	pr, pw := io.Pipe()
	if err := pprof.StartCPUProfile(pw); err != nil {
		// Someone else in the process (the plugin's author) profiles.
		return status.Errorf(codes.FailedPrecondition, "cannot start a CPU profile: %v", err)
	}
	stopped := make(chan struct{})
	stop := func() {
		go func() {
			pprof.StopCPUProfile()
			pw.Close()
			close(stopped)
		}()
	}

	var draining <-chan struct{}
	if c.drainer != nil {
		draining = c.drainer.draining
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-draining:
	case <-ctx.Done():
		stop()
		pr.CloseWithError(errProfileAbandoned)
		<-stopped
		return status.FromContextError(ctx.Err()).Err()
	}
	stop()
	_, err := io.Copy(w, pr)
	pr.CloseWithError(errProfileAbandoned) // if the copy ended early, the runtime's writes fail now
	<-stopped
	return err
}

// A chunkWriter cuts what is written to it into ProfileChunks of at most
// profileChunkSize bytes, sent as they fill. Asked to write more than
// maxBytes in all, it sends the first maxBytes and fails. It keeps at least one byte back, so that the last
// chunk, which finish sends, carries data.
type chunkWriter struct {
	send        func(*pluginv1.ProfileChunk) error
	kind        pluginv1.ProfileRequest_Kind
	contentType string
	maxBytes    uint64

	buf     []byte
	written uint64 // bytes written to the writer
	sent    uint64 // bytes sent in chunks
	err     error  // the first error, a status error; sticky
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if room := w.maxBytes - w.written; uint64(len(p)) > room {
		// Send what fits, then fail: a truncated goroutine dump is still
		// worth reading.
		n, err := w.Write(p[:room])
		if err == nil && len(w.buf) > 0 {
			err = w.sendChunk(w.buf, false)
			w.buf = w.buf[:0]
		}
		if err == nil {
			w.err = status.Errorf(codes.ResourceExhausted, "the %v profile exceeds max_bytes, %d bytes (sent truncated); ask for a larger bound",
				w.kind, w.maxBytes)
		}
		return n, w.err
	}
	n := len(p)
	w.written += uint64(n)
	// Whole chunks go from p as they are (a goroutine dump comes in one
	// Write of up to max_bytes: buffered whole and shifted down a chunk at a
	// time, it was copied over and over, quadratic in its size); what is
	// left, at most a chunk, waits in buf for more or for finish.
	for len(w.buf)+len(p) > profileChunkSize {
		var chunk []byte
		if len(w.buf) > 0 {
			fill := profileChunkSize - len(w.buf)
			w.buf = append(w.buf, p[:fill]...)
			chunk, p = w.buf, p[fill:]
		} else {
			chunk, p = p[:profileChunkSize], p[profileChunkSize:]
		}
		if err := w.sendChunk(chunk, false); err != nil {
			return 0, err
		}
		w.buf = w.buf[:0]
	}
	w.buf = append(w.buf, p...)
	return n, nil
}

// finish sends the last chunk.
func (w *chunkWriter) finish() error {
	if w.err != nil {
		return w.err
	}
	return w.sendChunk(w.buf, true)
}

func (w *chunkWriter) sendChunk(data []byte, done bool) error {
	w.sent += uint64(len(data))
	err := w.send(&pluginv1.ProfileChunk{
		Data:        append([]byte(nil), data...), // the stream may hold on to the message
		ContentType: w.contentType,
		TotalBytes:  w.sent,
		Done:        done,
	})
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.FromContextError(err).Err()
		}
		w.err = err
	}
	return err
}
