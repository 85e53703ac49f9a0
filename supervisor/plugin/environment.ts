// The InstanceEnvironment every instance of every plugin shares: what it
// is, and how it is built from the parts the supervisor owns. The
// benchmarks build theirs here too, so they start instances exactly as the
// supervisor does.
import type { CgroupDriver } from "../../sandbox/cgroups/driver.ts";
import { LauncherPool } from "../../sandbox/launcher-pool.ts";
import type { Logger } from "../log.ts";
import { ReleaseStore } from "../releases/store.ts";
import type { Trust } from "../trust.ts";
import { AlertBook } from "../breakers/alerts.ts";
import type { CpuBreaker } from "../breakers/cpu-breaker.ts";
import { PluginCpuBreakers } from "../breakers/plugin-cpu-breakers.ts";
import { DiagnosticsStore } from "../diagnostics/store.ts";
import { cpuBreakerConfig } from "./cpu-guard.ts";
import type { UidPool } from "./uid-pool.ts";
import type { OutputCounts } from "../observe/output-counts.ts";
import type { OutputRing } from "../observe/output-ring.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { IssuedLeaf } from "../identity/index.ts";
import type { Release } from "../releases/store.ts";
import type { ControlCredentials } from "./control-credentials.ts";
import type { MethodCalls__Output } from "../../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";

/** What every instance of every plugin shares: handed in by the supervisor. */
export interface InstanceEnvironment {
  runtimeDir: string;
  launchers: LauncherPool;
  cgroups: CgroupDriver;
  uids: UidPool;
  caPem: string;
  /** The CRL as last published: every instance directory carries it (go-shim enforces it). */
  crlPem(): string;
  /** The plugin's CPU breaker: one per plugin, so escalation spans its instances; under the settings of `plugin`. */
  cpuBreaker(plugin: PluginConfig): CpuBreaker;
  /** Drops what is held for a plugin (its CPU breaker and its trips): removed from the config, or its quarantine lifted. */
  forgetPlugin(plugin: string): void;
  /** Alerts of every plugin, until acknowledged. */
  alerts: AlertBook;
  /** Evidence captured on trips. */
  diagnostics: DiagnosticsStore;
  issuePluginLeaf(plugin: string, ttlMs: number): Promise<IssuedLeaf>;
  /** An operator-provided certificate, read and checked (throws IdentityError naming the rule). */
  operatorLeaf(plugin: string, files: { cert: string; key: string; minValidity: number }): Promise<IssuedLeaf>;
  /** Credentials for the supervisor's Control channel, verifying the peer is `plugin`. */
  controlCredentials(plugin: string): ControlCredentials;
  /** The release `sha256` of `plugin`, or its current one when none is named; checked against its hash. */
  release(plugin: string, sha256?: string): Promise<Release>;
  /** Records a breaker event of an instance (the event log; `corralctl events`). */
  breakerEvent(event: { plugin: string; instance: string; state: string; message: string }): void;
  /** Where the plugin's output lines go for `corralctl logs`. */
  outputRing(plugin: string): OutputRing | undefined;
  /** Where the plugin's output is counted for the metrics. */
  outputCounts(plugin: string): OutputCounts | undefined;
  /** The plugin's stable address, to refuse calls while a breaker has an instance stopped. */
  address(plugin: string): PausableAddress | undefined;
  /** Takes a drained instance's final call counts (metrics/ended-calls.ts). */
  callsEnded(plugin: string, instance: string, methods: MethodCalls__Output[]): void;
  logger: Logger;
}

/** What an instance may do to its plugin's stable address (dataplane/stable-address.ts). */
export interface PausableAddress {
  hold(instanceId: string, reason: string): void;
  release(instanceId: string): void;
}

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
  /** Plugins' output counts for the metrics; none in benchmarks. */
  outputCounts?: (plugin: string) => OutputCounts | undefined;
  /** Where breaker events go (the event log); nowhere in benchmarks. */
  breakerEvent?: InstanceEnvironment["breakerEvent"];
  /** Where drained instances' final call counts go (the metrics); nowhere in benchmarks. */
  callsEnded?: InstanceEnvironment["callsEnded"];
}): InstanceEnvironment {
  const { trust } = parts;
  const breakers = new PluginCpuBreakers();
  return {
    cpuBreaker: (plugin) => breakers.of(plugin.name, cpuBreakerConfig(plugin)),
    forgetPlugin: (plugin) => breakers.forget(plugin),
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
    release: async (plugin, sha256) => {
      const store = new ReleaseStore(parts.stateDir, plugin);
      const release = sha256 === undefined ? await store.current() : await store.get(sha256);
      if (!release) throw new Error(sha256 === undefined ? `plugin ${plugin} has no current release` : `plugin ${plugin} has no release ${sha256.slice(0, 12)}`);
      await store.verify(release); // "which code runs" stays a fact
      return release;
    },
    address: parts.address ?? (() => undefined),
    outputRing: parts.outputRing ?? (() => undefined),
    outputCounts: parts.outputCounts ?? (() => undefined),
    breakerEvent: parts.breakerEvent ?? (() => {}),
    callsEnded: parts.callsEnded ?? (() => {}),
    logger: parts.logger,
  };
}
