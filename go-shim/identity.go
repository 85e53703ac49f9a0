package shim

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/corralhq/corral/go-shim/internal/identity"
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
		if !ext.Id.Equal(identity.OIDPluginScope) {
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
