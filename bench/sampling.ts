// What watching instances costs the supervisor: its own CPU time while K
// sandboxed plugins are sampled (cgroup, /proc, go-shim's stats stream, the
// breakers) every 200 ms, against the same supervisor process idle, for
// growing K. Per-instance cost should stay flat (linear growth) and small.
import { performance } from "node:perf_hooks";
import { PluginInstance } from "../supervisor/plugin/instance.ts";
import { openHarness } from "./harness.ts";
import { machine, summarize, type BenchResult } from "./lib.ts";

const COUNTS = (process.env.BENCH_SAMPLING_COUNTS ?? "1,4,8").split(",").map(Number);
const MEASURE_MS = 3000;
const INTERVAL_MS = 200;

/** This process's CPU time over `ms`, in ms. */
async function cpuOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000) * (ms / (performance.now() - t0));
}

export async function run(): Promise<BenchResult> {
  const h = await openHarness(`    sampleInterval: ${INTERVAL_MS}ms\n`);
  const metrics: BenchResult["metrics"] = {};
  const ratios: BenchResult["ratios"] = {};
  try {
    const idle = await cpuOver(MEASURE_MS);
    metrics.supervisor_cpu_idle = summarize([(idle / MEASURE_MS) * 100], "% of a core");
    let perInstanceAt1: number | undefined;
    for (const count of COUNTS) {
      const instances: PluginInstance[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const instance = await PluginInstance.launch(h.plugin, h.env);
          instances.push(instance);
          await instance.ready(AbortSignal.timeout(10_000));
        }
        await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS)); // streams open, first samples taken
        const busy = await cpuOver(MEASURE_MS);
        const samples = count * (MEASURE_MS / INTERVAL_MS);
        const perSample = Math.max(0, busy - idle) / samples;
        metrics[`cpu_per_sample_at_${count}`] = summarize([perSample], "ms");
        metrics[`supervisor_cpu_at_${count}`] = summarize([(busy / MEASURE_MS) * 100], "% of a core");
        perInstanceAt1 ??= perSample;
        if (count !== COUNTS[0]) ratios[`cpu_per_sample_at_${count}_vs_${COUNTS[0]}`] = Math.round((perSample / perInstanceAt1) * 100) / 100;
      } finally {
        await Promise.all(instances.map((i) => i.destroy()));
      }
    }
    return { machine: machine(), metrics, ratios };
  } finally {
    await h.close();
  }
}
