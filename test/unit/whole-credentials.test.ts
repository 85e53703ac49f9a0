// WholeCredentialsProvider: a certificate renewed before its key (a credentials
// directory renewed a file at a time) is held back; the pair before stays.
import type { experimental } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WholeCredentialsProvider } from "../../client/whole-credentials.ts";
import { issueClientLeaf, loadOrCreateCA, type CertificateAuthority } from "../../supervisor/identity/index.ts";

let dir: string;
let ca: CertificateAuthority;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-whole-credentials-"));
  ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "corral.local" });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A provider whose updates the test sends. */
function fakeProvider() {
  const identity = new Set<experimental.IdentityCertificateUpdateListener>();
  const cas = new Set<experimental.CaCertificateUpdateListener>();
  const provider: experimental.CertificateProvider = {
    addCaCertificateListener: (l) => void cas.add(l),
    removeCaCertificateListener: (l) => void cas.delete(l),
    addIdentityCertificateListener: (l) => void identity.add(l),
    removeIdentityCertificateListener: (l) => void identity.delete(l),
  };
  return {
    provider,
    identity,
    cas,
    send: (update: experimental.IdentityCertificateUpdate | null) => identity.forEach((l) => l(update)),
    sendCa: (update: experimental.CaCertificateUpdate | null) => cas.forEach((l) => l(update)),
  };
}

describe("WholeCredentialsProvider", () => {
  it("passes a pair whose key is the certificate's, holds back one whose key is not, and lets go of its listener", async () => {
    const [a, b] = await Promise.all([
      issueClientLeaf(ca, { trustDomain: "corral.local", ttlMs: 3600_000 }, "a", ["greeter"]),
      issueClientLeaf(ca, { trustDomain: "corral.local", ttlMs: 3600_000 }, "b", ["greeter"]),
    ]);
    const pair = (cert: string, key: string) => ({ certificate: Buffer.from(cert), privateKey: Buffer.from(key) });
    const fake = fakeProvider();
    const provider = new WholeCredentialsProvider(fake.provider);
    const seen: Array<string | null> = [];
    const listener: experimental.IdentityCertificateUpdateListener = (u) => seen.push(u === null ? null : u.certificate.toString() === a.certPem ? "a" : "b");
    provider.addIdentityCertificateListener(listener);
    fake.send(pair(a.certPem, a.keyPem));
    fake.send(pair(b.certPem, a.keyPem)); // renewed: the certificate first
    fake.send(pair(b.certPem, b.keyPem)); // then its key
    fake.send(null); // the files gone for a moment: b stays
    expect(seen).toEqual(["a", "b"]);
    provider.removeIdentityCertificateListener(listener);
    expect(fake.identity.size).toBe(0);
  });

  it("passes a CA file of whole certificates, and holds back one read while it was being written, or gone", () => {
    const fake = fakeProvider();
    const provider = new WholeCredentialsProvider(fake.provider);
    const seen: Array<string | null> = [];
    const listener: experimental.CaCertificateUpdateListener = (u) => seen.push(u === null ? null : u.caCertificate.toString());
    provider.addCaCertificateListener(listener);
    const half = ca.certPem.slice(0, Math.floor(ca.certPem.length / 2));
    fake.sendCa({ caCertificate: Buffer.from(half) }); // none whole yet: nothing usable
    fake.sendCa({ caCertificate: Buffer.from(ca.certPem) });
    fake.sendCa({ caCertificate: Buffer.from(half) }); // a copy under way
    fake.sendCa({ caCertificate: Buffer.from(`${ca.certPem}${half}`) }); // a bundle with its second certificate cut
    fake.sendCa(null);
    expect(seen).toEqual([null, ca.certPem]);
    provider.removeCaCertificateListener(listener);
    expect(fake.cas.size).toBe(0);
  });
});
