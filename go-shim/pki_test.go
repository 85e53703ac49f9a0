package shim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The OIDs of the plugin-ID and plugin-scope extensions, as
// docs/internals.md ("Identities") writes them.
const (
	contractPluginIDOID    = "1.3.6.1.4.1.61734.1.1"
	contractPluginScopeOID = "1.3.6.1.4.1.61734.1.2"
)

// contractOID parses one of the contract's dotted OIDs.
func contractOID(t *testing.T, s string) asn1.ObjectIdentifier {
	t.Helper()
	var id asn1.ObjectIdentifier
	for arc := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(arc)
		if err != nil {
			t.Fatalf("OID %s: %v", s, err)
		}
		id = append(id, n)
	}
	return id
}

// pluginIDExtension is the plugin-ID extension naming plugin.
func pluginIDExtension(t *testing.T, plugin string) pkix.Extension {
	t.Helper()
	value, err := asn1.MarshalWithParams(plugin, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: contractOID(t, contractPluginIDOID), Value: value}
}

// A testCA issues throwaway certificates.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := ecKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// A leafSpec describes a certificate to issue.
type leafSpec struct {
	uris       []string
	dnsNames   []string
	pluginID   string   // if not empty, a plugin-ID extension naming this plugin
	scope      []string // if not nil, a plugin-scope extension naming these plugins
	extensions []pkix.Extension
	server     bool      // for a server (a plugin) rather than a client
	rsa        bool      // an RSA 2048 key rather than ECDSA P-256
	notAfter   time.Time // if not zero, when it expires (else in an hour)
}

// A leaf is an issued certificate and its key.
type leaf struct {
	cert    *x509.Certificate
	der     []byte
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

func (l leaf) tls() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.der}, PrivateKey: l.key}
}

func (ca *testCA) issue(t *testing.T, spec leafSpec) leaf {
	t.Helper()
	var key crypto.Signer = ecKey(t)
	if spec.rsa {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial(t),
		Subject:         pkix.Name{CommonName: "test leaf"},
		NotBefore:       time.Now().Add(-time.Minute),
		NotAfter:        time.Now().Add(time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:        spec.dnsNames,
		ExtraExtensions: spec.extensions,
	}
	if !spec.notAfter.IsZero() {
		tmpl.NotAfter = spec.notAfter
	}
	if spec.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, s := range spec.uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	if spec.pluginID != "" {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pluginIDExtension(t, spec.pluginID))
	}
	if spec.scope != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions,
			pkix.Extension{Id: contractOID(t, contractPluginScopeOID), Value: scopeDER(t, spec.scope)})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf{
		cert:    cert,
		der:     der,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}
}

// crlNumbers numbers the CRLs of all test CAs.
var crlNumbers atomic.Int64

// crl returns a CRL of ca, PEM, revoking the certificates with serials.
func (ca *testCA) crl(t *testing.T, serials ...*big.Int) []byte {
	t.Helper()
	return ca.numberedCRL(t, crlNumbers.Add(1), serials...)
}

// numberedCRL is crl with the cRLNumber number.
func (ca *testCA) numberedCRL(t *testing.T, number int64, serials ...*big.Int) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(number),
		ThisUpdate: time.Now().Add(-time.Minute),
		NextUpdate: time.Now().Add(time.Hour),
	}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// replaceFile replaces the file at path with one holding data as the
// supervisor does, atomically: written aside, then renamed over it.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// scopeDER encodes plugin names as the plugin-scope extension does: a DER
// SEQUENCE OF UTF8String.
func scopeDER(t *testing.T, names []string) []byte {
	t.Helper()
	elems := make([]asn1.RawValue, len(names))
	for i, n := range names {
		elems[i] = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagUTF8String, Bytes: []byte(n)}
	}
	der, err := asn1.Marshal(elems)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// writes counts the calls of writeInstanceDir.
var writes atomic.Int64

// writeInstanceDir writes ca.pem, cert.pem and key.pem into dir. Each write
// gets its own modification time, so that a rewrite is seen as one even
// within the file system's timestamp granularity.
func writeInstanceDir(t *testing.T, dir string, ca *testCA, l leaf) {
	t.Helper()
	mtime := time.Now().Add(time.Duration(writes.Add(1)) * time.Second)
	for name, data := range map[string][]byte{"ca.pem": ca.pem, "cert.pem": l.certPEM, "key.pem": l.keyPEM} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
