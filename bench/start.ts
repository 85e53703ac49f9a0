// Cold start of the example plugin, spawn to ready (handshake and health over
// mTLS): sandboxed exactly as the supervisor starts an instance (its launcher
// pool keeps a sandbox launcher warm; the plugin itself starts cold), also
// with no warm launcher, against the same binary started bare with the same
// certificate issuance, instance files (written as the supervisor writes
// them), environment (its early and data sockets) and handshake. The bare
// start is spawned from this process, as the cold launcher is: the warm
// launcher is spawned before its start is timed, which is most of what
// `sandboxed_vs_bare_start` below 1 says; `cold_launcher_vs_bare_start` is
// the sandbox's cost with spawning alike. Runs alternate, in a turning
// order, so drift on the machine hits all alike.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { LauncherPool } from "../sandbox/launcher-pool.ts";
import { ControlChannel } from "../supervisor/plugin/control-channel.ts";
import { PluginInstance } from "../supervisor/plugin/instance.ts";
import { writeInstanceFiles } from "../supervisor/plugin/instance-files.ts";
import { DATA_SOCKET_NAME, SOCKET_NAME } from "../supervisor/plugin/sandbox-spec.ts";
import { openHarness } from "./harness.ts";
import { machine, ratio, summarize, type BenchResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 3;

export async function run(): Promise<BenchResult> {
  const h = await openHarness();
  try {
    const { env, plugin, trust } = h;
    const sandboxed = async (launchers: LauncherPool) => {
      const t0 = performance.now();
      const instance = await PluginInstance.launch(plugin, { ...env, launchers });
      try {
        await instance.ready(AbortSignal.timeout(10_000));
        return performance.now() - t0;
      } finally {
        await instance.destroy();
      }
    };

    const bare = async () => {
      const t0 = performance.now();
      const instanceDir = path.join(h.runtimeDir, "instances", `bare-${randomBytes(3).toString("hex")}`);
      const pluginLeaf = await env.issuePluginLeaf(plugin.name, plugin.certificateTtl);
      writeInstanceFiles(instanceDir, { uid: 0, gid: 0 }, { caPem: trust.ca.certPem, crlPem: env.crlPem(), keyPem: pluginLeaf.keyPem, certPem: pluginLeaf.certPem });
      const socket = path.join(instanceDir, SOCKET_NAME);
      const child = execa((await h.store.current())!.binary, [], {
        extendEnv: false,
        env: {
          CORRAL_INSTANCE_DIR: instanceDir,
          CORRAL_SOCKET: socket,
          CORRAL_EARLY_SOCKET: socket,
          CORRAL_DATA_SOCKET: path.join(instanceDir, DATA_SOCKET_NAME),
          CORRAL_PLUGIN: plugin.name,
          CORRAL_INSTANCE_ID: "bare",
        },
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

    // Starts are spaced as in life (a restart, an update), before every
    // case alike: the launcher pool has a spare ready again, and the
    // certificate stock its next leaf (it refills 250 ms after a take), for
    // the bare start too. The order turns each run, so that no case always
    // follows another.
    const pause = () => new Promise((r) => setTimeout(r, 400));
    const cases = { sandboxed: () => sandboxed(env.launchers), cold: () => sandboxed(h.coldLaunchers), bare };
    const order = Object.keys(cases) as Array<keyof typeof cases>;
    for (let i = 0; i < WARMUP; i++) {
      for (const c of order) {
        await pause();
        await cases[c]();
      }
    }
    const samples = { sandboxed: [] as number[], cold: [] as number[], bare: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < order.length; k++) {
        const c = order[(i + k) % order.length]!;
        await pause();
        samples[c].push(await cases[c]());
      }
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
    await h.close();
  }
}
