package shim

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The plugin-ID extension's OID of docs/internals.md.
const pluginIDOID = "2.25.234667894160730662746807885550410240573.1"

// withContractExtension issues a plugin certificate that carries the
// plugin-ID extension with the OID of docs/internals.md. Go cannot create
// such a certificate, so a stand-in OID of the same encoded length is
// replaced in the DER afterwards; the signature is therefore wrong, which
// does not matter to parsing.
func withContractExtension(t *testing.T, ca *testCA) leaf {
	t.Helper()
	real, err := x509.ParseOID(pluginIDOID)
	if err != nil {
		t.Fatal(err)
	}
	realDER, err := real.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	standIn := asn1.ObjectIdentifier{1, 3}
	for len(standIn) <= len(realDER) { // 1.3 takes one byte, each further arc 1 one byte
		standIn = append(standIn, 1)
	}
	standInDER, err := asn1.Marshal(standIn)
	if err != nil {
		t.Fatal(err)
	}
	standInDER = standInDER[2:] // the content, without tag and length
	if len(standInDER) != len(realDER) {
		t.Fatalf("stand-in OID takes %d bytes, want %d", len(standInDER), len(realDER))
	}
	name, err := asn1.MarshalWithParams("greeter", "utf8")
	if err != nil {
		t.Fatal(err)
	}
	l := ca.issue(t, leafSpec{
		uris:       []string{"spiffe://corral.test/plugin/greeter"},
		dnsNames:   []string{"localhost"},
		extensions: []pkix.Extension{{Id: standIn, Value: name}},
		server:     true,
		rsa:        true,
	})
	if bytes.Count(l.der, standInDER) != 1 {
		t.Fatal("stand-in OID not found once in the certificate")
	}
	l.der = bytes.Replace(l.der, standInDER, realDER, 1)
	l.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.der})
	return l
}

func TestKeyPairWithContractExtension(t *testing.T) {
	ca := newTestCA(t, "ca")
	l := withContractExtension(t, ca)
	if _, err := x509.ParseCertificate(l.der); err == nil {
		t.Log("crypto/x509 now parses 2.25 OIDs: parseLeaf's workaround and the stand-in scope OID can go")
	}
	cert, err := keyPair(l.certPEM, l.keyPEM)
	if err != nil {
		t.Fatalf("keyPair: %v", err)
	}
	if !bytes.Equal(cert.Certificate[0], l.der) {
		t.Error("keyPair does not serve the original certificate")
	}
	td, name, err := pluginIdentity(cert.Leaf)
	if err != nil || td != "corral.test" || name != "greeter" {
		t.Errorf("pluginIdentity = %q, %q, %v", td, name, err)
	}
	if !slices.Equal(cert.Leaf.DNSNames, []string{"localhost"}) {
		t.Errorf("DNS names = %q", cert.Leaf.DNSNames)
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
