// Builds an X.509 v3 TBSCertificate with forge.asn1 and signs it with Node's
// crypto. forge's Certificate.sign signs in pure JS: ~77 ms per signature with
// the 3072-bit CA key, on the event loop, against ~1 ms natively; issuance is
// on every instance's start path. Building the TBS here also pins what forge
// would not: a DER-minimal serial and the CA's subject bytes as the issuer.

import { createHash, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import {
  bitString,
  boolean,
  explicit,
  fromDer,
  implicitPrimitive,
  integer,
  nul,
  octets,
  oid,
  seq,
  set,
  smallInteger,
  time,
  toDer,
  utf8,
  children,
  bytes,
  type Asn1,
} from "./der.ts";
import { OID, PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "./oids.ts";

export interface Extension {
  oid: string;
  critical: boolean;
  /** DER of the extension's value (the content of extnValue). */
  value: Buffer;
}

export interface CertificateSpec {
  /** Content octets of the serial INTEGER (see serial.ts). */
  serial: Buffer;
  /** DER Name of the issuer: the CA's subject, byte for byte (Go matches issuers by raw bytes). */
  issuer: Buffer;
  /** DER Name of the subject. */
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo of the subject's key. */
  spki: Buffer;
  extensions: Extension[];
}

export interface SignedCertificate {
  der: Buffer;
  pem: string;
}

export function signCertificate(spec: CertificateSpec, issuerKey: KeyObject): SignedCertificate {
  const der = signTbs(certificateTbs(spec), issuerKey);
  return { der, pem: toPem(der) };
}

/**
 * signCertificate, with the signature made on libuv's thread pool rather than
 * the event loop: with the CA's RSA-3072 key it takes about 1.25 ms, which
 * everything else the supervisor does would otherwise wait out. For the
 * leaves issued while it runs.
 */
export async function signCertificateOffLoop(spec: CertificateSpec, issuerKey: KeyObject): Promise<SignedCertificate> {
  const tbs = certificateTbs(spec);
  const der = signedDer(tbs, await signOffLoop("sha256", toDer(tbs), issuerKey));
  return { der, pem: toPem(der) };
}

function certificateTbs(spec: CertificateSpec): Asn1 {
  return seq([
    explicit(0, smallInteger(2)), // v3
    integer(spec.serial),
    sha256WithRsa(),
    fromDer(spec.issuer),
    seq([time(spec.notBefore), time(spec.notAfter)]),
    fromDer(spec.subject),
    fromDer(spec.spki),
    explicit(3, encodeExtensions(spec.extensions)),
  ]);
}

/** Extensions ::= SEQUENCE OF Extension; critical DEFAULT FALSE is omitted when false (DER). */
export function encodeExtensions(extensions: readonly Extension[]): Asn1 {
  return seq(extensions.map((e) => seq([oid(e.oid), ...(e.critical ? [boolean(true)] : []), octets(e.value)])));
}

/** The signature algorithm a TBS structure must name for signTbs. */
export const sha256WithRsa = (): Asn1 => seq([oid(OID.sha256WithRSAEncryption), nul()]);

/**
 * SEQUENCE { tbs, sha256WithRSAEncryption, signature }: the shape of both a
 * Certificate and a CertificateList (CRL), signed natively with the CA's key.
 */
export function signTbs(tbs: Asn1, issuerKey: KeyObject): Buffer {
  return signedDer(tbs, sign("sha256", toDer(tbs), issuerKey));
}

function signedDer(tbs: Asn1, signature: Buffer): Buffer {
  return toDer(seq([tbs, sha256WithRsa(), bitString(signature)]));
}

const signOffLoop = promisify(sign);

/** Certificate times have whole seconds; round here so callers report what the certificate says. */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

export function toPem(der: Buffer, label: "CERTIFICATE" | "X509 CRL" = "CERTIFICATE"): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" });
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const subjectPublicKey = children(fromDer(spki))[1];
  if (!subjectPublicKey) throw new Error("malformed SubjectPublicKeyInfo");
  return createHash("sha1").update(bytes(subjectPublicKey).subarray(1)).digest();
}

/** A Name of single-valued RDNs, values as UTF8String (RFC 5280 4.1.2.4). */
export function encodeName(rdns: ReadonlyArray<readonly [attributeOid: string, value: string]>): Buffer {
  return toDer(seq(rdns.map(([type, value]) => set([seq([oid(type), utf8(value)])]))));
}

// --- extensions -----------------------------------------------------------

const KEY_USAGE_BITS = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/** DER named bit list: trailing zero bits are dropped (X.690 11.2.2). */
function namedBits(indices: number[]): Asn1 {
  const highest = Math.max(...indices);
  const out = Buffer.alloc((highest >> 3) + 1);
  for (const i of indices) out[i >> 3] = out[i >> 3]! | (0x80 >> (i & 7));
  return bitString(out, 7 - (highest & 7));
}

export function basicConstraints(ca: boolean, pathLen?: number): Extension {
  // cA DEFAULT FALSE must be omitted when false (DER).
  const fields = ca ? [boolean(true), ...(pathLen === undefined ? [] : [smallInteger(pathLen)])] : [];
  return { oid: OID.basicConstraints, critical: true, value: toDer(seq(fields)) };
}

export function keyUsage(usages: KeyUsage[]): Extension {
  return { oid: OID.keyUsage, critical: true, value: toDer(namedBits(usages.map((u) => KEY_USAGE_BITS[u]))) };
}

export function extKeyUsage(purposes: Array<"serverAuth" | "clientAuth">): Extension {
  return { oid: OID.extKeyUsage, critical: false, value: toDer(seq(purposes.map((p) => oid(OID[p])))) };
}

export function subjectAltName(uri: string, dnsNames: string[] = []): Extension {
  const names = [
    implicitPrimitive(6, Buffer.from(uri, "ascii")), // uniformResourceIdentifier
    ...dnsNames.map((d) => implicitPrimitive(2, Buffer.from(d, "ascii"))), // dNSName
  ];
  return { oid: OID.subjectAltName, critical: false, value: toDer(seq(names)) };
}

export function subjectKeyIdentifier(id: Buffer): Extension {
  return { oid: OID.subjectKeyIdentifier, critical: false, value: toDer(octets(id)) };
}

export function authorityKeyIdentifier(id: Buffer): Extension {
  return { oid: OID.authorityKeyIdentifier, critical: false, value: toDer(seq([implicitPrimitive(0, id)])) };
}

export function pluginIdExtension(plugin: string): Extension {
  return { oid: PLUGIN_ID_OID, critical: false, value: toDer(utf8(plugin)) };
}

export function pluginScopeExtension(plugins: string[]): Extension {
  return { oid: PLUGIN_SCOPE_OID, critical: false, value: toDer(seq(plugins.map(utf8))) };
}
