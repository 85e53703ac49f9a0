// Cold start of the example plugin, spawn to ready (handshake and health over
// mTLS): sandboxed exactly as the supervisor starts an instance, against the
// same binary started bare with the same certificate issuance and handshake.
// Runs alternate between the two so drift on the machine hits both alike.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { parseConfig } from "../supervisor/config/load.ts";
import { issuePluginLeaf, issueSupervisorLeaf, KeyPool, loadOrCreateCA } from "../supervisor/identity/index.ts";
import { ControlChannel, controlCredentials } from "../supervisor/plugin/control-channel.ts";
import { PluginInstance, type InstanceEnvironment } from "../supervisor/plugin/instance.ts";
import { UidPool } from "../supervisor/plugin/uid-pool.ts";
import { ReleaseStore } from "../supervisor/releases/store.ts";
import { machine, repoRoot, summarize, type BenchResult } from "./lib.ts";

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
  const keys = new KeyPool({ size: 8 });
  try {
    const plugin = parseConfig(
      `plugins:\n  - name: greeter\n    binary: ${path.join(repoRoot, "build/plugins/greeter")}\n    apiVersion: "1.0"\n`,
      path.join(dir, "corral.yaml"),
    ).plugins[0]!;
    const ca = await loadOrCreateCA(stateDir, { trustDomain: "bench.corral.local" });
    const leaf = await issueSupervisorLeaf(ca, { trustDomain: ca.trustDomain, ttlMs: 3600_000, keys });
    const store = new ReleaseStore(stateDir, plugin.name);
    await store.activate(await store.import(plugin.binary));
    const env: InstanceEnvironment = {
      runtimeDir,
      launcherPath: path.join(repoRoot, "build/bin/corral-sandbox"),
      cgroups,
      uids: new UidPool(500_000, 100),
      caPem: ca.certPem,
      issuePluginLeaf: (name, ttlMs) => issuePluginLeaf(ca, { trustDomain: ca.trustDomain, plugin: name, ttlMs, keys }),
      controlCredentials: (name) => controlCredentials(ca, leaf, name),
      currentRelease: async () => (await store.current())!,
      logger: pino({ level: "silent" }),
    };

    const sandboxed = async () => {
      const t0 = performance.now();
      const instance = await PluginInstance.launch(plugin, env);
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

    for (let i = 0; i < WARMUP; i++) {
      await sandboxed();
      await bare();
    }
    const samples = { sandboxed: [] as number[], bare: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      samples.sandboxed.push(await sandboxed());
      samples.bare.push(await bare());
    }
    const metrics = {
      sandboxed_start: summarize(samples.sandboxed, "ms"),
      bare_start: summarize(samples.bare, "ms"),
    };
    return {
      machine: machine(),
      metrics,
      ratios: { sandboxed_vs_bare_start: Math.round((metrics.sandboxed_start.median / metrics.bare_start.median) * 100) / 100 },
    };
  } finally {
    await keys.close();
    await cgroups.removeParent();
    await rm(dir, { recursive: true, force: true });
  }
}
