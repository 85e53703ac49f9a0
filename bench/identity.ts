// Identity on an instance's start path: issuing a leaf (fresh ECDSA P-256 key,
// signed by the CA) and the CA's one-time creation.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { generateRsaKey, issuePluginLeaf, loadOrCreateCA, type KeySource } from "../supervisor/identity/index.ts";
import { machine, ratio, summarize, type BenchResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);

export async function run(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "corral-bench-"));
  try {
    const caStart = performance.now();
    const ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "bench.corral.local" });
    const caMs = performance.now() - caStart;
    const issue = async (keys?: KeySource) => {
      const t0 = performance.now();
      await issuePluginLeaf(ca, { trustDomain: ca.trustDomain, plugin: "bench", ttlMs: 3600_000, ...(keys && { keys }) });
      return performance.now() - t0;
    };
    // The baseline: the same leaf with an RSA 2048 key, as many CAs issue.
    const rsa: KeySource = { take: () => generateRsaKey(2048) };
    await issue();
    const ecdsa: number[] = [];
    const rsaSamples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ecdsa.push(await issue());
      rsaSamples.push(await issue(rsa));
    }
    const metrics = {
      leaf_issuance_ecdsa: summarize(ecdsa, "ms"),
      leaf_issuance_rsa2048: summarize(rsaSamples, "ms"),
      ca_creation: summarize([caMs], "ms"),
    };
    return { machine: machine(), metrics, ratios: { ecdsa_vs_rsa2048_issuance: ratio(metrics.leaf_issuance_ecdsa, metrics.leaf_issuance_rsa2048) } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
