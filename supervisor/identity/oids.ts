// Object identifiers of the identity contract (docs/internals.md, "Identities").
//
// The plugin OIDs live under a private-enterprise arc (1.3.6.1.4.1.61734.1).
// A UUID arc (2.25.<128-bit>) was the first choice, but Go's crypto/x509
// refuses certificates whose extension OIDs have arcs above 2^31-1, and every
// plugin is Go. Encoding is done with BigInt all the same, so parsing a peer
// certificate with any OID is safe.

export const PLUGIN_ID_OID = "1.3.6.1.4.1.61734.1.1";
export const PLUGIN_SCOPE_OID = "1.3.6.1.4.1.61734.1.2";

export const OID = {
  commonName: "2.5.4.3",
  organizationName: "2.5.4.10",
  organizationalUnitName: "2.5.4.11",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLNumber: "2.5.29.20",
  cRLReason: "2.5.29.21",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

const ARC = /^(0|[1-9][0-9]*)$/;

/** Content octets (no tag, no length) of the DER encoding of a dotted OID. */
export function encodeOid(dotted: string): Buffer {
  const parts = dotted.split(".");
  if (parts.length < 2 || !parts.every((p) => ARC.test(p))) {
    throw new Error(`invalid OID "${dotted}"`);
  }
  const arcs = parts.map((p) => BigInt(p));
  const [first, second] = arcs as [bigint, bigint];
  if (first > 2n || (first < 2n && second > 39n)) {
    throw new Error(`invalid OID "${dotted}": first arcs out of range`);
  }
  const out: number[] = [];
  for (const sub of [first * 40n + second, ...arcs.slice(2)]) {
    const bytes: number[] = [];
    let v = sub;
    do {
      bytes.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < bytes.length - 1; i++) bytes[i] = bytes[i]! | 0x80;
    out.push(...bytes);
  }
  return Buffer.from(out);
}

/** Dotted form of DER OID content octets; throws on a malformed encoding. */
export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new Error("empty OID");
  const subs: bigint[] = [];
  let v = 0n;
  let start = true;
  for (const b of content) {
    // X.690 8.19.2: a subidentifier never starts with 0x80 (non-minimal).
    if (start && b === 0x80) throw new Error("non-minimal OID encoding");
    v = (v << 7n) | BigInt(b & 0x7f);
    start = (b & 0x80) === 0;
    if (start) {
      subs.push(v);
      v = 0n;
    }
  }
  if (!start) throw new Error("truncated OID");
  const head = subs[0]!;
  const firstTwo = head < 80n ? [head / 40n, head % 40n] : [2n, head - 80n];
  return [...firstTwo, ...subs.slice(1)].map(String).join(".");
}
