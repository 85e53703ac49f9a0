// Builds an X.509 v3 TBSCertificate with forge.asn1 and signs it with Node's
// crypto. forge's Certificate.sign signs in pure JS, with RSA keys only: ~77
// ms per signature with a 3072-bit CA key, on the event loop, against ~1 ms
// natively (0.04 ms with the P-256 key Corral's CA now has); issuance is on
// every instance's start path. Building the TBS here also pins what forge
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
  const der = signTbs((algorithm) => certificateTbs(spec, algorithm), issuerKey);
  return { der, pem: toPem(der) };
}

/**
 * signCertificate, with the signature made on libuv's thread pool rather than
 * the event loop: with an RSA-3072 CA key it takes about 1 ms, which
 * everything else the supervisor does would otherwise wait out. For the
 * leaves issued while it runs.
 */
export async function signCertificateOffLoop(spec: CertificateSpec, issuerKey: KeyObject): Promise<SignedCertificate> {
  const algorithm = signatureAlgorithmOf(issuerKey);
  const tbs = certificateTbs(spec, algorithm);
  const der = signedDer(tbs, algorithm, await signOffLoop(algorithm.hash, toDer(tbs), issuerKey));
  return { der, pem: toPem(der) };
}

function certificateTbs(spec: CertificateSpec, algorithm: SignatureAlgorithm): Asn1 {
  return seq([
    explicit(0, smallInteger(2)), // v3
    integer(spec.serial),
    algorithm.identifier(),
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

/** How a CA's key signs: the AlgorithmIdentifier the TBS and the signed structure name, and its hash. */
export interface SignatureAlgorithm {
  identifier(): Asn1;
  hash: "sha256" | "sha384";
}

/**
 * The signature algorithm of a CA key: ECDSA (P-256 with SHA-256, P-384 with
 * SHA-384; the parameters absent, RFC 5758) or RSA PKCS#1 v1.5 with SHA-256
 * (the parameters NULL, RFC 4055). Corral makes P-256 CAs; RSA ones, which
 * it made before, keep working.
 */
export function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === "rsa") return { hash: "sha256", identifier: () => seq([oid(OID.sha256WithRSAEncryption), nul()]) };
  const curve = key.asymmetricKeyType === "ec" ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === "prime256v1") return { hash: "sha256", identifier: () => seq([oid(OID.ecdsaWithSHA256)]) };
  if (curve === "secp384r1") return { hash: "sha384", identifier: () => seq([oid(OID.ecdsaWithSHA384)]) };
  throw new Error(`a CA key must be ECDSA P-256 or P-384, or RSA; this one is ${key.asymmetricKeyType ?? "unknown"}${curve ? ` ${curve}` : ""}`);
}

/**
 * SEQUENCE { tbs, signatureAlgorithm, signature }: the shape of both a
 * Certificate and a CertificateList (CRL), signed natively with the CA's
 * key. `build` makes the TBS, which names the algorithm too.
 */
export function signTbs(build: (algorithm: SignatureAlgorithm) => Asn1, issuerKey: KeyObject): Buffer {
  const algorithm = signatureAlgorithmOf(issuerKey);
  const tbs = build(algorithm);
  return signedDer(tbs, algorithm, sign(algorithm.hash, toDer(tbs), issuerKey));
}

/** ECDSA signatures come DER-encoded (Ecdsa-Sig-Value), as X.509 wants them: Node's default dsaEncoding. */
function signedDer(tbs: Asn1, algorithm: SignatureAlgorithm, signature: Buffer): Buffer {
  return toDer(seq([tbs, algorithm.identifier(), bitString(signature)]));
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
