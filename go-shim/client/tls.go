package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/corralhq/corral/go-shim/internal/identity"
)

// TLSFiles name a host application's credentials: the CA's certificate,
// the application's certificate and key, and optionally the CA's
// revocation list.
type TLSFiles struct {
	CA, Cert, Key string
	// CRL is the CA's revocation list (PEM, as the supervisor publishes it
	// in <runtime dir>/crl.pem). A plugin certificate it revokes is
	// refused. It is read again when it or CA changes; until it exists,
	// nothing is revoked, and a list that no longer reads or verifies
	// leaves the one read before in force. Empty: no list is checked.
	CRL string

	// crlDefault is set by Connect for its default list: one there that
	// does not verify (another supervisor's) is taken as none, rather
	// than as an error of the configuration.
	crlDefault bool
}

// PluginTLS is the TLS configuration of a host application calling plugin:
// it presents the certificate of files.Cert and files.Key, and accepts a
// server only if its certificate chains to the CA of files.CA, may
// authenticate a TLS server, is not revoked by files.CRL, and is plugin's
// in the client certificate's own trust domain: its only URI SAN is
// spiffe://<trust-domain>/plugin/<plugin> and its plugin-ID extension
// names plugin (as the Node client library checks). The plugin's instance
// and the supervisor's refusal server for it both present such a
// certificate.
//
// The certificate and key are read again when either file changes (a
// renewal, `corralctl certs issue` into the same directory): new
// connections present the renewed certificate, without a restart.
//
// Its handshakes are checked against files.CRL; the connections made
// before the list changed are not ([Connect]'s are: it closes those of a
// plugin whose certificate a new list revokes).
func PluginTLS(files TLSFiles, plugin string) (*tls.Config, error) {
	config, _, err := pluginTLS(files, plugin)
	return config, err
}

// pluginTLS is PluginTLS, with the revocations its handshakes are checked
// against (nil without files.CRL).
func pluginTLS(files TLSFiles, plugin string) (*tls.Config, *revocations, error) {
	pair := &renewingPair{certFile: files.Cert, keyFile: files.Key}
	pair.stamp = pair.read() // before the files are read: a renewal in between is read again
	roots, cert, trustDomain, err := loadPair(files.CA, files.Cert, files.Key)
	if err != nil {
		return nil, nil, err
	}
	var revoked *revocations
	if files.CRL != "" {
		if revoked, err = readRevocations(files.CRL, files.CA, !files.crlDefault); err != nil {
			return nil, nil, err
		}
	}
	config := verifying(roots, cert, plugin+".corral.invalid", func(leaf *x509.Certificate) error {
		if err := checkPluginIdentity(leaf, trustDomain, plugin); err != nil {
			return err
		}
		return revoked.check(leaf)
	})
	pair.cert = &cert
	config.Certificates = nil
	config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair.current(), nil }
	return config, revoked, nil
}

// A renewingPair is a client certificate and key read from files, read
// again once either file has changed.
type renewingPair struct {
	certFile, keyFile string

	mu sync.Mutex
	// cert is replaced, never changed: a handshake under way keeps the
	// one it was given.
	cert  *tls.Certificate
	stamp string // the files' sizes and modification times before cert was read
}

// current returns the certificate, reading the files again if they
// changed since. A pair that does not load (a renewal half written: the
// certificate new, the key not yet) keeps the last one until it does.
func (p *renewingPair) current() *tls.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stamp := p.read(); stamp != p.stamp {
		if cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile); err == nil {
			p.cert, p.stamp = &cert, stamp
		}
	}
	return p.cert
}

// read returns the files' sizes and modification times.
func (p *renewingPair) read() string { return stamp(p.certFile, p.keyFile) }

// stamp returns the files' sizes and modification times, which change
// when a file is written or replaced.
func stamp(files ...string) string {
	var stamp strings.Builder
	for _, name := range files {
		if fi, err := os.Stat(name); err == nil {
			fmt.Fprintf(&stamp, "%d/%d/", fi.Size(), fi.ModTime().UnixNano())
		}
		stamp.WriteString(";")
	}
	return stamp.String()
}

// SupervisorTLS is the TLS configuration of an admin client in Go (what
// corralctl does): present the admin certificate of certFile and keyFile,
// accept only the supervisor of its trust domain.
func SupervisorTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	roots, cert, trustDomain, err := loadPair(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	want := "spiffe://" + trustDomain + "/supervisor"
	return verifying(roots, cert, "supervisor.corral.invalid", func(leaf *x509.Certificate) error {
		if len(leaf.URIs) != 1 || leaf.URIs[0].String() != want {
			return fmt.Errorf("the server is not %s", want)
		}
		return nil
	}), nil
}

// loadPair reads the CA pool and the client certificate, which must have
// exactly one spiffe:// URI SAN; it returns them and the trust domain.
func loadPair(caFile, certFile, keyFile string) (*x509.CertPool, tls.Certificate, string, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, tls.Certificate{}, "", err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, tls.Certificate{}, "", fmt.Errorf("%s: no certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, tls.Certificate{}, "", err
	}
	if cert.Leaf == nil { // GODEBUG=x509keypairleaf=0 leaves it out
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, tls.Certificate{}, "", fmt.Errorf("%s: %w", certFile, err)
		}
	}
	if len(cert.Leaf.URIs) != 1 || cert.Leaf.URIs[0].Scheme != "spiffe" || cert.Leaf.URIs[0].Host == "" {
		return nil, tls.Certificate{}, "", fmt.Errorf("%s: the certificate must have exactly one URI SAN, spiffe://<trust-domain>/...", certFile)
	}
	return roots, cert, cert.Leaf.URIs[0].Host, nil
}

// verifying is a TLS 1.3 client configuration presenting cert that accepts
// a server whose certificate chains to roots and passes check. The
// server's identity is a URI SAN, which the standard verification, bound
// to a host name, cannot check: so it is turned off (serverName is only
// sent, as SNI) and done in full by VerifyConnection, which runs in every
// handshake, resumed ones included.
func verifying(roots *x509.CertPool, cert tls.Certificate, serverName string, check func(*x509.Certificate) error) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{cert},
		ServerName:         serverName,
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			intermediates := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				intermediates.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				return err
			}
			return check(leaf)
		},
	}
}

// checkPluginIdentity reports whether a verified server certificate is
// that of plugin in trustDomain: a plugin's certificate (package identity)
// whose only URI SAN is spiffe://<trustDomain>/plugin/<plugin>.
func checkPluginIdentity(cert *x509.Certificate, trustDomain, plugin string) error {
	td, name, err := identity.Plugin(cert)
	if err != nil {
		return fmt.Errorf("the server's %w", err)
	}
	if td != trustDomain || name != plugin {
		want := "spiffe://" + trustDomain + "/plugin/" + plugin
		return fmt.Errorf("the server's certificate has URI SANs %q, want exactly %q", []string{cert.URIs[0].String()}, want)
	}
	return nil
}
