package shim

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// certFiles are an instance's certificates, read from its directory: the
// CA that issues client certificates, and the instance's own certificate
// and key. They are read again for a new connection whenever the files have
// changed, so that rewriting them rotates the certificates.
type certFiles struct {
	ca, cert, key string // paths

	mu     sync.Mutex
	check  func(*x509.Certificate) error // if not nil, vets the instance's certificate on reading it
	peer   func(*x509.Certificate) error // if not nil, vets a client's verified certificate in the handshake
	stamp  []os.FileInfo                 // the files as they were when config was loaded
	failed []os.FileInfo                 // the files as they were when reading them last failed
	config *tls.Config                   // for a new connection
	leaf   *x509.Certificate
}

func newCertFiles(dir string) *certFiles {
	return &certFiles{
		ca:   filepath.Join(dir, "ca.pem"),
		cert: filepath.Join(dir, "cert.pem"),
		key:  filepath.Join(dir, "key.pem"),
	}
}

// vetWith makes the files' instance certificate, whenever they are read
// again, pass check before it is used.
func (f *certFiles) vetWith(check func(*x509.Certificate) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.check = check
}

// checkPeersWith makes every handshake, besides verifying the client's
// certificate chain, pass the client's certificate to check; an error fails
// the handshake.
func (f *certFiles) checkPeersWith(check func(*x509.Certificate) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peer = check
}

// verifyConnection is the VerifyConnection of the server's configuration:
// it runs the check of checkPeersWith on the client's verified certificate.
func (f *certFiles) verifyConnection(cs tls.ConnectionState) error {
	f.mu.Lock()
	check := f.peer
	f.mu.Unlock()
	if check == nil || len(cs.PeerCertificates) == 0 {
		return nil // a missing certificate is refused by ClientAuth
	}
	return check(cs.PeerCertificates[0])
}

// current returns the instance's certificate as last loaded, without
// looking at the files; nil before the first load.
func (f *certFiles) current() *x509.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leaf
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
	if err == nil && slices.EqualFunc(stamp, f.stamp, sameFile) {
		return f.config, f.leaf, nil
	}
	if err == nil && f.config != nil && slices.EqualFunc(stamp, f.failed, sameFile) {
		return f.config, f.leaf, nil // refused already, and logged
	}
	if err == nil {
		var config *tls.Config
		var leaf *x509.Certificate
		if config, leaf, err = f.read(); err == nil {
			f.stamp, f.failed, f.config, f.leaf = stamp, nil, config, leaf
			return config, leaf, nil
		}
		f.failed = stamp
	}
	if f.config == nil {
		return nil, nil, err
	}
	logf("keeping the certificates loaded before: %v", err)
	return f.config, f.leaf, nil
}

// stat looks at the files, to tell with [sameFile] whether they changed.
func (f *certFiles) stat() ([]os.FileInfo, error) {
	stamp := make([]os.FileInfo, 0, 3)
	for _, name := range []string{f.ca, f.cert, f.key} {
		fi, err := os.Stat(name)
		if err != nil {
			return nil, err
		}
		stamp = append(stamp, fi)
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
	if f.check != nil {
		if err := f.check(cert.Leaf); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.cert, err)
		}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2"},
		// After the chain is verified: revocation.
		VerifyConnection: f.verifyConnection,
	}, cert.Leaf, nil
}

// keyPair is [tls.X509KeyPair], with the parsed leaf certificate also when
// the x509keypairleaf GODEBUG setting leaves it out.
func keyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return cert, err
		}
	}
	return cert, nil
}
