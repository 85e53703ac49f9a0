package shim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

func TestSerialHex(t *testing.T) {
	big := func(s string) *big.Int {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			t.Fatal(s)
		}
		return n
	}
	for in, want := range map[string]string{
		"a":                                "0A",
		"7f":                               "7F",
		"80":                               "80", // DER adds a zero byte; the hex does not show it
		"100":                              "0100",
		"0":                                "00",
		"7fffffffffffffffffffffffffffffff": "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
		"00ffee":                           "FFEE",
	} {
		if got := serialHex(big(in)); got != want {
			t.Errorf("serialHex(0x%s) = %s, want %s", in, got, want)
		}
	}
}

// TestSerialHexAsOpenSSL checks serialHex against `openssl x509 -serial`,
// which the supervisor's serials follow, for serials of every shape.
func TestSerialHexAsOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	ca := newTestCA(t, "ca")
	for _, s := range []int64{1, 0x0a, 0x7f, 0x80, 0xff, 0x100, 0x8000, 0x7fffffffffffffff} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(s), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		key := ecKey(t)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("openssl", "x509", "-noout", "-serial")
		cmd.Stdin = strings.NewReader(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		want := strings.TrimPrefix(strings.TrimSpace(string(out)), "serial=")
		if got := serialHex(big.NewInt(s)); got != want {
			t.Errorf("serialHex(%#x) = %s, openssl says %s", s, got, want)
		}
	}
}

// revokerFixture is a revoker of a directory holding a CA, with two client
// certificates a and b.
type revokerFixture struct {
	dir  string
	ca   *testCA
	a, b leaf
	r    *revoker
	log  *logCapture
}

func newRevokerFixture(t *testing.T, self func() *x509.Certificate) *revokerFixture {
	t.Helper()
	f := &revokerFixture{dir: t.TempDir(), ca: newTestCA(t, "ca"), log: captureLog(t)}
	f.a = f.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/client/a"}})
	f.b = f.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/client/b"}})
	replaceFile(t, filepath.Join(f.dir, "ca.pem"), f.ca.pem)
	if self == nil {
		self = func() *x509.Certificate { return nil }
	}
	f.r = newRevoker(f.dir, self)
	return f
}

// revoked reports which of a and b the revoker refuses.
func (f *revokerFixture) revoked() (a, b bool) {
	return f.r.check(f.a.cert) != nil, f.r.check(f.b.cert) != nil
}

func (f *revokerFixture) want(t *testing.T, step string, a, b bool) {
	t.Helper()
	if ga, gb := f.revoked(); ga != a || gb != b {
		t.Errorf("%s: a revoked %v, b revoked %v; want %v, %v", step, ga, gb, a, b)
	}
}

func (f *revokerFixture) writeCRL(t *testing.T, data []byte) {
	t.Helper()
	replaceFile(t, filepath.Join(f.dir, "crl.pem"), data)
}

func TestRevokerLoads(t *testing.T) {
	f := newRevokerFixture(t, nil)
	f.r.refresh()
	f.want(t, "no crl.pem", false, false)

	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "a revoked", true, false)
	if err := f.r.check(f.a.cert); err == nil || err.Error() != "certificate serial "+serialHex(f.a.cert.SerialNumber)+" is revoked" {
		t.Errorf("check(a) = %v", err)
	}

	f.writeCRL(t, f.ca.crl(t, f.b.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "a list revoking only b", false, true)

	f.writeCRL(t, f.ca.crl(t))
	f.r.refresh()
	f.want(t, "an empty list", false, false)

	// In place, as a supervisor should not, but may, write it.
	crl := f.ca.crl(t, f.a.cert.SerialNumber, f.b.cert.SerialNumber)
	if err := os.WriteFile(filepath.Join(f.dir, "crl.pem"), crl, 0o600); err != nil {
		t.Fatal(err)
	}
	f.r.refresh()
	f.want(t, "a list written in place", true, true)
}

// TestRevokerRefusesBadLists checks that a list that cannot be parsed or
// verified is refused, once, with the list loaded before kept in force.
func TestRevokerRefusesBadLists(t *testing.T) {
	f := newRevokerFixture(t, nil)
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "a revoked", true, false)

	other := newTestCA(t, "another CA")
	// The CA's key, in a certificate that may not sign CRLs.
	noCRLSign := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, noCRLSign, noCRLSign, f.ca.key.Public(), f.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	noCRLSignPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	good := f.ca.crl(t, f.b.cert.SerialNumber)
	derBlock, _ := pem.Decode(good)

	for _, tt := range []struct {
		name  string
		crl   []byte
		caPEM []byte // if not nil, ca.pem is replaced with it
		want  string
	}{
		{"garbage", []byte("not a CRL\n"), nil, "no PEM block of type X509 CRL"},
		{"empty", nil, nil, "no PEM block of type X509 CRL"},
		{"DER, not PEM", derBlock.Bytes, nil, "no PEM block of type X509 CRL"},
		{"a certificate", f.ca.pem, nil, "no PEM block of type X509 CRL"},
		{"a corrupt CRL", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: derBlock.Bytes[:len(derBlock.Bytes)-10]}), nil, "crl.pem: x509:"},
		{"two CRLs", append(append([]byte{}, good...), good...), nil, "more than one PEM block"},
		{"a CRL of another CA", other.crl(t, f.b.cert.SerialNumber), nil, "is not signed by the CA of"},
		{"a CRL signed with a flipped bit", flipLastSignatureBit(t, good), nil, "is not signed by the CA of"},
		{"a CA that may not sign CRLs", good, noCRLSignPEM, "cannot sign"},
		{"a broken ca.pem", good, []byte("broken"), "ca.pem: no certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.caPEM != nil {
				replaceFile(t, filepath.Join(f.dir, "ca.pem"), tt.caPEM)
				defer replaceFile(t, filepath.Join(f.dir, "ca.pem"), f.ca.pem)
			}
			f.writeCRL(t, tt.crl)
			since := len(f.log.String())
			before := f.log.count("refusing the revocation list")
			for range 3 {
				f.r.refresh()
			}
			f.want(t, "after the refused list", true, false)
			if got := f.log.count("refusing the revocation list"); got != before+1 {
				t.Errorf("logged the refusal %d times, want once", got-before)
			}
			if logged := f.log.String()[since:]; !strings.Contains(logged, tt.want) {
				t.Errorf("log does not say %q:\n%s", tt.want, logged)
			}
		})
	}

	// A new ca.pem verifies the list again: the list of the old CA no
	// longer verifies, and is kept nonetheless.
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	replaceFile(t, filepath.Join(f.dir, "ca.pem"), other.pem)
	f.r.refresh()
	f.want(t, "after a new CA", true, false)
	// ... and a list of the new CA is taken.
	f.writeCRL(t, other.crl(t, f.b.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "after a list of the new CA", false, true)
}

// flipLastSignatureBit corrupts the signature of a PEM CRL, which still
// parses.
func flipLastSignatureBit(t *testing.T, crlPEM []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(crlPEM)
	der := append([]byte{}, block.Bytes...)
	der[len(der)-1] ^= 1
	if _, err := x509.ParseRevocationList(der); err != nil {
		t.Fatalf("the corrupted CRL does not parse: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// TestRevokerKeepsListWhenRemoved checks that removing crl.pem lifts no
// revocation.
func TestRevokerKeepsListWhenRemoved(t *testing.T) {
	f := newRevokerFixture(t, nil)
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	if err := os.Remove(filepath.Join(f.dir, "crl.pem")); err != nil {
		t.Fatal(err)
	}
	f.r.refresh()
	f.want(t, "crl.pem removed", true, false)
	if !strings.Contains(f.log.String(), "crl.pem is gone; keeping the revocations") {
		t.Errorf("log:\n%s", f.log)
	}
}

// TestRevokerOwnCertificate checks that a list revoking the instance's own
// certificate is reported once, and that nothing else happens.
func TestRevokerOwnCertificate(t *testing.T) {
	var self leaf
	f := newRevokerFixture(t, func() *x509.Certificate { return self.cert })
	self = f.a
	f.writeCRL(t, f.ca.crl(t, f.b.cert.SerialNumber))
	f.r.refresh()
	if strings.Contains(f.log.String(), "own certificate") {
		t.Errorf("reported the own certificate revoked when it is not:\n%s", f.log)
	}
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber, f.b.cert.SerialNumber))
	for range 3 {
		f.r.refresh()
	}
	want := "this instance's own certificate (spiffe://corral.test/client/a, serial " + serialHex(f.a.cert.SerialNumber) + ") is revoked"
	if got := f.log.count(want); got != 1 {
		t.Errorf("logged %q %d times, want once:\n%s", want, got, f.log)
	}
	// A new own certificate, revoked too, is reported too.
	self = f.b
	f.r.refresh()
	if got := f.log.count("serial " + serialHex(f.b.cert.SerialNumber) + ") is revoked"); got != 1 {
		t.Errorf("the second own certificate reported %d times, want once:\n%s", got, f.log)
	}
}

// TestGuardRefusesRevoked checks the per-call check, which refuses a
// revoked certificate on a connection that was accepted before.
func TestGuardRefusesRevoked(t *testing.T) {
	f := newRevokerFixture(t, nil)
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	g := &guard{
		policy:  &policy{trustDomain: "corral.test", plugin: "greeter", services: map[string]bool{"shimtest.Sleeper": true}},
		revoked: f.r.check,
	}
	withPeer := func(l leaf) context.Context {
		return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{
			State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{l.cert}, VerifiedChains: [][]*x509.Certificate{{l.cert, f.ca.cert}}},
		}})
	}
	called := false
	handler := func(context.Context, any) (any, error) { called = true; return nil, nil }
	info := &grpc.UnaryServerInfo{FullMethod: sleepMethod}

	_, err := g.unary(withPeer(f.a), nil, info, handler)
	want := "certificate serial " + serialHex(f.a.cert.SerialNumber) + " is revoked (spiffe://corral.test/client/a)"
	if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != want || called {
		t.Errorf("call of a revoked certificate = %v (handler called: %v), want Unauthenticated %q", err, called, want)
	}
	// b is not revoked; it is refused by the policy, as a client without scope.
	if _, err := g.unary(withPeer(f.b), nil, info, handler); status.Code(err) != codes.PermissionDenied {
		t.Errorf("call of b = %v, want PermissionDenied", err)
	}
}

// TestRevokerPrunes checks that a connection whose socket gRPC closed
// without closing the TLS connection above it is forgotten.
func TestRevokerPrunes(t *testing.T) {
	f := newRevokerFixture(t, nil)
	lis, err := net.Listen("unix", filepath.Join(f.dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	var accepted []net.Conn
	for range 2 {
		c, err := net.Dial("unix", filepath.Join(f.dir, "s"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, err := lis.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		accepted = append(accepted, a)
		if err := f.r.track(&trackedConn{Conn: a, raw: a, r: f.r, serial: "01"}); err != nil {
			t.Fatal(err)
		}
	}
	f.r.refresh()
	if n := f.r.open(); n != 2 {
		t.Fatalf("%d connections tracked, want 2", n)
	}
	accepted[0].Close()
	f.r.refresh()
	if n := f.r.open(); n != 1 {
		t.Errorf("%d connections tracked after one socket closed, want 1", n)
	}
}

// TestRevokerReadsOpenSSLCRL checks that a CRL of another implementation,
// OpenSSL's, with an RSA CA (as Corral's were before P-256), is read and
// verified, serials with the high bit set and small ones included.
func TestRevokerReadsOpenSSLCRL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for name, data := range map[string]string{
		"index.txt": "",
		"crlnumber": "1000\n",
		"ca.cnf": `[ ca ]
default_ca = CA_default
[ CA_default ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 1
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-subj", "/CN=openssl CA", "-days", "1", "-config", "ca.cnf", "-extensions", "v3_ca")
	run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf")
	for _, serial := range []string{"0x80AB", "0x0A"} {
		run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial, "-out", "leaf.pem", "-days", "1")
		run("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-revoke", "leaf.pem")
	}
	run("ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-gencrl", "-out", "crl.pem")

	r := newRevoker(dir, func() *x509.Certificate { return nil })
	log := captureLog(t)
	r.refresh()
	for serial, want := range map[int64]bool{0x80ab: true, 0x0a: true, 0x0b: false, 0xab: false} {
		if got := r.check(&x509.Certificate{SerialNumber: big.NewInt(serial)}) != nil; got != want {
			t.Errorf("serial %#x revoked: %v, want %v", serial, got, want)
		}
	}
	if !strings.Contains(log.String(), "revocation list loaded: CRL number 4096") {
		t.Errorf("log:\n%s", log)
	}
}

// TestGuardRefusesExpired checks that a call of a certificate that has
// expired since its connection was made is refused, the supervisor's
// excepted (its connections move to its renewed certificate when they
// reconnect).
func TestGuardRefusesExpired(t *testing.T) {
	f := newRevokerFixture(t, nil)
	g := &guard{policy: &policy{trustDomain: "corral.test", plugin: "greeter", services: map[string]bool{"shimtest.Sleeper": true}}}
	withPeer := func(l leaf) context.Context {
		return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{
			State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{l.cert}, VerifiedChains: [][]*x509.Certificate{{l.cert, f.ca.cert}}},
		}})
	}
	info := &grpc.UnaryServerInfo{FullMethod: sleepMethod}
	handler := func(context.Context, any) (any, error) { return "served", nil }
	ended := time.Now().Add(-time.Second).Truncate(time.Second)

	expired := f.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/late"}, notAfter: ended})
	_, err := g.unary(withPeer(expired), nil, info, handler)
	want := "the certificate of spiffe://corral.test/admin/late expired at " + ended.UTC().Format(time.RFC3339) + "; a new connection presents a current one"
	if status.Code(err) != codes.Unavailable || status.Convert(err).Message() != want {
		t.Errorf("call of an expired admin certificate = %v, want Unavailable %q", err, want)
	}
	current := f.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/admin/current"}})
	if _, err := g.unary(withPeer(current), nil, info, handler); err != nil {
		t.Errorf("call of a current admin certificate = %v, want served", err)
	}
	supervisor := f.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/supervisor"}, notAfter: ended})
	if _, err := g.unary(withPeer(supervisor), nil, info, handler); err != nil {
		t.Errorf("call of the supervisor's expired certificate = %v, want served", err)
	}
}

// TestRevokerRefusesOlderLists checks that a list of the CA in force with a
// lower cRLNumber (an old copy served again) does not lift a revocation
// made since, while a list of another CA, after a CA change, is not held
// to the old numbering.
func TestRevokerRefusesOlderLists(t *testing.T) {
	f := newRevokerFixture(t, nil)
	older := f.ca.crl(t) // revokes nothing, and is numbered before the next
	f.writeCRL(t, f.ca.crl(t, f.a.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "a revoked", true, false)
	f.writeCRL(t, older)
	f.r.refresh()
	f.want(t, "an older list served again", true, false)
	if got := f.log.count("older than the list in force"); got != 1 {
		t.Errorf("logged the refusal %d times, want 1:\n%s", got, f.log)
	}

	other := newTestCA(t, "the next CA")
	replaceFile(t, filepath.Join(f.dir, "ca.pem"), other.pem)
	f.writeCRL(t, other.numberedCRL(t, 1, f.b.cert.SerialNumber))
	f.r.refresh()
	f.want(t, "a list of the next CA", false, true)
}
