// Who may call a plugin, as go-shim decides it on the plugin's own socket
// (go-shim/authz.go): the supervisor and administrators; a client whose
// certificate's plugin scope names the plugin; no one with a revoked
// certificate. The refusal server applies it too, so that while the plugin
// is down a caller learns what it would learn while the plugin is up: not
// "unavailable, try again" for a call it may never make.
import { parsePeerIdentity } from "../identity/identity.ts";

/** gRPC status codes of the refusals. */
export const PERMISSION_DENIED = 7;
export const UNAUTHENTICATED = 16;

export interface CallerRefusal {
  code: typeof PERMISSION_DENIED | typeof UNAUTHENTICATED;
  message: string;
}

export interface CallerPolicy {
  plugin: string;
  trustDomain: string;
  isRevoked: (serialHex: string) => boolean;
}

/** A caller's refusal for `method` ("/pkg.Service/Method"), from its certificate (DER); undefined if it may call. */
export function refuseCaller(policy: CallerPolicy, certificate: Buffer | undefined, method: string): CallerRefusal | undefined {
  if (!certificate || certificate.length === 0) return { code: UNAUTHENTICATED, message: "no client certificate" };
  let identity;
  try {
    identity = parsePeerIdentity(certificate);
  } catch (err) {
    return { code: PERMISSION_DENIED, message: `the client certificate carries no Corral identity: ${(err as Error).message}` };
  }
  if (policy.isRevoked(identity.serialHex)) return { code: UNAUTHENTICATED, message: `certificate ${identity.serialHex} of ${identity.uri} is revoked` };
  if (identity.trustDomain === policy.trustDomain) {
    if (identity.kind === "supervisor" || identity.kind === "admin") return undefined;
    if (identity.kind === "client" && identity.scope?.includes(policy.plugin)) return undefined;
  }
  return { code: PERMISSION_DENIED, message: `${identity.uri} may not call ${method} on plugin ${policy.plugin}` };
}
