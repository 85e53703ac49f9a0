// Small DER builders and readers on top of node-forge's asn1, working in
// Buffers at the edges (forge itself uses binary strings).

import forge from "node-forge";
import { decodeOid, encodeOid } from "./oids.ts";

export type Asn1 = forge.asn1.Asn1;

const { asn1 } = forge;
const UNIVERSAL = asn1.Class.UNIVERSAL;
const CONTEXT = asn1.Class.CONTEXT_SPECIFIC;
const T = asn1.Type;

const bin = (b: Buffer): string => b.toString("binary");

export const seq = (items: Asn1[]): Asn1 => asn1.create(UNIVERSAL, T.SEQUENCE, true, items);
export const set = (items: Asn1[]): Asn1 => asn1.create(UNIVERSAL, T.SET, true, items);
export const oid = (dotted: string): Asn1 => asn1.create(UNIVERSAL, T.OID, false, bin(encodeOid(dotted)));
export const utf8 = (text: string): Asn1 => asn1.create(UNIVERSAL, T.UTF8, false, forge.util.encodeUtf8(text));
export const octets = (bytes: Buffer): Asn1 => asn1.create(UNIVERSAL, T.OCTETSTRING, false, bin(bytes));
export const boolean = (value: boolean): Asn1 => asn1.create(UNIVERSAL, T.BOOLEAN, false, value ? "\xff" : "\x00");
export const nul = (): Asn1 => asn1.create(UNIVERSAL, T.NULL, false, "");
/** `content` must already be a minimal two's-complement encoding. */
export const integer = (content: Buffer): Asn1 => asn1.create(UNIVERSAL, T.INTEGER, false, bin(content));
export const smallInteger = (n: number): Asn1 => asn1.create(UNIVERSAL, T.INTEGER, false, asn1.integerToDer(n).getBytes());
/** A non-negative INTEGER of any size (e.g. a cRLNumber), minimal two's complement. */
export const unsignedInteger = (n: bigint): Asn1 => integer(unsignedIntegerContent(n));
export const enumerated = (n: number): Asn1 => asn1.create(UNIVERSAL, T.ENUMERATED, false, asn1.integerToDer(n).getBytes());
export const bitString = (bytes: Buffer, unusedBits = 0): Asn1 =>
  asn1.create(UNIVERSAL, T.BITSTRING, false, String.fromCharCode(unusedBits) + bin(bytes));
export const explicit = (tag: number, inner: Asn1): Asn1 => asn1.create(CONTEXT, tag, true, [inner]);
export const implicitPrimitive = (tag: number, bytes: Buffer): Asn1 => asn1.create(CONTEXT, tag, false, bin(bytes));

export function unsignedIntegerContent(n: bigint): Buffer {
  if (n < 0n) throw new Error(`expected a non-negative integer, got ${n}`);
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // A set high bit would read as negative: pad with a zero byte.
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return Buffer.from(hex, "hex");
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(UNIVERSAL, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

export function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), "binary");
}

/** Parses DER exactly: no trailing bytes, BIT STRING contents left opaque so re-encoding is byte-identical. */
export function fromDer(der: Buffer): Asn1 {
  return fromDerWithOptions(bin(der), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}

interface FromDerOptions {
  strict: boolean;
  parseAllBytes: boolean;
  decodeBitStrings: boolean;
}
// @types/node-forge declares only the boolean form of fromDer's second argument.
const fromDerWithOptions = asn1.fromDer as unknown as (bytes: string, options: FromDerOptions) => Asn1;

// --- readers --------------------------------------------------------------

export function isUniversal(node: Asn1 | undefined, type: number): node is Asn1 {
  return node !== undefined && node.tagClass === UNIVERSAL && node.type === type;
}

export function isContext(node: Asn1 | undefined, tag: number): node is Asn1 {
  return node !== undefined && node.tagClass === CONTEXT && node.type === tag;
}

export function children(node: Asn1): Asn1[] {
  if (!Array.isArray(node.value)) throw new Error("expected a constructed ASN.1 value");
  return node.value;
}

export function bytes(node: Asn1): Buffer {
  if (typeof node.value !== "string") throw new Error("expected a primitive ASN.1 value");
  return Buffer.from(node.value, "binary");
}

export function readOid(node: Asn1): string {
  if (!isUniversal(node, T.OID)) throw new Error("expected an OBJECT IDENTIFIER");
  return decodeOid(bytes(node));
}

export function readUtf8(node: Asn1): string {
  if (!isUniversal(node, T.UTF8) || node.constructed) throw new Error("expected a UTF8String");
  const raw = bytes(node);
  // fatal: an invalid UTF-8 sequence is an error, not U+FFFD.
  return new TextDecoder("utf-8", { fatal: true }).decode(raw);
}

export function readTime(node: Asn1): Date {
  const raw = bytes(node).toString("binary");
  if (isUniversal(node, T.UTCTIME)) return asn1.utcTimeToDate(raw);
  if (isUniversal(node, T.GENERALIZEDTIME)) return asn1.generalizedTimeToDate(raw);
  throw new Error("expected a UTCTime or GeneralizedTime");
}

export const Type = T;
