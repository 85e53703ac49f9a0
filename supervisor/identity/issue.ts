import type { CertificateAuthority } from "./ca.ts";
import {
  authorityKeyIdentifier,
  basicConstraints,
  encodeName,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  pluginIdExtension,
  pluginScopeExtension,
  signCertificateOffLoop,
  spkiDer,
  subjectAltName,
  subjectKeyIdentifier,
  wholeSeconds,
  type Extension,
} from "./certificate.ts";
import { parsePeerIdentity } from "./identity.ts";
import { freshKeys, type KeySource } from "./keys.ts";
import { OID } from "./oids.ts";
import type { IssuanceRecorder } from "./registry.ts";
import { newSerial, type RandomSource } from "./serial.ts";
import { assertName, formatSpiffeId, type SpiffeId } from "./spiffe.ts";

export interface LeafOptions {
  trustDomain: string;
  ttlMs: number;
  /** Where the leaf's fresh key (ECDSA P-256) comes from (default: generated now); tests inject their own. */
  keys?: KeySource;
  random?: RandomSource;
  now?: () => number;
  /**
   * Records the leaf (openRegistry) before it is returned, and refuses an
   * identity that was revoked; without it nothing is recorded.
   */
  registry?: IssuanceRecorder;
}

export interface PluginLeafOptions extends LeafOptions {
  plugin: string;
}

export interface IssuedLeaf {
  certPem: string;
  /** PKCS#8 PEM, unencrypted. */
  keyPem: string;
  /** Uppercase hex, as `openssl x509 -serial` and Node's PeerCertificate.serialNumber print it. */
  serialHex: string;
  uri: string;
  notBefore: Date;
  notAfter: Date;
}

const CLOCK_SKEW_MS = 60_000;

export async function issuePluginLeaf(ca: CertificateAuthority, options: PluginLeafOptions): Promise<IssuedLeaf> {
  return issue(ca, options, { trustDomain: options.trustDomain, kind: "plugin", name: options.plugin }, ["serverAuth", "clientAuth"], [
    pluginIdExtension(options.plugin),
  ], ["localhost"]);
}

export async function issueSupervisorLeaf(ca: CertificateAuthority, options: LeafOptions): Promise<IssuedLeaf> {
  return issue(ca, options, { trustDomain: options.trustDomain, kind: "supervisor", name: "supervisor" }, ["serverAuth", "clientAuth"]);
}

export async function issueAdminLeaf(ca: CertificateAuthority, options: LeafOptions, name: string): Promise<IssuedLeaf> {
  return issue(ca, options, { trustDomain: options.trustDomain, kind: "admin", name }, ["clientAuth"]);
}

/** A host application's leaf, allowed to call the services of `plugins` (the plugin-scope extension). */
export async function issueClientLeaf(ca: CertificateAuthority, options: LeafOptions, name: string, plugins: readonly string[]): Promise<IssuedLeaf> {
  for (const plugin of plugins) assertName(plugin, "plugin");
  const scope = [...new Set(plugins)];
  return issue(ca, options, { trustDomain: options.trustDomain, kind: "client", name }, ["clientAuth"], [pluginScopeExtension(scope)], [], scope);
}

async function issue(
  ca: CertificateAuthority,
  options: LeafOptions,
  id: SpiffeId,
  purposes: Array<"serverAuth" | "clientAuth">,
  extra: Extension[] = [],
  dnsNames: string[] = [],
  /** A client's plugin scope, for the registry's record. */
  scope?: string[],
): Promise<IssuedLeaf> {
  const uri = formatSpiffeId(id); // validates trust domain and name
  if (options.trustDomain !== ca.trustDomain) {
    throw new Error(`cannot issue for trust domain ${options.trustDomain}: the CA is for ${ca.trustDomain}`);
  }
  if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) throw new Error(`invalid leaf ttlMs ${options.ttlMs}`);
  const now = options.now?.() ?? Date.now();
  const notBefore = wholeSeconds(now - CLOCK_SKEW_MS);
  // No leaf outlives its CA: near the CA's end, leaves are shorter (and
  // renewed sooner), not refused, which would stop every start at once.
  if (ca.notAfter.getTime() <= now) throw new Error(`the CA expired at ${ca.notAfter.toISOString()}: no certificate can be issued`);
  const notAfter = new Date(Math.min(wholeSeconds(now + options.ttlMs).getTime(), ca.notAfter.getTime()));
  options.registry?.assertMayIssue(uri); // before spending a key and a signature
  const serial = newSerial(options.random);

  const key = await (options.keys ?? freshKeys).take();
  const spki = spkiDer(key.publicKey);
  const { pem } = await signCertificateOffLoop(
    {
      serial: serial.content,
      issuer: ca.subject,
      // Informational only: identity is the URI SAN, never the subject.
      subject: encodeName([
        [OID.organizationName, "Corral"],
        [OID.organizationalUnitName, id.kind],
        [OID.commonName, id.name],
      ]),
      notBefore,
      notAfter,
      spki,
      extensions: [
        basicConstraints(false),
        keyUsage(["digitalSignature"]), // ECDSA keys sign; they never encipher
        extKeyUsage(purposes),
        subjectAltName(uri, dnsNames),
        subjectKeyIdentifier(keyIdentifier(spki)),
        authorityKeyIdentifier(ca.keyId),
        ...extra,
      ],
    },
    ca.privateKey,
  );
  // Read once here, where nothing waits: the reads that something waits for
  // (the supervisor's check of a plugin it starts) find it read already
  // (parsePeerIdentity remembers what it read). It is also a check that
  // what was issued reads as the identity it was issued for.
  if (parsePeerIdentity(pem).uri !== uri) throw new Error(`issued a certificate that does not read as ${uri}`);
  await options.registry?.recordIssued({
    serialHex: serial.hex,
    uri,
    kind: id.kind,
    name: id.name,
    ...(scope ? { plugins: scope } : {}),
    notBefore,
    notAfter,
    issuedAt: new Date(now),
  });
  return {
    certPem: pem,
    keyPem: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    serialHex: serial.hex,
    uri,
    notBefore,
    notAfter,
  };
}
