// Corral at scale: a real supervisor (`corral serve`) with N small plugins in
// its config, for N = 50, 100, 200, 500 (BENCH_SCALE_COUNTS): each the go-shim
// Echo plugin of bench/goplugin (the size of the example greeter, nothing to
// do at start; the greeter itself cannot be configured under N names), with
// tight limits (24 MiB, 32 pids), sampled every second (the default
// sampleInterval). The supervisor starts every configured plugin at once.
// For each N this measures:
//
// - time to start them all: from spawning `corral serve` to its "supervisor
//   ready" log line (every plugin settled), with each plugin's "plugin ready"
//   time, when the last binary was imported into its release store and when
//   the first plugin was launched. Twice: cold (`start_*`: a new state
//   directory, every binary imported) and warm (`restart_*`: the same
//   supervisor started again on its state, as after a reboot);
// - the supervisor at rest, after the cold start (SETTLE_MS after ready,
//   then REST_WINDOWS windows of WINDOW_MS): its CPU (utime + stime from
//   /proc/<pid>/stat) as % of one core, its RSS (VmRSS), fds and threads.
//   Its CPU per instance is that divided by N (at a 1 s interval, mostly
//   one instance's sampling for a second, whatever else the supervisor does
//   at rest counted in). The sampling's other side, go-shim answering its
//   Stats stream, is in the instances' own CPU (below), per instance too;
// - memory per instance, four ways: the instance cgroups' memory
//   (memory.usage_in_bytes, summed, / N: the plugin and its sandbox init,
//   page cache charged to them included); the PSS of every process the
//   supervisor runs for the instances (sandbox launchers, which live outside
//   the instance cgroups, inits and plugins; file-backed pages of the
//   binaries included, and each plugin runs its own copy of its binary from
//   its release store) / N, by command in the notes; their anonymous memory
//   (RssAnon: what each costs beyond page cache) / N; the drop in the system's
//   MemAvailable from before the supervisor started to at rest, / N
//   (everything, the supervisor's own growth and the kernel's included; the
//   machine is shared, so this one is the noisiest);
// - the CPU of the instances themselves at rest (launchers, inits, plugins:
//   by command name in the notes printed), and the time a SIGTERM takes to
//   stop them all.
//
// Plugins get startTimeout 120 s: the default 10 s is meant for one start on
// a quiet host, not for hundreds at once on two cores. The uid range is
// sized to 2N (instances and warm launchers), and the supervisor runs with
// this process's RLIMIT_NOFILE (Node raises its soft limit to the hard
// limit), reported with the fds the supervisor used.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, stringify } from "yaml";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { forEachLogLine, type LogLine } from "../test/helpers/logs.ts";
import { descendants } from "../test/helpers/processes.ts";
import { corralBin, nodeBin, TestSupervisor } from "../test/helpers/supervisor.ts";
import { cpuNanos, machine, ratio, repoRoot, summarize, type BenchResult, type Metric } from "./lib.ts";

const COUNTS = (process.env.BENCH_SCALE_COUNTS ?? "50,100,200,500").split(",").map(Number);
const SETTLE_MS = 10_000;
/**
 * At rest: 10 windows of 3 s. The supervisor's CPU at rest is its CPU time
 * over the whole 30 s (bursts count, as they would not in a median of
 * windows), read in nanoseconds (cpuNanos); the windows give its spread.
 */
const REST_WINDOWS = 10;
const WINDOW_MS = Number(process.env.BENCH_SCALE_WINDOW_MS ?? 3000);
const READY_TIMEOUT_MS = 8 * 60_000;
const STOP_TIMEOUT_MS = 3 * 60_000;
const MiB = 1024 * 1024;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;
/** bench/goplugin's go-shim Echo plugin: small, nothing to do at start, and it takes its name from CORRAL_PLUGIN. */
const pluginBinary = path.join(repoRoot, "build/bench/goplugin-shimecho");

const round2 = (v: number) => Math.round(v * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AtScale {
  n: number;
  metrics: Record<string, Metric>;
  notes: string[];
}

export async function run(): Promise<BenchResult> {
  await execa("go", ["build", "-trimpath", "-o", pluginBinary, "./shimecho"], { cwd: path.join(repoRoot, "bench/goplugin"), env: { CGO_ENABLED: "0" } });
  const metrics: Record<string, Metric> = {};
  const limits = await readFile("/proc/self/limits", "utf8");
  const nofile = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const pidMax = Number((await readFile("/proc/sys/kernel/pid_max", "utf8")).trim());
  const notes: string[] = [`RLIMIT_NOFILE ${nofile?.[1]}/${nofile?.[2]} (soft/hard), kernel.pid_max ${pidMax}`];
  const done: AtScale[] = [];
  for (const n of COUNTS) {
    const r = await atScale(n);
    done.push(r);
    Object.assign(metrics, r.metrics);
    notes.push(...r.notes);
  }
  for (const note of notes) console.log(`scale: ${note}`);
  const first = done[0]!.n;
  const last = done.at(-1)!.n;
  const ratios: Record<string, number> = {};
  const perInstance = (name: string, k: number) => (metrics[`${name}_at_${k}`]?.median ?? NaN) / k;
  if (first !== last) {
    ratios[`supervisor_cpu_per_instance_${last}_vs_${first}`] = ratio(
      metrics[`supervisor_cpu_per_instance_at_${last}`]!,
      metrics[`supervisor_cpu_per_instance_at_${first}`]!,
    );
    ratios[`start_all_per_instance_${last}_vs_${first}`] = round2(perInstance("start_all", last) / perInstance("start_all", first));
    ratios[`restart_all_per_instance_${last}_vs_${first}`] = round2(perInstance("restart_all", last) / perInstance("restart_all", first));
  }
  return { machine: { ...machine(), nofile: `${nofile?.[1]}/${nofile?.[2]}`, pidMax }, metrics, ratios };
}

/** A running `corral serve`, its log lines and when it was spawned. */
interface Served {
  child: ResultPromise;
  pid: number;
  logs: LogLine[];
  stderr: string[];
  t0: number;
  t0Wall: number;
}

function serve(configFile: string): Served {
  const logs: LogLine[] = [];
  const t0Wall = Date.now();
  const t0 = performance.now();
  const child = execa(nodeBin, [corralBin, "serve", "--config", configFile], {
    reject: false,
    buffer: false,
    stdin: "ignore",
    env: { CORRAL_LOG_LEVEL: "info" },
    // execa would SIGKILL 5 s after a SIGTERM; stopped() gives the supervisor STOP_TIMEOUT_MS.
    forceKillAfterDelay: false,
  });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  forEachLogLine(child.stdout!, (line) => logs.push(line));
  return { child, pid: child.pid!, logs, stderr, t0, t0Wall };
}

/**
 * Waits for "supervisor ready" and records, under `prefix` and n: the time to
 * it, each plugin's readiness, when the binaries were imported and the
 * first plugin launched, and plugins that failed to start.
 */
async function started(s: Served, n: number, prefix: string, metrics: Record<string, Metric>, notes: string[]): Promise<void> {
  let readyAt: number | undefined;
  const deadline = s.t0 + READY_TIMEOUT_MS;
  for (;;) {
    if (s.logs.some((l) => l.msg.startsWith("supervisor ready"))) {
      readyAt = performance.now() - s.t0;
      break;
    }
    if (s.child.exitCode !== null || s.child.signalCode !== null) {
      throw new Error(`at ${n}: the supervisor exited before ready: ${s.stderr.join("").slice(-2000)}`);
    }
    if (performance.now() > deadline) break;
    await sleep(20);
  }
  const at = (l: LogLine) => Date.parse(l.time) - s.t0Wall;
  const ready = new Map<string, number>();
  for (const l of s.logs) if (l.msg === "plugin ready" && l.plugin && !ready.has(l.plugin)) ready.set(l.plugin, at(l));
  const starting = s.logs.filter((l) => l.msg === "plugin starting").map(at);
  const imported = s.logs.filter((l) => l.msg === "current release").map(at);
  const failures = s.logs.filter((l) => ["plugin crashed", "plugin backoff", "plugin quarantined"].includes(l.msg));
  if (readyAt === undefined) notes.push(`at ${n} (${prefix}): not ready within ${READY_TIMEOUT_MS / 1000} s; ${ready.size} plugins ready`);
  else metrics[`${prefix}_all_at_${n}`] = summarize([readyAt], "ms");
  if (ready.size > 0) metrics[`${prefix}_plugin_ready_at_${n}`] = summarize([...ready.values()], "ms");
  if (imported.length > 0) metrics[`${prefix}_binaries_imported_at_${n}`] = summarize([Math.max(...imported)], "ms");
  if (starting.length > 0) metrics[`${prefix}_first_launch_at_${n}`] = summarize([Math.min(...starting)], "ms");
  metrics[`${prefix}_plugins_not_ready_at_${n}`] = summarize([n - ready.size], "plugins");
  metrics[`${prefix}_plugin_failures_at_${n}`] = summarize([failures.length], "transitions");
  const reasons = new Map<string, number>();
  for (const f of failures) {
    const key = `${f.msg}: ${String(f.reason ?? "").slice(0, 160)}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  for (const [what, count] of reasons) notes.push(`at ${n} (${prefix}): ${count} × ${what}`);
  const sec = (name: string) => ((metrics[`${prefix}_${name}_at_${n}`]?.median ?? NaN) / 1000).toFixed(1);
  console.log(
    `scale ${n} ${prefix}: ready ${readyAt === undefined ? "never" : `${(readyAt / 1000).toFixed(1)} s`} (${ready.size}/${n} plugins; ` +
      `binaries imported by ${sec("binaries_imported")} s, first launch ${sec("first_launch")} s, ` +
      `plugins ready p50 ${sec("plugin_ready")} s, last ${((metrics[`${prefix}_plugin_ready_at_${n}`]?.max ?? NaN) / 1000).toFixed(1)} s)`,
  );
}

/** SIGTERM, and the time until the supervisor has stopped every plugin and exited. */
async function stopped(s: Served, n: number, prefix: string, metrics: Record<string, Metric>, notes: string[]): Promise<void> {
  const t = performance.now();
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  const exit = await s.child;
  clearTimeout(timer);
  metrics[`${prefix}_stop_all_at_${n}`] = summarize([performance.now() - t], "ms");
  if (exit.exitCode !== 0) notes.push(`at ${n} (${prefix}): the supervisor exited with ${exit.exitCode ?? exit.signal} on SIGTERM`);
}

async function atScale(n: number): Promise<AtScale> {
  const names = Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, "0")}`);
  const sup = await TestSupervisor.create({
    plugins: names.map((name) => ({
      name,
      binary: pluginBinary,
      apiVersion: "1.0",
      limits: { memory: "24MiB", pids: 32 },
      sampleInterval: "1s",
      startTimeout: "120s",
    })),
  });
  // A uid range of its own, clear of the test supervisors' (400000-900099) and the harness's.
  const config = parse(await readFile(sup.configFile, "utf8")) as { sandbox: Record<string, unknown> };
  config.sandbox.uidBase = 2_040_000_000 + (randomBytes(2).readUInt16BE() % 1000) * 2000;
  config.sandbox.uidCount = Math.max(100, 2 * n);
  await writeFile(sup.configFile, stringify(config));

  const metrics: Record<string, Metric> = {};
  const notes: string[] = [];
  const memBefore = await memAvailable();
  let running: Served | undefined;
  try {
    // Cold: a new state directory, every binary imported into its plugin's release store.
    running = serve(sup.configFile);
    await started(running, n, "start", metrics, notes);
    const { pid } = running;

    // At rest.
    const logsAtReady = running.logs.length;
    await sleep(SETTLE_MS);
    const cpu: number[] = [];
    let restNs = 0;
    let restSeconds = 0;
    const cpuSystem: number[] = [];
    const instancesCpu: number[] = [];
    /** Ticks at rest of the instances' processes by command name (launcher, init, plugin). */
    const byCommand = new Map<string, number>();
    let rested = 0;
    for (let w = 0; w < REST_WINDOWS; w++) {
      // The supervisor's window is timed on its own reads: reading the
      // instances' 1500 stat files takes a while, which its ticks must not
      // be counted over and divided without.
      const family0 = await descendants(pid);
      const a0 = performance.now();
      const d0 = family0.map(cpuTicks);
      const a1 = performance.now();
      const s0 = cpuTicks(pid);
      const ns0 = await cpuNanos(pid);
      const w0 = performance.now();
      await sleep(WINDOW_MS);
      const ns1 = await cpuNanos(pid);
      const seconds = (performance.now() - w0) / 1000;
      const s1 = cpuTicks(pid);
      const b0 = performance.now();
      const d1 = family0.map(cpuTicks);
      const b1 = performance.now();
      const familySeconds = ((b0 + b1) / 2 - (a0 + a1) / 2) / 1000;
      rested += familySeconds;
      cpu.push(((ns1 - ns0) / 1e9 / seconds) * 100);
      restNs += ns1 - ns0;
      restSeconds += seconds;
      cpuSystem.push(((s1.system - s0.system) / HZ / seconds) * 100);
      let family = 0;
      for (const [i, p] of family0.entries()) {
        // A process gone in the window counts for nothing, not for minus its past.
        const ticks = d1[i]!.alive ? d1[i]!.user + d1[i]!.system - d0[i]!.user - d0[i]!.system : 0;
        family += ticks;
        const comm = d0[i]!.comm || String(p);
        byCommand.set(comm, (byCommand.get(comm) ?? 0) + ticks);
      }
      instancesCpu.push((family / HZ / familySeconds) * 100);
    }
    // Still up: a plugin that crashed, backed off or was quarantined while
    // at rest would have made the supervisor's CPU at rest something else.
    const afterRest = await sup.status();
    const notReady = afterRest.plugins.filter((p) => p.state !== "ready");
    const restFailures = running.logs.slice(logsAtReady).filter((l) => ["plugin crashed", "plugin backoff", "plugin quarantined"].includes(l.msg));
    metrics[`rest_plugins_not_ready_at_${n}`] = summarize([notReady.length], "plugins not ready after the time at rest");
    metrics[`rest_plugin_failures_at_${n}`] = summarize([restFailures.length], "transitions while at rest");
    for (const p of notReady.slice(0, 5)) notes.push(`at ${n}: ${p.name} ${p.state} after the time at rest: ${p.reason}`);
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    const family = await descendants(pid);
    const familyThreads = (await Promise.all(family.map((p) => procField(p, "Threads")))).reduce((a, b) => a + b, 0);
    const pssEach = await Promise.all(family.map(pssKiB));
    const pss = pssEach.reduce((a, b) => a + b, 0) * 1024;
    const anon = (await Promise.all(family.map((p) => procField(p, "RssAnon")))).reduce((a, b) => a + b, 0) * 1024;
    const comms = await Promise.all(family.map(async (p) => (await readFile(`/proc/${p}/comm`, "utf8").catch(() => "?")).trim()));
    const pssByCommand = new Map<string, number>();
    comms.forEach((comm, i) => pssByCommand.set(comm, (pssByCommand.get(comm) ?? 0) + pssEach[i]! * 1024));
    notes.push(
      `at ${n}: PSS per instance by command: ` + [...pssByCommand].map(([comm, bytes]) => `${comm} ${round2(bytes / n / MiB)} MiB`).join(", "),
    );
    const cgroupBytes = await instanceCgroupsMemory(pid, sup.cgroupParent);
    const memAfter = await memAvailable();

    const restPercent = (restNs / 1e9 / restSeconds) * 100;
    metrics[`supervisor_cpu_percent_at_${n}`] = summarize([restPercent], `% of a core over ${Math.round(restSeconds)} s at rest`);
    metrics[`supervisor_cpu_percent_windows_at_${n}`] = summarize(cpu, `% of a core, each ${WINDOW_MS / 1000} s window`);
    metrics[`supervisor_cpu_per_instance_at_${n}`] = summarize([(restPercent / 100 / n) * 1e6], "µs of the supervisor's CPU per instance per s");
    metrics[`supervisor_cpu_system_percent_at_${n}`] = summarize(cpuSystem, "% of a core");
    metrics[`instances_cpu_percent_at_${n}`] = summarize(instancesCpu, "% of a core");
    const instancesPercent = metrics[`instances_cpu_percent_at_${n}`]!.median;
    metrics[`instances_cpu_per_instance_at_${n}`] = summarize([(instancesPercent / 100 / n) * 1e6], "µs of its own processes' CPU (launcher, init, plugin) per instance per s");
    notes.push(
      `at ${n}: the instances' CPU at rest by command: ` +
        [...byCommand].map(([comm, ticks]) => `${comm} ${round2((ticks / HZ / rested) * 100)} %`).join(", "),
    );
    metrics[`supervisor_rss_at_${n}`] = summarize([round2((field("VmRSS") * 1024) / MiB)], "MiB");
    metrics[`supervisor_fds_at_${n}`] = summarize([fds], "fds");
    metrics[`supervisor_threads_at_${n}`] = summarize([field("Threads")], "threads");
    metrics[`instance_processes_at_${n}`] = summarize([family.length], "processes");
    metrics[`instance_threads_at_${n}`] = summarize([familyThreads], "threads");
    metrics[`memory_per_instance_cgroup_at_${n}`] = summarize([round2(cgroupBytes / n / MiB)], "MiB");
    metrics[`memory_per_instance_pss_at_${n}`] = summarize([round2(pss / n / MiB)], "MiB");
    metrics[`memory_per_instance_anon_at_${n}`] = summarize([round2(anon / n / MiB)], "MiB");
    metrics[`memory_per_instance_system_at_${n}`] = summarize([round2((memBefore - memAfter) / n / MiB)], "MiB");
    console.log(
      `scale ${n} at rest: supervisor ${metrics[`supervisor_cpu_percent_at_${n}`]!.median} % of a core, RSS ${metrics[`supervisor_rss_at_${n}`]!.median} MiB, ` +
        `${fds} fds, ${field("Threads")} threads; instances ${metrics[`instances_cpu_percent_at_${n}`]!.median} % of a core, ${family.length} processes, ` +
        `${familyThreads} threads; per instance: cgroup ${metrics[`memory_per_instance_cgroup_at_${n}`]!.median} MiB, ` +
        `PSS ${metrics[`memory_per_instance_pss_at_${n}`]!.median} MiB, anonymous ${metrics[`memory_per_instance_anon_at_${n}`]!.median} MiB, system ${metrics[`memory_per_instance_system_at_${n}`]!.median} MiB`,
    );
    await stopped(running, n, "start", metrics, notes);

    // Warm: the same supervisor started again on its state (the release stores filled), as after a reboot.
    running = serve(sup.configFile);
    await started(running, n, "restart", metrics, notes);
    await sleep(SETTLE_MS);
    await stopped(running, n, "restart", metrics, notes);
    console.log(
      `scale ${n}: stopped all in ${((metrics[`start_stop_all_at_${n}`]?.median ?? NaN) / 1000).toFixed(1)} s, ` +
        `then in ${((metrics[`restart_stop_all_at_${n}`]?.median ?? NaN) / 1000).toFixed(1)} s`,
    );
    return { n, metrics, notes };
  } finally {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill("SIGKILL");
      await running.child.catch(() => {});
    }
    await sup.cleanup();
  }
}

/** MemAvailable of /proc/meminfo, in bytes. */
async function memAvailable(): Promise<number> {
  const text = await readFile("/proc/meminfo", "utf8");
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(text)![1]) * 1024;
}

/** utime and stime of a process, in clock ticks, and its command name; zeros if it is gone. */
function cpuTicks(pid: number): { user: number; system: number; comm: string; alive: boolean } {
  const stat = readProcStat(pid);
  if (!stat) return { user: 0, system: 0, comm: "", alive: false };
  return { user: stat.utime, system: stat.stime, comm: stat.comm, alive: true };
}

/** A numeric field of /proc/<pid>/status; 0 if the process is gone. */
async function procField(pid: number, name: string): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
}

/** Proportional set size of a process, in KiB; 0 if it is gone. */
async function pssKiB(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
}

/** memory.usage_in_bytes (v1) or memory.current (v2) of every instance cgroup below the parent, summed. */
async function instanceCgroupsMemory(pid: number, parent: string): Promise<number> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n");
  const v1 = lines.find((l) => l.split(":")[1]?.split(",").includes("memory"));
  const dir = v1
    ? path.join("/sys/fs/cgroup/memory", v1.split(":")[2]!, parent)
    : path.join("/sys/fs/cgroup", lines.find((l) => l.startsWith("0::"))!.slice(3), parent);
  const file = v1 ? "memory.usage_in_bytes" : "memory.current";
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    total += Number((await readFile(path.join(dir, entry.name, file), "utf8").catch(() => "0")).trim());
  }
  return total;
}
