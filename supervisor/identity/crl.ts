// X.509 v2 CRLs (RFC 5280 section 5), built with the same DER helpers and
// native signing as certificates. node-forge cannot produce CRLs; the npm
// libraries that can (@peculiar/x509, pkijs) would bring a second ASN.1 stack
// and WebCrypto signing for one structure of a dozen fields, and could not
// share what certificate.ts pins: the CA's subject bytes as the issuer and
// DER-minimal serials.

import { verify, type KeyObject, type X509Certificate } from "node:crypto";
import { authorityKeyIdentifier, encodeExtensions, signTbs, toPem, wholeSeconds, type Extension, type SignatureAlgorithm } from "./certificate.ts";
import {
  bytes,
  children,
  enumerated,
  explicit,
  fromDer,
  integer,
  isContext,
  isUniversal,
  readOid,
  readTime,
  seq,
  smallInteger,
  time,
  toDer,
  Type,
  unsignedInteger,
  unsignedIntegerContent,
  type Asn1,
} from "./der.ts";
import { OID } from "./oids.ts";
import { normalizeSerialHex, serialContent, serialHex } from "./serial.ts";

/**
 * CRLReason codes (RFC 5280 5.3.1) Corral uses. Left out: certificateHold and
 * removeFromCRL (a revoked serial is never reinstated; no delta CRLs) and
 * aACompromise (attribute certificates).
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** The reason named by `text` ("keyCompromise", "key-compromise", "KEY_COMPROMISE"...), or undefined. */
export function parseRevocationReason(text: string): RevocationReason | undefined {
  const key = text.replace(/[-_\s]/g, "").toLowerCase();
  return (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find((r) => r.toLowerCase() === key);
}

export interface CrlEntry {
  /** serialHex form (serial.ts); other spellings are normalized. */
  serialHex: string;
  revocationDate: Date;
  reason?: RevocationReason;
}

export interface CrlSpec {
  /** cRLNumber: must grow with every CRL the CA publishes (RFC 5280 5.2.3). */
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: readonly CrlEntry[];
}

/** What signing a CRL needs of the CA (a CertificateAuthority is one). */
export interface CrlIssuer {
  /** DER Name of the CA, copied verbatim as the CRL's issuer. */
  readonly subject: Buffer;
  readonly keyId: Buffer;
  readonly privateKey: KeyObject;
}

export interface SignedCrl {
  der: Buffer;
  /** PEM "X509 CRL", as `openssl crl` reads it. */
  pem: string;
}

export function signCrl(issuer: CrlIssuer, spec: CrlSpec): SignedCrl {
  const thisUpdate = wholeSeconds(spec.thisUpdate.getTime());
  const nextUpdate = wholeSeconds(spec.nextUpdate.getTime());
  if (!(nextUpdate > thisUpdate)) {
    throw new Error(`CRL nextUpdate ${nextUpdate.toISOString()} is not after thisUpdate ${thisUpdate.toISOString()}`);
  }
  // RFC 5280 5.2.3: a conforming cRLNumber fits 20 octets.
  if (spec.number < 0n || unsignedIntegerContent(spec.number).length > 20) throw new Error(`invalid cRLNumber ${spec.number}`);

  const entries = normalizedEntries(spec.entries);
  const tbs = (algorithm: SignatureAlgorithm) =>
    seq([
      smallInteger(1), // v2: required once there are extensions
      algorithm.identifier(),
      fromDer(issuer.subject),
      time(thisUpdate),
      time(nextUpdate),
      // RFC 5280 5.1.2.6: absent, not empty, when nothing is revoked.
      ...(entries.length > 0 ? [seq(entries.map(encodeEntry))] : []),
      explicit(0, encodeExtensions([authorityKeyIdentifier(issuer.keyId), crlNumber(spec.number)])),
    ]);
  const der = signTbs(tbs, issuer.privateKey);
  return { der, pem: toPem(der, "X509 CRL") };
}

function normalizedEntries(entries: readonly CrlEntry[]): CrlEntry[] {
  const seen = new Set<string>();
  const out: CrlEntry[] = [];
  for (const entry of entries) {
    const serialHex = normalizeSerialHex(entry.serialHex);
    if (serialHex === undefined) throw new Error(`invalid serial ${JSON.stringify(entry.serialHex)} in CRL entries`);
    if (seen.has(serialHex)) throw new Error(`serial ${serialHex} appears twice in CRL entries`);
    seen.add(serialHex);
    if (entry.reason !== undefined && !(entry.reason in REVOCATION_REASONS)) {
      throw new Error(`invalid revocation reason ${JSON.stringify(entry.reason)} for serial ${serialHex}`);
    }
    out.push({ ...entry, serialHex });
  }
  // Sorted so that the same state always yields the same CRL body.
  return out.sort((a, b) => (a.serialHex.length - b.serialHex.length) || (a.serialHex < b.serialHex ? -1 : a.serialHex > b.serialHex ? 1 : 0));
}

function encodeEntry(entry: CrlEntry): Asn1 {
  // RFC 5280 5.3.1: reasonCode unspecified SHOULD be absent.
  const extensions = entry.reason && entry.reason !== "unspecified" ? [reasonCode(entry.reason)] : [];
  return seq([
    integer(serialContent(entry.serialHex)),
    time(wholeSeconds(entry.revocationDate.getTime())),
    ...(extensions.length > 0 ? [encodeExtensions(extensions)] : []),
  ]);
}

function crlNumber(n: bigint): Extension {
  return { oid: OID.cRLNumber, critical: false, value: toDer(unsignedInteger(n)) };
}

function reasonCode(reason: RevocationReason): Extension {
  return { oid: OID.cRLReason, critical: false, value: toDer(enumerated(REVOCATION_REASONS[reason])) };
}

/** A CRL as read back: what a relying party enforces. */
export interface ReadCrl {
  /** The revoked serials, in serialHex form. */
  serials: ReadonlySet<string>;
  /** cRLNumber, if the CRL has one. */
  number?: bigint;
  thisUpdate: Date;
  /** The SHA-256 fingerprint of the CA certificate whose key signed it. */
  signer: string;
}

/**
 * Why `next` may not take the place of `inForce`, or undefined if it may: a
 * list of the same CA with a lower cRLNumber is an older one (served again,
 * by mistake or to lift a revocation made since). Lists of another CA (after
 * a CA change) or without numbers are not compared.
 */
export function olderThanInForce(next: ReadCrl, inForce: ReadCrl | undefined): string | undefined {
  if (!inForce || inForce.number === undefined || next.number === undefined || next.signer !== inForce.signer) return undefined;
  return next.number < inForce.number ? `it is number ${next.number}, older than the list in force (number ${inForce.number})` : undefined;
}

/** The signature algorithms a CRL may be read with, and their hashes. */
const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption, what Corral's CAs signed with before P-256
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256, what Corral's CA signs with
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

/**
 * Reads a CRL (one PEM "X509 CRL" block, or DER) and verifies its signature
 * with the key of one of `cas`. Throws saying what is wrong.
 */
export function readCrl(data: Buffer | string, cas: readonly X509Certificate[]): ReadCrl {
  const der = typeof data === "string" || data.subarray(0, 5).toString() === "-----" ? pemCrl(data.toString()) : data;
  let root: Asn1;
  try {
    root = fromDer(der);
  } catch (err) {
    throw new Error(`not a DER CRL: ${(err as Error).message}`);
  }
  const [tbs, algorithm, signature] = children(root);
  if (!tbs || !algorithm || !isUniversal(signature, Type.BITSTRING)) throw new Error("not a CRL: expected tbsCertList, signatureAlgorithm and signatureValue");
  const oid = readOid(children(algorithm)[0]!);
  const hash = SIGNATURE_HASHES[oid];
  if (hash === undefined) throw new Error(`unsupported signature algorithm ${oid}`);
  const fields = children(tbs);
  let i = isUniversal(fields[0], Type.INTEGER) ? 1 : 0; // version (v2)
  if (!fields[i] || !toDer(fields[i]!).equals(toDer(algorithm))) throw new Error("the CRL's two signature algorithms differ");
  i += 2; // signature, issuer
  const signed = toDer(tbs);
  const signatureBytes = bytes(signature).subarray(1); // after the count of unused bits
  const signer = cas.find((ca) => verify(hash, signed, ca.publicKey, signatureBytes));
  if (!signer) throw new Error("the CRL is not signed by the CA");
  const thisUpdate = readTime(fields[i++]!);
  if (fields[i] && (isUniversal(fields[i], Type.UTCTIME) || isUniversal(fields[i], Type.GENERALIZEDTIME))) i++; // nextUpdate
  const serials = new Set<string>();
  if (isUniversal(fields[i], Type.SEQUENCE)) {
    for (const entry of children(fields[i++]!)) serials.add(serialHex(bytes(children(entry)[0]!)));
  }
  const read: ReadCrl = { serials, thisUpdate, signer: signer.fingerprint256 };
  if (isContext(fields[i], 0)) {
    for (const extension of children(children(fields[i]!)[0]!)) {
      const [id, ...rest] = children(extension);
      if (readOid(id!) === OID.cRLNumber) read.number = BigInt(`0x${bytes(fromDer(bytes(rest[rest.length - 1]!))).toString("hex") || "0"}`);
    }
  }
  return read;
}

function pemCrl(text: string): Buffer {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (blocks.length !== 1 || blocks[0]![1] !== "X509 CRL") throw new Error("expected one PEM block of type X509 CRL");
  return Buffer.from(blocks[0]![2]!.replace(/\s+/g, ""), "base64");
}
