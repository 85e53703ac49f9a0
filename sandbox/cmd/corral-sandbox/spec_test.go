package main

import "testing"

func TestCheckGrants(t *testing.T) {
	tests := []struct {
		grants []string
		ok     bool
	}{
		{nil, true},
		{[]string{"/usr", "/lib64", "/etc/ssl/certs"}, true},
		{[]string{"/pluginx", "/tmpfiles", "/devices"}, true}, // a prefix is not a parent
		{[]string{"/usr/"}, false},
		{[]string{"usr"}, false},
		{[]string{"/"}, false},
		{[]string{"/tmp"}, false},
		{[]string{"/tmp/x"}, false},
		{[]string{"/dev/shm"}, false},
		{[]string{"/proc"}, false},
		{[]string{"/corral"}, false},
		{[]string{"/plugin/x"}, false},
		{[]string{"/usr", "/usr/lib"}, false},
		{[]string{"/usr/lib", "/usr"}, false},
		{[]string{"/usr", "/usr"}, false},
	}
	for _, tt := range tests {
		if err := checkGrants(tt.grants); (err == nil) != tt.ok {
			t.Errorf("checkGrants(%q) = %v, want ok %v", tt.grants, err, tt.ok)
		}
	}
}
