// Package identity reads Corral's identities from certificates
// (docs/internals.md, "Identities"): what go-shim checks of its own
// certificate and of its callers', and what go-shim/client checks of a
// plugin's.
package identity

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// The custom extensions of Corral's certificates, under Corral's
// private-enterprise arc 1.3.6.1.4.1.61734.1.
var (
	// OIDPluginID identifies the plugin-ID extension of plugin
	// certificates: non-critical, a DER UTF8String with the plugin's
	// configured name.
	OIDPluginID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 1}
	// OIDPluginScope identifies the plugin-scope extension of client
	// certificates: non-critical, a DER SEQUENCE OF UTF8String naming the
	// plugins the client may call.
	OIDPluginScope = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 2}
)

// Plugin reads the trust domain and the plugin name from a plugin's
// own certificate, whose only URI SAN is spiffe://<trust-domain>/plugin/<name>
// and whose plugin-ID extension is <name>. A certificate that says otherwise
// was mis-issued: the supervisor would refuse the instance.
func Plugin(cert *x509.Certificate) (trustDomain, name string, err error) {
	if len(cert.URIs) != 1 {
		return "", "", fmt.Errorf("certificate has %d URI SANs, want exactly one", len(cert.URIs))
	}
	u := cert.URIs[0]
	name, ok := strings.CutPrefix(u.EscapedPath(), "/plugin/")
	if u.Scheme != "spiffe" || u.Host == "" || u.User != nil || u.Port() != "" ||
		u.RawQuery != "" || u.Fragment != "" || !ok || !ValidSegment(name) {
		return "", "", fmt.Errorf("certificate URI SAN %q is not spiffe://<trust-domain>/plugin/<name>", u)
	}
	id, err := pluginID(cert)
	if err != nil {
		return "", "", fmt.Errorf("certificate of %s: %w", u, err)
	}
	if id != name {
		return "", "", fmt.Errorf("certificate of %s: its plugin-ID extension (%s) names plugin %q, but its URI SAN names %q",
			u, OIDPluginID, id, name)
	}
	return u.Host, name, nil
}

// pluginID returns the value of the plugin-ID extension of a plugin's
// certificate.
func pluginID(cert *x509.Certificate) (string, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(OIDPluginID) {
			continue
		}
		if ext.Critical {
			return "", fmt.Errorf("its plugin-ID extension (%s) is critical; it must not be", OIDPluginID)
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
			return "", fmt.Errorf("its plugin-ID extension (%s) is malformed: %w", OIDPluginID, err)
		}
		return string(v.Bytes), nil
	}
	return "", fmt.Errorf("it has no plugin-ID extension (%s)", OIDPluginID)
}

// ValidSegment reports whether s is a name as Corral issues them (the
// supervisor's rule, supervisor/identity/spiffe.ts): 1 to 63 letters,
// digits, '.', '-' and '_', beginning with a letter or a digit ("." and
// ".." among the names that do not).
func ValidSegment(s string) bool {
	if s == "" || len(s) > 63 || !isAlnum(s[0]) {
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

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
