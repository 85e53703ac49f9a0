// Operator-provided certificates: a plugin that ships with a certificate from
// Corral's CA instead of getting a fresh leaf per instance. Checked when the
// plugin is loaded, so a bad one is refused then, with the rule it broke,
// rather than failing handshakes later with whatever TLS says.

import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { IdentityError, type IdentityRule } from "./errors.ts";
import { verifyPluginIdentity, type PeerIdentity } from "./identity.ts";
import { OID, PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "./oids.ts";
import { normalizeSerialHex } from "./serial.ts";
import { bytes, fromDer, isUniversal, Type } from "./der.ts";
import { decodeCertificate } from "./x509.ts";

export interface OperatorCertificate {
  certPem: string;
  keyPem: string;
  /** Where they were read from, to name them in errors. */
  certPath?: string;
  keyPath?: string;
}

export interface OperatorCheckOptions {
  /** Corral's CA; the certificate must be signed by it directly. */
  ca: { readonly certPem: string };
  trustDomain: string;
  /** The plugin the certificate is configured for. */
  plugin: string;
  /** Validity that must be left at the check, default 7 days. */
  minValidityMs?: number;
  now?: () => number;
  /** When given, a revoked serial or identity is refused too (a CertificateRegistry is one). */
  revocations?: { checkNotRevoked(peer: { readonly serialHex: string; readonly uri: string }): void };
}

export const DEFAULT_MIN_VALIDITY_MS = 7 * 24 * 3600 * 1000;

/** Extensions whose meaning Corral or TLS applies; a critical extension not here is refused (RFC 5280 4.2). */
const UNDERSTOOD = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  PLUGIN_ID_OID,
  PLUGIN_SCOPE_OID,
]);

/**
 * Checks an operator-provided certificate and key for `options.plugin`; returns
 * its identity, or throws an IdentityError whose `rule` names the first rule
 * broken and whose message names the certificate and the values involved.
 */
export function checkOperatorCertificate(cert: OperatorCertificate, options: OperatorCheckOptions): PeerIdentity {
  const now = options.now?.() ?? Date.now();
  const minValidityMs = options.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
  const named = cert.certPath ?? `the certificate configured for plugin ${options.plugin}`;

  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert.certPem);
  } catch (error) {
    throw new IdentityError("malformed-certificate", `${named} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const serial = normalizeSerialHex(x509.serialNumber) ?? x509.serialNumber;
  const label = `${named} (serial ${serial})`;
  // Typed explicitly so that the compiler knows a call ends the path.
  const fail: (rule: IdentityRule, message: string, cause?: unknown) => never = (rule, message, cause) => {
    throw new IdentityError(rule, `${label}: ${message}`, cause === undefined ? undefined : { cause });
  };

  let ca: X509Certificate;
  try {
    ca = new X509Certificate(options.ca.certPem);
  } catch (error) {
    throw new Error(`cannot read the CA certificate: ${(error as Error).message}`, { cause: error });
  }
  if (!x509.checkIssued(ca)) {
    // checkIssued also compares the authority key identifier with the CA's:
    // the same name with another key is another CA (of another state directory, say).
    fail(
      "chain",
      x509.issuer === ca.subject
        ? `issued by another CA of the same name (${oneLine(ca.subject)}): its authority key identifier is not Corral's CA's`
        : `issued by ${oneLine(x509.issuer)}, not by Corral's CA (${oneLine(ca.subject)})`,
    );
  }
  if (!x509.verify(ca.publicKey)) {
    fail("chain", `names Corral's CA (${oneLine(ca.subject)}) as its issuer, but its signature does not verify with the CA's key: another CA of the same name signed it`);
  }
  if (x509.ca) fail("ca-certificate", "is a CA certificate (basicConstraints CA:TRUE), not a plugin's leaf");

  let decoded: ReturnType<typeof decodeCertificate>;
  try {
    decoded = decodeCertificate(x509.raw);
  } catch (error) {
    fail("malformed-certificate", `cannot be decoded: ${(error as Error).message}`, error);
  }
  const unknown = decoded.extensions.filter((e) => e.critical && !UNDERSTOOD.has(e.oid)).map((e) => e.oid);
  if (unknown.length > 0) fail("unknown-critical-extension", `has critical extension ${unknown.join(", ")}, which Corral does not understand`);

  let identity: PeerIdentity;
  try {
    identity = verifyPluginIdentity(x509.raw, { trustDomain: options.trustDomain, plugin: options.plugin });
  } catch (error) {
    if (error instanceof IdentityError) fail(error.rule, error.detail, error);
    throw error;
  }

  // Node's keyUsage is the extendedKeyUsage OIDs; undefined when the extension is absent (any use).
  const purposes = x509.keyUsage;
  if (purposes !== undefined && !purposes.includes(OID.serverAuth)) {
    fail("extended-key-usage", `its extended key usage (${purposes.join(", ")}) does not allow TLS server authentication (${OID.serverAuth}), which a plugin serves with`);
  }

  // A TLS 1.3 server signs its handshake with the certificate's key: a key
  // usage that leaves out digitalSignature (cRLSign only, say) passed here
  // and failed every Control handshake, the plugin restarted in a loop.
  const usage = decoded.extensions.find((e) => e.oid === OID.keyUsage);
  if (usage && !allowsDigitalSignature(usage.value)) {
    fail("key-usage", "its key usage does not include digitalSignature, with which a TLS 1.3 server signs its handshake");
  }

  let key: KeyObject;
  try {
    key = createPrivateKey(cert.keyPem);
  } catch (error) {
    fail("key-malformed", `its key${cert.keyPath ? ` ${cert.keyPath}` : ""} cannot be read: ${(error as Error).message}`, error);
  }
  if (!x509.checkPrivateKey(key)) {
    fail("key-mismatch", `does not match the ${key.asymmetricKeyType ?? ""} key${cert.keyPath ? ` ${cert.keyPath}` : ""} given with it: that key belongs to another certificate`);
  }

  const notBefore = x509.validFromDate.getTime();
  const notAfter = x509.validToDate.getTime();
  const at = new Date(now).toISOString();
  if (now < notBefore) fail("not-yet-valid", `is not valid before ${x509.validFromDate.toISOString()}, ${duration(notBefore - now)} after now (${at})`);
  if (now >= notAfter) fail("expired", `expired at ${x509.validToDate.toISOString()}, ${duration(now - notAfter)} before now (${at})`);
  if (notAfter - now < minValidityMs) {
    fail(
      "min-validity",
      `expires at ${x509.validToDate.toISOString()}, in ${duration(notAfter - now)}; at least ${duration(minValidityMs)} of validity must be left: renew it`,
    );
  }

  if (options.revocations) {
    try {
      options.revocations.checkNotRevoked(identity);
    } catch (error) {
      if (error instanceof IdentityError) fail(error.rule, error.detail, error);
      throw error;
    }
  }
  return identity;
}

/** Node prints names one attribute a line. */
function oneLine(name: string): string {
  return name.trim().replaceAll("\n", ", ");
}

/** "6d 23h", "3h 5m", "42s": enough to see how far off a date is. */
export function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** Whether a keyUsage extension's value (a DER BIT STRING) has digitalSignature, its bit 0. */
function allowsDigitalSignature(der: Buffer): boolean {
  try {
    const bits = fromDer(der);
    if (!isUniversal(bits, Type.BITSTRING)) return false;
    const content = bytes(bits); // unused bits, then the bits from bit 0 on
    return content.length > 1 && (content[1]! & 0x80) !== 0;
  } catch {
    return false;
  }
}
