package client

import (
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{}, "unix:///run/corral/plugins/greeter.sock"},
		{Options{RuntimeDir: "/tmp/corral/run"}, "unix:///tmp/corral/run/plugins/greeter.sock"},
		{Options{Address: "/srv/greeter.sock", RuntimeDir: "/ignored"}, "unix:///srv/greeter.sock"},
		{Options{Address: "127.0.0.1:7443"}, "passthrough:///127.0.0.1:7443"},
	}
	for _, tt := range tests {
		if got := target("greeter", tt.opts); got != tt.want {
			t.Errorf("target(%+v) = %q, want %q", tt.opts, got, tt.want)
		}
	}
}

func TestConnectNamesWhatIsMissing(t *testing.T) {
	if _, err := Connect("", Options{Credentials: "/x"}); err == nil || !strings.Contains(err.Error(), "no plugin named") {
		t.Errorf("Connect without a plugin: %v", err)
	}
	if _, err := Connect("greeter", Options{}); err == nil || !strings.Contains(err.Error(), "plugin greeter: Options.Credentials names no directory") {
		t.Errorf("Connect without credentials: %v", err)
	}
	dir := t.TempDir()
	_, err := Connect("greeter", Options{Credentials: dir})
	if err == nil || !strings.Contains(err.Error(), "credentials "+dir+": open "+dir+"/ca.pem: no such file or directory") {
		t.Errorf("Connect with an empty credentials directory: %v", err)
	}
}
