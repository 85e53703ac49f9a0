// How fast the breakers act, and what watching many instances costs.
//
// Reaction, from the condition to the action, over several trials, each on a
// fresh instance of the crasher test plugin (test/plugins/crasher):
//   reaction_cpu         the spinner starts spinning (its own word on stderr)
//                        → every process of it stopped (the breaker's "cpu
//                        breaker open" log, written once /proc shows them in
//                        state T), beyond the window (1 s, sampled every
//                        200 ms; threshold 60 %, as in the tests, so that a
//                        spinner held to its half core on a machine busy
//                        with other work still reads above it). Its part
//                        after the window's end (the trip sample, the park,
//                        SIGSTOP, the check): reaction_cpu_after_window.
//   reaction_memory      the hog is killed by the kernel at its cap (its pid
//                        seen dead in /proc, polled every millisecond) → the
//                        OOM recorded (the instance's exit, from the cgroup's
//                        events).
//   reaction_goroutines  the storm starts (its own word) → the goroutine
//                        breaker's alert raised; reaction_goroutines_gc: → the
//                        forced GC done.
// Target: within one sampling interval + 100 ms.
//
// Cost: the supervisor's CPU time and RSS while 10, 50 and 200 idle greeter
// instances are sampled every second (cgroup, /proc, go-shim's stats stream,
// the breakers), against the same process with none. Target: below 5 % of
// one core at 200 (supervisor_cpu_percent_at_200).
//
// Instances are started as the supervisor starts them (PluginInstance, the
// harness's trust and cgroups), without a supervisor process.
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { AlertBook } from "../supervisor/breakers/alerts.ts";
import { CpuBreaker } from "../supervisor/breakers/cpu-breaker.ts";
import { parseConfig } from "../supervisor/config/load.ts";
import type { PluginConfig } from "../supervisor/config/schema.ts";
import { cpuBreakerConfig } from "../supervisor/plugin/cpu-guard.ts";
import { instanceEnvironment, launcherPool } from "../supervisor/plugin/environment.ts";
import type { InstanceEnvironment } from "../supervisor/plugin/environment.ts";
import { PluginInstance } from "../supervisor/plugin/instance.ts";
import { UidPool } from "../supervisor/plugin/uid-pool.ts";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { ReleaseStore } from "../supervisor/releases/store.ts";
import { openHarness } from "./harness.ts";
import { machine, repoRoot, summarize, type BenchResult } from "./lib.ts";

/** Trials of each reaction: 20, so that their p95 is not simply the slowest (it is of 10). */
const TRIALS = Number(process.env.BENCH_BREAKERS_TRIALS ?? 20);
const COUNTS = (process.env.BENCH_BREAKERS_COUNTS ?? "10,50,200").split(",").map(Number);
/** Instances started at once while filling up to a count. */
const LAUNCH_BATCH = 10;
/** CPU is measured over REPEATS spans of MEASURE_MS each. */
const MEASURE_MS = 5000;
const REPEATS = 3;
const REACTION_INTERVAL_MS = 200;
const CPU_WINDOW_MS = 1000;

interface Line {
  t: number;
  msg: string;
  instance?: string;
  [field: string]: unknown;
}

/** A logger whose lines are kept, parsed, for the trials to wait on. */
function capturingLogger() {
  const lines: Line[] = [];
  const logger = pino(
    { level: "debug", base: undefined, timestamp: pino.stdTimeFunctions.epochTime },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split("\n")) {
          if (!text) continue;
          const line = JSON.parse(text) as Line & { time: number };
          lines.push({ ...line, t: line.time });
        }
        done();
      },
    }),
  );
  const waitFor = async (predicate: (l: Line) => boolean, timeoutMs = 20_000): Promise<Line> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; last: ${lines.slice(-5).map((l) => l.msg).join(" | ")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { lines, logger, waitFor };
}

/**
 * Waits a random part of a sampling interval. A trial's reaction depends on
 * where its condition falls between two samples; without this, every trial
 * takes the same steps and falls at about the same place, and the trials
 * measure one phase ten times over.
 */
function atRandomPhase(): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * REACTION_INTERVAL_MS));
}

/** This process's CPU time over `ms`, in ms, scaled to exactly `ms` of wall time. */
async function cpuOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000) * (ms / (performance.now() - t0));
}

/** Resolves with the time `pid` is seen dead (gone, or a zombie), polling /proc every millisecond. */
function deathOf(pid: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const state = readProcStat(pid)?.state ?? "gone";
      if (state === "Z" || state === "X" || state === "gone") {
        clearInterval(timer);
        resolve(Date.now());
      }
    }, 1);
  });
}

export async function run(): Promise<BenchResult> {
  const h = await openHarness(`    sampleInterval: 1s\n    limits:\n      memory: 32MiB\n`);
  const stateDir = path.join(h.dir, "state");
  // Uids of our own: the harness's pool has 100, and 200 instances are asked for.
  const uids = new UidPool(950_000, 300);
  const launchers = launcherPool(path.join(repoRoot, "build/bin/corral-sandbox"), uids, h.env.cgroups);
  launchers.warm();
  const logs = capturingLogger();
  const env: InstanceEnvironment = instanceEnvironment({
    stateDir,
    runtimeDir: h.runtimeDir,
    trust: h.trust,
    cgroups: h.env.cgroups,
    uids,
    launchers,
    logger: logs.logger,
  });
  const crasher = path.join(repoRoot, "build/test-plugins/crasher");
  const pluginConfig = async (name: string, yaml: string): Promise<PluginConfig> => {
    const store = new ReleaseStore(stateDir, name);
    await store.activate(await store.import(crasher));
    return parseConfig(`plugins:\n  - name: ${name}\n    binary: ${crasher}\n    apiVersion: "1.0"\n${yaml}`, path.join(h.dir, "corral.yaml")).plugins[0]!;
  };

  const metrics: BenchResult["metrics"] = {};
  const ratios: BenchResult["ratios"] = {};
  const live: PluginInstance[] = [];
  try {
    // --- reaction: CPU ---------------------------------------------------
    const spinner = await pluginConfig(
      "spinner",
      `    env: { CRASH_AFTER_MS: "800", CRASH_MODE: spin }\n    limits: { cpu: 0.5, memory: 64MiB }\n    sampleInterval: ${REACTION_INTERVAL_MS}ms\n    breakers: { cpu: { threshold: 60, window: ${CPU_WINDOW_MS}ms, coolDown: 60s } }\n`,
    );
    const cpu: number[] = [];
    const cpuAfterWindow: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const breaker = new CpuBreaker(cpuBreakerConfig(spinner)); // no escalation across trials
      await atRandomPhase();
      const instance = await PluginInstance.launch(spinner, { ...env, cpuBreaker: () => breaker });
      live.push(instance);
      try {
        await instance.ready(AbortSignal.timeout(10_000));
        const spin = await logs.waitFor((l) => l.instance === instance.id && l.msg.startsWith("crasher: spinning"));
        const open = await logs.waitFor((l) => l.instance === instance.id && l.msg.startsWith("cpu breaker open:"));
        if (open.verified !== true) throw new Error(`spinner not verified stopped: ${JSON.stringify(open)}`);
        cpu.push(open.t - spin.t - CPU_WINDOW_MS);
        cpuAfterWindow.push(open.t - ((open.windowStart as number) + CPU_WINDOW_MS));
      } finally {
        await instance.destroy();
      }
    }
    metrics.reaction_cpu = summarize(cpu, "ms");
    metrics.reaction_cpu_after_window = summarize(cpuAfterWindow, "ms");

    // --- reaction: memory ------------------------------------------------
    const hog = await pluginConfig("hog", `    env: { CRASH_AFTER_MS: "500", CRASH_MODE: oom }\n    limits: { memory: 64MiB }\n    sampleInterval: ${REACTION_INTERVAL_MS}ms\n`);
    const memory: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const instance = await PluginInstance.launch(hog, env);
      live.push(instance);
      try {
        await instance.ready(AbortSignal.timeout(10_000));
        const killed = deathOf(instance.pid!);
        const how = await instance.exited;
        const recordedAt = Date.now();
        if (!how.includes("OOM")) throw new Error(`the hog ended otherwise: ${how}`);
        memory.push(recordedAt - (await killed));
      } finally {
        await instance.destroy();
      }
    }
    metrics.reaction_memory = summarize(memory, "ms");

    // --- reaction: goroutines --------------------------------------------
    const storm = await pluginConfig(
      "storm",
      `    env: { CRASH_AFTER_MS: "800", CRASH_MODE: goroutines, GOROUTINES: "3000" }\n    limits: { memory: 64MiB }\n    sampleInterval: ${REACTION_INTERVAL_MS}ms\n    breakers: { goroutines: { threshold: 1000 } }\n`,
    );
    const goroutines: number[] = [];
    const goroutinesGc: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      // A fresh book: the last trial's alert, unacknowledged, would hide this one's.
      await atRandomPhase();
      const instance = await PluginInstance.launch(storm, { ...env, alerts: new AlertBook() });
      live.push(instance);
      try {
        await instance.ready(AbortSignal.timeout(10_000));
        const start = await logs.waitFor((l) => l.instance === instance.id && l.msg.startsWith("crasher: starting"));
        const alert = await logs.waitFor((l) => l.instance === instance.id && l.alert === "goroutines");
        const gc = await logs.waitFor((l) => l.instance === instance.id && l.msg === "goroutine breaker: forced a GC");
        goroutines.push(alert.t - start.t);
        goroutinesGc.push(gc.t - start.t);
      } finally {
        await instance.destroy();
      }
    }
    metrics.reaction_goroutines = summarize(goroutines, "ms");
    metrics.reaction_goroutines_gc = summarize(goroutinesGc, "ms");
    live.length = 0;

    // --- cost of sampling idle instances every second ----------------------
    const quiet: InstanceEnvironment = { ...env, logger: pino({ level: "silent" }) };
    const idle: number[] = [];
    for (let i = 0; i < REPEATS; i++) idle.push(((await cpuOver(MEASURE_MS)) / MEASURE_MS) * 100);
    metrics.supervisor_cpu_percent_idle = summarize(idle, "% of a core");
    metrics.supervisor_rss_idle = summarize([process.memoryUsage().rss / 1024 ** 2], "MiB");
    let perSampleAtFirst: number | undefined;
    for (const count of COUNTS) {
      while (live.length < count) {
        const batch = Array.from({ length: Math.min(LAUNCH_BATCH, count - live.length) }, async () => {
          const instance = await PluginInstance.launch(h.plugin, quiet);
          live.push(instance);
          await instance.ready(AbortSignal.timeout(30_000));
        });
        await Promise.all(batch);
      }
      await new Promise((r) => setTimeout(r, 3000)); // streams open, the launches' work over
      const busy: number[] = [];
      for (let i = 0; i < REPEATS; i++) busy.push(((await cpuOver(MEASURE_MS)) / MEASURE_MS) * 100);
      const idleMedian = metrics.supervisor_cpu_percent_idle.median;
      // The whole measure, bursts included (the windows are of one length: their mean); the windows give the spread.
      const whole = busy.reduce((a, b) => a + b, 0) / busy.length;
      metrics[`supervisor_cpu_percent_at_${count}`] = summarize([whole], `% of a core over ${(REPEATS * MEASURE_MS) / 1000} s`);
      metrics[`supervisor_cpu_percent_windows_at_${count}`] = summarize(busy, `% of a core, each ${MEASURE_MS / 1000} s window`);
      metrics[`supervisor_rss_at_${count}`] = summarize([process.memoryUsage().rss / 1024 ** 2], "MiB");
      // % of a core is ms per second; each instance is sampled once a second.
      const perSample = busy.map((b) => Math.max(0, b - idleMedian) * 10 / count);
      metrics[`cpu_per_sample_at_${count}`] = summarize(perSample, "ms");
      const median = metrics[`cpu_per_sample_at_${count}`]!.median;
      perSampleAtFirst ??= median;
      if (count !== COUNTS[0] && perSampleAtFirst > 0) ratios[`cpu_per_sample_at_${count}_vs_${COUNTS[0]}`] = Math.round((median / perSampleAtFirst) * 100) / 100;
    }
    ratios.reaction_cpu_p95_vs_target = Math.round((metrics.reaction_cpu.p95 / (REACTION_INTERVAL_MS + 100)) * 100) / 100;
    ratios.reaction_memory_p95_vs_target = Math.round((metrics.reaction_memory.p95 / (REACTION_INTERVAL_MS + 100)) * 100) / 100;
    ratios.reaction_goroutines_p95_vs_target = Math.round((metrics.reaction_goroutines.p95 / (REACTION_INTERVAL_MS + 100)) * 100) / 100;
    const at200 = metrics.supervisor_cpu_percent_at_200;
    if (at200) ratios.supervisor_cpu_percent_at_200_vs_target = Math.round((at200.median / 5) * 100) / 100;
    return { machine: machine(), metrics, ratios };
  } finally {
    for (let i = 0; i < live.length; i += 50) await Promise.all(live.slice(i, i + 50).map((instance) => instance.destroy()));
    await launchers.close();
    await h.close();
  }
}
