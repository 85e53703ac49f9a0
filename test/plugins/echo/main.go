// Command echo is the test plugin of hot-update and data-plane tests. It
// serves corral.test.echo.v1.Echo (api/echo.proto): every kind of gRPC call,
// each reply naming what answered it (the release: the sha256 of its own
// executable; the instance; the pid), so that a test can prove which
// release served each call, and that deadlines, cancellation, metadata,
// status details, streams and large messages pass through.
//
// Variants are built from its variants file by scripts/build-go.sh:
//
//	-X main.startMode=crash     exit with status 3 at start, before serving
//	-X main.startMode=hang      never serve, so never become ready
//	-X main.startMode=reexec    exec itself once more before serving, as
//	                            programs that set up their own environment do
//	-X main.apiVersion=2.0      claim another API version
//
// ECHO_PLUGIN_VERSION, when set, is the version it says in the handshake
// (the terminal tests make it say escape sequences).
package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Set by ldflags (see the variants file).
var (
	apiVersion = "1.0"
	startMode  = ""
)

// errorDomain is the domain of the google.rpc.ErrorInfo that Fail attaches.
const errorDomain = "echo.test.corral"

func main() {
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "echo")
	switch startMode {
	case "":
	case "crash":
		fmt.Fprintf(os.Stderr, "%s: crashing at start (startMode=crash)\n", name)
		os.Exit(3)
	case "hang":
		// Not select{}: with nothing else running, the Go runtime would
		// call that a deadlock and exit. The default action of SIGTERM
		// still ends the process.
		fmt.Fprintf(os.Stderr, "%s: hanging at start (startMode=hang)\n", name)
		for {
			time.Sleep(time.Hour)
		}
	case "reexec":
		if os.Getenv("ECHO_REEXECUTED") == "" {
			fmt.Fprintf(os.Stderr, "%s: executing itself again (startMode=reexec)\n", name)
			err := syscall.Exec("/proc/self/exe", os.Args, append(os.Environ(), "ECHO_REEXECUTED=1"))
			fmt.Fprintf(os.Stderr, "%s: exec: %v\n", name, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown startMode %q\n", name, startMode)
		os.Exit(2)
	}

	release, err := hashFile("/proc/self/exe")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: hashing the executable: %v\n", name, err)
		os.Exit(1)
	}
	e := &echo{release: release, instance: os.Getenv("CORRAL_INSTANCE_ID"), pid: uint32(os.Getpid())}
	// ECHO_START_DELAY_MS holds the start back before go-shim serves: a
	// hot update's warm-up, made long enough to act during it.
	if ms, err := strconv.Atoi(os.Getenv("ECHO_START_DELAY_MS")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	shim.Serve(shim.Plugin{Name: name, Version: cmp.Or(os.Getenv("ECHO_PLUGIN_VERSION"), "1.0.0"), APIVersion: apiVersion}, func(s *grpc.Server) {
		echov1.RegisterEchoServer(s, e)
	})
}

// hashFile returns the hex sha256 of a file's content.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type echo struct {
	echov1.UnimplementedEchoServer
	release  string
	instance string
	pid      uint32

	// cancelled counts the calls that ended because their context was
	// cancelled or timed out.
	cancelled atomic.Uint64
}

// reply is an EchoReply naming what answered, with size bytes of payload.
func (e *echo) reply(message string, size uint32) *echov1.EchoReply {
	return &echov1.EchoReply{
		Message:  message,
		Release:  e.release,
		Instance: e.instance,
		Pid:      e.pid,
		Payload:  make([]byte, size),
	}
}

// ended returns the error a call ends with, err, counting it as cancelled
// if the call's context is done: a failed Send or Recv then fails because
// of the context, and the context's own error is returned as a status.
func (e *echo) ended(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	e.cancelled.Add(1)
	return status.FromContextError(ctx.Err()).Err()
}

// sleep waits ms milliseconds, or until ctx is done.
func sleep(ctx context.Context, ms uint64) error {
	if ms == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// echoed is the incoming metadata whose keys start with "x-echo-".
func echoed(ctx context.Context) metadata.MD {
	in, _ := metadata.FromIncomingContext(ctx)
	out := metadata.MD{}
	for k, v := range in {
		if strings.HasPrefix(k, "x-echo-") {
			out[k] = v
		}
	}
	return out
}

// echoUnaryMetadata sends the x-echo-* metadata back as headers and trailers.
func echoUnaryMetadata(ctx context.Context) error {
	md := echoed(ctx)
	if len(md) == 0 {
		return nil
	}
	if err := grpc.SetHeader(ctx, md); err != nil {
		return err
	}
	return grpc.SetTrailer(ctx, md)
}

// echoStreamMetadata is echoUnaryMetadata for streams.
func echoStreamMetadata(stream grpc.ServerStream) error {
	md := echoed(stream.Context())
	if len(md) == 0 {
		return nil
	}
	if err := stream.SetHeader(md); err != nil {
		return err
	}
	stream.SetTrailer(md)
	return nil
}

func (e *echo) Unary(ctx context.Context, req *echov1.EchoRequest) (*echov1.EchoReply, error) {
	if err := echoUnaryMetadata(ctx); err != nil {
		return nil, err
	}
	if err := sleep(ctx, req.GetSleepMs()); err != nil {
		return nil, e.ended(ctx, err)
	}
	r := e.reply(req.GetMessage(), req.GetReplySize())
	r.ReceivedBytes = uint64(len(req.GetPayload()))
	return r, nil
}

func (e *echo) ServerStream(req *echov1.StreamRequest, stream grpc.ServerStreamingServer[echov1.EchoReply]) error {
	ctx := stream.Context()
	if err := echoStreamMetadata(stream); err != nil {
		return err
	}
	for i := range req.GetCount() {
		if i > 0 {
			if err := sleep(ctx, uint64(req.GetIntervalMs())); err != nil {
				return e.ended(ctx, err)
			}
		}
		r := e.reply(req.GetMessage(), req.GetReplySize())
		r.Seq = i
		if err := stream.Send(r); err != nil {
			return e.ended(ctx, err)
		}
	}
	return nil
}

func (e *echo) ClientStream(stream grpc.ClientStreamingServer[echov1.EchoRequest, echov1.EchoReply]) error {
	ctx := stream.Context()
	if err := echoStreamMetadata(stream); err != nil {
		return err
	}
	var (
		messages []string
		received uint64
		size     uint32
	)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return e.ended(ctx, err)
		}
		messages = append(messages, req.GetMessage())
		received += uint64(len(req.GetPayload()))
		size = req.GetReplySize()
	}
	r := e.reply(strings.Join(messages, ","), size)
	r.ReceivedBytes = received
	r.Seq = uint32(len(messages))
	return stream.SendAndClose(r)
}

func (e *echo) Bidi(stream grpc.BidiStreamingServer[echov1.EchoRequest, echov1.EchoReply]) error {
	ctx := stream.Context()
	if err := echoStreamMetadata(stream); err != nil {
		return err
	}
	for seq := uint32(0); ; seq++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return e.ended(ctx, err)
		}
		if err := sleep(ctx, req.GetSleepMs()); err != nil {
			return e.ended(ctx, err)
		}
		r := e.reply(req.GetMessage(), req.GetReplySize())
		r.ReceivedBytes = uint64(len(req.GetPayload()))
		r.Seq = seq
		if err := stream.Send(r); err != nil {
			return e.ended(ctx, err)
		}
	}
}

func (e *echo) Fail(ctx context.Context, req *echov1.FailRequest) (*echov1.EchoReply, error) {
	if err := echoUnaryMetadata(ctx); err != nil {
		return nil, err
	}
	if req.GetCode() == 0 {
		return nil, status.Error(codes.InvalidArgument, "Fail: code must not be 0 (OK)")
	}
	st := status.New(codes.Code(req.GetCode()), req.GetMessage())
	if req.GetDetailReason() == "" {
		return nil, st.Err()
	}
	// The detail names what answered too, as a reply would.
	st, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason: req.GetDetailReason(),
		Domain: errorDomain,
		Metadata: map[string]string{
			"release":  e.release,
			"instance": e.instance,
			"pid":      strconv.FormatUint(uint64(e.pid), 10),
		},
	})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "Fail: attaching the detail: %v", err)
	}
	return nil, st.Err()
}

func (e *echo) Cancelled(context.Context, *echov1.CancelledRequest) (*echov1.CancelledReply, error) {
	return &echov1.CancelledReply{Count: e.cancelled.Load()}, nil
}
