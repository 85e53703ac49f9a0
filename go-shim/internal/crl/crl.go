// Package crl reads the revocation list Corral's supervisor publishes (a
// standard X.509 v2 CRL, PEM, signed by the CA): what go-shim enforces on
// its callers, and what go-shim/client enforces on the plugins it calls.
package crl

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

// A List is a verified CRL, reduced to what is enforced.
type List struct {
	serials    map[string]bool // revoked, by SerialHex
	Number     *big.Int        // the cRLNumber, if the list has one
	ThisUpdate time.Time
	signer     []byte // the public key (SubjectPublicKeyInfo) that signed it
}

// OlderThan reports, as an error saying so, that l is older than inForce,
// the list in force, and so may not take its place: a list of the same CA
// with a lower cRLNumber (one served again, by mistake or by an attacker,
// to lift a revocation made since). A list of another CA (after a CA
// change) or without numbers is not compared.
func (l *List) OlderThan(inForce *List) error {
	if inForce == nil || inForce.Number == nil || l.Number == nil || !bytes.Equal(l.signer, inForce.signer) {
		return nil
	}
	if l.Number.Cmp(inForce.Number) < 0 {
		return fmt.Errorf("it is number %v, older than the list in force (number %v)", l.Number, inForce.Number)
	}
	return nil
}

// Revokes reports whether the list revokes the serial (as SerialHex writes
// it). A nil list revokes nothing.
func (l *List) Revokes(serial string) bool {
	return l != nil && l.serials[serial]
}

func (l *List) String() string {
	number := "without a number"
	if l.Number != nil {
		number = "number " + l.Number.String()
	}
	return fmt.Sprintf("CRL %s of %s, %d serials revoked", number, l.ThisUpdate.UTC().Format(time.RFC3339), len(l.serials))
}

// SerialHex writes a certificate serial as the supervisor and corralctl
// do, and as `openssl x509 -serial` prints it: the magnitude's bytes in
// uppercase hex, without leading zero bytes ("0A", "80", "0100").
func SerialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	s := strings.ToUpper(hex.EncodeToString(b))
	if n.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// Read reads the CRL of crlPath, one PEM block, and verifies it against the
// CA certificates of caPath (any of them may have signed it). An error
// wrapping fs.ErrNotExist means crlPath is not there.
func Read(crlPath, caPath string) (*List, error) {
	data, err := os.ReadFile(crlPath)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "X509 CRL" {
		return nil, fmt.Errorf("%s: no PEM block of type X509 CRL", crlPath)
	}
	if next, _ := pem.Decode(rest); next != nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s: more than one PEM block", crlPath)
	}
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", crlPath, err)
	}
	cas, err := ReadCertificates(caPath)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", crlPath, err)
	}
	var verr error
	var signer []byte
	for _, ca := range cas {
		if verr = crl.CheckSignatureFrom(ca); verr == nil {
			signer = ca.RawSubjectPublicKeyInfo
			break
		}
	}
	if verr != nil {
		return nil, fmt.Errorf("%s is not signed by the CA of %s: %w", crlPath, caPath, verr)
	}
	list := &List{serials: map[string]bool{}, Number: crl.Number, ThisUpdate: crl.ThisUpdate, signer: signer}
	for _, e := range crl.RevokedCertificateEntries {
		list.serials[SerialHex(e.SerialNumber)] = true
	}
	return list, nil
}

// ReadCertificates reads the certificates of a PEM file.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return certs, nil
}
