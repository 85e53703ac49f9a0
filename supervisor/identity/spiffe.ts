// SPIFFE IDs of Corral identities: spiffe://<trust-domain>/<kind>[/<name>].

export type IdentityKind = "plugin" | "supervisor" | "admin" | "client";

/** The single name the supervisor identity carries (its URI has no name segment). */
export const SUPERVISOR_NAME = "supervisor";

/** The admin the supervisor issues a credential for at every start, for root on its host (admin/credentials.ts). */
export const LOCAL_ADMIN = "local-root";

// SPIFFE trust domains are lowercase letters, digits, '.', '-' and '_'; no
// label empty (Go's x509 refuses a URI host with an empty label).
const TRUST_DOMAIN = /^(?=.{1,255}$)[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
// One URI path segment, safe in a file name, a log line and a CN; starting with
// an alphanumeric rules out "." and "..".
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function isTrustDomain(value: string): boolean {
  return TRUST_DOMAIN.test(value);
}

export function isName(value: string): boolean {
  return NAME.test(value);
}

export function assertTrustDomain(value: string): void {
  if (!isTrustDomain(value)) {
    throw new Error(`invalid trust domain ${JSON.stringify(value)}: expected dot-separated labels of [a-z0-9_-], 1-255 characters in all`);
  }
}

export function assertName(value: string, what: string): void {
  if (!isName(value)) {
    throw new Error(
      `invalid ${what} name ${JSON.stringify(value)}: expected 1-63 of [A-Za-z0-9._-], starting with a letter or digit`,
    );
  }
}

export interface SpiffeId {
  trustDomain: string;
  kind: IdentityKind;
  name: string;
}

export function formatSpiffeId(id: SpiffeId): string {
  assertTrustDomain(id.trustDomain);
  if (id.kind === "supervisor") return `spiffe://${id.trustDomain}/supervisor`;
  assertName(id.name, id.kind);
  return `spiffe://${id.trustDomain}/${id.kind}/${id.name}`;
}

/** Parses exactly the four Corral forms; anything else (extra segments, query, port...) is undefined. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)\/(plugin|admin|client|supervisor)(?:\/([^/]+))?$/.exec(uri);
  if (!m) return undefined;
  const [, trustDomain = "", kind = "", name] = m;
  if (!isTrustDomain(trustDomain)) return undefined;
  if (kind === "supervisor") {
    return name === undefined ? { trustDomain, kind, name: SUPERVISOR_NAME } : undefined;
  }
  if (name === undefined || !isName(name)) return undefined;
  return { trustDomain, kind: kind as IdentityKind, name };
}
