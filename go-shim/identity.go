package shim

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// oidPluginScope identifies the plugin-scope extension of client
// certificates: a DER SEQUENCE OF UTF8String naming the plugins the client
// may call (docs/internals.md).
//
// Go's crypto/x509 cannot parse a certificate carrying an extension whose OID
// has an arc above 2^31-1, as this 2.25 (UUID) OID has: crypto/tls refuses
// such a client certificate in the TLS handshake, before go-shim sees it.
// Scoped clients therefore cannot reach a go-shim plugin until the contract
// names an OID with smaller arcs.
var oidPluginScope = mustParseOID("2.25.234667894160730662746807885550410240573.2")

func mustParseOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// A peerIdentity is who a caller is, as its verified certificate says.
type peerIdentity struct {
	id    string   // the certificate's only URI SAN, e.g. spiffe://corral/client/ci
	scope []string // the plugins of its plugin-scope extension, if it has one
}

func (p peerIdentity) String() string { return p.id }

// identityOf reads the identity of a verified peer certificate. The
// certificate must have exactly one URI SAN, so that its identity is
// unambiguous.
func identityOf(cert *x509.Certificate) (peerIdentity, error) {
	if len(cert.URIs) != 1 {
		uris := make([]string, len(cert.URIs))
		for i, u := range cert.URIs {
			uris[i] = u.String()
		}
		return peerIdentity{}, fmt.Errorf("certificate %q has %d URI SANs %q; its identity must be exactly one",
			cert.Subject, len(cert.URIs), uris)
	}
	p := peerIdentity{id: cert.URIs[0].String()}
	for _, ext := range cert.Extensions {
		if !oidPluginScope.EqualASN1OID(ext.Id) {
			continue
		}
		scope, err := parsePluginScope(ext.Value)
		if err != nil {
			return peerIdentity{}, fmt.Errorf("certificate of %s: plugin-scope extension: %w", p.id, err)
		}
		p.scope = scope
	}
	return p, nil
}

// parsePluginScope parses the value of a plugin-scope extension, a DER
// SEQUENCE OF UTF8String.
func parsePluginScope(der []byte) ([]string, error) {
	var elems []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &elems)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data")
	}
	names := make([]string, len(elems))
	for i, e := range elems {
		if e.Class != asn1.ClassUniversal || e.Tag != asn1.TagUTF8String {
			return nil, fmt.Errorf("element %d is not a UTF8String", i)
		}
		names[i] = string(e.Bytes)
	}
	return names, nil
}

// pluginIdentity reads the trust domain and the plugin name from a plugin's
// own certificate, whose only URI SAN is spiffe://<trust-domain>/plugin/<name>.
func pluginIdentity(cert *x509.Certificate) (trustDomain, name string, err error) {
	if len(cert.URIs) != 1 {
		return "", "", fmt.Errorf("certificate has %d URI SANs, want exactly one", len(cert.URIs))
	}
	u := cert.URIs[0]
	name, ok := strings.CutPrefix(u.EscapedPath(), "/plugin/")
	if u.Scheme != "spiffe" || u.Host == "" || u.User != nil || u.Port() != "" ||
		u.RawQuery != "" || u.Fragment != "" || !ok || !validSegment(name) {
		return "", "", fmt.Errorf("certificate URI SAN %q is not spiffe://<trust-domain>/plugin/<name>", u)
	}
	return u.Host, name, nil
}

// validSegment reports whether s is one non-empty SPIFFE path segment:
// letters, digits, '.', '-' and '_', and neither "." nor "..".
func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
