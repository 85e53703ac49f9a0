package shim

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestAPanickingHandlerFailsOnlyItsCall(t *testing.T) {
	logged := captureLog(t)
	in := startDataInstance(t)
	app := in.dialData(in.scoped())
	ctx := context.Background()

	err := app.Invoke(ctx, panicMethod, wrapperspb.String("the author's bug"), new(wrapperspb.StringValue))
	if status.Code(err) != codes.Internal || status.Convert(err).Message() != "the handler of /shimtest.Bytes/Panic panicked: the author's bug" {
		t.Fatalf("the call of a panicking handler: %v; want INTERNAL, naming the method and the panic", err)
	}
	// The process, its connection and its other methods go on.
	if err := app.Invoke(ctx, echoMethod, wrapperspb.Bytes([]byte("x")), new(wrapperspb.BytesValue)); err != nil {
		t.Fatalf("a call after the panic: %v", err)
	}
	if got := in.callStatsOf()[panicMethod].GetCodes(); got["INTERNAL"] != 1 {
		t.Errorf("Panic's calls by code = %v, want one INTERNAL", got)
	}
	if log := logged.String(); !strings.Contains(log, "the handler of /shimtest.Bytes/Panic panicked: the author's bug") || !strings.Contains(log, "goroutine ") {
		t.Errorf("the log has no panic with its stack:\n%s", log)
	}
}
