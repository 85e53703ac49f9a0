// What the benchmarks need to start plugin instances exactly as the
// supervisor does, without a supervisor process: a state directory, the trust
// (CA, leaf, CRL), a cgroup parent, launcher pools and an InstanceEnvironment.
import { chmod, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import type { CgroupDriver } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import type { LauncherPool } from "../sandbox/launcher-pool.ts";
import { parseConfig } from "../supervisor/config/load.ts";
import type { PluginConfig } from "../supervisor/config/schema.ts";
import { instanceEnvironment, launcherPool } from "../supervisor/plugin/environment.ts";
import type { InstanceEnvironment } from "../supervisor/plugin/environment.ts";
import { UidPool } from "../supervisor/plugin/uid-pool.ts";
import { ReleaseStore } from "../supervisor/releases/store.ts";
import { Trust } from "../supervisor/trust.ts";
import { benchCgroupParent, benchTempDir } from "./leftovers.ts";
import { repoRoot } from "./lib.ts";

export interface Harness {
  dir: string;
  runtimeDir: string;
  plugin: PluginConfig;
  trust: Trust;
  store: ReleaseStore;
  env: InstanceEnvironment;
  /** A launcher pool that keeps no warm launcher. */
  coldLaunchers: LauncherPool;
  close(): Promise<void>;
}

/** Everything under a temporary directory; close() removes it all. */
export async function openHarness(pluginYaml = ""): Promise<Harness> {
  const dir = await benchTempDir("harness");
  await chmod(dir, 0o711);
  const stateDir = path.join(dir, "state");
  const runtimeDir = path.join(dir, "run");
  await mkdir(path.join(runtimeDir, "instances"), { recursive: true, mode: 0o711 });
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  const closers: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const cgroups: CgroupDriver = await openCgroupDriver({ parent: benchCgroupParent() });
    closers.push(() => cgroups.removeParent());
    const plugin = parseConfig(
      `plugins:\n  - name: greeter\n    binary: ${path.join(repoRoot, "build/plugins/greeter")}\n    apiVersion: "1.0"\n${pluginYaml}`,
      path.join(dir, "corral.yaml"),
    ).plugins[0]!;
    const silent = pino({ level: "silent" });
    const trust = await Trust.open(stateDir, "bench.corral.local", silent);
    closers.push(async () => trust.close());
    const store = new ReleaseStore(stateDir, plugin.name);
    await store.activate(await store.import(plugin.binary));
    const uids = new UidPool(500_000, 100);
    const launcherPath = path.join(repoRoot, "build/bin/corral-sandbox");
    const launchers = launcherPool(launcherPath, uids, cgroups);
    const coldLaunchers = launcherPool(launcherPath, uids);
    launchers.warm();
    closers.push(() => launchers.close(), () => coldLaunchers.close());
    const env = instanceEnvironment({ stateDir, runtimeDir, trust, cgroups, uids, launchers, logger: silent });
    return { dir, runtimeDir, plugin, trust, store, env, coldLaunchers, close };
  } catch (err) {
    await close();
    throw err;
  }
}
