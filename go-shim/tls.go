package shim

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// certFiles are an instance's certificates, read from its directory: the
// CA that issues client certificates, and the instance's own certificate
// and key. They are read again for a new connection whenever the files have
// changed, so that rewriting them rotates the certificates.
type certFiles struct {
	ca, cert, key string // paths

	mu     sync.Mutex
	stamp  string      // the files' sizes and modification times when config was loaded
	config *tls.Config // for a new connection
	leaf   *x509.Certificate
}

func newCertFiles(dir string) *certFiles {
	return &certFiles{
		ca:   filepath.Join(dir, "ca.pem"),
		cert: filepath.Join(dir, "cert.pem"),
		key:  filepath.Join(dir, "key.pem"),
	}
}

// serverConfig returns the TLS configuration of the server: TLS 1.3, with
// a verified client certificate required, from the files as they are when
// a client connects.
func (f *certFiles) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			config, _, err := f.load()
			return config, err
		},
	}
}

// load returns the configuration for a new connection and the instance's
// certificate, reading the files if they have changed since the last load.
// If they have changed but cannot be read, the last good configuration is
// kept.
func (f *certFiles) load() (*tls.Config, *x509.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamp, err := f.stat()
	if err == nil && stamp == f.stamp {
		return f.config, f.leaf, nil
	}
	if err == nil {
		var config *tls.Config
		var leaf *x509.Certificate
		if config, leaf, err = f.read(); err == nil {
			f.stamp, f.config, f.leaf = stamp, config, leaf
			return config, leaf, nil
		}
	}
	if f.config == nil {
		return nil, nil, err
	}
	logf("keeping the certificates loaded before: %v", err)
	return f.config, f.leaf, nil
}

// stat summarizes the files' sizes and modification times.
func (f *certFiles) stat() (string, error) {
	var stamp string
	for _, name := range []string{f.ca, f.cert, f.key} {
		fi, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		stamp += fmt.Sprintf("%d.%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

// read reads the files into a configuration for a new connection.
func (f *certFiles) read() (*tls.Config, *x509.Certificate, error) {
	caPEM, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("%s: no certificate", f.ca)
	}
	certPEM, err := os.ReadFile(f.cert)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(f.key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := keyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s, %s: %w", f.cert, f.key, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2"},
	}, cert.Leaf, nil
}

// keyPair is [tls.X509KeyPair], except that it parses the leaf with
// [parseLeaf].
func keyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	var cert tls.Certificate
	for block, rest := pem.Decode(certPEM); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, block.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return cert, errors.New("no certificate")
	}
	leaf, err := parseLeaf(cert.Certificate[0])
	if err != nil {
		return cert, err
	}
	cert.Leaf = leaf
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return cert, errors.New("no private key")
	}
	if cert.PrivateKey, err = parsePrivateKey(block.Bytes); err != nil {
		return cert, err
	}
	pub, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return cert, errors.New("private key cannot sign")
	}
	if k, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(leaf.PublicKey) {
		return cert, errors.New("private key does not match the certificate")
	}
	return cert, nil
}

// parsePrivateKey parses a PKCS #8, PKCS #1 or SEC 1 private key.
func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, nil
	}
	return nil, errors.New("private key is neither PKCS #8, PKCS #1 nor SEC 1")
}

// parseLeaf parses the instance's own certificate. Go's crypto/x509 cannot
// parse a certificate with an extension whose OID has an arc above 2^31-1,
// such as the 2.25 (UUID) OID of the plugin-ID extension; parseLeaf then
// parses the certificate without such extensions. The result serves to read
// the certificate, not to verify it: the certificate sent to peers is the
// original.
func parseLeaf(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		return cert, nil
	}
	stripped, serr := withoutUnparsableExtensions(der)
	if serr != nil {
		return nil, err
	}
	cert, serr = x509.ParseCertificate(stripped)
	if serr != nil {
		return nil, err
	}
	return cert, nil
}

// withoutUnparsableExtensions returns the certificate der without the
// extensions whose OID encoding/asn1 (like crypto/x509) cannot parse.
func withoutUnparsableExtensions(der []byte) ([]byte, error) {
	cert, err := sequence(der)
	if err != nil || len(cert) != 3 {
		return nil, errors.New("not a certificate")
	}
	tbs, err := sequence(cert[0].FullBytes)
	if err != nil {
		return nil, err
	}
	fields := tbs[:0]
	for _, field := range tbs {
		if field.Class != asn1.ClassContextSpecific || field.Tag != 3 { // extensions [3] EXPLICIT
			fields = append(fields, field)
			continue
		}
		exts, err := sequence(field.Bytes)
		if err != nil {
			return nil, err
		}
		kept := exts[:0]
		for _, ext := range exts {
			if fields, err := sequence(ext.FullBytes); err == nil && len(fields) > 0 {
				var oid asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(fields[0].FullBytes, &oid); err != nil {
					continue
				}
			}
			kept = append(kept, ext)
		}
		if len(kept) == 0 {
			continue
		}
		inner, err := marshalSequence(kept)
		if err != nil {
			return nil, err
		}
		outer, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 3, IsCompound: true, Bytes: inner})
		if err != nil {
			return nil, err
		}
		fields = append(fields, asn1.RawValue{FullBytes: outer})
	}
	if cert[0].FullBytes, err = marshalSequence(fields); err != nil {
		return nil, err
	}
	return marshalSequence(cert)
}

// sequence parses a DER SEQUENCE into its elements.
func sequence(der []byte) ([]asn1.RawValue, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence {
		return nil, errors.New("not a DER SEQUENCE")
	}
	var elems []asn1.RawValue
	for b := seq.Bytes; len(b) > 0; {
		var e asn1.RawValue
		if b, err = asn1.Unmarshal(b, &e); err != nil {
			return nil, err
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// marshalSequence encodes elems as a DER SEQUENCE.
func marshalSequence(elems []asn1.RawValue) ([]byte, error) {
	var body []byte
	for _, e := range elems {
		body = append(body, e.FullBytes...)
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
}
