// The supervisor: owns the config, the CA, the release store, every plugin
// (plugin-set.ts), the instance cgroups and the admin server, applies config
// reloads (config-reload.ts), and stops all of it.
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { swapUnlimited } from "../sandbox/cgroups/swap.ts";
import type { LauncherPool } from "../sandbox/launcher-pool.ts";
import type { CgroupDriver } from "../sandbox/cgroups/driver.ts";
import type { ReloadResponse } from "../proto/gen/ts/corral/admin/v1/ReloadResponse.ts";
import { certificateAdmin } from "./admin/certificates.ts";
import { healthAdmin } from "./admin/health.ts";
import { operationsAdmin } from "./admin/operations.ts";
import { releaseAdmin } from "./admin/releases.ts";
import { pluginStatus } from "./admin/status.ts";
import { AlertBook } from "./breakers/alerts.ts";
import { DiagnosticsStore } from "./diagnostics/store.ts";
import { ensureAdminCredentials } from "./admin/credentials.ts";
import { lockCgroupParent, lockStateDir } from "./exclusive-lock.ts";
import { realUids } from "./proc-stat.ts";
import { removeRuntimeLeftovers, removeStateLeftovers } from "./state-leftovers.ts";
import { enforceRevocation } from "./revocation.ts";
import { parseSpiffeId } from "./identity/spiffe.ts";
import { AdminError, AdminServer, resolveGroup } from "./admin/server.ts";
import { DataPlaneDirectories } from "./dataplane/directories.ts";
import { forgetStopsOfRemoved } from "./plugin/operator-stop.ts";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Config } from "./config/schema.ts";
import { ConfigReloader } from "./config-reload.ts";
import type { Logger } from "./log.ts";
import { EventLog } from "./observe/event-log.ts";
import { openInstancesDir } from "./instances-dir.ts";
import { PluginSet } from "./plugin-set.ts";
import { CONTROL_PROTOCOL_VERSION } from "./plugin/compatibility.ts";
import { SUPERVISOR_VERSION } from "./version.ts";
import { instanceEnvironment, launcherPool } from "./plugin/environment.ts";
import { UidLocks } from "./plugin/uid-locks.ts";
import { UidPool } from "./plugin/uid-pool.ts";
import { Trust } from "./trust.ts";
import { EndedInstanceCalls } from "./metrics/ended-calls.ts";
import { createMetrics } from "./metrics/registry.ts";
import { MetricsServer } from "./metrics/server.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface SupervisorOptions {
  logger: Logger;
  /** The corral-sandbox binary; default build/bin/corral-sandbox in this checkout. */
  launcherPath?: string;
  /** The config file `config` was read from: reload() reads it again. */
  configFile?: string;
  /** Called as a reload begins, and when it is over (applied, partly applied or rejected), with a summary. */
  onReloading?: () => Promise<unknown>;
  onReloaded?: (summary: string) => Promise<unknown>;
  /**
   * A stop asked for while the supervisor starts (SIGTERM): the plugins'
   * first attempts still under way are given up, so that start() returns
   * at once for the stop to drain what is ready, rather than after the
   * slowest plugin's startTimeout (beyond systemd's TimeoutStopSec, which
   * would SIGKILL the plugins that were ready instead of draining them).
   */
  stopRequested?: AbortSignal;
}

/** How often the local admin credential is looked at, and renewed when its end nears (admin/credentials.ts). */
const ADMIN_CREDENTIALS_CHECK_MS = 12 * 3600 * 1000;

export class Supervisor {
  readonly #reloader: ConfigReloader;
  readonly #log: Logger;
  readonly #plugins: PluginSet;
  readonly #admin: AdminServer;
  readonly #cgroups: CgroupDriver;
  readonly #launchers: LauncherPool;
  readonly #trust: Trust;
  readonly #metrics: { server: MetricsServer; close(): void } | undefined;
  #stopping = false;
  readonly #unmountInstances: () => Promise<void>;
  readonly #unlock: () => Promise<void>;

  private constructor(parts: {
    config: Config;
    configFile: string | undefined;
    reloadHooks: Pick<SupervisorOptions, "onReloading" | "onReloaded">;
    logger: Logger;
    plugins: PluginSet;
    events: EventLog;
    admin: AdminServer;
    cgroups: CgroupDriver;
    launchers: LauncherPool;
    trust: Trust;
    metrics: { server: MetricsServer; close(): void } | undefined;
    /** Unmounts the instance directories' tmpfs (sandbox/instances-fs.ts). */
    unmountInstances: () => Promise<void>;
    /** Releases the locks of the state directory and the cgroup parent. */
    unlock: () => Promise<void>;
  }) {
    this.#unmountInstances = parts.unmountInstances;
    this.#unlock = parts.unlock;
    this.#log = parts.logger;
    this.#plugins = parts.plugins;
    this.#admin = parts.admin;
    this.#cgroups = parts.cgroups;
    this.#launchers = parts.launchers;
    this.#trust = parts.trust;
    this.#metrics = parts.metrics;
    this.#reloader = new ConfigReloader({
      config: parts.config,
      configFile: parts.configFile,
      plugins: parts.plugins,
      events: parts.events,
      log: parts.logger,
      stopping: () => this.#stopping,
      onReloading: parts.reloadHooks.onReloading,
      onReloaded: parts.reloadHooks.onReloaded,
    });
  }

  static async start(config: Config, options: SupervisorOptions): Promise<Supervisor> {
    const log = options.logger;
    // The sandbox's uid must traverse (not list) these to reach its binary and
    // instance directory; the CA's own directory stays 0700.
    await mkdir(config.stateDir, { recursive: true, mode: 0o711 });
    await chmod(config.stateDir, 0o711);
    const instancesDir = path.join(config.runtimeDir, "instances");
    // Its mode and group are given after the lock (DataPlaneDirectories): a
    // second supervisor that fails on the lock must not change them.
    await mkdir(instancesDir, { recursive: true, mode: 0o700 });
    await chmod(config.runtimeDir, 0o711);
    await mkdir(path.dirname(config.admin.socket), { recursive: true, mode: 0o711 });

    // Before anything in the state directory is read or written.
    const unlock = await lockStateDir(config.stateDir);
    const closers: Array<() => Promise<void>> = [unlock];
    try {
      const leftovers = [...(await removeStateLeftovers(config.stateDir)), ...(await removeRuntimeLeftovers(config.runtimeDir))];
      if (leftovers.length > 0) log.info({ removed: leftovers }, "removed what interrupted writes of a previous supervisor left in the state and runtime directories");
      const trust = await Trust.open(config.stateDir, config.trustDomain, log, { publishedCrl: path.join(config.runtimeDir, "crl.pem") });
      closers.push(async () => trust.close());
      const credentialsDir = await ensureAdminCredentials(trust, config.stateDir, config.admin.socket);
      // Renewed while the supervisor runs, not only at its start: root would lose corralctl between
      // day 45 and day 90 of uptime.
      const renewAdmin = setInterval(() => {
        ensureAdminCredentials(trust, config.stateDir, config.admin.socket).catch((err: Error) => log.error({ err: err.message }, "renewing the local admin credential failed"));
      }, ADMIN_CREDENTIALS_CHECK_MS).unref();
      closers.push(async () => clearInterval(renewAdmin));

      const cgroups = await openCgroupDriver({ parent: config.sandbox.cgroupParent });
      // Before its sweep, which would otherwise kill another supervisor's plugins.
      const unlockCgroups = await lockCgroupParent(cgroups.parentPaths, config.sandbox.cgroupParent);
      closers.push(unlockCgroups);
      // Shared with `corral sandbox` runs, so that none takes an instance's uid.
      const uidLocks = new UidLocks(path.join(config.runtimeDir, "uids"));
      uidLocks.sweep();
      const uids = new UidPool(config.sandbox.uidBase, config.sandbox.uidCount, uidLocks);
      const launcherPath = options.launcherPath ?? path.join(repoRoot, "build/bin/corral-sandbox");
      const launchers = launcherPool(launcherPath, uids, cgroups);
      closers.push(() => launchers.close());
      const events = new EventLog();
      // Every alert raised, by a breaker, a warning sign or a failed deploy, is an event too.
      const alerts = new AlertBook({
        history: 100,
        onRaised: (a, repeat) => {
          events.emit({ at: a.at, plugin: a.plugin ?? "", kind: "alert", message: `${a.kind}: ${a.message}` });
          // A new alert is logged where it is raised; a repeat (the open alert now shows it) here.
          if (repeat) log.warn({ plugin: a.plugin, alert: a.kind, evidence: a.evidence }, `alert (raised again, ${a.evidence.raised} times while open): ${a.message}`);
        },
      });
      const diagnostics = new DiagnosticsStore(config.stateDir, {
        filesPerPlugin: config.diagnostics.maxFilesPerPlugin,
        bytesPerPlugin: config.diagnostics.maxBytesPerPlugin,
        bytes: config.diagnostics.maxBytes,
      });
      const dataPlaneDirs = new DataPlaneDirectories(
        config.runtimeDir,
        config.dataPlane.group === undefined ? undefined : await resolveGroup(config.dataPlane.group, "dataPlane.group"),
      );
      const plugins = new PluginSet({ config, dataPlaneDirs, trust, alerts, events, log });
      const endedCalls = new EndedInstanceCalls();
      plugins.environment = instanceEnvironment({
        ...config,
        trust,
        cgroups,
        uids,
        launchers,
        logger: log,
        alerts,
        diagnostics,
        address: (name) => plugins.get(name)?.address,
        outputRing: (name) => plugins.get(name)?.output,
        outputCounts: (name) => plugins.get(name)?.outputCounts,
        breakerEvent: (e) => events.emit({ at: Date.now(), plugin: e.plugin, instance: e.instance, kind: "breaker", to: e.state, message: e.message }),
        // Kept for the metrics alone: not at all without them.
        callsEnded: (plugin, instance, methods) => {
          if (config.metrics.listen) endedCalls.record(plugin, instance, methods);
        },
      });
      closers.push(() => plugins.close());
      // Plugins exist (stopped) before the admin socket answers, so status
      // is complete from the first call.
      for (const plugin of config.plugins) await plugins.add(plugin);
      const forgotten = await forgetStopsOfRemoved(config.stateDir, plugins.names);
      if (forgotten.length > 0) log.info({ plugins: forgotten }, "forgot the operators' stops of plugins no longer in the config");

      let supervisor: Supervisor | undefined;
      const renewRefusal = (name: string) =>
        plugins
          .get(name)
          ?.address?.renewRefusalCertificate()
          .catch((err: Error) => log.warn({ plugin: name, err: err.message }, "renewing the refusal server's certificate failed; it keeps the current one"));
      // Until what a dead supervisor left is swept, nothing may start: the
      // sweep would take what a start made meanwhile (its refusal socket,
      // its instance directory) for a leftover. Refused from the first call.
      const sweeping = "the supervisor is still starting (removing what a previous one left)";
      const admin = await AdminServer.start({
        refuseChangesFirst: sweeping,
        socket: config.admin.socket,
        ...(config.admin.group !== undefined && { group: await resolveGroup(config.admin.group) }),
        credentials: trust.adminServerCredentials(),
        authorize: (der) => trust.authorizeAdmin(der),
        log,
        backend: {
          status: (names) => plugins.selected(names).map((p) => pluginStatus(p)),
          version: () => ({ version: SUPERVISOR_VERSION, controlProtocolVersion: CONTROL_PROTOCOL_VERSION }),
          health: healthAdmin({
            alerts,
            diagnostics,
            plugins: () => plugins.names,
            // The serving one: a hot update's draining instance is no place to capture from.
            instance: (name) => plugins.serving(name),
          }),
          releases: releaseAdmin({
            plugin: (name) => {
              const parts = plugins.get(name);
              return parts && { deployer: parts.deployer, store: parts.store, servingRelease: parts.controller.servingRelease };
            },
          }),
          certificates: certificateAdmin({
            ca: trust.ca,
            registry: trust.registry,
            plugins: () => plugins.names,
            instances: (names) => plugins.instances(names),
            noteConfiguredCertificates: async (uri) => {
              const id = parseSpiffeId(uri);
              const configured = id?.kind === "plugin" ? plugins.get(id.name)?.config.certificate : undefined;
              if (configured) await trust.noteOperatorCertificate(configured.cert);
            },
            renewRefusals: async (names) => {
              const chosen = names.length > 0 ? names : plugins.names;
              await Promise.all(chosen.map((name) => renewRefusal(name)));
            },
            afterRevocation: async (serials) => {
              // A revoked admin's open follow streams end, as its next call is refused.
              admin.recheckStreams();
              await enforceRevocation(trust, () => plugins.instances([]), serials, log);
              // A refusal server whose certificate was revoked by serial gets a new one (refused, and kept, while its identity is revoked).
              const revoked = new Set(serials);
              await Promise.all(plugins.names.filter((name) => revoked.has(plugins.get(name)?.address?.refusalSerial ?? "")).map((name) => renewRefusal(name)));
              // The local admin's certificate revoked: root on this host gets a new one at once.
              await ensureAdminCredentials(trust, config.stateDir, config.admin.socket);
            },
          }),
          operations: operationsAdmin({
            plugins,
            events,
            alerts,
            reloader: {
              configFile: options.configFile,
              reload: () => {
                if (!supervisor) throw new AdminError(grpcStatus.UNAVAILABLE, "the supervisor is still starting");
                return supervisor.reload();
              },
              // The one started with until the first reload.
              get config() {
                return supervisor ? supervisor.configInForce : config;
              },
            },
          }),
        },
      });
      closers.push(() => admin.close());

      // Only now, holding the admin socket (no other live supervisor shares
      // this runtime directory), is it safe to sweep what a dead one left.
      // One the kernel will not let go (a process stuck in uninterruptible
      // sleep) is left, said, and its uid kept from new instances.
      const swept = await cgroups.sweep((name, pids, err) => {
        const withheld = realUids(pids);
        for (const uid of withheld) uids.withhold(uid);
        log.error({ cgroup: name, pids, uids: withheld, err: err.message }, "a cgroup left by a previous supervisor cannot be removed; its uids stay out of use");
      });
      const instances = await openInstancesDir(instancesDir, launcherPath, log);
      const staleDirs = instances.leftovers;
      const unmountInstances = instances.unmount;
      closers.push(unmountInstances);
      const staleSockets = await removeEntries([dataPlaneDirs.path("plugins"), dataPlaneDirs.path("refusals")]);
      // Who may connect to the plugins.
      await dataPlaneDirs.ensureAll();
      if (swept.length > 0 || staleDirs.length > 0 || staleSockets.length > 0) {
        log.warn({ cgroups: swept, instanceDirs: staleDirs, sockets: staleSockets }, "removed leftovers of a previous supervisor");
      }
      admin.acceptChanges(sweeping);
      closers.push(() => cgroups.removeParent(stuckAtStop(log)));
      // A plugin's memory limit holds its swap too only where the kernel
      // accounts swap in cgroups: said once, where there is swap to use.
      const swap = await swapUnlimited(cgroups);
      if (swap) {
        log.warn(
          { ...swap, cgroups: cgroups.version },
          "this kernel does not account swap in cgroups: plugins may swap beyond their memory limits (boot with swapaccount=1, or turn swap off)",
        );
      }
      launchers.warm();

      // Each plugin's stable address and the watch on its `current` link.
      const served = new Set<string>();
      for (const name of plugins.names) if (await plugins.openAtStart(name)) served.add(name);

      let metrics: { server: MetricsServer; close(): void } | undefined;
      if (config.metrics.listen) {
        const collected = createMetrics({ plugins, alerts, events, trust, endedCalls });
        const server = await MetricsServer.listen(config.metrics.listen, collected.registry);
        metrics = { server, close: collected.close };
        closers.push(() => server.close());
      }

      const unlockAll = async () => {
        await unlockCgroups();
        await unlock();
      };
      supervisor = new Supervisor({ config, configFile: options.configFile, reloadHooks: options, logger: log, plugins, events, admin, cgroups, launchers, trust, metrics, unmountInstances, unlock: unlockAll });
      // Each plugin's first attempt, bounded by its startTimeout: one that
      // fails goes on in its backoff, and holds up no one's start.
      const giveUpStarts = () => {
        for (const p of plugins.values()) if (p.controller.state === "starting") void p.controller.stop();
      };
      options.stopRequested?.addEventListener("abort", giveUpStarts);
      try {
        const kept = plugins.values().filter((p) => p.operatorStop.at !== undefined);
        for (const p of kept) log.info({ plugin: p.controller.name }, `plugin not started: stopped ${p.operatorStop.reason(p.controller.name)}`);
        const starting = plugins.values().filter((p) => served.has(p.controller.name) && p.operatorStop.at === undefined);
        if (!options.stopRequested?.aborted) await Promise.all(starting.map((p) => p.controller.start()));
      } finally {
        options.stopRequested?.removeEventListener("abort", giveUpStarts);
      }
      log.info(
        {
          admin: config.admin.socket,
          credentials: credentialsDir,
          ...(metrics && { metrics: `http://${metrics.server.address}/metrics` }),
          plugins: Object.fromEntries(plugins.values().map((p) => [p.controller.name, p.controller.state])),
        },
        `supervisor ready; try: corralctl --socket ${config.admin.socket} status`,
      );
      return supervisor;
    } catch (err) {
      for (const close of closers.reverse()) await close().catch(() => {});
      throw err;
    }
  }

  get configFile(): string | undefined {
    return this.#reloader.configFile;
  }

  /** The config in force: the one started with, or the last reload's (config-reload.ts). */
  get configInForce(): Config {
    return this.#reloader.config;
  }

  /** Reads the config file again and applies the difference (config-reload.ts). */
  reload(): Promise<ReloadResponse> {
    return this.#reloader.reload();
  }

  /** Drains every plugin, then closes the admin server and removes the cgroups Corral created. */
  async stop(): Promise<void> {
    // Nothing is started from now on: the admin API takes no more changes,
    // and a reload under way adds nothing more.
    this.#stopping = true;
    this.#admin.refuseChanges("the supervisor is stopping");
    // The plugins drain first: a reload under way may be waiting for one
    // that cannot start (until its quarantine), which the stop ends. The
    // set, closed, takes no plugin the reload would still add or open.
    await this.#plugins.close();
    await this.#reloader.settled;
    if (this.#metrics) {
      this.#metrics.close();
      await this.#metrics.server.close();
    }
    await this.#launchers.close();
    await this.#admin.close();
    this.#trust.close();
    await this.#cgroups.removeParent(stuckAtStop(this.#log));
    await this.#unmountInstances().catch((err: Error) => this.#log.error({ err: err.message }, "the instance directories' file system was not unmounted"));
    await this.#unlock();
    this.#log.info({ admin: this.#reloader.config.admin.socket }, "supervisor stopped");
  }
}

/** At a stop, an instance cgroup the kernel will not let go is left for the next start, and said. */
function stuckAtStop(log: Logger) {
  return (name: string, pids: number[], err: Error) =>
    log.error({ cgroup: name, pids, err: err.message }, "an instance cgroup cannot be removed; it is left for the next start");
}

/** Removes every entry of `dirs` (which may not exist); returns their names. */
async function removeEntries(dirs: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.map((n) => rm(path.join(dir, n), { recursive: true, force: true })));
    removed.push(...names.map((n) => path.join(dir, n)));
  }
  return removed;
}
