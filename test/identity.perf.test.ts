// Issuance is on the start path of every plugin instance: measure it with and
// without pre-generated keys. Numbers are printed; the assertion is loose.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { issuePluginLeaf } from "../supervisor/identity/issue.ts";
import { KeyPool } from "../supervisor/identity/key-pool.ts";
import { freshKeys, type KeySource } from "../supervisor/identity/keys.ts";

const TD = "corral.local";
let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-perf-test-"));
  ca = await loadOrCreateCA(join(dir, "state"), { trustDomain: TD });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timeIssue(keys: KeySource): Promise<number> {
  const started = performance.now();
  await issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: 3600_000, keys });
  return performance.now() - started;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

it("issues a leaf mostly by signing when the key pool is warm", async () => {
  await timeIssue(freshKeys); // warm up code paths
  const fresh: number[] = [];
  for (let i = 0; i < 15; i++) fresh.push(await timeIssue(freshKeys));

  const pool = new KeyPool({ size: 4 });
  try {
    const warm: number[] = [];
    for (let i = 0; i < 30; i++) {
      await until(() => pool.ready > 0); // instance starts are spaced out
      warm.push(await timeIssue(pool));
    }
    await until(() => pool.ready === 4);
    const burst: number[] = [];
    for (let i = 0; i < 12; i++) burst.push(await timeIssue(pool));

    const f = (xs: number[]) => `median ${median(xs).toFixed(2)} ms (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}, n=${xs.length})`;
    console.log(`leaf issuance, fresh key:          ${f(fresh)}`);
    console.log(`leaf issuance, warm pool:          ${f(warm)}`);
    console.log(`leaf issuance, burst of 12, pool 4: ${f(burst)}`);
    expect(median(warm)).toBeLessThan(median(fresh) / 3);
  } finally {
    await pool.close();
  }
});
