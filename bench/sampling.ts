// What watching instances costs the supervisor: its own CPU time while K
// sandboxed plugins are sampled (cgroup, /proc, go-shim's stats stream, the
// breakers) every 200 ms, against the same supervisor process idle, for
// growing K. Per-instance cost should stay flat (linear growth) and small.
//
// A sample costs tens of microseconds: at 1 instance, 15 samples in a 3 s
// window are less than the idle process's own variation between windows
// (a single window each read 0 there once). So each figure is the median
// of WINDOWS windows. (busy - idle) / samples also carries what having any
// instance at all costs, whatever their number (the sampling loop's own
// timers), which weighs most at 1: what an instance more costs is the CPU
// added from one count to the next over the samples added, and flat growth
// means that stays the same from the smaller counts to the larger.
import { performance } from "node:perf_hooks";
import { PluginInstance } from "../supervisor/plugin/instance.ts";
import { openHarness } from "./harness.ts";
import { machine, summarize, type BenchResult } from "./lib.ts";

const COUNTS = (process.env.BENCH_SAMPLING_COUNTS ?? "1,4,8").split(",").map(Number);
const MEASURE_MS = 3000;
const WINDOWS = 3;
const INTERVAL_MS = 200;

/** The median of `windows` readings of this process's CPU time over `ms`, in ms. */
async function medianCpuOver(ms: number, windows: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < windows; i++) readings.push(await cpuOver(ms));
  return readings.sort((a, b) => a - b)[Math.floor(windows / 2)]!;
}

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
    const idle = await medianCpuOver(MEASURE_MS, WINDOWS);
    metrics.supervisor_cpu_idle = summarize([(idle / MEASURE_MS) * 100], "% of a core");
    const busyAt = new Map<number, number>();
    for (const count of COUNTS) {
      const instances: PluginInstance[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const instance = await PluginInstance.launch(h.plugin, h.env);
          instances.push(instance);
          await instance.ready(AbortSignal.timeout(10_000));
        }
        await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS)); // streams open, first samples taken
        const busy = await medianCpuOver(MEASURE_MS, WINDOWS);
        const samples = count * (MEASURE_MS / INTERVAL_MS);
        const perSample = Math.max(0, busy - idle) / samples;
        busyAt.set(count, busy);
        metrics[`cpu_per_sample_at_${count}`] = summarize([perSample], "ms");
        metrics[`supervisor_cpu_at_${count}`] = summarize([(busy / MEASURE_MS) * 100], "% of a core");
      } finally {
        await Promise.all(instances.map((i) => i.destroy()));
      }
    }
    // What each sample added costs, from one count to the next.
    const added: Array<{ name: string; ms: number }> = [];
    for (let i = 1; i < COUNTS.length; i++) {
      const [from, to] = [COUNTS[i - 1]!, COUNTS[i]!];
      const samples = (to - from) * (MEASURE_MS / INTERVAL_MS);
      const ms = (busyAt.get(to)! - busyAt.get(from)!) / samples;
      const name = `${from}_to_${to}`;
      metrics[`cpu_per_added_sample_${name}`] = summarize([Math.max(0, ms)], "ms");
      added.push({ name, ms });
    }
    const [first, last] = [added[0], added.at(-1)];
    if (first && last && first !== last && first.ms > 0) {
      ratios[`cpu_per_added_sample_${last.name}_vs_${first.name}`] = Math.round((Math.max(0, last.ms) / first.ms) * 100) / 100;
    }
    return { machine: machine(), metrics, ratios };
  } finally {
    await h.close();
  }
}
