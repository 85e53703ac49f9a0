package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts Options
		want string
	}{
		{Options{}, "unix:///run/corral/plugins/greeter.sock"},
		{Options{RuntimeDir: "/tmp/corral/run"}, "unix:///tmp/corral/run/plugins/greeter.sock"},
		{Options{Address: "/srv/greeter.sock", RuntimeDir: "/ignored"}, "unix:///srv/greeter.sock"},
		{Options{Address: "127.0.0.1:7443"}, "passthrough:///127.0.0.1:7443"},
		{Options{Address: "[::1]:7443"}, "passthrough:///[::1]:7443"},
		// Relative paths, from the working directory.
		{Options{RuntimeDir: "run"}, "unix://" + filepath.Join(wd, "run/plugins/greeter.sock")},
		{Options{Address: "greeter.sock"}, "unix://" + filepath.Join(wd, "greeter.sock")},
		{Options{Address: "../run/plugins/greeter.sock"}, "unix://" + filepath.Join(filepath.Dir(wd), "run/plugins/greeter.sock")},
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

func TestPluginTLSWithoutTheParsedLeaf(t *testing.T) {
	dir := t.TempDir()
	writeClientCredentials(t, dir, "spiffe://corral.test/client/web")
	// tls.LoadX509KeyPair then leaves Certificate.Leaf nil.
	t.Setenv("GODEBUG", "x509keypairleaf=0")
	config, err := PluginTLS(TLSFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}, "greeter")
	if err != nil {
		t.Fatalf("PluginTLS: %v", err)
	}
	if cert, err := config.GetClientCertificate(nil); err != nil || cert.Leaf == nil && len(cert.Certificate) != 1 {
		t.Fatalf("GetClientCertificate: %v, %v", cert, err)
	}
}

func TestPluginTLSPresentsARenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	writeClientCredentials(t, dir, "spiffe://corral.test/client/web")
	config, err := PluginTLS(TLSFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}, "greeter")
	if err != nil {
		t.Fatalf("PluginTLS: %v", err)
	}
	first, err := config.GetClientCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	before := first.Certificate[0]
	// Renewed in place (corralctl certs issue --out into the same directory).
	writeClientCredentials(t, dir, "spiffe://corral.test/client/web")
	renewed, err := config.GetClientCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(renewed.Certificate[0]) == string(before) {
		t.Fatal("the renewed certificate in the directory is not presented")
	}
	// What an earlier handshake was given is not changed by the renewal.
	if string(first.Certificate[0]) != string(before) {
		t.Fatal("the certificate an earlier handshake holds changed under it")
	}
	// A half-written renewal keeps the last pair that loads.
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	kept, err := config.GetClientCertificate(nil)
	if err != nil || string(kept.Certificate[0]) != string(renewed.Certificate[0]) {
		t.Fatalf("after a broken key file: %v, %v", kept, err)
	}
}

// writeClientCredentials writes ca.pem, and cert.pem and key.pem of a
// client certificate with the one URI SAN uri, into dir.
func writeClientCredentials(t *testing.T, dir, uri string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), URIs: []*url.URL{u},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caTemplate, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem":   {Type: "CERTIFICATE", Bytes: caDER},
		"cert.pem": {Type: "CERTIFICATE", Bytes: leafDER},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
