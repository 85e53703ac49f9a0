// A supervisor whose CA nears its end starts, saying so, rather than
// refusing every certificate it issues (leaves end with the CA instead).
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ensureAdminCredentials } from "../../supervisor/admin/credentials.ts";
import { loadOrCreateCA } from "../../supervisor/identity/index.ts";
import { createLogger } from "../../supervisor/log.ts";
import { Trust } from "../../supervisor/trust.ts";

const DAY = 24 * 3600 * 1000;
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("Trust.open with a CA that ends in 30 days", () => {
  it("starts, warns with the days left, and issues leaves that end with the CA", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-ca-expiry-"));
    const stateDir = path.join(dir, "state");
    // Made ten years (the CA's life) less 30 days ago: within the 45 days a local admin certificate is renewed before its end.
    const madeAt = Date.now() - (10 * 365.25 * DAY - 30 * DAY);
    const ca = await loadOrCreateCA(stateDir, { trustDomain: "corral.local", now: () => madeAt });
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    });
    const trust = await Trust.open(stateDir, "corral.local", log);
    try {
      const warning = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("the CA expires in"));
      expect(warning?.level).toBe("warn");
      expect(warning?.daysLeft).toBeGreaterThanOrEqual(28);
      expect(warning?.daysLeft).toBeLessThanOrEqual(30);
      // The local admin's certificate (90 days) and a plugin's leaf alike end with the CA.
      const leaf = await trust.issuePluginLeaf("greeter", 90 * DAY);
      expect(leaf.notAfter).toEqual(ca.notAfter);
      // The local admin's, made once: one that ends with the CA is not renewed at every start.
      const socket = path.join(dir, "run", "admin.sock");
      await mkdir(path.dirname(socket), { recursive: true });
      const adminDir = await ensureAdminCredentials(trust, stateDir, socket);
      const first = await readFile(path.join(adminDir, "cert.pem"), "utf8");
      expect(new X509Certificate(first).validToDate).toEqual(ca.notAfter);
      await ensureAdminCredentials(trust, stateDir, socket);
      expect(await readFile(path.join(adminDir, "cert.pem"), "utf8")).toBe(first);
    } finally {
      trust.close();
    }
  });
});
