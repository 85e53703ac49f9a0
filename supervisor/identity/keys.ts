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
 * it, where ECDSA is an order of magnitude cheaper than RSA. The CA keeps an
 * RSA key (ca.ts): it signs rarely and must be verifiable everywhere.
 */
export const LEAF_KEY_CURVE = "prime256v1";

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generated on libuv's thread pool, so the event loop keeps running. */
export async function generateRsaKey(bits: number): Promise<KeyPair> {
  return generateKeyPairAsync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
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
