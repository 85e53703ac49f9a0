package shim

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"strings"
	"testing"

	"github.com/corralhq/corral/go-shim/internal/identity"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAuthorize(t *testing.T) {
	p := &policy{
		trustDomain: "corral.test",
		plugin:      "greeter",
		services:    map[string]bool{"corral.examples.greeter.v1.Greeter": true},
	}
	const (
		author    = "/corral.examples.greeter.v1.Greeter/SayHello"
		handshake = "/corral.plugin.v1.Control/Handshake"
		drain     = "/corral.plugin.v1.Control/Drain"
		health    = "/grpc.health.v1.Health/Check"
		unknown   = "/other.Service/Method"
	)
	td := "spiffe://corral.test/"
	tests := []struct {
		id     string
		scope  []string
		method string
		ok     bool
	}{
		{td + "supervisor", nil, handshake, true},
		{td + "supervisor", nil, drain, true},
		{td + "supervisor", nil, health, true},
		{td + "supervisor", nil, author, true},
		{td + "admin/alice", nil, drain, true},
		{td + "admin/alice", nil, author, true},
		{td + "client/ci", []string{"greeter"}, author, true},
		{td + "client/ci", []string{"other", "greeter"}, author, true},

		{td + "client/ci", []string{"greeter"}, handshake, false},
		{td + "client/ci", []string{"greeter"}, drain, false},
		{td + "client/ci", []string{"greeter"}, health, false},
		{td + "client/ci", []string{"greeter"}, unknown, false},
		{td + "client/ci", []string{"other"}, author, false},
		{td + "client/ci", []string{"Greeter"}, author, false},
		{td + "client/ci", []string{}, author, false},
		{td + "client/ci", nil, author, false},
		{td + "client/", []string{"greeter"}, author, false},
		{td + "client/a/b", []string{"greeter"}, author, false},
		{td + "plugin/greeter", []string{"greeter"}, author, false},
		{td + "plugin/other", nil, handshake, false},
		{td + "admin", nil, drain, false},
		{td + "admin/", nil, drain, false},
		{td + "admin/..", nil, drain, false},
		{td + "admin/.alice", nil, drain, false},
		{td + "admin/-alice", nil, drain, false},
		{td + "admin/" + strings.Repeat("a", 64), nil, drain, false},
		{td + "admin/" + strings.Repeat("a", 63), nil, drain, true},
		{td + "client/" + strings.Repeat("c", 64), []string{"greeter"}, author, false},
		{td + "admin/a/b", nil, drain, false},
		{td + "supervisor/x", nil, drain, false},
		{td + "supervisor?x=1", nil, drain, false},
		{td + "Supervisor", nil, drain, false},
		{td + "", nil, drain, false},
		{"spiffe://other.test/supervisor", nil, drain, false},
		{"spiffe://corral.test.evil/supervisor", nil, drain, false},
		{"spiffe://corral.test:443/supervisor", nil, drain, false},
		{"https://corral.test/supervisor", nil, drain, false},
		{"spiffe://x@corral.test/supervisor", nil, drain, false},
	}
	for _, tt := range tests {
		err := p.authorize(peerIdentity{id: tt.id, scope: tt.scope}, tt.method)
		if tt.ok {
			if err != nil {
				t.Errorf("authorize(%s %q, %s) = %v, want nil", tt.id, tt.scope, tt.method, err)
			}
			continue
		}
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), tt.id) {
			t.Errorf("authorize(%s %q, %s) = %v, want PermissionDenied naming the peer", tt.id, tt.scope, tt.method, err)
		}
	}
}

func TestServiceOf(t *testing.T) {
	for in, want := range map[string]string{
		"/pkg.Service/Method": "pkg.Service",
		"pkg.Service/Method":  "pkg.Service",
		"/Method":             "",
		"":                    "",
	} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContractOIDs(t *testing.T) {
	if got := identity.OIDPluginID.String(); got != contractPluginIDOID {
		t.Errorf("plugin-ID extension OID = %s, want %s", got, contractPluginIDOID)
	}
	if got := identity.OIDPluginScope.String(); got != contractPluginScopeOID {
		t.Errorf("plugin-scope extension OID = %s, want %s", got, contractPluginScopeOID)
	}
}

func TestIdentityOf(t *testing.T) {
	ca := newTestCA(t, "ca")
	parse := func(spec leafSpec) *x509.Certificate {
		cert, err := x509.ParseCertificate(ca.issue(t, spec).der)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}

	id, err := identityOf(parse(leafSpec{uris: []string{"spiffe://td/client/ci"}, scope: []string{"a", "b"}}))
	if err != nil || id.id != "spiffe://td/client/ci" || strings.Join(id.scope, ",") != "a,b" {
		t.Errorf("scoped client: got %+v, %v", id, err)
	}
	id, err = identityOf(parse(leafSpec{uris: []string{"spiffe://td/supervisor"}}))
	if err != nil || id.id != "spiffe://td/supervisor" || id.scope != nil {
		t.Errorf("supervisor: got %+v, %v", id, err)
	}
	for _, uris := range [][]string{nil, {"spiffe://td/supervisor", "spiffe://td/admin/a"}} {
		if _, err := identityOf(parse(leafSpec{uris: uris, dnsNames: []string{"x"}})); err == nil {
			t.Errorf("identityOf(certificate with URI SANs %q) succeeded, want an error", uris)
		}
	}
}

func TestParsePluginScope(t *testing.T) {
	if got, err := parsePluginScope(scopeDER(t, []string{"greeter", "kv"})); err != nil || strings.Join(got, ",") != "greeter,kv" {
		t.Errorf("parsePluginScope = %q, %v", got, err)
	}
	if got, err := parsePluginScope(scopeDER(t, []string{})); err != nil || len(got) != 0 {
		t.Errorf("parsePluginScope(empty) = %q, %v", got, err)
	}
	bad := map[string][]byte{
		"PrintableString element": {0x30, 0x03, 0x13, 0x01, 'a'},
		"trailing data":           append(scopeDER(t, []string{"a"}), 0),
		"not a sequence":          {0x0c, 0x01, 'a'},
		"truncated":               {0x30, 0x05, 0x0c, 0x01},
	}
	for name, der := range bad {
		if got, err := parsePluginScope(der); err == nil {
			t.Errorf("parsePluginScope(%s) = %q, want an error", name, got)
		}
	}
}

func TestPluginIdentity(t *testing.T) {
	idOID := contractOID(t, contractPluginIDOID)
	cert := func(exts []pkix.Extension, uris ...string) *x509.Certificate {
		c := &x509.Certificate{Extensions: exts}
		for _, s := range uris {
			u, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			c.URIs = append(c.URIs, u)
		}
		return c
	}
	greeter := []pkix.Extension{pluginIDExtension(t, "greeter")}
	td, name, err := identity.Plugin(cert(greeter, "spiffe://corral.test/plugin/greeter"))
	if err != nil || td != "corral.test" || name != "greeter" {
		t.Errorf("pluginIdentity = %q, %q, %v", td, name, err)
	}
	for _, uris := range [][]string{
		nil,
		{"spiffe://corral.test/plugin/a", "spiffe://corral.test/plugin/b"},
		{"spiffe://corral.test/supervisor"},
		{"spiffe://corral.test/plugin/"},
		{"spiffe://corral.test/plugin/a/b"},
		{"spiffe:///plugin/a"},
		{"https://corral.test/plugin/a"},
		{"spiffe://corral.test:1/plugin/a"},
	} {
		if td, name, err := identity.Plugin(cert(greeter, uris...)); err == nil {
			t.Errorf("identity.Plugin(%q) = %q, %q, want an error", uris, td, name)
		}
	}

	critical := pluginIDExtension(t, "greeter")
	critical.Critical = true
	for _, tt := range []struct {
		name string
		exts []pkix.Extension
		want string // in the error
	}{
		{"no extension", nil, "no plugin-ID extension (1.3.6.1.4.1.61734.1.1)"},
		{"only a plugin-scope extension", []pkix.Extension{{Id: contractOID(t, contractPluginScopeOID), Value: scopeDER(t, []string{"greeter"})}},
			"no plugin-ID extension"},
		{"another plugin", []pkix.Extension{pluginIDExtension(t, "kv")}, `names plugin "kv", but its URI SAN names "greeter"`},
		{"empty name", []pkix.Extension{pluginIDExtension(t, "")}, `names plugin "", but`},
		{"critical", []pkix.Extension{critical}, "is critical"},
		{"PrintableString", []pkix.Extension{{Id: idOID, Value: []byte{0x13, 0x07, 'g', 'r', 'e', 'e', 't', 'e', 'r'}}}, "not a UTF8String"},
		{"SEQUENCE OF UTF8String", []pkix.Extension{{Id: idOID, Value: scopeDER(t, []string{"greeter"})}}, "not a UTF8String"},
		{"trailing data", []pkix.Extension{{Id: idOID, Value: append(pluginIDExtension(t, "greeter").Value, 0)}}, "trailing data"},
		{"empty value", []pkix.Extension{{Id: idOID}}, "malformed"},
	} {
		_, _, err := identity.Plugin(cert(tt.exts, "spiffe://corral.test/plugin/greeter"))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "spiffe://corral.test/plugin/greeter") {
			t.Errorf("%s: pluginIdentity = %v, want an error naming the certificate and saying %q", tt.name, err, tt.want)
		}
	}
}
