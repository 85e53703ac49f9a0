package shim

import (
	"context"
	"testing"

	"google.golang.org/grpc"
)

func TestAnAuthorsMistakesAreRefusedByName(t *testing.T) {
	for _, tc := range []struct {
		name     string
		plugin   Plugin
		register func(*grpc.Server)
		want     string
	}{
		{"semver", Plugin{Name: "greeter", APIVersion: "1.2.0"}, func(*grpc.Server) {}, `Plugin.APIVersion "1.2.0" is not MAJOR.MINOR (e.g. "1.0"), which the config's apiVersion is checked against`},
		{"empty", Plugin{Name: "greeter"}, func(*grpc.Server) {}, `Plugin.APIVersion "" is not MAJOR.MINOR (e.g. "1.0"), which the config's apiVersion is checked against`},
		{"v-prefixed", Plugin{Name: "greeter", APIVersion: "v1.0"}, func(*grpc.Server) {}, `Plugin.APIVersion "v1.0" is not MAJOR.MINOR (e.g. "1.0"), which the config's apiVersion is checked against`},
		{"nil register", Plugin{Name: "greeter", APIVersion: "1.0"}, nil, "register is nil: pass a function that registers the plugin's services on the grpc.Server it is given"},
	} {
		err := Run(context.Background(), tc.plugin, tc.register)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Run = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestIsAPIVersion(t *testing.T) {
	for v, want := range map[string]bool{"1.0": true, "2": true, "10.12": true, "": false, "1.": false, ".1": false, "1.2.3": false, "1.x": false, "v1": false, " 1.0": false} {
		if got := isAPIVersion(v); got != want {
			t.Errorf("isAPIVersion(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestRegisteringNoServiceIsSaid(t *testing.T) {
	logs := captureLog(t)
	in := newInstance(t)
	in.register = func(*grpc.Server) {}
	in.start()
	if n := logs.count("the plugin registers no service of its own: every call to it fails with Unimplemented"); n != 1 {
		t.Errorf("said %d times, want once", n)
	}
}

func TestRegisteringAServiceSaysNothingOfIt(t *testing.T) {
	logs := captureLog(t)
	startInstance(t)
	if n := logs.count("registers no service"); n != 0 {
		t.Errorf("said %d times of a plugin with a service", n)
	}
}
