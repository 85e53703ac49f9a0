import { createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from "node:crypto";
import { promisify } from "node:util";

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Where issuance gets a leaf's key: freshKeys, or a test's own. */
export interface KeySource {
  take(): Promise<KeyPair>;
}

/**
 * Leaves use ECDSA P-256: generating a key takes a fraction of a millisecond
 * (RSA 2048 takes tens of milliseconds of CPU, which on a small host competes
 * with the very plugin start it is for), and every TLS handshake signs with
 * it, where ECDSA is an order of magnitude cheaper than RSA. So does the CA
 * (ca.ts): it signs every leaf, on the start path (RSA 3072: 0.8 ms here,
 * P-256: 0.04), and every handshake verifies its signature on the peer's
 * certificate, where Go takes 0.3 ms for RSA 3072 and 0.075 for P-256.
 */
export const LEAF_KEY_CURVE = "prime256v1";
export const CA_KEY_CURVE = "prime256v1";

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generated on libuv's thread pool, so the event loop keeps running. */
export async function generateRsaKey(bits: number): Promise<KeyPair> {
  return generateKeyPairAsync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
}

/** A fresh CA key (ECDSA P-256). */
export async function generateCaKey(): Promise<KeyPair> {
  return generateKeyPairAsync("ec", { namedCurve: CA_KEY_CURVE });
}

/** A fresh leaf key (ECDSA P-256), generated off the event loop. */
export async function generateLeafKey(): Promise<KeyPair> {
  return generateKeyPairAsync("ec", { namedCurve: LEAF_KEY_CURVE });
}

/** No pool: one fresh key per call. */
export const freshKeys: KeySource = { take: () => generateLeafKey() };

/**
 * Whether `key` (PEM) is the private key of `certificate` (PEM): false for
 * either unreadable. A pair renewed a file at a time is mismatched in
 * between.
 */
export function keyMatchesCertificate(certificate: string | Buffer, key: string | Buffer): boolean {
  try {
    return new X509Certificate(certificate).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}
