package shim

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// The custom extensions of Corral's certificates (docs/internals.md,
// "Identities"), under Corral's private-enterprise arc 1.3.6.1.4.1.61734.1.
var (
	// oidPluginID identifies the plugin-ID extension of plugin
	// certificates: non-critical, a DER UTF8String with the plugin's
	// configured name.
	oidPluginID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 1}
	// oidPluginScope identifies the plugin-scope extension of client
	// certificates: non-critical, a DER SEQUENCE OF UTF8String naming the
	// plugins the client may call.
	oidPluginScope = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 2}
)

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
		if !ext.Id.Equal(oidPluginScope) {
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
// own certificate, whose only URI SAN is spiffe://<trust-domain>/plugin/<name>
// and whose plugin-ID extension is <name>. A certificate that says otherwise
// was mis-issued: the supervisor would refuse the instance.
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
	id, err := pluginID(cert)
	if err != nil {
		return "", "", fmt.Errorf("certificate of %s: %w", u, err)
	}
	if id != name {
		return "", "", fmt.Errorf("certificate of %s: its plugin-ID extension (%s) names plugin %q, but its URI SAN names %q",
			u, oidPluginID, id, name)
	}
	return u.Host, name, nil
}

// pluginID returns the value of the plugin-ID extension of a plugin's
// certificate.
func pluginID(cert *x509.Certificate) (string, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidPluginID) {
			continue
		}
		if ext.Critical {
			return "", fmt.Errorf("its plugin-ID extension (%s) is critical; it must not be", oidPluginID)
		}
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(ext.Value, &v)
		if err == nil && len(rest) > 0 {
			err = errors.New("trailing data")
		}
		if err == nil && (v.Class != asn1.ClassUniversal || v.Tag != asn1.TagUTF8String || v.IsCompound) {
			err = errors.New("not a UTF8String")
		}
		if err != nil {
			return "", fmt.Errorf("its plugin-ID extension (%s) is malformed: %w", oidPluginID, err)
		}
		return string(v.Bytes), nil
	}
	return "", fmt.Errorf("it has no plugin-ID extension (%s)", oidPluginID)
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
