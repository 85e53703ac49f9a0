package client

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/corralhq/corral/go-shim/internal/crl"
)

// openConnectionsCheck is how often the list's files are looked at while
// connections made by Connect are open.
const openConnectionsCheck = time.Second

// revocations is the CA's revocation list as a host application enforces
// it on the plugins it calls: read again whenever the list's file or the
// CA's changes, as the plugin's go-shim reads its own copy. A list that
// cannot be read or verified leaves the one read before in force; a
// missing file revokes nothing until it appears.
//
// Every handshake is checked against it. The connections Connect made
// before the list changed are too: while any is open, the files are looked
// at every second, and a connection whose plugin certificate a new list
// revokes is closed. A plugin's go-shim recycles its connections itself,
// but an impostor presenting a plugin's stolen key would not.
type revocations struct {
	crlFile, caFile string

	mu       sync.Mutex
	stamp    string                    // the files' stamp when last read
	list     *crl.List                 // in force; nil while none has been read
	open     map[*watchedConn]struct{} // the connections under watch
	watching bool                      // whether the goroutine that looks at the files runs
}

// readRevocations reads crlFile now. A list that is there but does not
// verify against caFile is an error of the configuration if required; if
// not (Connect's default), it is taken as none until a list of this CA is
// published there.
func readRevocations(crlFile, caFile string, required bool) (*revocations, error) {
	r := &revocations{crlFile: crlFile, caFile: caFile, stamp: stamp(crlFile, caFile), open: map[*watchedConn]struct{}{}}
	list, err := crl.Read(crlFile, caFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if required {
			return nil, fmt.Errorf("revocation list: %w", err)
		}
		list = nil
	}
	r.list = list
	return r, nil
}

// check refuses a plugin certificate that the list in force revokes. A
// nil *revocations checks nothing.
func (r *revocations) check(cert *x509.Certificate) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	revoked := r.refreshLocked()
	list := r.list
	r.mu.Unlock()
	closeAll(revoked)
	if serial := crl.SerialHex(cert.SerialNumber); list.Revokes(serial) {
		return fmt.Errorf("the plugin's certificate (serial %s) is revoked (%s, %v)", serial, r.crlFile, list)
	}
	return nil
}

// refreshLocked reads the list again if its files changed, and returns the
// open connections it revokes, for the caller to close once r.mu is
// released. r.mu is held.
func (r *revocations) refreshLocked() []*watchedConn {
	now := stamp(r.crlFile, r.caFile)
	if now == r.stamp {
		return nil
	}
	r.stamp = now
	list, err := crl.Read(r.crlFile, r.caFile)
	if err != nil || list.OlderThan(r.list) != nil {
		return nil // kept: the list in force (an older one would lift revocations made since)
	}
	r.list = list
	var revoked []*watchedConn
	for c := range r.open {
		if list.Revokes(c.serial) {
			revoked = append(revoked, c)
		}
	}
	return revoked
}

func closeAll(conns []*watchedConn) {
	for _, c := range conns {
		c.Close()
	}
}

// watched returns creds whose client connections are kept under watch.
func (r *revocations) watched(creds credentials.TransportCredentials) credentials.TransportCredentials {
	return &watchedCreds{TransportCredentials: creds, r: r}
}

// track keeps conn, whose plugin certificate has serial, under watch until
// it is closed.
func (r *revocations) track(conn net.Conn, serial string) net.Conn {
	c := &watchedConn{Conn: conn, serial: serial, r: r}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open[c] = struct{}{}
	if !r.watching {
		r.watching = true
		go r.watch()
	}
	return c
}

// watch looks at the files every openConnectionsCheck while connections
// are open, and ends when none is.
func (r *revocations) watch() {
	ticker := time.NewTicker(openConnectionsCheck)
	defer ticker.Stop()
	for range ticker.C {
		r.mu.Lock()
		if len(r.open) == 0 {
			r.watching = false
			r.mu.Unlock()
			return
		}
		revoked := r.refreshLocked()
		r.mu.Unlock()
		closeAll(revoked)
	}
}

// watchedCreds are TLS credentials whose client connections a revocations
// keeps under watch.
type watchedCreds struct {
	credentials.TransportCredentials
	r *revocations
}

func (c *watchedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return conn, info, err
	}
	if tlsInfo, ok := info.(credentials.TLSInfo); ok && len(tlsInfo.State.PeerCertificates) > 0 {
		conn = c.r.track(conn, crl.SerialHex(tlsInfo.State.PeerCertificates[0].SerialNumber))
	}
	return conn, info, nil
}

func (c *watchedCreds) Clone() credentials.TransportCredentials {
	return &watchedCreds{TransportCredentials: c.TransportCredentials.Clone(), r: c.r}
}

// A watchedConn is a connection under a revocations' watch.
type watchedConn struct {
	net.Conn
	serial string
	r      *revocations
	once   sync.Once
}

func (c *watchedConn) Close() error {
	c.once.Do(func() {
		c.r.mu.Lock()
		delete(c.r.open, c)
		c.r.mu.Unlock()
	})
	return c.Conn.Close()
}
