// Leaf issuance on an instance's start path: with a fresh key per leaf, and
// from a warm key pool.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { freshKeys, issuePluginLeaf, KeyPool, loadOrCreateCA, type KeySource } from "../supervisor/identity/index.ts";
import { machine, summarize, type BenchResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);

export async function run(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "corral-bench-"));
  const pool = new KeyPool({ size: 4 });
  try {
    const caStart = performance.now();
    const ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "bench.corral.local" });
    const caMs = performance.now() - caStart;
    const issue = async (keys: KeySource) => {
      const t0 = performance.now();
      await issuePluginLeaf(ca, { trustDomain: ca.trustDomain, plugin: "bench", ttlMs: 3600_000, keys });
      return performance.now() - t0;
    };
    await issue(freshKeys);
    const fresh: number[] = [];
    const pooled: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      fresh.push(await issue(freshKeys));
      while (pool.ready === 0) await new Promise((r) => setTimeout(r, 1)); // instance starts are spaced out
      pooled.push(await issue(pool));
    }
    const metrics = {
      leaf_issuance_fresh_key: summarize(fresh, "ms"),
      leaf_issuance_pooled_key: summarize(pooled, "ms"),
      ca_creation: summarize([caMs], "ms"),
    };
    return {
      machine: machine(),
      metrics,
      ratios: { pooled_vs_fresh_issuance: Math.round((metrics.leaf_issuance_pooled_key.median / metrics.leaf_issuance_fresh_key.median) * 100) / 100 },
    };
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}
