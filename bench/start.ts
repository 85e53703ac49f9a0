// Cold start of the example plugin, spawn to ready (handshake and health over
// mTLS): sandboxed exactly as the supervisor starts an instance (its launcher
// pool keeps a sandbox launcher warm; the plugin itself starts cold), also
// with no warm launcher, against the same binary started bare with the same
// certificate issuance and handshake. Runs alternate so drift on the machine
// hits all alike.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { LauncherPool } from "../sandbox/launcher-pool.ts";
import { parseConfig } from "../supervisor/config/load.ts";
import { ControlChannel } from "../supervisor/plugin/control-channel.ts";
import { Trust } from "../supervisor/trust.ts";
import { PluginInstance, type InstanceEnvironment } from "../supervisor/plugin/instance.ts";
import { UidPool } from "../supervisor/plugin/uid-pool.ts";
import { ReleaseStore } from "../supervisor/releases/store.ts";
import { machine, ratio, repoRoot, summarize, type BenchResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 3;

export async function run(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "corral-bench-"));
  await chmod(dir, 0o711);
  const stateDir = path.join(dir, "state");
  const runtimeDir = path.join(dir, "run");
  await mkdir(path.join(runtimeDir, "instances"), { recursive: true, mode: 0o711 });
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  const cgroups = await openCgroupDriver({ parent: `corral-bench-${randomBytes(3).toString("hex")}` });
  let launchers: LauncherPool | undefined;
  let trust: Trust | undefined;
  let coldLaunchers: LauncherPool | undefined;
  try {
    const plugin = parseConfig(
      `plugins:\n  - name: greeter\n    binary: ${path.join(repoRoot, "build/plugins/greeter")}\n    apiVersion: "1.0"\n`,
      path.join(dir, "corral.yaml"),
    ).plugins[0]!;
    const silent = pino({ level: "silent" });
    trust = await Trust.open(stateDir, "bench.corral.local", silent);
    const { ca } = trust;
    const supervisorTrust = trust;
    const store = new ReleaseStore(stateDir, plugin.name);
    await store.activate(await store.import(plugin.binary));
    const uids = new UidPool(500_000, 100);
    const pool = (warm: boolean) =>
      new LauncherPool({
        launcherPath: path.join(repoRoot, "build/bin/corral-sandbox"),
        allocateIds: () => {
          const uid = uids.allocate();
          return { uid, gid: uid };
        },
        releaseIds: (ids) => uids.release(ids.uid),
        warm,
      });
    launchers = pool(true);
    coldLaunchers = pool(false);
    const env: InstanceEnvironment = {
      runtimeDir,
      launchers,
      cgroups,
      uids,
      caPem: ca.certPem,
      crlPem: () => supervisorTrust.crlPem,
      issuePluginLeaf: (name, ttlMs) => supervisorTrust.issuePluginLeaf(name, ttlMs),
      operatorLeaf: (name, files) => supervisorTrust.operatorLeaf(name, files),
      controlCredentials: (name) => supervisorTrust.controlCredentials(name),
      currentRelease: async () => (await store.current())!,
      logger: silent,
    };

    const sandboxed = async (launcherPool: LauncherPool) => {
      const t0 = performance.now();
      const instance = await PluginInstance.launch(plugin, { ...env, launchers: launcherPool });
      try {
        await instance.ready(AbortSignal.timeout(10_000));
        return performance.now() - t0;
      } finally {
        await instance.destroy();
      }
    };

    const bare = async () => {
      const t0 = performance.now();
      const instanceDir = path.join(runtimeDir, "instances", `bare-${randomBytes(3).toString("hex")}`);
      await mkdir(instanceDir, { mode: 0o700 });
      const pluginLeaf = await env.issuePluginLeaf(plugin.name, plugin.certificateTtl);
      await writeFile(path.join(instanceDir, "ca.pem"), ca.certPem);
      await writeFile(path.join(instanceDir, "cert.pem"), pluginLeaf.certPem);
      await writeFile(path.join(instanceDir, "key.pem"), pluginLeaf.keyPem, { mode: 0o600 });
      const socket = path.join(instanceDir, "plugin.sock");
      const child = execa((await store.current())!.binary, [], {
        extendEnv: false,
        env: { CORRAL_INSTANCE_DIR: instanceDir, CORRAL_SOCKET: socket, CORRAL_PLUGIN: plugin.name, CORRAL_INSTANCE_ID: "bare" },
        stdio: "ignore",
        reject: false,
      });
      const channel = new ControlChannel(socket, env.controlCredentials(plugin.name));
      try {
        await channel.awaitReady({ pluginName: plugin.name, apiVersion: plugin.apiVersion }, AbortSignal.timeout(10_000));
        return performance.now() - t0;
      } finally {
        channel.close();
        child.kill("SIGKILL");
        await child;
        await rm(instanceDir, { recursive: true, force: true });
      }
    };

    // Starts are spaced as in life (a restart, an update), which also gives
    // the supervisor's launcher pool time to have a spare ready.
    const pause = () => new Promise((r) => setTimeout(r, 250));
    for (let i = 0; i < WARMUP; i++) {
      await sandboxed(launchers);
      await sandboxed(coldLaunchers);
      await bare();
      await pause();
    }
    const samples = { sandboxed: [] as number[], cold: [] as number[], bare: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      samples.sandboxed.push(await sandboxed(launchers));
      samples.cold.push(await sandboxed(coldLaunchers));
      samples.bare.push(await bare());
      await pause();
    }
    const metrics = {
      sandboxed_start: summarize(samples.sandboxed, "ms"),
      sandboxed_start_cold_launcher: summarize(samples.cold, "ms"),
      bare_start: summarize(samples.bare, "ms"),
    };
    return {
      machine: machine(),
      metrics,
      ratios: {
        sandboxed_vs_bare_start: ratio(metrics.sandboxed_start, metrics.bare_start),
        cold_launcher_vs_bare_start: ratio(metrics.sandboxed_start_cold_launcher, metrics.bare_start),
      },
    };
  } finally {
    trust?.close();
    await launchers?.close();
    await coldLaunchers?.close();
    await cgroups.removeParent();
    await rm(dir, { recursive: true, force: true });
  }
}
