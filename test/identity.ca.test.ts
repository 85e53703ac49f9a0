import { execFileSync } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { chmod, cp, mkdtemp, readFile, rm, stat, symlink, unlink, writeFile, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { readCrl, signCrl } from "../supervisor/identity/crl.ts";
import { issuePluginLeaf } from "../supervisor/identity/issue.ts";
import { normalizeSerialHex } from "../supervisor/identity/serial.ts";

const TD = "corral.local";
let root: string;
let stateDir: string;
let ca: CertificateAuthority;

/** A copy of the created state directory, to damage without affecting other tests. */
async function copyOfState(): Promise<string> {
  const dir = await mkdtemp(join(root, "copy-"));
  await cp(stateDir, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "corral-ca-test-"));
  stateDir = join(root, "state");
  ca = await loadOrCreateCA(stateDir, { trustDomain: TD });
});

/**
 * Creates a CA in a fresh directory, recording the CPU time of the main
 * thread and of the whole process, and the ticks of a 5 ms interval timer.
 */
async function createWatchingTheLoop(keyType?: "rsa-3072") {
  let last = performance.now();
  let maxGapMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const started = performance.now();
  const thread0 = process.threadCpuUsage();
  const process0 = process.cpuUsage();
  try {
    const created = await loadOrCreateCA(await mkdtemp(join(root, "loop-")), { trustDomain: TD, ...(keyType && { keyType }) });
    const thread = process.threadCpuUsage(thread0);
    const all = process.cpuUsage(process0);
    return {
      created: created.created,
      ms: performance.now() - started,
      mainCpuMs: (thread.user + thread.system) / 1000,
      processCpuMs: (all.user + all.system) / 1000,
      maxGapMs: Math.max(maxGapMs, performance.now() - last),
      ticks,
    };
  } finally {
    clearInterval(timer);
  }
}

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("loadOrCreateCA", () => {
  it("creates the CA on first start without blocking the event loop", async () => {
    expect(ca.created).toBe(true);
    const run = await createWatchingTheLoop();
    console.log(
      `CA creation: ${run.ms.toFixed(0)} ms; CPU ${run.mainCpuMs.toFixed(1)} ms on the main thread, ` +
        `${run.processCpuMs.toFixed(1)} ms in the process; ${run.ticks} timer ticks, longest gap ${run.maxGapMs.toFixed(1)} ms`,
    );
    expect(run.created).toBe(true);
    // Wall-clock timer gaps are not asserted: other test files load the CPUs,
    // and on this 2-CPU machine an idle loop then shows 200+ ms gaps. CPU time
    // is immune to that. A P-256 key is made in a fraction of a millisecond.
    expect(run.mainCpuMs).toBeLessThanOrEqual(50);
    // An RSA key (as CAs were made before) takes ~100 ms or more: on the
    // thread pool, so the main thread spends well under 50 ms and most of
    // the process's CPU is elsewhere; a synchronous generator would put it
    // all on the main thread.
    const rsa = await createWatchingTheLoop("rsa-3072");
    expect(rsa.mainCpuMs).toBeLessThanOrEqual(50);
    expect(rsa.mainCpuMs).toBeLessThan(rsa.processCpuMs / 2);
    // And the loop's timer ran meanwhile. (Not asked of the P-256 run: made
    // in about 4 ms, it may end before the 5 ms timer's first tick, which a
    // CI run saw.)
    expect(rsa.ticks).toBeGreaterThan(0);
  });

  it("stores the key 0600 in a 0700 directory, the certificate beside it", async () => {
    expect((await stat(join(stateDir, "ca"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, "ca", "ca-key.pem"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(stateDir, "ca", "ca.pem"), "utf8")).toBe(ca.certPem);
    expect(ca.certPath).toBe(join(stateDir, "ca", "ca.pem"));
    expect(ca.keyPath).toBe(join(stateDir, "ca", "ca-key.pem"));
  });

  it("makes a long-lived ECDSA P-256 root with the CA extensions, as openssl reads it", () => {
    const text = execFileSync("openssl", ["x509", "-noout", "-text", "-in", ca.certPath], { encoding: "utf8" });
    expect(text).toMatch(/Subject: CN = Corral CA corral\.local/);
    expect(text).toMatch(/Issuer: CN = Corral CA corral\.local/);
    expect(text).toMatch(/Public-Key: \(256 bit\)/);
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:\s*\n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    const x509 = new X509Certificate(ca.certPem);
    const years = (x509.validToDate.getTime() - x509.validFromDate.getTime()) / (365.25 * 24 * 3600e3);
    expect(years).toBeCloseTo(10, 1);
    expect(x509.validFromDate.getTime()).toBeLessThan(Date.now() - 30_000); // clock-skew margin
    execFileSync("openssl", ["verify", "-CAfile", ca.certPath, ca.certPath]);
  });

  it("keeps an RSA CA made before P-256: loads it, and signs leaves and lists that verify", async () => {
    const dir = await mkdtemp(join(root, "rsa-"));
    await loadOrCreateCA(dir, { trustDomain: TD, keyType: "rsa-3072" });
    const rsa = await loadOrCreateCA(dir, { trustDomain: TD });
    expect(rsa.created).toBe(false);
    expect(rsa.privateKey.asymmetricKeyType).toBe("rsa");
    const leaf = await issuePluginLeaf(rsa, { trustDomain: TD, plugin: "echo", ttlMs: 3600_000 });
    const leafFile = join(dir, "leaf.pem");
    await writeFile(leafFile, leaf.certPem);
    expect(execFileSync("openssl", ["x509", "-noout", "-text", "-in", leafFile], { encoding: "utf8" })).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    execFileSync("openssl", ["verify", "-CAfile", rsa.certPath, leafFile]);
    const list = signCrl(rsa, { number: 7n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3600_000), entries: [{ serialHex: leaf.serialHex, revocationDate: new Date() }] });
    const read = readCrl(list.pem, [new X509Certificate(rsa.certPem)]);
    expect(read.number).toBe(7n);
    expect(read.serials.has(normalizeSerialHex(leaf.serialHex)!)).toBe(true);
  });

  it("refuses a CA key that is neither ECDSA P-256 or P-384 nor RSA, naming the file", async () => {
    const dir = await copyOfState();
    const keyPath = join(dir, "ca", "ca-key.pem");
    await writeFile(keyPath, generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(
      `CA key ${keyPath}: a CA key must be ECDSA P-256 or P-384, or RSA; this one is ed25519`,
    );
  });

  it("loads the same CA on later starts", async () => {
    const again = await loadOrCreateCA(stateDir, { trustDomain: TD });
    expect(again.created).toBe(false);
    expect(again.certPem).toBe(ca.certPem);
    expect(again.keyId).toEqual(ca.keyId);
    expect(again.subject).toEqual(ca.subject);
    expect(again.privateKey.equals(ca.privateKey)).toBe(true);
  });

  it("refuses a key file readable by others", async () => {
    const dir = await copyOfState();
    const keyPath = join(dir, "ca", "ca-key.pem");
    await chmod(keyPath, 0o644);
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(`CA key ${keyPath} has mode 0644, wider than 0600`);
    await chmod(keyPath, 0o640);
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(/mode 0640, wider than 0600/);
    await chmod(keyPath, 0o400);
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).resolves.toMatchObject({ created: false });
  });

  it("refuses an unreadable key, naming the file", async () => {
    const dir = await copyOfState();
    const keyPath = join(dir, "ca", "ca-key.pem");
    await writeFile(keyPath, "not a key\n");
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(`cannot read CA key ${keyPath}`);
  });

  it("refuses a symlinked key", async () => {
    const dir = await copyOfState();
    const keyPath = join(dir, "ca", "ca-key.pem");
    await rename(keyPath, join(dir, "real-key.pem"));
    await symlink(join(dir, "real-key.pem"), keyPath);
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(`cannot read CA key ${keyPath}`);
  });

  it("refuses an unreadable certificate, naming the file", async () => {
    const dir = await copyOfState();
    const certPath = join(dir, "ca", "ca.pem");
    await writeFile(certPath, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(`cannot read CA certificate ${certPath}`);
  });

  it("refuses a certificate and key that do not belong together", async () => {
    const other = join(root, "other");
    const otherCa = await loadOrCreateCA(other, { trustDomain: TD });
    const dir = await copyOfState();
    await writeFile(join(dir, "ca", "ca.pem"), otherCa.certPem);
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(
      `CA certificate ${join(dir, "ca", "ca.pem")} does not match the key ${join(dir, "ca", "ca-key.pem")}`,
    );
  });

  it("refuses a half-present CA instead of replacing it", async () => {
    const dir = await copyOfState();
    await unlink(join(dir, "ca", "ca-key.pem"));
    await expect(loadOrCreateCA(dir, { trustDomain: TD })).rejects.toThrow(`${join(dir, "ca", "ca-key.pem")} is missing`);
  });

  it("refuses the CA of another trust domain", async () => {
    await expect(loadOrCreateCA(stateDir, { trustDomain: "elsewhere.local" })).rejects.toThrow(/belongs to another trust domain/);
  });

  it("refuses an expired CA", async () => {
    const in11Years = Date.now() + 11 * 365 * 24 * 3600e3;
    await expect(loadOrCreateCA(stateDir, { trustDomain: TD, now: () => in11Years })).rejects.toThrow(/ca\.pem expired on/);
  });

  it("creates exactly one CA when two starts race", async () => {
    const dir = join(root, "race");
    const [a, b] = await Promise.all([loadOrCreateCA(dir, { trustDomain: TD }), loadOrCreateCA(dir, { trustDomain: TD })]);
    expect(a.certPem).toBe(b.certPem);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    const left = execFileSync("ls", ["-A", dir], { encoding: "utf8" }).trim().split("\n");
    expect(left).toEqual(["ca"]);
  });

  it("refuses an invalid trust domain", async () => {
    await expect(loadOrCreateCA(join(root, "bad"), { trustDomain: "Not Valid" })).rejects.toThrow(/invalid trust domain/);
  });
});
