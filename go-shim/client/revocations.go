package client

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/corralhq/corral/go-shim/internal/crl"
)

// revocations is the CA's revocation list as a host application enforces
// it on the plugins it calls: read again whenever the list's file or the
// CA's changes, as the plugin's go-shim reads its own copy. A list that
// cannot be read or verified leaves the one read before in force; a
// missing file revokes nothing until it appears.
type revocations struct {
	crlFile, caFile string

	mu    sync.Mutex
	stamp string    // the files' stamp when last read
	list  *crl.List // in force; nil while none has been read
}

// readRevocations reads crlFile now, so that a list that is there but
// does not verify against caFile is an error of the configuration.
func readRevocations(crlFile, caFile string) (*revocations, error) {
	r := &revocations{crlFile: crlFile, caFile: caFile, stamp: stamp(crlFile, caFile)}
	list, err := crl.Read(crlFile, caFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("revocation list: %w", err)
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
	defer r.mu.Unlock()
	if now := stamp(r.crlFile, r.caFile); now != r.stamp {
		r.stamp = now
		if list, err := crl.Read(r.crlFile, r.caFile); err == nil {
			r.list = list
		}
	}
	if serial := crl.SerialHex(cert.SerialNumber); r.list.Revokes(serial) {
		return fmt.Errorf("the plugin's certificate (serial %s) is revoked (%s, %v)", serial, r.crlFile, r.list)
	}
	return nil
}
