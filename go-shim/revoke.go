package shim

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/corralhq/corral/go-shim/internal/crl"
)

// The revoker looks at crl.pem (and ca.pem) when the supervisor says it has
// replaced them (Control.ReloadTrust), which makes a revocation bite at
// once; and every crlSafetyInterval besides. It learns from the
// supervisor's handshake that the supervisor will say so (pushes_trust);
// until then it looks every crlPollInterval. For a supervisor that does not
// push, it watches the files with inotify instead, and should the watch
// fail or end (the directory removed or moved away), or inotify be
// missing, it polls every crlPollInterval, which bounds the delay of a
// revocation under the one second promised.
//
// Pushes rather than a watch of its own: an inotify instance held by a
// process delays the process's exit, after a SIGKILL too, by a kernel
// grace period (7-25 ms measured, where the exit takes 0.55 ms without
// one), and that delays everything that follows a plugin's crash. Polling
// alone would be simpler (it sees every change on every file system,
// through every mount), but it wakes every plugin ten times a second to
// stat two files: on a host of 500 idle plugins that came to most of a
// CPU core.
const (
	crlPollInterval   = 100 * time.Millisecond
	crlSafetyInterval = 10 * time.Second
)

// A revoker enforces the revocation list that the supervisor publishes at
// <instance dir>/crl.pem: a standard X.509 CRL, PEM, signed by the CA of
// ca.pem, replaced atomically (written aside, then renamed). It refuses
// handshakes and calls of revoked client certificates, and closes the
// connections of certificates that a new list revokes.
//
// A list that cannot be read, parsed or verified against ca.pem is refused,
// and the one loaded before stays in force. Until a list has been loaded,
// nothing is revoked; a list removed after it was loaded stays in force
// (revocations are lifted by publishing a list without them).
type revoker struct {
	crl, ca string                   // paths
	self    func() *x509.Certificate // the instance's own certificate, as it serves now

	list atomic.Pointer[crl.List] // in force; nil while none is loaded

	mu         sync.Mutex
	crlStamp   os.FileInfo // crl.pem when last looked at; nil if it was not there
	caStamp    os.FileInfo
	stampErr   string                    // why looking failed, if it did
	conns      map[*trackedConn]struct{} // the open connections
	selfLogged string                    // the own serial last reported revoked

	// told carries what the supervisor's handshake said: whether the
	// supervisor calls ReloadTrust after every change of the files.
	told chan bool
}

// newRevoker returns the revoker of the instance directory dir, whose own
// certificate self reports. It has loaded nothing yet.
func newRevoker(dir string, self func() *x509.Certificate) *revoker {
	return &revoker{
		crl:   filepath.Join(dir, "crl.pem"),
		ca:    filepath.Join(dir, "ca.pem"),
		self:  self,
		conns: map[*trackedConn]struct{}{},
		told:  make(chan bool, 1),
	}
}

// supervisorPushes passes on what the supervisor's handshake said: whether
// the supervisor calls ReloadTrust after every change of the files. The
// first word counts.
func (r *revoker) supervisorPushes(pushes bool) {
	select {
	case r.told <- pushes:
	default:
	}
}

// serialHex writes a certificate serial as the supervisor, corralctl and
// openssl do (crl.SerialHex).
func serialHex(n *big.Int) string { return crl.SerialHex(n) }

// check refuses a client certificate whose serial the list in force revokes.
func (r *revoker) check(cert *x509.Certificate) error {
	if s := serialHex(cert.SerialNumber); r.list.Load().Revokes(s) {
		return fmt.Errorf("certificate serial %s is revoked", s)
	}
	return nil
}

// checkHandshake is check for a handshake, which it logs when it refuses.
func (r *revoker) checkHandshake(cert *x509.Certificate) error {
	err := r.check(cert)
	if err != nil {
		logf("refused a connection of %s: %v", describeCert(cert), err)
	}
	return err
}

// describeCert names a certificate's holder in logs: its URI SANs, or its
// subject if it has none.
func describeCert(cert *x509.Certificate) string {
	if len(cert.URIs) == 0 {
		return fmt.Sprintf("%q", cert.Subject.String())
	}
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	return strings.Join(uris, ",")
}

// watch reloads the list when the files may have changed, until ctx is
// done: see the top of this file. Once draining is closed it polls every
// crlPollInterval whatever it was told: a drain's GOAWAY ends the
// supervisor's Control connection, so no push reaches a draining instance,
// whose calls in flight a revocation must still end within a second.
func (r *revoker) watch(ctx context.Context, draining <-chan struct{}) {
	t := time.NewTicker(crlPollInterval)
	defer t.Stop()
	told := r.told
	var changes <-chan struct{}
	polling := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-draining:
			draining = nil
			polling = true
			t.Reset(crlPollInterval)
		case pushes := <-told:
			told = nil // the first word counts
			if polling {
				break
			}
			if pushes {
				t.Reset(crlSafetyInterval)
			} else if w, err := watchFiles(filepath.Dir(r.crl), filepath.Base(r.crl), filepath.Base(r.ca)); err == nil {
				defer w.Close()
				changes = w.Changes()
				t.Reset(crlSafetyInterval)
			}
		case _, ok := <-changes:
			if !ok { // the watch failed: poll from now on
				changes = nil
				t.Reset(crlPollInterval)
			}
		case <-t.C:
		}
		r.refresh()
	}
}

// refresh reloads the list if crl.pem or ca.pem has changed since it last
// looked (a new CA is a reason to verify the list again), and reports the
// instance's own certificate if the list in force revokes it.
func (r *revoker) refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	crl, crlErr := os.Stat(r.crl)
	ca, caErr := os.Stat(r.ca)
	if errors.Is(crlErr, fs.ErrNotExist) {
		crl, crlErr = nil, nil
	}
	stampErr := fmt.Sprint(errors.Join(crlErr, caErr))
	if !sameFile(crl, r.crlStamp) || !sameFile(ca, r.caStamp) || stampErr != r.stampErr {
		r.crlStamp, r.caStamp, r.stampErr = crl, ca, stampErr
		r.reload()
	}
	r.checkSelf()
	r.prune()
}

// prune forgets the connections whose socket is closed. gRPC closes a
// connection it accepted through the TLS connection, which forgets it,
// except when it fails to set up HTTP/2 on it: then it closes the socket.
func (r *revoker) prune() {
	for c := range r.conns {
		if c.closed() {
			if c.expiry != nil {
				c.expiry.Stop()
			}
			delete(r.conns, c)
		}
	}
}

// reload reads, verifies and puts in force the list in crl.pem, or keeps
// the one in force if it cannot.
func (r *revoker) reload() {
	list, err := r.read()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if old := r.list.Load(); old != nil {
			logf("%s is gone; keeping the revocations of the list loaded before (%v)", r.crl, old)
		}
		return
	case err != nil:
		if old := r.list.Load(); old != nil {
			logf("refusing the revocation list: %v; keeping the list loaded before (%v)", err, old)
		} else {
			logf("refusing the revocation list: %v; nothing is revoked until a valid list is published", err)
		}
		return
	}
	if old := r.list.Load(); old != nil {
		if err := list.OlderThan(old); err != nil {
			logf("refusing the revocation list: %v; keeping the list loaded before (%v)", err, old)
			return
		}
	}
	if list.ThisUpdate.After(time.Now().Add(time.Minute)) {
		logf("note: the revocation list's thisUpdate (%v) is in the future; the clocks disagree", list.ThisUpdate)
	}
	r.list.Store(list)
	logf("revocation list loaded: %v", list)
	for c := range r.conns {
		if list.Revokes(c.serial) {
			delete(r.conns, c)
			c.kill()
			logf("closed a connection of %s: certificate serial %s is revoked", c.holder, c.serial)
		}
	}
}

// read reads crl.pem and verifies it against ca.pem.
func (r *revoker) read() (*crl.List, error) { return crl.Read(r.crl, r.ca) }

// checkSelf reports, once per certificate, that the list in force revokes
// the instance's own certificate. It does nothing else: the supervisor
// replaces the certificate or stops the instance.
func (r *revoker) checkSelf() {
	cert := r.self()
	if cert == nil {
		return
	}
	s := serialHex(cert.SerialNumber)
	if r.list.Load().Revokes(s) && r.selfLogged != s {
		r.selfLogged = s
		logf("this instance's own certificate (%s, serial %s) is revoked; serving on with it until the supervisor replaces it or stops the instance",
			describeCert(cert), s)
	}
}

// track registers an accepted connection of the client certificate cert,
// unless the list in force already revokes it.
func (r *revoker) track(c *trackedConn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Under mu, which reload holds while it puts a list in force and closes
	// connections: a list that the handshake missed is seen here.
	if r.list.Load().Revokes(c.serial) {
		return fmt.Errorf("certificate serial %s is revoked", c.serial)
	}
	r.conns[c] = struct{}{}
	return nil
}

func (r *revoker) forget(c *trackedConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
}

// open returns the number of connections tracked.
func (r *revoker) open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// credentials wraps the server's transport credentials so that r tracks
// every connection they accept, with its client's certificate.
// Each connection is also closed when its client's certificate expires
// (see heldToExpiry), trustDomain's supervisor's excepted.
func (r *revoker) credentials(creds credentials.TransportCredentials, trustDomain string) credentials.TransportCredentials {
	return &trackingCreds{TransportCredentials: creds, r: r, trustDomain: trustDomain}
}

// trackingCreds are TLS server credentials whose connections a revoker
// tracks.
type trackingCreds struct {
	credentials.TransportCredentials
	r           *revoker
	trustDomain string
}

func (c *trackingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	// gRPC's TLS credentials close the connection as the handshake fails;
	// held, it stays open for readWhileRefused.
	held := &closeHeld{Conn: raw}
	conn, info, err := c.TransportCredentials.ServerHandshake(held)
	if err != nil {
		readWhileRefused(raw)
		raw.Close()
		return nil, nil, err
	}
	held.release()
	// Still pending for its listener: until its HTTP/2 preface has come
	// (trackedConn.Read), gRPC's Stop and GracefulStop wait for it.
	tlsInfo, ok := info.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.PeerCertificates) == 0 {
		conn.Close()
		return nil, nil, errors.New("no client certificate")
	}
	cert := tlsInfo.State.PeerCertificates[0]
	tc := &trackedConn{Conn: conn, raw: raw, r: c.r, serial: serialHex(cert.SerialNumber), holder: describeCert(cert)}
	if err := c.r.track(tc); err != nil {
		raw.Close()
		logf("refused a connection of %s: %v", tc.holder, err)
		return nil, nil, err
	}
	if heldToExpiry(cert, c.trustDomain) {
		tc.expiry = time.AfterFunc(time.Until(cert.NotAfter), func() {
			logf("closed a connection of %s: its certificate expired at %s", tc.holder, cert.NotAfter.UTC().Format(time.RFC3339))
			tc.kill()
		})
	}
	return tc, info, nil
}

func (c *trackingCreds) Clone() credentials.TransportCredentials {
	return &trackingCreds{TransportCredentials: c.TransportCredentials.Clone(), r: c.r, trustDomain: c.trustDomain}
}

// A trackedConn is a server connection after its TLS handshake, which its
// revoker forgets when gRPC closes it.
type trackedConn struct {
	net.Conn          // the TLS connection
	raw      net.Conn // the socket under it
	r        *revoker
	serial   string      // of the client's certificate
	holder   string      // the client, for logs
	expiry   *time.Timer // closes it when the client's certificate expires; nil if not held to that
	// read counts the bytes read until the client's HTTP/2 preface is in;
	// then preface is true and the listener forgets the connection. Read
	// by one goroutine at a time (gRPC's), so not locked.
	read    int
	preface bool
}

// http2PrefaceLen is the length of the HTTP/2 client connection preface.
const http2PrefaceLen = len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// Read tells the connection's listener that it is settled once the
// client's HTTP/2 preface has been read. Until then gRPC's Stop and
// GracefulStop wait for it (up to its connection timeout, 10 s), and only
// the listener's Close, which closes what is still pending, lets them go:
// a client that finished TLS and then sent nothing held a drain past its
// deadline, and a park's answer, for those 10 s.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.preface {
		if c.read += n; c.read >= http2PrefaceLen {
			c.preface = true
			handshaken(c.raw)
		}
	}
	return n, err
}

func (c *trackedConn) Close() error {
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.r.forget(c)
	return c.Conn.Close()
}

// kill closes the connection at once: the socket, not the TLS connection,
// whose close_notify alert may wait for a peer that does not read. gRPC
// then sees the connection fail, ends its calls and closes it.
func (c *trackedConn) kill() { c.raw.Close() }

// closed reports whether the socket is known to be closed.
func (c *trackedConn) closed() bool {
	sc, ok := c.raw.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	return rc.Control(func(uintptr) {}) != nil
}

// SyscallConn is the socket's, as gRPC's own TLS connections have it.
func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.raw.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a socket")
}
