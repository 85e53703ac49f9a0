package shim

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

func TestCollectGarbage(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	ctx := context.Background()

	// No collection but the one asked for, so the garbage is still on the
	// heap when the call samples it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const garbageBytes = 64 << 20
	garbage := make([][]byte, 0, garbageBytes/(64<<10))
	for range cap(garbage) {
		garbage = append(garbage, make([]byte, 64<<10))
	}
	runtime.KeepAlive(garbage)
	garbage = nil

	resp, err := control.CollectGarbage(ctx, &pluginv1.CollectGarbageRequest{})
	if err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	before, after := resp.GetBefore(), resp.GetAfter()
	t.Logf("before: %v", before)
	t.Logf("after:  %v (in %d µs)", after, resp.GetDurationUs())
	if before.GetHeapInuse() < garbageBytes {
		t.Errorf("heap in use before = %d, want at least the %d bytes of garbage", before.GetHeapInuse(), garbageBytes)
	}
	if after.GetHeapInuse() > before.GetHeapInuse()-garbageBytes/2 {
		t.Errorf("heap in use after = %d, before %d: the %d bytes of garbage were not freed",
			after.GetHeapInuse(), before.GetHeapInuse(), garbageBytes)
	}
	if after.GetHeapAlloc() > before.GetHeapAlloc()-garbageBytes/2 {
		t.Errorf("heap allocated after = %d, before %d", after.GetHeapAlloc(), before.GetHeapAlloc())
	}
	if after.GetNumGc() < before.GetNumGc()+1 {
		t.Errorf("GCs: %d before, %d after; want at least one more", before.GetNumGc(), after.GetNumGc())
	}
	if before.GetGoroutines() == 0 || after.GetGoroutines() == 0 || after.GetHeapSys() == 0 ||
		after.GetUnixMs() < before.GetUnixMs() || resp.GetDurationUs() == 0 {
		t.Errorf("CollectGarbage = %v", resp)
	}
}

// parkedForProfileTest says it has started, then blocks until release is
// closed: a function the goroutine dump must name.
//
//go:noinline
func parkedForProfileTest(started, done *sync.WaitGroup, release <-chan struct{}) {
	defer done.Done()
	started.Done()
	<-release
}

// parkGoroutines starts n goroutines in parkedForProfileTest and returns once
// each has entered it (a goroutine not yet scheduled is dumped under its
// wrapper, not under the function), released when the test ends.
func parkGoroutines(t *testing.T, n int) {
	release := make(chan struct{})
	var started, done sync.WaitGroup
	for range n {
		started.Add(1)
		done.Add(1)
		go parkedForProfileTest(&started, &done, release)
	}
	started.Wait()
	t.Cleanup(func() {
		close(release)
		done.Wait()
	})
}

func TestProfileGoroutine(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	parkGoroutines(t, 500)

	dump, chunks, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_GOROUTINE}, contentTypeText)
	if err != nil {
		t.Fatalf("Profile(GOROUTINE): %v", err)
	}
	t.Logf("goroutine dump: %d bytes in %d chunks", len(dump), chunks)
	if chunks < 2 {
		t.Errorf("goroutine dump of %d bytes in %d chunk(s), want several of at most 64 KiB", len(dump), chunks)
	}
	text := string(dump)
	if n := strings.Count(text, "github.com/corralhq/corral/go-shim.parkedForProfileTest("); n < 500 {
		t.Errorf("goroutine dump names parkedForProfileTest %d times, want 500 (its 500 goroutines)", n)
	}
	if !strings.HasPrefix(text, "goroutine ") || !strings.Contains(text, "[chan receive]") ||
		!strings.Contains(text, "go-shim/profile_test.go:") {
		t.Errorf("goroutine dump is not the full text dump:\n%.2000s", text)
	}
}

// A data plane limited to the least message size config allows: go-shim's
// own answers on the instance socket, larger, still reach the supervisor.
func TestControlAnswersPastTheDataPlanesMessageLimit(t *testing.T) {
	t.Setenv("CORRAL_MAX_MESSAGE_SIZE", "1024")
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	parkGoroutines(t, 200)
	dump, chunks, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_GOROUTINE}, contentTypeText)
	if err != nil {
		t.Fatalf("Profile(GOROUTINE) with a 1 KiB data plane limit: %v", err)
	}
	if len(dump) <= 1024 || chunks < 1 {
		t.Errorf("goroutine dump of %d bytes in %d chunks, want more than 1 KiB", len(dump), chunks)
	}
}

// heapForProfileTest holds what allocateForHeapProfile allocated.
var heapForProfileTest [][]byte

//go:noinline
func allocateForHeapProfile() {
	for range 128 {
		heapForProfileTest = append(heapForProfileTest, make([]byte, 64<<10))
	}
}

func TestProfileHeap(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	allocateForHeapProfile() // 8 MiB in use, 16 times the sampling rate
	t.Cleanup(func() { heapForProfileTest = nil })

	data, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_HEAP, GcFirst: true}, contentTypePprof)
	if err != nil {
		t.Fatalf("Profile(HEAP): %v", err)
	}
	p := parsePprof(t, data)
	for _, want := range []string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
		"github.com/corralhq/corral/go-shim.allocateForHeapProfile"} {
		if !slices.Contains(p.strings, want) {
			t.Errorf("heap profile has no string %q", want)
		}
	}
	if p.sampleTypes != 4 || p.samples == 0 {
		t.Errorf("heap profile: %d sample types, %d samples; want 4 and some", p.sampleTypes, p.samples)
	}
	if out, ok := goToolPprof(t, data, "-sample_index=inuse_space"); ok {
		if !strings.Contains(out, "Type: inuse_space") || !strings.Contains(out, "go-shim.allocateForHeapProfile") {
			t.Errorf("go tool pprof -top of the heap profile:\n%s", out)
		}
	}
}

// spinForProfileTest burns CPU until stop is closed: a function the CPU
// profile must name.
//
//go:noinline
func spinForProfileTest(stop <-chan struct{}) (n uint64) {
	for {
		select {
		case <-stop:
			return n
		default:
		}
		for i := range 10000 {
			n += uint64(i) * n
		}
	}
}

func TestProfileCPU(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	ctx := context.Background()
	stop := make(chan struct{})
	spun := make(chan struct{})
	go func() { spinForProfileTest(stop); close(spun) }()
	defer func() { close(stop); <-spun }()

	type result struct {
		data []byte
		err  error
		took time.Duration
	}
	first := make(chan result, 1)
	start := time.Now()
	go func() {
		data, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 200}, contentTypePprof)
		first <- result{data, err, time.Since(start)}
	}()
	time.Sleep(50 * time.Millisecond) // the first one is under way
	_, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 200}, contentTypePprof)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second, concurrent CPU profile: %v, want FailedPrecondition", err)
	}
	r := <-first
	if r.err != nil {
		t.Fatalf("Profile(CPU, 200 ms): %v", r.err)
	}
	t.Logf("CPU profile of 200 ms: %d bytes in %v", len(r.data), r.took)
	if r.took < 200*time.Millisecond || r.took > 5*time.Second {
		t.Errorf("CPU profile of 200 ms took %v", r.took)
	}
	p := parsePprof(t, r.data)
	if p.sampleTypes != 2 || !slices.Contains(p.strings, "samples") || !slices.Contains(p.strings, "cpu") ||
		// The profiler's own clock may end it a fraction of a millisecond
		// short of the 200 ms asked for (199.81 ms seen in CI).
		!slices.Contains(p.strings, "nanoseconds") || p.durationNanos < (195*time.Millisecond).Nanoseconds() {
		t.Errorf("CPU profile: %d sample types, duration %d ns, strings %.20q", p.sampleTypes, p.durationNanos, p.strings)
	}
	if !slices.Contains(p.strings, "github.com/corralhq/corral/go-shim.spinForProfileTest") {
		t.Errorf("CPU profile (%d samples) does not name the spinning function", p.samples)
	}
	if out, ok := goToolPprof(t, r.data); ok {
		if !strings.Contains(out, "Type: cpu") || !strings.Contains(out, "go-shim.spinForProfileTest") {
			t.Errorf("go tool pprof -top of the CPU profile:\n%s", out)
		}
	}

	// The first one done, the next may run.
	if _, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 20}, contentTypePprof); err != nil {
		t.Errorf("a CPU profile after the first: %v", err)
	}

	for _, req := range []*pluginv1.ProfileRequest{
		{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 30001},
		{Kind: pluginv1.ProfileRequest_KIND_UNSPECIFIED},
		{Kind: 42},
	} {
		_, _, err := fetchProfile(t, control, req, "")
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("Profile(%v) = %v, want InvalidArgument", req, err)
		}
	}
	if _, err := control.Handshake(ctx, &pluginv1.HandshakeRequest{ProtocolVersion: 1}); err != nil {
		t.Errorf("Handshake after the profiles: %v", err)
	}
}

func TestProfileCPUStopsWithTheCall(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))

	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want codes.Code
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, codes.DeadlineExceeded},
		{"cancellation", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, codes.Canceled},
	} {
		ctx, cancel := tt.ctx()
		start := time.Now()
		stream, err := control.Profile(ctx, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 30000})
		if err == nil {
			_, err = stream.Recv()
		}
		cancel()
		if status.Code(err) != tt.want {
			t.Errorf("%s: CPU profile of 30 s = %v, want %v", tt.name, err, tt.want)
		}
		// The plugin stopped its profile: the next one runs at once.
		for {
			_, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 10}, contentTypePprof)
			if err == nil {
				break
			}
			// The client may learn of its own deadline a moment before
			// the plugin does.
			if status.Code(err) != codes.FailedPrecondition || time.Since(start) > 2*time.Second {
				t.Fatalf("%s: the CPU profile after: %v", tt.name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: the CPU profile stopped after %v", tt.name, took)
		}
	}
}

func TestProfileCPUEndsWithDrain(t *testing.T) {
	in := startInstance(t)
	conn := in.dial(in.supervisor())
	control := pluginv1.NewControlClient(conn)
	ctx := context.Background()

	type result struct {
		data []byte
		err  error
	}
	profiled := make(chan result, 1)
	go func() {
		data, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 20000}, contentTypePprof)
		profiled <- result{data, err}
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if _, err := control.Drain(ctx, &pluginv1.DrainRequest{}); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	select {
	case r := <-profiled:
		if r.err != nil {
			t.Fatalf("CPU profile during a drain: %v", r.err)
		}
		if p := parsePprof(t, r.data); !slices.Contains(p.strings, "cpu") {
			t.Errorf("CPU profile ended by the drain: strings %q", p.strings)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the CPU profile did not end with the drain")
	}
	in.wait(2 * time.Second)
	t.Logf("drained, with the CPU profile, in %v", time.Since(start))
}

func TestProfileMaxBytes(t *testing.T) {
	in := startInstance(t)
	control := pluginv1.NewControlClient(in.dial(in.supervisor()))
	parkGoroutines(t, 500) // a dump larger than 100 KiB

	for _, req := range []*pluginv1.ProfileRequest{
		{Kind: pluginv1.ProfileRequest_GOROUTINE, MaxBytes: 1000},
		{Kind: pluginv1.ProfileRequest_GOROUTINE, MaxBytes: 100 << 10},
		{Kind: pluginv1.ProfileRequest_HEAP, MaxBytes: 100},
		{Kind: pluginv1.ProfileRequest_CPU, DurationMs: 10, MaxBytes: 10},
	} {
		data, chunks, err := fetchProfile(t, control, req, "")
		bound := fmt.Sprintf("max_bytes, %d bytes", req.GetMaxBytes())
		if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), bound) {
			t.Errorf("Profile(%v) = %v, want ResourceExhausted naming %q", req, err, bound)
		}
		// The first max_bytes, in chunks of at most 64 KiB.
		if wantChunks := (int(req.GetMaxBytes()) + profileChunkSize - 1) / profileChunkSize; uint64(len(data)) != req.GetMaxBytes() || chunks != wantChunks {
			t.Errorf("Profile(%v) sent %d bytes in %d chunks, want %d in %d", req, len(data), chunks, req.GetMaxBytes(), wantChunks)
		}
		if req.GetKind() == pluginv1.ProfileRequest_GOROUTINE && !bytes.HasPrefix(data, []byte("goroutine ")) {
			t.Errorf("Profile(%v): the truncated dump begins %.40q", req, data)
		}
	}
	// Within its bound, the same dump is whole.
	if _, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: pluginv1.ProfileRequest_GOROUTINE, MaxBytes: 16 << 20}, contentTypeText); err != nil {
		t.Errorf("Profile(GOROUTINE) within 16 MiB: %v", err)
	}
}

func TestDiagnosticsOnlyForSupervisorAndAdmins(t *testing.T) {
	in := startInstance(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		conn *grpc.ClientConn
		id   string // empty if the calls succeed
	}{
		{"supervisor", in.dial(in.supervisor()), ""},
		{"admin", in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/admin/alice"}})), ""},
		{"client scoped to the plugin", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/client/ci"}, scope: []string{"greeter"}})), "spiffe://corral.test/client/ci"},
		{"the plugin itself", in.dial(in.client(leafSpec{
			uris: []string{"spiffe://corral.test/plugin/greeter"}, pluginID: "greeter"})), "spiffe://corral.test/plugin/greeter"},
	} {
		control := pluginv1.NewControlClient(tt.conn)
		_, gcErr := control.CollectGarbage(ctx, &pluginv1.CollectGarbageRequest{})
		var profileErrs []error
		for _, kind := range []pluginv1.ProfileRequest_Kind{pluginv1.ProfileRequest_GOROUTINE, pluginv1.ProfileRequest_HEAP, pluginv1.ProfileRequest_CPU} {
			_, _, err := fetchProfile(t, control, &pluginv1.ProfileRequest{Kind: kind, DurationMs: 10}, "")
			profileErrs = append(profileErrs, err)
		}
		for i, err := range append([]error{gcErr}, profileErrs...) {
			call := []string{"CollectGarbage", "Profile(GOROUTINE)", "Profile(HEAP)", "Profile(CPU)"}[i]
			switch {
			case tt.id == "" && err != nil:
				t.Errorf("%s calls %s: %v", tt.name, call, err)
			case tt.id != "" && (status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), tt.id)):
				t.Errorf("%s calls %s: %v, want PermissionDenied naming %s", tt.name, call, err, tt.id)
			}
		}
	}
	// The refused client's plugin calls still work.
	scoped := in.dial(in.client(leafSpec{uris: []string{"spiffe://corral.test/client/ci"}, scope: []string{"greeter"}}))
	if err := sleep(ctx, scoped, 0); err != nil {
		t.Errorf("the scoped client calls Sleep: %v", err)
	}
}

func TestChunkWriter(t *testing.T) {
	for _, piece := range []int{4099, 1 << 30} {
		t.Run(fmt.Sprintf("pieces of %d", piece), func(t *testing.T) { testChunkWriter(t, piece) })
	}
}

func testChunkWriter(t *testing.T, piece int) {
	for _, size := range []int{0, 1, profileChunkSize - 1, profileChunkSize, profileChunkSize + 1, 2 * profileChunkSize, 200_000, 4<<20 + 3} {
		var chunks []*pluginv1.ProfileChunk
		w := &chunkWriter{
			send:        func(c *pluginv1.ProfileChunk) error { chunks = append(chunks, c); return nil },
			contentType: "x/y",
			maxBytes:    defaultProfileMaxBytes,
		}
		want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		// In pieces of odd sizes, as the profilers write, or whole, as a goroutine dump comes.
		for rest := want; len(rest) > 0; {
			n := min(len(rest), piece)
			if k, err := w.Write(rest[:n]); k != n || err != nil {
				t.Fatalf("size %d: Write = %d, %v", size, k, err)
			}
			rest = rest[n:]
			// What is held back is at most a chunk: a large write goes out
			// as it comes, not copied whole and shifted down chunk by chunk.
			if cap(w.buf) > 2*profileChunkSize {
				t.Fatalf("size %d: holds a buffer of %d bytes", size, cap(w.buf))
			}
		}
		if err := w.finish(); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for i, c := range chunks {
			got = append(got, c.GetData()...)
			last := i == len(chunks)-1
			if len(c.GetData()) > profileChunkSize || c.GetDone() != last || c.GetTotalBytes() != uint64(len(got)) ||
				c.GetContentType() != "x/y" || (last && size > 0 && len(c.GetData()) == 0) {
				t.Errorf("size %d: chunk %d of %d: %d bytes, total %d, done %v", size, i, len(chunks),
					len(c.GetData()), c.GetTotalBytes(), c.GetDone())
			}
		}
		if wantChunks := max(1, (size+profileChunkSize-1)/profileChunkSize); len(chunks) != wantChunks || !bytes.Equal(got, want) {
			t.Errorf("size %d: %d bytes in %d chunks, want them whole in %d", size, len(got), len(chunks), wantChunks)
		}
	}
}

// fetchProfile calls Profile and collects its chunks, checking their
// framing: at most 64 KiB each, the running total, one content type (want,
// if not empty), done on the last one only. It returns the data received
// and the number of chunks even when the call fails.
func fetchProfile(t *testing.T, control pluginv1.ControlClient, req *pluginv1.ProfileRequest, want string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stream, err := control.Profile(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	var data []byte
	var chunks int
	done := false
	for {
		c, err := stream.Recv()
		if err == io.EOF {
			if !done {
				t.Errorf("Profile(%v): the stream ended without a chunk marked done", req)
			}
			return data, chunks, nil
		}
		if err != nil {
			return data, chunks, err
		}
		if done {
			t.Errorf("Profile(%v): a chunk after the one marked done", req)
		}
		chunks++
		data = append(data, c.GetData()...)
		done = c.GetDone()
		if len(c.GetData()) > profileChunkSize || c.GetTotalBytes() != uint64(len(data)) ||
			(want != "" && c.GetContentType() != want) {
			t.Errorf("Profile(%v): chunk %d: %d bytes, total %d after %d, content type %q (want %q)",
				req, chunks, len(c.GetData()), c.GetTotalBytes(), len(data), c.GetContentType(), want)
		}
	}
}

// A pprofSummary is what parsePprof read of a profile.
type pprofSummary struct {
	sampleTypes, samples int
	durationNanos        int64
	strings              []string
}

// parsePprof checks that data is a gzipped profile.proto
// (github.com/google/pprof/proto/profile.proto) and summarizes it.
// (github.com/google/pprof/profile is not in the module graph.)
func parsePprof(t *testing.T, data []byte) pprofSummary {
	t.Helper()
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("profile of %d bytes is not gzipped: % x", len(data), data[:min(len(data), 8)])
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	var s pprofSummary
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("profile.proto: %v", protowire.ParseError(n))
		}
		b = b[n:]
		want := map[protowire.Number]protowire.Type{ // the fields of Profile
			1: protowire.BytesType, 2: protowire.BytesType, 3: protowire.BytesType, 4: protowire.BytesType,
			5: protowire.BytesType, 6: protowire.BytesType, 7: protowire.VarintType, 8: protowire.VarintType,
			9: protowire.VarintType, 10: protowire.VarintType, 11: protowire.BytesType, 12: protowire.VarintType,
			13: protowire.VarintType, 14: protowire.VarintType,
		}
		if wt, ok := want[num]; !ok || wt != typ && !(typ == protowire.BytesType && wt == protowire.VarintType) {
			t.Fatalf("profile.proto: field %d of wire type %d is not a Profile's", num, typ)
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			t.Fatalf("profile.proto: field %d: %v", num, protowire.ParseError(n))
		}
		switch num {
		case 1:
			s.sampleTypes++
		case 2:
			s.samples++
		case 6:
			v, _ := protowire.ConsumeBytes(b)
			s.strings = append(s.strings, string(v))
		case 10:
			v, _ := protowire.ConsumeVarint(b)
			s.durationNanos = int64(v)
		}
		b = b[n:]
	}
	if len(s.strings) == 0 || s.strings[0] != "" {
		t.Fatalf("profile.proto: string table %.5q does not begin with the empty string", s.strings)
	}
	return s
}

// goToolPprof runs `go tool pprof -top` on the profile data, if the go tool
// is there, and returns its output; it fails the test if pprof fails.
func goToolPprof(t *testing.T, data []byte, flags ...string) (string, bool) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Logf("no go tool: not running go tool pprof")
		return "", false
	}
	file := filepath.Join(t.TempDir(), "profile.pb.gz")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"tool", "pprof", "-top"}, flags...), file)
	cmd := exec.Command(gobin, args...)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir(), "PPROF_BINARY_PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		return string(out), false
	}
	t.Logf("go %s:\n%.1500s", strings.Join(args, " "), out)
	return string(out), true
}
