// The InstanceEnvironment every instance of every plugin shares, built from
// the parts the supervisor owns. The benchmarks build theirs here too, so
// they start instances exactly as the supervisor does.
import type { CgroupDriver } from "../../sandbox/cgroups/driver.ts";
import { LauncherPool } from "../../sandbox/launcher-pool.ts";
import type { Logger } from "../log.ts";
import { ReleaseStore } from "../releases/store.ts";
import type { Trust } from "../trust.ts";
import { AlertBook } from "../breakers/alerts.ts";
import { CpuBreaker } from "../breakers/cpu-breaker.ts";
import { DiagnosticsStore } from "../diagnostics/store.ts";
import { cpuBreakerConfig } from "./cpu-guard.ts";
import type { InstanceEnvironment, PausableAddress } from "./instance.ts";
import type { UidPool } from "./uid-pool.ts";
import type { OutputRing } from "../observe/output-ring.ts";

/**
 * A launcher pool handing out uids from `uids` (gid = uid). With `cgroups`
 * it keeps a spare warm, placed in a cgroup of its own (call warm() once
 * the cgroup parent has been swept); without, every launch is cold.
 */
export function launcherPool(launcherPath: string, uids: UidPool, cgroups?: CgroupDriver): LauncherPool {
  return new LauncherPool({
    launcherPath,
    allocateIds: () => {
      const uid = uids.allocate();
      return { uid, gid: uid };
    },
    releaseIds: (ids) => uids.release(ids.uid),
    warm: cgroups !== undefined,
    ...(cgroups && { cgroups }),
  });
}

export function instanceEnvironment(parts: {
  stateDir: string;
  runtimeDir: string;
  trust: Trust;
  cgroups: CgroupDriver;
  uids: UidPool;
  launchers: LauncherPool;
  logger: Logger;
  alerts?: AlertBook;
  diagnostics?: DiagnosticsStore;
  /** Plugins' stable addresses; none when the instances are not behind one (benchmarks). */
  address?: (plugin: string) => PausableAddress | undefined;
  /** Plugins' output rings for `corralctl logs`; none in benchmarks. */
  outputRing?: (plugin: string) => OutputRing | undefined;
  /** Where breaker events go (the event log); nowhere in benchmarks. */
  breakerEvent?: InstanceEnvironment["breakerEvent"];
}): InstanceEnvironment {
  const { trust } = parts;
  const breakers = new Map<string, CpuBreaker>();
  return {
    cpuBreaker: (plugin) => {
      let breaker = breakers.get(plugin.name);
      if (!breaker) breakers.set(plugin.name, (breaker = new CpuBreaker(cpuBreakerConfig(plugin))));
      return breaker;
    },
    runtimeDir: parts.runtimeDir,
    alerts: parts.alerts ?? new AlertBook(),
    diagnostics: parts.diagnostics ?? new DiagnosticsStore(parts.stateDir),
    launchers: parts.launchers,
    cgroups: parts.cgroups,
    uids: parts.uids,
    caPem: trust.ca.certPem,
    crlPem: () => trust.crlPem,
    issuePluginLeaf: (plugin, ttlMs) => trust.issuePluginLeaf(plugin, ttlMs),
    operatorLeaf: (plugin, files) => trust.operatorLeaf(plugin, files),
    controlCredentials: (plugin) => trust.controlCredentials(plugin),
    currentRelease: async (plugin) => {
      const store = new ReleaseStore(parts.stateDir, plugin);
      const release = await store.current();
      if (!release) throw new Error(`plugin ${plugin} has no current release`);
      await store.verify(release); // "which code runs" stays a fact
      return release;
    },
    address: parts.address ?? (() => undefined),
    outputRing: parts.outputRing ?? (() => undefined),
    breakerEvent: parts.breakerEvent ?? (() => {}),
    logger: parts.logger,
  };
}
