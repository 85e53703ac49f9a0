// What a plugin that floods its output costs the supervisor: the flood test
// plugin (test/plugins/flood) writes to stdout as fast as it can, held to one
// core, under a supervisor whose CPU is measured over a window once the
// flood is under way. Read at output.maxBytesPerSecond (the default 4MiB, and
// 1MiB) against read as fast as it comes (1GiB/s: no pacing in practice),
// alternating, ROUNDS supervisors each.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { TestSupervisor } from "../test/helpers/supervisor.ts";
import { machine, ratio, repoRoot, summarize, type BenchResult, type Metric } from "./lib.ts";

const ROUNDS = Number(process.env.BENCH_OUTPUT_ROUNDS ?? 3);
const SETTLE_MS = 2000;
const WINDOW_MS = 5000;
const HZ = 100; // clock ticks per second (USER_HZ)
const PACES = { unpaced: "1GiB", default: undefined, at_1mib: "1MiB" } as const;
type Pace = keyof typeof PACES;

/** CPU of the supervisor and of the plugin, % of a core, over one window of a flood. */
async function flooded(pace: Pace): Promise<{ supervisor: number; plugin: number }> {
  const maxBytesPerSecond = PACES[pace];
  const supervisor = await TestSupervisor.start({
    plugins: [
      {
        name: "flood",
        binary: path.join(repoRoot, "build/test-plugins/flood"),
        apiVersion: "1.0",
        limits: { cpu: 1 },
        output: { rate: 100, burst: 200, maxLineLength: "4KiB", ...(maxBytesPerSecond && { maxBytesPerSecond }) },
      },
    ],
  });
  try {
    const plugin = (await supervisor.plugin("flood")).instance!.pid!;
    await sleep(SETTLE_MS);
    const ticks = (pid: number) => {
      const stat = readProcStat(pid);
      if (!stat) throw new Error(`process ${pid} is gone`);
      return stat.utime + stat.stime;
    };
    const [s0, p0, t0] = [ticks(supervisor.pid!), ticks(plugin), performance.now()];
    await sleep(WINDOW_MS);
    const [s1, p1, t1] = [ticks(supervisor.pid!), ticks(plugin), performance.now()];
    const percent = (d: number) => (d / HZ / ((t1 - t0) / 1000)) * 100;
    return { supervisor: percent(s1 - s0), plugin: percent(p1 - p0) };
  } finally {
    await supervisor.stop();
    await supervisor.cleanup();
  }
}

export async function run(): Promise<BenchResult> {
  const samples: Record<Pace, { supervisor: number[]; plugin: number[] }> = {
    unpaced: { supervisor: [], plugin: [] },
    default: { supervisor: [], plugin: [] },
    at_1mib: { supervisor: [], plugin: [] },
  };
  const paces = Object.keys(PACES) as Pace[];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paces.length; i++) {
      const pace = paces[(i + round) % paces.length]!;
      const cpu = await flooded(pace);
      samples[pace].supervisor.push(cpu.supervisor);
      samples[pace].plugin.push(cpu.plugin);
      console.log(`output ${pace}: supervisor ${cpu.supervisor.toFixed(1)} % of a core, flooding plugin ${cpu.plugin.toFixed(1)} %`);
    }
  }
  const metrics: Record<string, Metric> = {};
  for (const pace of paces) {
    metrics[`flooded_supervisor_cpu_percent_${pace}`] = summarize(samples[pace].supervisor, "% of a core");
    metrics[`flooded_plugin_cpu_percent_${pace}`] = summarize(samples[pace].plugin, "% of a core");
  }
  return {
    machine: machine(),
    metrics,
    ratios: {
      flooded_supervisor_cpu_default_vs_unpaced: ratio(metrics.flooded_supervisor_cpu_percent_default!, metrics.flooded_supervisor_cpu_percent_unpaced!),
      flooded_supervisor_cpu_1mib_vs_unpaced: ratio(metrics.flooded_supervisor_cpu_percent_at_1mib!, metrics.flooded_supervisor_cpu_percent_unpaced!),
    },
  };
}
