package shim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	pluginv1 "github.com/corralhq/corral/proto/gen/go/corral/plugin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestHandshake(t *testing.T) {
	c := &control{
		plugin:  Plugin{Name: "greeter", Version: "1.2.3", APIVersion: "1.0"},
		version: 1,
		methods: []string{"/a.B/C"},
	}
	resp, err := c.Handshake(context.Background(), &pluginv1.HandshakeRequest{ProtocolVersion: 1, SupervisorVersion: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetProtocolVersion() != 1 || resp.GetPluginName() != "greeter" || resp.GetPluginVersion() != "1.2.3" ||
		resp.GetApiVersion() != "1.0" || !slices.Equal(resp.GetMethods(), []string{"/a.B/C"}) || resp.GetShimVersion() != Version {
		t.Errorf("Handshake = %v", resp)
	}
}

func TestHandshakeRefusesOtherProtocolVersion(t *testing.T) {
	c := &control{plugin: Plugin{Name: "greeter"}, version: 1}
	for _, v := range []uint32{0, 2} {
		_, err := c.Handshake(context.Background(), &pluginv1.HandshakeRequest{ProtocolVersion: v})
		msg := status.Convert(err).Message()
		if status.Code(err) != codes.FailedPrecondition ||
			!strings.Contains(msg, "version 1") || !strings.Contains(msg, fmt.Sprintf("version %d", v)) {
			t.Errorf("Handshake(protocol %d) = %v, want FailedPrecondition naming versions %d and 1", v, err, v)
		}
	}
}

func TestParseProtocolVersion(t *testing.T) {
	defer func(v string) { protocolVersion = v }(protocolVersion)
	for in, want := range map[string]uint32{"1": 1, "2": 2} {
		protocolVersion = in
		if got, err := parseProtocolVersion(); err != nil || got != want {
			t.Errorf("parseProtocolVersion(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "4294967296"} {
		protocolVersion = in
		if got, err := parseProtocolVersion(); err == nil {
			t.Errorf("parseProtocolVersion(%q) = %d, want an error", in, got)
		}
	}
}

func TestReadEnvironment(t *testing.T) {
	vars := map[string]string{"CORRAL_INSTANCE_DIR": "/corral", "CORRAL_MEMORY_LIMIT": "104857600"}
	env, err := readEnvironment(func(k string) string { return vars[k] })
	if err != nil || env.socket != "/corral/plugin.sock" || env.memoryLimit != 104857600 {
		t.Errorf("readEnvironment = %+v, %v", env, err)
	}
	if got := softMemoryLimit(env.memoryLimit); got != 94371840 {
		t.Errorf("softMemoryLimit(%d) = %d, want 94371840", env.memoryLimit, got)
	}
	for _, bad := range []map[string]string{
		{},
		{"CORRAL_INSTANCE_DIR": "/corral", "CORRAL_MEMORY_LIMIT": "100M"},
		{"CORRAL_INSTANCE_DIR": "/corral", "CORRAL_MEMORY_LIMIT": "-1"},
	} {
		if env, err := readEnvironment(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("readEnvironment(%v) = %+v, want an error", bad, env)
		}
	}
}
