package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"os"
)

// oidPluginID identifies the plugin-ID extension of plugin certificates
// (docs/internals.md, "Identities"): a DER UTF8String naming the plugin.
var oidPluginID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 1}

// PluginTLS is the TLS configuration of a host application calling plugin:
// it presents the certificate of certFile and keyFile, and accepts a server
// only if its certificate chains to the CA of caFile, may authenticate a
// TLS server, and is plugin's in the client certificate's own trust domain:
// its only URI SAN is spiffe://<trust-domain>/plugin/<plugin> and its
// plugin-ID extension names plugin (as the Node client library checks).
// The plugin's instance and the supervisor's refusal server for it both
// present such a certificate.
func PluginTLS(caFile, certFile, keyFile, plugin string) (*tls.Config, error) {
	roots, cert, trustDomain, err := loadPair(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	want := "spiffe://" + trustDomain + "/plugin/" + plugin
	return verifying(roots, cert, plugin+".corral.invalid", func(leaf *x509.Certificate) error {
		return checkPluginIdentity(leaf, want, plugin)
	}), nil
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
// that of plugin: its only URI SAN is want, and its plugin-ID extension
// names plugin.
func checkPluginIdentity(cert *x509.Certificate, want, plugin string) error {
	if len(cert.URIs) != 1 || cert.URIs[0].String() != want {
		uris := make([]string, len(cert.URIs))
		for i, u := range cert.URIs {
			uris[i] = u.String()
		}
		return fmt.Errorf("the server's certificate has URI SANs %q, want exactly %q", uris, want)
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidPluginID) {
			continue
		}
		var id string
		rest, err := asn1.UnmarshalWithParams(ext.Value, &id, "utf8")
		if err != nil || len(rest) > 0 {
			return errors.New("the server's certificate has a malformed plugin-ID extension")
		}
		if id != plugin {
			return fmt.Errorf("the server's certificate names plugin %q in its plugin-ID extension, want %q", id, plugin)
		}
		return nil
	}
	return errors.New("the server's certificate has no plugin-ID extension")
}
