// The local admin credential: a certificate with the admin role that the
// supervisor issues for root on this host, so `corralctl` works out of the
// box. It lives in <stateDir>/admin (0700, key 0600) and is linked beside the
// admin socket as `admin-credentials`, where corralctl looks by default.
import { mkdir, readFile, rename, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { issueAdminLeaf, parsePeerIdentity, type CertificateAuthority, type CertificateRegistry } from "../identity/index.ts";
import { replaceAtomically } from "../identity/files.ts";
import { LOCAL_ADMIN } from "../identity/spiffe.ts";

const TTL_MS = 90 * 24 * 3600 * 1000;
/** Reissued when less than this is left (at start, and twice a day while the supervisor runs). */
const RENEW_BEFORE_MS = 45 * 24 * 3600 * 1000;

export interface CredentialFiles {
  ca: string;
  cert: string;
  key: string;
}

export function credentialFiles(dir: string): CredentialFiles {
  return { ca: path.join(dir, "ca.pem"), cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") };
}

export async function ensureAdminCredentials(
  trust: { ca: CertificateAuthority; registry: CertificateRegistry },
  stateDir: string,
  adminSocket: string,
): Promise<string> {
  const { ca, registry } = trust;
  const dir = path.join(stateDir, "admin");
  const files = credentialFiles(dir);
  if (!(await stillGood(files, ca, registry))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const leaf = await issueAdminLeaf(ca, { trustDomain: ca.trustDomain, ttlMs: TTL_MS, registry }, LOCAL_ADMIN);
    // Each replaced whole: corralctl may read them meanwhile.
    await replaceAtomically(files.ca, ca.certPem, 0o644);
    await replaceAtomically(files.key, leaf.keyPem, 0o600);
    await replaceAtomically(files.cert, leaf.certPem, 0o644);
  }
  const link = path.join(path.dirname(adminSocket), "admin-credentials");
  const temp = `${link}.tmp`;
  await rm(temp, { force: true });
  await symlink(dir, temp);
  await rename(temp, link);
  return dir;
}

async function stillGood(files: CredentialFiles, ca: CertificateAuthority, registry: CertificateRegistry): Promise<boolean> {
  try {
    const [caPem, certPem] = await Promise.all([readFile(files.ca, "utf8"), readFile(files.cert, "utf8"), readFile(files.key)]);
    const id = parsePeerIdentity(certPem);
    // One that ends with the CA is as good as a new one would be (leaves
    // end with their CA): renewing it at every start would change nothing.
    const lastsEnough = id.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS || id.notAfter.getTime() >= ca.notAfter.getTime();
    return caPem === ca.certPem && id.kind === "admin" && !registry.isRevoked(id.serialHex) && lastsEnough;
  } catch {
    return false;
  }
}
