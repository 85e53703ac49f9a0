import { constants as fsConstants } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, open, readFile, rename, rm } from "node:fs/promises";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { join } from "node:path";
import {
  basicConstraints,
  encodeName, keyIdentifier, keyUsage, signatureAlgorithmOf, signCertificate, spkiDer, subjectKeyIdentifier,
  wholeSeconds,
} from "./certificate.ts";
import { bytes, fromDer, readUtf8 } from "./der.ts";
import { syncDir, writeDurably } from "./files.ts";
import { generateCaKey, generateRsaKey } from "./keys.ts";
import { OID } from "./oids.ts";
import { newSerial, type RandomSource } from "./serial.ts";
import { assertTrustDomain } from "./spiffe.ts";
import { decodeCertificate } from "./x509.ts";

export interface CertificateAuthority {
  readonly trustDomain: string;
  readonly certPem: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** DER Name of the CA, copied verbatim into every leaf's issuer. */
  readonly subject: Buffer;
  /** subjectKeyIdentifier of the CA, every leaf's authorityKeyIdentifier. */
  readonly keyId: Buffer;
  readonly notAfter: Date;
  readonly privateKey: KeyObject;
  /** True when this call created the CA (first start). */
  readonly created: boolean;
}

export interface CAOptions {
  trustDomain: string;
  /**
   * The key of a new CA: ECDSA P-256 (the default: 128-bit security, like
   * RSA 3072, at a fraction of its cost in every signature and handshake),
   * or RSA 3072, as CAs were made before (for tests of those).
   */
  keyType?: "ecdsa-p256" | "rsa-3072";
  now?: () => number;
  random?: RandomSource;
}

const CA_YEARS = 10;
const CLOCK_SKEW_MS = 60_000;

/** Loads `<stateDir>/ca/{ca.pem,ca-key.pem}`, creating them on first start. */
export async function loadOrCreateCA(stateDir: string, options: CAOptions): Promise<CertificateAuthority> {
  assertTrustDomain(options.trustDomain);
  const dir = join(stateDir, "ca");
  const certPath = join(dir, "ca.pem");
  const keyPath = join(dir, "ca-key.pem");

  const [certExists, keyExists] = await Promise.all([exists(certPath), exists(keyPath)]);
  if (certExists && keyExists) return load(certPath, keyPath, options, false);
  if (certExists !== keyExists) {
    const [present, missing] = certExists ? [certPath, keyPath] : [keyPath, certPath];
    throw new Error(`CA is incomplete: ${present} exists but ${missing} is missing; restore it, or remove ${dir} to create a new CA`);
  }

  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const staging = await mkdtemp(join(stateDir, ".ca-new-"));
  try {
    await create(staging, options);
    // Renaming a whole directory publishes cert and key together: a crash
    // leaves no half CA, and of two racing supervisors exactly one wins.
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    return load(certPath, keyPath, options, false);
  }
  await syncDir(stateDir);
  return load(certPath, keyPath, options, true);
}

async function create(dir: string, options: CAOptions): Promise<void> {
  await chmod(dir, 0o700);
  const key = options.keyType === "rsa-3072" ? await generateRsaKey(3072) : await generateCaKey();
  const spki = spkiDer(key.publicKey);
  const name = encodeName([[OID.commonName, caCommonName(options.trustDomain)]]);
  const now = options.now?.() ?? Date.now();
  const notBefore = wholeSeconds(now - CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const { pem } = signCertificate(
    {
      serial: newSerial(options.random).content,
      issuer: name,
      subject: name,
      notBefore,
      notAfter,
      spki,
      // pathLen 0: this root signs leaves only.
      extensions: [basicConstraints(true, 0), keyUsage(["keyCertSign", "cRLSign"]), subjectKeyIdentifier(keyIdentifier(spki))],
    },
    key.privateKey,
  );
  const keyPem = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await writeDurably(join(dir, "ca-key.pem"), keyPem, 0o600);
  await writeDurably(join(dir, "ca.pem"), pem, 0o644);
}

async function load(certPath: string, keyPath: string, options: CAOptions, created: boolean): Promise<CertificateAuthority> {
  const keyPem = await readPrivateFile(keyPath);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (error) {
    throw new Error(`cannot read CA key ${keyPath}: ${(error as Error).message}`, { cause: error });
  }
  try {
    signatureAlgorithmOf(privateKey);
  } catch (error) {
    throw new Error(`CA key ${keyPath}: ${(error as Error).message}`, { cause: error });
  }

  let certPem: string;
  let x509: X509Certificate;
  try {
    certPem = await readFile(certPath, "utf8");
    x509 = new X509Certificate(certPem);
  } catch (error) {
    throw new Error(`cannot read CA certificate ${certPath}: ${(error as Error).message}`, { cause: error });
  }
  const problem = (what: string): Error => new Error(`CA certificate ${certPath} ${what}`);
  if (!x509.checkPrivateKey(privateKey)) throw problem(`does not match the key ${keyPath}`);
  if (!x509.ca) throw problem("is not a CA certificate (basicConstraints CA:TRUE missing)");
  if (!x509.verify(x509.publicKey)) throw problem("is not self-signed");
  const now = options.now?.() ?? Date.now();
  if (now > x509.validToDate.getTime()) throw problem(`expired on ${x509.validToDate.toISOString()}`);
  if (now < x509.validFromDate.getTime()) throw problem(`is not valid before ${x509.validFromDate.toISOString()} (check the clock)`);

  const decoded = decodeCertificate(x509.raw);
  const cn = decoded.subjectAttributes.find((a) => a.oid === OID.commonName);
  const expected = caCommonName(options.trustDomain);
  let actual: string | undefined;
  try {
    actual = cn ? readUtf8(cn.value) : undefined;
  } catch {
    actual = undefined;
  }
  if (actual !== expected) {
    throw problem(`is named ${JSON.stringify(actual ?? "?")}, expected ${JSON.stringify(expected)}: it belongs to another trust domain`);
  }
  const ski = decoded.extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  return {
    trustDomain: options.trustDomain,
    certPem,
    certPath,
    keyPath,
    subject: decoded.subject,
    keyId: ski ? bytes(fromDer(ski.value)) : keyIdentifier(decoded.spki),
    notAfter: x509.validToDate,
    privateKey,
    created,
  };
}

function caCommonName(trustDomain: string): string {
  return `Corral CA ${trustDomain}`;
}

/** Refuses symlinks, non-files and modes wider than 0600 before reading the key. */
async function readPrivateFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch (error) {
    throw new Error(`cannot read CA key ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`CA key ${path} is not a regular file`);
    const mode = stat.mode & 0o777;
    if ((mode & ~0o600) !== 0) {
      throw new Error(`CA key ${path} has mode 0${mode.toString(8)}, wider than 0600; run chmod 600 ${path}`);
    }
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
