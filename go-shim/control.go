package shim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// protocolVersion is the Control protocol version this build speaks. It is
// a string so that a test build can pose as another protocol version:
//
//	go build -ldflags "-X github.com/corralhq/corral/go-shim.protocolVersion=2"
var protocolVersion = "1"

// parseProtocolVersion parses protocolVersion.
func parseProtocolVersion() (uint32, error) {
	v, err := strconv.ParseUint(protocolVersion, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("protocolVersion %q (set at link time) is not a version number", protocolVersion)
	}
	return uint32(v), nil
}

// control serves the corral.plugin.v1.Control service.
type control struct {
	pluginv1.UnimplementedControlServer

	plugin   Plugin
	version  uint32   // the Control protocol version spoken
	methods  []string // the author's methods, sorted
	inFlight *inFlight
	drainer  *drainer
	data     *dataPlane // nil if the instance has no data socket
	calls    *callStats
	revoked  *revoker // nil in tests that do without
}

// Handshake answers the supervisor's first call with the plugin's identity
// and contract, and refuses a supervisor that speaks another protocol
// version.
func (c *control) Handshake(_ context.Context, req *pluginv1.HandshakeRequest) (*pluginv1.HandshakeResponse, error) {
	if v := req.GetProtocolVersion(); v != c.version {
		logf("refusing supervisor %q: it speaks Control protocol version %d, this plugin version %d",
			req.GetSupervisorVersion(), v, c.version)
		return nil, status.Errorf(codes.FailedPrecondition,
			"supervisor speaks Control protocol version %d, plugin %s (go-shim %s) speaks version %d",
			v, c.plugin.Name, Version, c.version)
	}
	if c.revoked != nil {
		c.revoked.supervisorPushes(req.GetPushesTrust())
	}
	return &pluginv1.HandshakeResponse{
		ProtocolVersion: c.version,
		PluginName:      c.plugin.Name,
		PluginVersion:   c.plugin.Version,
		ApiVersion:      c.plugin.APIVersion,
		Methods:         c.methods,
		ShimVersion:     Version,
	}, nil
}

// Drain answers at once with the number of the author's calls in flight,
// and has Run drain the server.
func (c *control) Drain(_ context.Context, req *pluginv1.DrainRequest) (*pluginv1.DrainResponse, error) {
	n := c.inFlight.count()
	c.drainer.request(time.Duration(req.GetDeadlineMs()) * time.Millisecond)
	return &pluginv1.DrainResponse{InFlight: n}, nil
}

// Park takes the data socket out of service (see [dataPlane.park]) and
// answers with the number of the author's calls in flight on it: at once,
// or, asked to (answer_when_closed), once its connections are all closed
// or the call's deadline passes.
func (c *control) Park(ctx context.Context, req *pluginv1.ParkRequest) (*pluginv1.ParkResponse, error) {
	if c.data == nil {
		return nil, c.noDataSocket()
	}
	grace := time.Duration(req.GetGraceMs()) * time.Millisecond
	if grace <= 0 {
		grace = defaultParkGrace
	}
	n, stopped := c.data.park(grace, req.GetReason())
	resp := &pluginv1.ParkResponse{InFlight: n}
	if req.GetAnswerWhenClosed() && stopped != nil {
		select {
		case <-stopped:
			resp.Closed = true
		case <-ctx.Done():
		}
	}
	return resp, nil
}

// Unpark answers once the data socket serves again: see [dataPlane.unpark].
func (c *control) Unpark(ctx context.Context, _ *pluginv1.UnparkRequest) (*pluginv1.UnparkResponse, error) {
	if c.data == nil {
		return nil, c.noDataSocket()
	}
	switch err := c.data.unpark(ctx); {
	case err == nil:
		return &pluginv1.UnparkResponse{}, nil
	case errors.Is(err, errDataPlaneStopped):
		return nil, status.Errorf(codes.FailedPrecondition, "plugin %s: %v", c.plugin.Name, err)
	case ctx.Err() != nil:
		return nil, status.FromContextError(ctx.Err()).Err()
	default:
		return nil, status.Errorf(codes.Internal, "plugin %s: unparking: %v", c.plugin.Name, err)
	}
}

func (c *control) noDataSocket() error {
	return status.Errorf(codes.FailedPrecondition,
		"plugin %s has no data socket to park or unpark: CORRAL_DATA_SOCKET is not set", c.plugin.Name)
}

// CallStats answers with the author's calls since the instance started:
// see [callStats].
func (c *control) CallStats(context.Context, *pluginv1.CallStatsRequest) (*pluginv1.CallStatsResponse, error) {
	if c.calls == nil {
		return &pluginv1.CallStatsResponse{}, nil
	}
	return &pluginv1.CallStatsResponse{Methods: c.calls.snapshot()}, nil
}

// Drained answers once a drain has ended the author's calls (see
// [control.callsEnded]) with their final counts. It looks every millisecond:
// a drain takes at least a round trip to its clients.
func (c *control) Drained(ctx context.Context, _ *pluginv1.DrainedRequest) (*pluginv1.CallStatsResponse, error) {
	select {
	case <-c.drainer.draining:
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !c.callsEnded() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			// The drain's deadline stops the server, and this call with it.
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return c.CallStats(ctx, &pluginv1.CallStatsRequest{})
}

// callsEnded reports whether a draining instance's call counts are final:
// the data socket's server has stopped (every call it took has ended, and
// it takes none), and no call of the author's is in flight on the instance
// socket, whose GOAWAY the drain sent as it began.
func (c *control) callsEnded() bool {
	return (c.data == nil || c.data.stoppedForGood()) && c.inFlight.count() == 0
}

// ReloadTrust answers once the revoker has looked at crl.pem and ca.pem
// (and loaded them if they changed), with the list in force then.
func (c *control) ReloadTrust(context.Context, *pluginv1.ReloadTrustRequest) (*pluginv1.ReloadTrustResponse, error) {
	resp := &pluginv1.ReloadTrustResponse{}
	if c.revoked == nil {
		return resp, nil
	}
	c.revoked.refresh()
	if list := c.revoked.list.Load(); list != nil && list.Number != nil {
		resp.CrlNumber = list.Number.String()
	}
	return resp, nil
}
