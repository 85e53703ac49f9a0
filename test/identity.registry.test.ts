import { appendFile, cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { IdentityError, type IdentityRule } from "../supervisor/identity/errors.ts";
import { issueAdminLeaf, issueClientLeaf, issuePluginLeaf, issueSupervisorLeaf } from "../supervisor/identity/issue.ts";
import { openRegistry, type CertificateRegistry } from "../supervisor/identity/registry.ts";

const TD = "corral.local";
const HOUR = 3600_000;
let root: string;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "corral-registry-test-"));
  [ca, otherCa] = await Promise.all([
    loadOrCreateCA(join(root, "state"), { trustDomain: TD }),
    loadOrCreateCA(join(root, "other"), { trustDomain: TD }),
  ]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A state directory with a copy of the CA and nothing else. */
async function freshState(): Promise<string> {
  const dir = await mkdtemp(join(root, "s-"));
  await cp(join(root, "state"), dir, { recursive: true });
  return dir;
}

async function expectRule(promise: Promise<unknown> | (() => unknown), rule: IdentityRule, message?: RegExp): Promise<void> {
  let error: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(IdentityError);
  expect((error as IdentityError).rule).toBe(rule);
  if (message) expect((error as Error).message).toMatch(message);
}

const lines = async (path: string): Promise<Array<Record<string, unknown>>> =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("recording issuance", () => {
  let state: string;
  let registry: CertificateRegistry;

  beforeAll(async () => {
    state = await freshState();
    registry = await openRegistry(state, ca);
  });

  it("appends one line per leaf to issued.jsonl (0600), with identity and validity", async () => {
    const opts = { trustDomain: TD, ttlMs: HOUR, registry };
    const echo = await issuePluginLeaf(ca, { ...opts, plugin: "echo" });
    const web = await issueClientLeaf(ca, opts, "web", ["echo", "kv"]);
    expect(registry.paths.issued).toBe(join(state, "ca", "issued.jsonl"));
    expect((await stat(registry.paths.issued)).mode & 0o777).toBe(0o600);
    const recorded = await lines(registry.paths.issued);
    expect(recorded).toEqual([
      {
        serialHex: echo.serialHex,
        uri: "spiffe://corral.local/plugin/echo",
        kind: "plugin",
        name: "echo",
        notBefore: echo.notBefore.toISOString(),
        notAfter: echo.notAfter.toISOString(),
        issuedAt: expect.any(String),
      },
      expect.objectContaining({ serialHex: web.serialHex, kind: "client", name: "web", plugins: ["echo", "kv"] }),
    ]);
    expect(registry.list().issued.map((c) => c.serialHex).sort()).toEqual([echo.serialHex, web.serialHex].sort());
  });

  it("records nothing when issuance is given no registry", async () => {
    const before = await readFile(registry.paths.issued, "utf8");
    await issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR });
    expect(await readFile(registry.paths.issued, "utf8")).toBe(before);
  });

  it("forgets the records of leaves expired more than a week ago, in memory and in issued.jsonl", async () => {
    const dir = await freshState();
    const DAY = 24 * HOUR;
    let now = Date.now();
    const registry = await openRegistry(dir, ca, { now: () => now });
    const old = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry, now: () => Date.now() - 9 * DAY });
    const recent = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry, now: () => Date.now() - 2 * DAY });
    const live = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry });
    expect(await registry.forgetExpired()).toBe(1);
    expect(registry.list({ includeExpired: true }).issued.map((c) => c.serialHex).sort()).toEqual([recent.serialHex, live.serialHex].sort());
    expect((await lines(registry.paths.issued)).map((l) => l.serialHex).sort()).toEqual([recent.serialHex, live.serialHex].sort());
    expect((await stat(registry.paths.issued)).mode & 0o777).toBe(0o600);
    expect(await registry.forgetExpired()).toBe(0);
    // Appends go on after the rewrite, and a new registry reads what is left.
    const next = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry });
    now += 8 * DAY;
    expect(await registry.forgetExpired()).toBe(3);
    expect((await openRegistry(dir, ca)).list({ includeExpired: true }).issued.map((c) => c.serialHex)).toEqual([]);
    expect(old.serialHex).not.toBe(next.serialHex);
  });

  it("cuts a line half-written by a crash, and appends after it", async () => {
    const dir = await freshState();
    const first = await openRegistry(dir, ca);
    const leaf = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry: first });
    await appendFile(first.paths.issued, '{"serialHex":"0A","uri":"spi');
    const second = await openRegistry(dir, ca);
    expect(second.list().issued.map((c) => c.serialHex)).toEqual([leaf.serialHex]);
    const next = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry: second });
    expect((await lines(first.paths.issued)).map((l) => l.serialHex)).toEqual([leaf.serialHex, next.serialHex]);
  });

  it("refuses a damaged record, naming the file and line", async () => {
    const dir = await freshState();
    const registry = await openRegistry(dir, ca);
    await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: HOUR, plugin: "echo", registry });
    await appendFile(registry.paths.issued, '{"serialHex":"zz","uri":"spiffe://corral.local/plugin/echo"}\n');
    await expect(openRegistry(dir, ca)).rejects.toThrow(`${registry.paths.issued}:2: field serialHex must be a hex serial`);
    await writeFile(registry.paths.revoked, '{"version":1,"crlNumber":"x","serials":[],"identities":[]}');
    await writeFile(registry.paths.issued, "");
    await expect(openRegistry(dir, ca)).rejects.toThrow(`${registry.paths.revoked}: field crlNumber must be a decimal number`);
  });
});

describe("revoking", () => {
  let registry: CertificateRegistry;
  const opts = () => ({ trustDomain: TD, ttlMs: HOUR, registry });

  beforeAll(async () => {
    registry = await openRegistry(await freshState(), ca);
  });

  it("revokes a serial, whatever its spelling, and refuses it as a peer", async () => {
    const leaf = await issuePluginLeaf(ca, { ...opts(), plugin: "echo" });
    expect(registry.isRevoked(leaf.serialHex)).toBe(false);
    const spelled = `00${leaf.serialHex.toLowerCase().match(/../g)!.join(":")}`;
    const entry = await registry.revokeSerial(spelled, { reason: "keyCompromise", note: "key leaked" });
    expect(entry).toMatchObject({ serialHex: leaf.serialHex, reason: "keyCompromise", note: "key leaked", notAfter: leaf.notAfter, uri: leaf.uri });
    expect(registry.isRevoked(leaf.serialHex)).toBe(true);
    expect(registry.isRevoked(leaf.serialHex.toLowerCase())).toBe(true);
    await expectRule(() => registry.checkNotRevoked(leaf), "revoked", new RegExp(`certificate ${leaf.serialHex} of .*plugin/echo was revoked at .* \\(keyCompromise: key leaked\\)`));
    // Revoking again keeps the first revocation.
    expect(await registry.revokeSerial(leaf.serialHex, { reason: "superseded" })).toEqual(entry);
    // The identity itself is not revoked: a new leaf may be issued.
    await expect(issuePluginLeaf(ca, { ...opts(), plugin: "echo" })).resolves.toMatchObject({ uri: leaf.uri });
  });

  it("revokes every unexpired certificate of an identity, and refuses issuance for it until unrevoked", async () => {
    const a = await issuePluginLeaf(ca, { ...opts(), plugin: "kv" });
    const b = await issuePluginLeaf(ca, { ...opts(), plugin: "kv" });
    const expired = await issuePluginLeaf(ca, { ...opts(), plugin: "kv", now: () => Date.now() - 2 * HOUR });
    const other = await issuePluginLeaf(ca, { ...opts(), plugin: "other" });
    const { identity, serials } = await registry.revokeIdentity(a.uri, { reason: "cessationOfOperation" });
    expect(identity).toMatchObject({ uri: "spiffe://corral.local/plugin/kv", reason: "cessationOfOperation" });
    expect(serials.sort()).toEqual([a.serialHex, b.serialHex].sort());
    expect(registry.isRevoked(expired.serialHex)).toBe(false);
    expect(registry.isRevoked(other.serialHex)).toBe(false);
    expect(registry.isIdentityRevoked(a.uri)).toBe(true);

    await expectRule(issuePluginLeaf(ca, { ...opts(), plugin: "kv" }), "identity-revoked", /plugin\/kv was revoked .*until it is unrevoked/);
    await expectRule(() => registry.checkNotRevoked({ serialHex: "0102", uri: a.uri }), "identity-revoked");

    expect(await registry.unrevokeIdentity(a.uri)).toBe(true);
    expect(await registry.unrevokeIdentity(a.uri)).toBe(false);
    const fresh = await issuePluginLeaf(ca, { ...opts(), plugin: "kv" });
    expect(registry.isRevoked(fresh.serialHex)).toBe(false);
    expect(registry.isRevoked(a.serialHex)).toBe(true); // old serials stay revoked
  });

  it("never hands out a leaf of an identity revoked while the leaf was being issued", async () => {
    const before = await Promise.all([1, 2].map(() => issuePluginLeaf(ca, { ...opts(), plugin: "racer" })));
    // These pass the early check (the identity is not revoked yet) and are
    // signed while the revocation is being written; recording them must fail.
    const racing = Array.from({ length: 12 }, () => issuePluginLeaf(ca, { ...opts(), plugin: "racer" }));
    const { serials } = await registry.revokeIdentity("spiffe://corral.local/plugin/racer");
    const results = await Promise.allSettled(racing);
    expect(serials.sort()).toEqual(before.map((l) => l.serialHex).sort());
    for (const r of results) {
      expect(r.status).toBe("rejected");
      if (r.status === "rejected") expect((r.reason as IdentityError).rule).toBe("identity-revoked");
    }
    const recorded = (await lines(registry.paths.issued)).filter((l) => l.name === "racer");
    expect(recorded).toHaveLength(2);
  });

  it("revokes a certificate it did not issue until that certificate expires; a bare unknown serial until the CA does", async () => {
    const operatorLeaf = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: 40 * 24 * HOUR, plugin: "shipped" });
    const entry = await registry.revokeCertificate(operatorLeaf.certPem, { reason: "keyCompromise" });
    expect(entry).toMatchObject({ serialHex: operatorLeaf.serialHex, notAfter: operatorLeaf.notAfter, uri: operatorLeaf.uri });
    expect(registry.isRevoked(operatorLeaf.serialHex)).toBe(true);
    const bare = await registry.revokeSerial("DEADBEEF");
    expect(bare.notAfter).toEqual(ca.notAfter);
    expect(bare.uri).toBeUndefined();
  });

  it("refuses what it cannot revoke", async () => {
    const foreign = await issuePluginLeaf(otherCa, { trustDomain: TD, ttlMs: HOUR, plugin: "echo" });
    await expectRule(registry.revokeCertificate(foreign.certPem), "chain", /was not issued by this CA/);
    await expect(registry.revokeSerial("not hex")).rejects.toThrow(/invalid serial "not hex"/);
    await expect(registry.revokeSerial("0A", { reason: "certificateHold" as never })).rejects.toThrow(/invalid revocation reason "certificateHold"/);
    await expect(registry.revokeIdentity("spiffe://other.td/plugin/echo")).rejects.toThrow(/not of this CA's trust domain corral\.local/);
    await expect(registry.revokeIdentity("https://x/plugin/echo")).rejects.toThrow(/is not a Corral identity/);
    await expect(registry.revokeIdentity("spiffe://corral.local/supervisor")).rejects.toThrow(/revoke the serial/);
  });
});

describe("a registry reopened", () => {
  it("has the same issued certificates, revocations, revoked identities and CRL number", async () => {
    const dir = await freshState();
    const first = await openRegistry(dir, ca);
    const opts = { trustDomain: TD, ttlMs: HOUR, registry: first };
    const echo = await issuePluginLeaf(ca, { ...opts, plugin: "echo" });
    const alice = await issueAdminLeaf(ca, opts, "alice");
    const bob = await issueAdminLeaf(ca, opts, "bob");
    await first.revokeSerial(echo.serialHex, { reason: "superseded", note: "rotated by hand" });
    await first.revokeIdentity(alice.uri, { note: "left the team" });
    await first.publishCrl();
    await first.publishCrl();
    expect((await stat(first.paths.revoked)).mode & 0o777).toBe(0o600);

    const second = await openRegistry(dir, ca);
    expect(second.list({ includeRevoked: true })).toEqual(first.list({ includeRevoked: true }));
    expect(second.isRevoked(echo.serialHex)).toBe(true);
    expect(second.isRevoked(alice.serialHex)).toBe(true);
    expect(second.isRevoked(bob.serialHex)).toBe(false);
    expect(second.isIdentityRevoked(alice.uri)).toBe(true);
    await expectRule(issueAdminLeaf(ca, { ...opts, registry: second }, "alice"), "identity-revoked", /left the team/);
    expect((await second.publishCrl()).number).toBe(3n);
  });

  it("lists what corralctl certs list shows: unexpired, revoked on request, newest first", async () => {
    let clock = Date.now();
    const registry = await openRegistry(await freshState(), ca, { now: () => clock });
    const opts = { trustDomain: TD, registry, now: () => clock };
    const old = await issuePluginLeaf(ca, { ...opts, ttlMs: HOUR, plugin: "echo" });
    clock += 1000;
    const revoked = await issuePluginLeaf(ca, { ...opts, ttlMs: 4 * HOUR, plugin: "echo" });
    clock += 1000;
    const current = await issuePluginLeaf(ca, { ...opts, ttlMs: 4 * HOUR, plugin: "echo" });
    await registry.revokeSerial(revoked.serialHex);
    clock += 2 * HOUR; // old has expired

    expect(registry.list().issued.map((c) => c.serialHex)).toEqual([current.serialHex]);
    const all = registry.list({ includeRevoked: true, includeExpired: true });
    expect(all.issued.map((c) => c.serialHex)).toEqual([current.serialHex, revoked.serialHex, old.serialHex]);
    expect(all.issued[1]!.revocation).toMatchObject({ serialHex: revoked.serialHex });
    expect(all.revoked.map((r) => r.serialHex)).toEqual([revoked.serialHex]);
    expect(all.revokedIdentities).toEqual([]);
  });
});
