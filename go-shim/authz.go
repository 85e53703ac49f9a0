package shim

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"time"

	"github.com/corralhq/corral/go-shim/internal/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// A policy decides which peers may call which methods of one plugin
// instance, by the rules of docs/internals.md.
type policy struct {
	trustDomain string          // from the plugin's own certificate
	plugin      string          // the plugin's configured name, from its own certificate
	services    map[string]bool // the author's services, by full name

	// clientHealth lets clients call the grpc.health.v1 health service too,
	// on the same terms as the author's services: so they may on the data
	// socket, which is theirs, but not on the instance socket, which is the
	// supervisor's.
	clientHealth bool
}

// authorize reports whether peer may call fullMethod ("/pkg.Service/Method"),
// as an error with code PermissionDenied naming the peer if not.
//
// The supervisor, spiffe://<td>/supervisor, and administrators,
// spiffe://<td>/admin/<name>, may call any method. A client,
// spiffe://<td>/client/<name>, may call the author's services only (and
// health, if the policy says so), and only if its plugin scope names this
// plugin.
func (p *policy) authorize(peer peerIdentity, fullMethod string) error {
	if rest, ok := strings.CutPrefix(peer.id, "spiffe://"+p.trustDomain+"/"); ok {
		kind, name, _ := strings.Cut(rest, "/")
		switch {
		case rest == "supervisor":
			return nil
		case kind == "admin" && identity.ValidSegment(name):
			return nil
		case kind == "client" && identity.ValidSegment(name) &&
			p.clientMayCall(fullMethod) && slices.Contains(peer.scope, p.plugin):
			return nil
		}
	}
	return status.Errorf(codes.PermissionDenied, "%s may not call %s on plugin %s", peer, fullMethod, p.plugin)
}

// isAuthors reports whether fullMethod belongs to one of the author's
// services, rather than to Control or health.
func (p *policy) isAuthors(fullMethod string) bool {
	return p.services[serviceOf(fullMethod)]
}

// clientMayCall reports whether a client in scope may call fullMethod.
func (p *policy) clientMayCall(fullMethod string) bool {
	return p.isAuthors(fullMethod) ||
		p.clientHealth && serviceOf(fullMethod) == healthpb.Health_ServiceDesc.ServiceName
}

// serviceOf returns the service of a full method name: "pkg.Service" of
// "/pkg.Service/Method".
func serviceOf(fullMethod string) string {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return ""
}

// A guard authorizes every call.
type guard struct {
	policy  *policy
	revoked func(*x509.Certificate) error // if not nil, refuses a revoked certificate
}

// admit authorizes the call of fullMethod on ctx's peer. A certificate
// revoked since its connection was accepted is refused with Unauthenticated
// (its connection is being closed, or will be).
func (g *guard) admit(ctx context.Context, fullMethod string) error {
	cert := peerCertificate(ctx)
	if cert == nil {
		return status.Errorf(codes.PermissionDenied, "no verified client certificate for %s", fullMethod)
	}
	if g.revoked != nil {
		if err := g.revoked(cert); err != nil {
			return status.Errorf(codes.Unauthenticated, "%v (%s)", err, describeCert(cert))
		}
	}
	id, err := identityOf(cert)
	if err != nil {
		return status.Errorf(codes.PermissionDenied, "refused: %v", err)
	}
	if time.Now().After(cert.NotAfter) && heldToExpiry(cert, g.policy.trustDomain) {
		// Unavailable, which clients retry on a new connection: one whose
		// certificate was renewed meanwhile presents the new one there (a
		// connection keeps the certificate it was made with). One that was
		// not is refused at that handshake, saying why.
		return status.Errorf(codes.Unavailable, "the certificate of %s expired at %s; a new connection presents a current one", id, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return g.policy.authorize(id, fullMethod)
}

// heldToExpiry reports whether cert, a verified peer certificate, is held
// to its notAfter on a connection already open. TLS checks the validity at
// the handshake only: without this, a connection opened before its
// certificate ended served on for as long as it stayed open, and a
// revocation of the certificate changed nothing (an expired serial is left
// out of the CRL). The supervisor's own certificate is not held to it: its
// connections move to its renewed certificate (at half its life) when they
// reconnect, and its key never leaves root.
func heldToExpiry(cert *x509.Certificate, trustDomain string) bool {
	return len(cert.URIs) != 1 || cert.URIs[0].String() != "spiffe://"+trustDomain+"/supervisor"
}

func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := g.admit(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := g.admit(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// peerCertificate returns the verified leaf certificate of ctx's peer, or
// nil if it has none.
func peerCertificate(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return info.State.VerifiedChains[0][0]
}
