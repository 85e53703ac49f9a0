// A supervisor whose CA nears its end starts, saying so, rather than
// refusing every certificate it issues (leaves end with the CA instead).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateCA } from "../../supervisor/identity/index.ts";
import { createLogger } from "../../supervisor/log.ts";
import { Trust } from "../../supervisor/trust.ts";

const DAY = 24 * 3600 * 1000;
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("Trust.open with a CA that ends in 60 days", () => {
  it("starts, warns with the days left, and issues leaves that end with the CA", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-ca-expiry-"));
    const stateDir = path.join(dir, "state");
    // Made ten years (the CA's life) less 60 days ago.
    const madeAt = Date.now() - (10 * 365.25 * DAY - 60 * DAY);
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
      expect(warning?.daysLeft).toBeGreaterThanOrEqual(58);
      expect(warning?.daysLeft).toBeLessThanOrEqual(60);
      // The local admin's certificate (90 days) and a plugin's leaf alike end with the CA.
      const leaf = await trust.issuePluginLeaf("greeter", 90 * DAY);
      expect(leaf.notAfter).toEqual(ca.notAfter);
    } finally {
      trust.close();
    }
  });
});
