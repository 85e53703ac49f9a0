// Start overhead of a sandbox: a trivial static command (the probe test
// plugin's `exit 0`) run to completion, four ways, interleaved:
//   exec      the binary spawned bare
//   bwrap     bubblewrap with comparable namespaces (user, pid, net, ipc, uts,
//             cgroup), a read-only bind of the binary, fresh /proc, /dev, /tmp
//   sandbox   Corral's sandbox as `corral sandbox` runs it: the same code
//             (a launcher spawned for the run, which starts while the config
//             is read and the plan made; uid, instance directory, cgroup with
//             limits; cleanup), minus starting Node itself
//   warm      the same with a warm launcher from a LauncherPool, as the
//             supervisor starts plugins (the launcher up, its init cloned and
//             its namespaces made before the run starts)
//   warm bwrap  bubblewrap started before the run and held, its sandbox set
//             up, with --block-fd; the run releases it: the like-for-like
//             baseline of "warm" (a warm launcher has also done its set-up
//             work before the clock starts)
// Corral's runs also record when each phase was reached, to show where the
// time goes; CORRAL_SANDBOX_TRACE=1 makes the launcher and the init print
// when they reach each of their steps (sandbox/cmd/corral-sandbox/trace.go).
// bwrap is installed from apt if missing.
import { spawn, type ChildProcess } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { LauncherPool } from "../sandbox/launcher-pool.ts";
import { planSandbox, runSandbox, type RunPhase, type SandboxOutcome } from "../supervisor/sandbox-command.ts";
import { UidPool } from "../supervisor/plugin/uid-pool.ts";
import { benchCgroupParent, benchTempDir } from "./leftovers.ts";
import { machine, ratio, repoRoot, summarize, type BenchResult, type Metric } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 3;
const PROBE = path.join(repoRoot, "build/test-plugins/probe");
const LAUNCHER = path.join(repoRoot, "build/bin/corral-sandbox");
/** Leaves the launcher pool time to make a new spare (it waits 200 ms after one is taken). */
const PAUSE_MS = 300;

export async function run(): Promise<BenchResult> {
  const bwrap = await ensureBwrap();
  const dir = await benchTempDir("sandbox");
  const configFile = path.join(dir, "corral.yaml");
  const cgroupParent = benchCgroupParent();
  await writeFile(configFile, `runtimeDir: ./run\nsandbox:\n  cgroupParent: ${cgroupParent}\n  uidBase: 2030000000\n  uidCount: 100\n`);
  const uids = new UidPool(520_000, 10);
  const pool = new LauncherPool({
    launcherPath: LAUNCHER,
    allocateIds: () => {
      const uid = uids.allocate();
      return { uid, gid: uid };
    },
    releaseIds: (ids) => uids.release(ids.uid),
  });
  pool.warm();
  const heldChildren = new Set<ChildProcess>();
  try {
    const exec = () => spawnToExit(PROBE, ["exit", "0"]);
    const bwrapArgs = (extra: string[] = []) => [
      "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
      "--die-with-parent", "--ro-bind", PROBE, "/plugin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
      ...extra, "/plugin", "exit", "0",
    ];
    const bubblewrap = () => spawnToExit(bwrap, bwrapArgs());
    // Set up now, run (until exit) when released.
    const heldBwrap = () => {
      const child = spawn(bwrap, bwrapArgs(["--block-fd", "3"]), { stdio: ["inherit", "inherit", "inherit", "pipe"] });
      heldChildren.add(child);
      child.stdio[3]!.on("error", () => {}); // reset when bwrap closes it after reading
      const exited = new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("exit", (code) => {
          heldChildren.delete(child);
          resolve(code);
        });
      });
      return async () => {
        const t0 = performance.now();
        (child.stdio[3] as NodeJS.WritableStream).end("go");
        const code = await exited;
        if (code !== 0) throw new Error(`held bwrap: status ${code}`);
        return performance.now() - t0;
      };
    };
    let held = heldBwrap();
    const corral = async (warm: boolean) => {
      const phases: Partial<Record<RunPhase, number>> = {};
      const t0 = performance.now();
      const plan = () => planSandbox({ config: configFile }, [PROBE, "exit", "0"]);
      const slot = warm ? pool.acquire() : undefined;
      const outcome = await runSandbox(plan, {
        launcherPath: LAUNCHER,
        ...(slot && { slot }),
        onPhase: (phase) => (phases[phase] = performance.now() - t0),
      });
      if (slot) uids.release(slot.ids.uid); // a slot's ids are the taker's to give back
      check(outcome, warm ? "warm" : "sandbox");
      return { ms: performance.now() - t0, phases };
    };

    const samples: Record<string, number[]> = {};
    const add = (name: string, value: number | undefined) => {
      if (value !== undefined) (samples[name] ??= []).push(value);
    };
    const runs: Array<[string, () => Promise<void>]> = [
      ["exec", async () => add("exec", await exec())],
      ["warm_bwrap", async () => add("warm_bwrap", await held())],
      ["bwrap", async () => add("bwrap", await bubblewrap())],
      [
        "sandbox",
        async () => {
          const r = await corral(false);
          add("sandbox", r.ms);
          for (const [phase, at] of Object.entries(r.phases)) add(`sandbox_at_${phase}`, at);
        },
      ],
      [
        "warm",
        async () => {
          const r = await corral(true);
          add("warm", r.ms);
          for (const [phase, at] of Object.entries(r.phases)) add(`warm_at_${phase}`, at);
        },
      ],
    ];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      if (i === WARMUP) for (const key of Object.keys(samples)) delete samples[key];
      if (i > 0) held = heldBwrap();
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      // The order rotates, so that whichever comes first after the pause is not always the same.
      for (let k = 0; k < runs.length; k++) await runs[(i + k) % runs.length]![1]();
    }

    const metric = (name: string): Metric => summarize(samples[name] ?? [], "ms");
    const metrics: Record<string, Metric> = {
      exec_start: metric("exec"),
      bwrap_start: metric("bwrap"),
      sandbox_start: metric("sandbox"),
      sandbox_start_warm_launcher: metric("warm"),
      bwrap_start_held: metric("warm_bwrap"),
    };
    // Where the time goes: when each phase was reached, from the start of the run.
    for (const kind of ["sandbox", "warm"]) {
      for (const phase of ["launched", "prepared", "init", "started", "exited"] satisfies RunPhase[]) {
        if (samples[`${kind}_at_${phase}`]) metrics[`${kind}_at_${phase}`] = metric(`${kind}_at_${phase}`);
      }
    }
    return {
      machine: { ...machine(), bwrap: (await execa(bwrap, ["--version"])).stdout.trim() },
      metrics,
      ratios: {
        sandbox_vs_bwrap_start: ratio(metrics.sandbox_start!, metrics.bwrap_start!),
        sandbox_vs_exec_start: ratio(metrics.sandbox_start!, metrics.exec_start!),
        warm_launcher_vs_bwrap_start: ratio(metrics.sandbox_start_warm_launcher!, metrics.bwrap_start!),
        warm_launcher_vs_held_bwrap_start: ratio(metrics.sandbox_start_warm_launcher!, metrics.bwrap_start_held!),
      },
    };
  } finally {
    for (const child of heldChildren) child.kill("SIGKILL");
    await pool.close();
    // Runs remove their cgroup parent when they leave it empty; a failed one may not have.
    await (await openCgroupDriver({ parent: `${cgroupParent}-cli` })).removeParent();
    await rm(dir, { recursive: true, force: true });
  }
}

function check(outcome: SandboxOutcome, what: string): void {
  if (outcome.status !== 0 || outcome.cleanupError) {
    const why = outcome.exit.error ? `setup failed at ${outcome.exit.error.stage}: ${outcome.exit.error.message}` : `status ${outcome.status}`;
    throw new Error(`${what} run failed: ${why}${outcome.cleanupError ? `; cleanup: ${outcome.cleanupError.message}` : ""}`);
  }
}

/** Spawns a command with stdio attached and resolves with the time until it exited 0. */
function spawnToExit(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(" ")}: ${signal ?? `status ${code}`}`));
    });
  });
}

/** The bwrap binary, installed from Debian's bubblewrap package if missing. */
async function ensureBwrap(): Promise<string> {
  const found = async () => (await execa("bwrap", ["--version"], { reject: false })).exitCode === 0;
  if (!(await found())) {
    console.log("bench sandbox: installing bubblewrap (apt-get install -y bubblewrap)");
    const install = () => execa("apt-get", ["install", "-y", "bubblewrap"], { reject: false, stdio: "inherit" });
    if ((await install()).exitCode !== 0) {
      await execa("apt-get", ["update"], { stdio: "inherit" });
      await execa("apt-get", ["install", "-y", "bubblewrap"], { stdio: "inherit" });
    }
  }
  return (await execa("sh", ["-c", "command -v bwrap"])).stdout.trim();
}
