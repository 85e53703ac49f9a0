import { credentials, type ChannelCredentials } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import { parsePeerIdentity, verifyPluginIdentity, type ExpectedPlugin, type PeerIdentity } from "./identity.ts";
import { IdentityError } from "./errors.ts";

/** The callback Node's TLS and @grpc/grpc-js call after the chain is verified; an Error refuses the peer. */
export type CheckServerIdentity = (hostname: string, cert: PeerCertificate) => Error | undefined;

/**
 * Accepts a server only if its certificate identifies `expected.plugin`, and
 * `alsoCheck` (given the identity read, e.g. to refuse a revoked one) does
 * not throw. The hostname is ignored on purpose: over a Unix socket it is a
 * placeholder, and the identity is the URI SAN and plugin-ID extension.
 */
export function pluginServerIdentity(expected: ExpectedPlugin, alsoCheck: (peer: PeerIdentity) => void = () => {}): CheckServerIdentity {
  return (_hostname, cert) => check(cert, (raw) => alsoCheck(verifyPluginIdentity(raw, expected)));
}

/** Accepts a server only if it is the supervisor of `trustDomain`. */
export function supervisorServerIdentity(trustDomain: string): CheckServerIdentity {
  return (_hostname, cert) =>
    check(cert, (raw) => {
      const id = parsePeerIdentity(raw);
      if (id.trustDomain !== trustDomain) {
        throw new IdentityError("trust-domain", `the certificate is for trust domain ${id.trustDomain}, expected ${trustDomain}`);
      }
      if (id.kind !== "supervisor") throw new IdentityError("kind", `the certificate identifies a ${id.kind} (${id.uri}), expected the supervisor`);
    });
}

function check(cert: PeerCertificate, verify: (raw: Buffer) => void): Error | undefined {
  if (!cert?.raw) return new IdentityError("malformed-certificate", "the server presented no certificate");
  try {
    verify(cert.raw);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * mTLS channel credentials: trust only Corral's CA, present `leaf`, and accept
 * the server only if it is the plugin `expectPlugin` or, without it, the
 * supervisor. The trust domain is the one of `leaf` itself (as go-shim takes
 * its own), so a leaf of another trust domain cannot be paired by mistake.
 */
export function clientCredentials(
  ca: { readonly certPem: string },
  leaf: { readonly certPem: string; readonly keyPem: string },
  expectPlugin?: string,
): ChannelCredentials {
  const { trustDomain } = parsePeerIdentity(leaf.certPem);
  const checkServerIdentity =
    expectPlugin === undefined ? supervisorServerIdentity(trustDomain) : pluginServerIdentity({ trustDomain, plugin: expectPlugin });
  return credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(leaf.keyPem), Buffer.from(leaf.certPem), { checkServerIdentity });
}
