import { generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";

export interface RsaKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Where issuance gets a leaf's key; a KeyPool, or freshKeys. */
export interface KeySource {
  take(): Promise<RsaKey>;
}

export const LEAF_KEY_BITS = 2048;

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generated on libuv's thread pool, so the event loop keeps running. */
export async function generateRsaKey(bits: number): Promise<RsaKey> {
  return generateKeyPairAsync("rsa", { modulusLength: bits, publicExponent: 0x10001 });
}

/** No pool: one fresh key per call. */
export const freshKeys: KeySource = { take: () => generateRsaKey(LEAF_KEY_BITS) };
