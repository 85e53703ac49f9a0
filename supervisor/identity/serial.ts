import { randomBytes } from "node:crypto";

/** Returns `size` random bytes; injectable so tests can force edge cases. */
export type RandomSource = (size: number) => Uint8Array;

export interface Serial {
  /** Content octets of the DER INTEGER: minimal two's complement, positive. */
  content: Buffer;
  /** Uppercase hex of the value, as `openssl x509 -serial` and Node's PeerCertificate.serialNumber print it. */
  hex: string;
}

const SERIAL_BYTES = 16;
const MAX_DRAWS = 8;

/** 16 random bytes with the high bit cleared (RFC 5280: positive, at most 20 octets). */
export function newSerial(random: RandomSource = randomBytes): Serial {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const raw = Buffer.from(random(SERIAL_BYTES));
    if (raw.length !== SERIAL_BYTES) throw new Error(`random source returned ${raw.length} bytes, expected ${SERIAL_BYTES}`);
    raw[0] = raw[0]! & 0x7f;
    // Zero is not a positive serial; redraw (probability 2^-127 with a real source).
    if (raw.every((b) => b === 0)) continue;
    const content = minimalInteger(raw);
    return { content, hex: serialHex(content) };
  }
  throw new Error("random source keeps returning zero serials");
}

/**
 * DER (X.690 8.3.2) forbids a leading 0x00 unless the next byte has its high
 * bit set; node-forge writes the bytes it is given, so strip them here.
 */
export function minimalInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1]! & 0x80) === 0) i++;
  return bytes.subarray(i);
}

/** Hex of an INTEGER's magnitude without sign padding, uppercase. */
export function serialHex(content: Buffer): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return content.subarray(i).toString("hex").toUpperCase();
}

/**
 * The serialHex form (uppercase, no sign padding) of a serial written by hand
 * or by another tool: "0a:0b", "00A0B1" and "a0b1" all name the same serial.
 * Undefined when it is not a positive hex number of at most 20 octets (RFC 5280 4.1.2.2).
 */
export function normalizeSerialHex(text: string): string | undefined {
  const digits = text.trim().replaceAll(":", "").toUpperCase().replace(/^0+/, "");
  if (!/^[0-9A-F]{1,40}$/.test(digits)) return undefined;
  return digits.length % 2 === 1 ? `0${digits}` : digits;
}

/** DER INTEGER content of a serial in serialHex form (inverse of serialHex). */
export function serialContent(hex: string): Buffer {
  const normalized = normalizeSerialHex(hex);
  if (normalized === undefined) throw new Error(`invalid serial ${JSON.stringify(hex)}: expected a positive hex number of at most 20 octets`);
  const magnitude = Buffer.from(normalized, "hex");
  return magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
}
