// corralctl reads admin credentials caught in the middle of a renewal (the
// certificate new, the key not yet) again, rather than failing.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMatchedCredentials } from "../../supervisor/admin/client.ts";
import { credentialFiles } from "../../supervisor/admin/credentials.ts";
import { issueAdminLeaf, loadOrCreateCA, type CertificateAuthority } from "../../supervisor/identity/index.ts";

let dir: string;
let ca: CertificateAuthority;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-admin-read-"));
  ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "corral.local" });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readMatchedCredentials", () => {
  it("waits for the key of a renewed certificate, and gives a pair that stays mismatched back as it is", async () => {
    const [first, second] = await Promise.all(["first", "second"].map((n) => issueAdminLeaf(ca, { trustDomain: "corral.local", ttlMs: 3600_000 }, n)));
    const files = credentialFiles(dir);
    await writeFile(files.ca, ca.certPem);
    await writeFile(files.cert, second!.certPem);
    await writeFile(files.key, first!.keyPem);
    setTimeout(() => void writeFile(files.key, second!.keyPem), 300);
    const [, cert, key] = await readMatchedCredentials(files);
    expect([cert, key]).toEqual([second!.certPem, second!.keyPem]);

    await writeFile(files.key, first!.keyPem);
    const started = Date.now();
    const [, , stale] = await readMatchedCredentials(files);
    expect(stale).toBe(first!.keyPem);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
