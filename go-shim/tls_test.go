package shim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/corralhq/corral/go-shim/internal/identity"
)

// TestKeyPairWithContractExtension checks that Go reads a plugin
// certificate with the contract's extensions, plugin-ID included, with
// nothing but crypto/x509 and crypto/tls (an RSA key, as an operator's
// certificate may have; the supervisor issues P-256 ones).
func TestKeyPairWithContractExtension(t *testing.T) {
	ca := newTestCA(t, "ca")
	l := ca.issue(t, leafSpec{
		uris:     []string{"spiffe://corral.test/plugin/greeter"},
		dnsNames: []string{"localhost"},
		pluginID: "greeter",
		server:   true,
		rsa:      true,
	})
	if _, err := x509.ParseCertificate(l.der); err != nil {
		t.Fatalf("x509.ParseCertificate: %v", err)
	}
	if _, err := tls.X509KeyPair(l.certPEM, l.keyPEM); err != nil {
		t.Fatalf("tls.X509KeyPair: %v", err)
	}
	for _, godebug := range []string{"", "x509keypairleaf=0"} {
		t.Setenv("GODEBUG", godebug)
		cert, err := keyPair(l.certPEM, l.keyPEM)
		if err != nil {
			t.Fatalf("GODEBUG=%s: keyPair: %v", godebug, err)
		}
		if len(cert.Certificate) != 1 || !bytes.Equal(cert.Certificate[0], l.der) || cert.Leaf == nil {
			t.Fatalf("GODEBUG=%s: keyPair does not serve the certificate, or has no leaf", godebug)
		}
		td, name, err := identity.Plugin(cert.Leaf)
		if err != nil || td != "corral.test" || name != "greeter" {
			t.Errorf("GODEBUG=%s: pluginIdentity = %q, %q, %v", godebug, td, name, err)
		}
		if !slices.Equal(cert.Leaf.DNSNames, []string{"localhost"}) {
			t.Errorf("GODEBUG=%s: DNS names = %q", godebug, cert.Leaf.DNSNames)
		}
	}
}

func TestKeyPairMismatch(t *testing.T) {
	ca := newTestCA(t, "ca")
	a := ca.issue(t, leafSpec{uris: []string{"spiffe://td/plugin/a"}})
	b := ca.issue(t, leafSpec{uris: []string{"spiffe://td/plugin/b"}})
	if _, err := keyPair(a.certPEM, b.keyPEM); err == nil {
		t.Error("keyPair of mismatched certificate and key succeeded")
	}
	if _, err := keyPair(nil, a.keyPEM); err == nil {
		t.Error("keyPair without certificate succeeded")
	}
	if _, err := keyPair(a.certPEM, nil); err == nil {
		t.Error("keyPair without key succeeded")
	}
}

func TestCertFilesReload(t *testing.T) {
	ca := newTestCA(t, "ca")
	dir := t.TempDir()
	first := ca.issue(t, leafSpec{uris: []string{"spiffe://td/plugin/a"}})
	writeInstanceDir(t, dir, ca, first)
	f := newCertFiles(dir)
	_, leaf, err := f.load()
	if err != nil || !bytes.Equal(leaf.Raw, first.der) {
		t.Fatalf("load = %v", err)
	}

	second := ca.issue(t, leafSpec{uris: []string{"spiffe://td/plugin/a"}})
	writeInstanceDir(t, dir, ca, second)
	if _, leaf, err = f.load(); err != nil || !bytes.Equal(leaf.Raw, second.der) {
		t.Fatalf("load after rewrite: not the new certificate (%v)", err)
	}

	// A broken rewrite keeps the certificate loaded before.
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, leaf, err = f.load(); err != nil || !bytes.Equal(leaf.Raw, second.der) {
		t.Fatalf("load after a broken rewrite: %v", err)
	}
}

func TestCertFilesRewrittenForAnotherPlugin(t *testing.T) {
	ca := newTestCA(t, "ca")
	dir := t.TempDir()
	spec := leafSpec{uris: []string{"spiffe://td/plugin/a"}, pluginID: "a"}
	first := ca.issue(t, spec)
	writeInstanceDir(t, dir, ca, first)
	f := newCertFiles(dir)
	if _, _, err := f.load(); err != nil {
		t.Fatal(err)
	}
	f.vetWith(func(cert *x509.Certificate) error {
		_, name, err := identity.Plugin(cert)
		if err == nil && name != "a" {
			err = errors.New("another plugin")
		}
		return err
	})

	for _, spec := range []leafSpec{
		{uris: []string{"spiffe://td/plugin/b"}, pluginID: "b"}, // another plugin
		{uris: []string{"spiffe://td/plugin/a"}},                // no plugin-ID extension
		{uris: []string{"spiffe://td/plugin/a"}, pluginID: "b"}, // mis-issued
	} {
		writeInstanceDir(t, dir, ca, ca.issue(t, spec))
		if _, leaf, err := f.load(); err != nil || !bytes.Equal(leaf.Raw, first.der) {
			t.Errorf("load after a rewrite with %+v: %v; want the certificate loaded before", spec, err)
		}
	}

	second := ca.issue(t, spec)
	writeInstanceDir(t, dir, ca, second)
	if _, leaf, err := f.load(); err != nil || !bytes.Equal(leaf.Raw, second.der) {
		t.Errorf("load after a good rewrite: not the new certificate (%v)", err)
	}
}
