// The supervisor: owns the config, the CA, the release store, every plugin
// controller, the instance cgroups and the admin server, and stops all of it.
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import type { LauncherPool } from "../sandbox/launcher-pool.ts";
import type { CgroupDriver } from "../sandbox/cgroups/driver.ts";
import type { InstanceUsage } from "../proto/gen/ts/corral/admin/v1/InstanceUsage.ts";
import type { PluginStatus } from "../proto/gen/ts/corral/admin/v1/PluginStatus.ts";
import { certificateAdmin } from "./admin/certificates.ts";
import { healthAdmin } from "./admin/health.ts";
import { releaseAdmin } from "./admin/releases.ts";
import { AlertBook } from "./breakers/alerts.ts";
import { breakerDefaults } from "./breakers/config.ts";
import { RestartLoopDetector } from "./breakers/warning-signs.ts";
import { DiagnosticsStore } from "./diagnostics/store.ts";
import { ensureAdminCredentials } from "./admin/credentials.ts";
import { AdminServer } from "./admin/server.ts";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log.ts";
import { CONTROL_PROTOCOL_VERSION } from "./plugin/compatibility.ts";
import { PluginController } from "./plugin/controller.ts";
import { SUPERVISOR_VERSION } from "./plugin/control-channel.ts";
import { instanceEnvironment, launcherPool } from "./plugin/environment.ts";
import { PluginInstance } from "./plugin/instance.ts";
import type { Sample } from "./plugin/sampler.ts";
import { UidPool } from "./plugin/uid-pool.ts";
import { CurrentWatch } from "./releases/current-watch.ts";
import { Deployer } from "./releases/deployer.ts";
import { ReleaseStore } from "./releases/store.ts";
import { StableAddress } from "./dataplane/stable-address.ts";
import { newAlert } from "./breakers/alerts.ts";
import { Trust } from "./trust.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface SupervisorOptions {
  logger: Logger;
  /** The corral-sandbox binary; default build/bin/corral-sandbox in this checkout. */
  launcherPath?: string;
}

/** What the supervisor holds for each configured plugin. */
interface PluginParts {
  controller: PluginController;
  store: ReleaseStore;
  deployer: Deployer;
  address?: StableAddress;
  watch?: CurrentWatch;
}

export class Supervisor {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #controllers: Map<string, PluginController>;
  readonly #plugins: Map<string, PluginParts>;
  readonly #admin: AdminServer;
  readonly #cgroups: CgroupDriver;
  readonly #launchers: LauncherPool;
  readonly #trust: Trust;

  private constructor(parts: {
    config: Config;
    logger: Logger;
    plugins: Map<string, PluginParts>;
    admin: AdminServer;
    cgroups: CgroupDriver;
    launchers: LauncherPool;
    trust: Trust;
  }) {
    this.#config = parts.config;
    this.#log = parts.logger;
    this.#plugins = parts.plugins;
    this.#controllers = new Map([...parts.plugins].map(([name, p]) => [name, p.controller]));
    this.#admin = parts.admin;
    this.#cgroups = parts.cgroups;
    this.#launchers = parts.launchers;
    this.#trust = parts.trust;
  }

  static async start(config: Config, options: SupervisorOptions): Promise<Supervisor> {
    const log = options.logger;
    // The sandbox's uid must traverse (not list) these to reach its binary and
    // instance directory; the CA's own directory stays 0700.
    await mkdir(config.stateDir, { recursive: true, mode: 0o711 });
    await chmod(config.stateDir, 0o711);
    const instancesDir = path.join(config.runtimeDir, "instances");
    await mkdir(instancesDir, { recursive: true, mode: 0o711 });
    await chmod(config.runtimeDir, 0o711);
    await chmod(instancesDir, 0o711);
    await mkdir(path.dirname(config.admin.socket), { recursive: true, mode: 0o711 });

    const trust = await Trust.open(config.stateDir, config.trustDomain, log);
    const closers: Array<() => Promise<void>> = [async () => trust.close()];
    try {
      const credentialsDir = await ensureAdminCredentials(trust, config.stateDir, config.admin.socket);

      // Controllers exist (stopped) before the admin socket answers, so
      // status is complete from the first call.
      const cgroups = await openCgroupDriver({ parent: config.sandbox.cgroupParent });
      const uids = new UidPool(config.sandbox.uidBase, config.sandbox.uidCount);
      const launchers = launcherPool(options.launcherPath ?? path.join(repoRoot, "build/bin/corral-sandbox"), uids, cgroups);
      closers.push(() => launchers.close());
      const alerts = new AlertBook();
      const diagnostics = new DiagnosticsStore(config.stateDir);
      const plugins = new Map<string, PluginParts>();
      const env = instanceEnvironment({
        ...config,
        trust,
        cgroups,
        uids,
        launchers,
        logger: log,
        alerts,
        diagnostics,
        address: (name) => plugins.get(name)?.address,
      });
      const controllers = new Map<string, PluginController>();
      for (const plugin of config.plugins) {
        const store = new ReleaseStore(config.stateDir, plugin.name);
        const release = await store.seed(plugin.binary).catch((err: Error) => {
          log.error({ plugin: plugin.name, binary: plugin.binary, err: err.message }, "cannot import the plugin's binary");
          return undefined;
        });
        if (release) log.info({ plugin: plugin.name, release: release.sha256 }, "current release");
        const restartLoop = new RestartLoopDetector(breakerDefaults.warningSigns.restartLoop, { plugin: plugin.name });
        const controller = new PluginController(plugin, {
          createInstance: (p) => PluginInstance.launch(p, env),
          // The address opens once the runtime directory has been swept; until then there is nothing to point.
          address: {
            serve: (instance) => plugins.get(plugin.name)?.address?.serve(instance),
            refuse: (reason) => plugins.get(plugin.name)?.address?.refuse(reason),
          },
          onTransition: (t) => {
            log.info(
              { plugin: t.plugin, instance: t.instance, from: t.from, to: t.to, ...("reason" in t.event && { reason: t.event.reason }) },
              `plugin ${t.to}`,
            );
            if (t.from === "backoff" && t.to === "starting") {
              const alert = restartLoop.onRestart(Date.now());
              if (alert && alerts.raise(alert)) log.warn({ plugin: t.plugin, alert: alert.kind, evidence: alert.evidence }, `alert: ${alert.message}`);
            }
          },
        });
        controllers.set(plugin.name, controller);
        const deployer = new Deployer({
          store,
          plugin: controller,
          keep: plugin.releases.keep,
          log,
          onFailure: (message) => {
            const alert = newAlert({ plugin: plugin.name }, { kind: "update-failed", message, evidence: {}, at: Date.now() });
            if (alerts.raise(alert)) log.warn({ plugin: plugin.name, alert: alert.kind }, `alert: ${message}`);
          },
        });
        plugins.set(plugin.name, { controller, store, deployer });
      }

      const admin = await AdminServer.start({
        socket: config.admin.socket,
        credentials: trust.adminServerCredentials(),
        authorize: (der) => trust.authorizeAdmin(der),
        backend: {
          status: (names) => selected(controllers, names).map((c) => statusOf(c, plugins.get(c.name)?.address)),
          version: () => ({ version: SUPERVISOR_VERSION, controlProtocolVersion: CONTROL_PROTOCOL_VERSION }),
          health: healthAdmin({
            alerts,
            diagnostics,
            plugins: () => [...controllers.keys()],
            instance: (name) => liveInstances(controllers, [name])[0],
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
            plugins: () => [...controllers.keys()],
            instances: (names) => liveInstances(controllers, names),
            afterRevocation: (serials) => enforceRevocation(trust, liveInstances(controllers, []), serials),
          }),
        },
      });
      closers.push(() => admin.close());

      // Only now, holding the admin socket (no other live supervisor shares
      // this runtime directory), is it safe to sweep what a dead one left.
      const swept = await cgroups.sweep();
      const staleDirs = await readdir(instancesDir);
      await Promise.all(staleDirs.map((d) => rm(path.join(instancesDir, d), { recursive: true, force: true })));
      const staleSockets = await removeEntries([path.join(config.runtimeDir, "plugins"), path.join(config.runtimeDir, "refusals")]);
      if (swept.length > 0 || staleDirs.length > 0 || staleSockets.length > 0) {
        log.warn({ cgroups: swept, instanceDirs: staleDirs, sockets: staleSockets }, "removed leftovers of a previous supervisor");
      }
      closers.push(() => cgroups.removeParent());
      launchers.warm();

      // Each plugin's stable address, and the watch on its `current` link.
      for (const plugin of config.plugins) {
        const parts = plugins.get(plugin.name)!;
        parts.address = await StableAddress.open(plugin, {
          runtimeDir: config.runtimeDir,
          caPem: trust.ca.certPem,
          issueLeaf: (name, ttlMs) => trust.issuePluginLeaf(name, ttlMs),
          log,
        });
        closers.push(() => parts.address!.close());
        if (await parts.store.current()) {
          parts.watch = await CurrentWatch.start(parts.store, { log, onChange: (change) => void parts.deployer.onCurrentChange(change) });
          closers.push(() => parts.watch!.close());
        }
      }

      const supervisor = new Supervisor({ config, logger: log, plugins, admin, cgroups, launchers, trust });
      await Promise.all([...controllers.values()].map((c) => c.start().then(() => c.whenSettled())));
      log.info(
        {
          admin: config.admin.socket,
          credentials: credentialsDir,
          plugins: Object.fromEntries([...controllers].map(([name, c]) => [name, c.state])),
        },
        `supervisor ready; try: corralctl --socket ${config.admin.socket} status`,
      );
      return supervisor;
    } catch (err) {
      for (const close of closers.reverse()) await close().catch(() => {});
      throw err;
    }
  }

  /** Drains every plugin, then closes the admin server and removes the cgroups Corral created. */
  async stop(): Promise<void> {
    await Promise.all([...this.#plugins.values()].map((p) => p.watch?.close()));
    await Promise.all([...this.#controllers.values()].map((c) => c.stop()));
    await Promise.all([...this.#plugins.values()].map((p) => p.address?.close()));
    await this.#launchers.close();
    await this.#admin.close();
    this.#trust.close();
    await this.#cgroups.removeParent();
    this.#log.info({ admin: this.#config.admin.socket }, "supervisor stopped");
  }
}

function statusOf(c: PluginController, address: StableAddress | undefined): PluginStatus {
  const instance = c.instance;
  return {
    name: c.name,
    address: address?.path ?? "",
    tcpAddress: address?.tcpAddress ?? "",
    state: c.state,
    restarts: c.restarts,
    reason: c.reason,
    stateAgeMs: c.stateAgeMs,
    ...(instance && {
      instance: {
        id: instance.id,
        pid: instance.pid ?? 0,
        release: instance.release,
        pluginVersion: instance.pluginVersion ?? "",
        apiVersion: instance.apiVersion ?? "",
        ...(instance.usage && { usage: usageOf(instance.usage) }),
        ...(instance.cpuBreaker && { cpuBreaker: instance.cpuBreaker.state, cpuBreakerReason: instance.cpuBreaker.reason ?? "" }),
      },
    }),
  };
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

/** The controllers of the named plugins (all when empty). */
function selected(controllers: Map<string, PluginController>, names: string[]): PluginController[] {
  return [...controllers.values()].filter((c) => names.length === 0 || names.includes(c.name));
}

/** Running instances of the named plugins (all when empty). */
function liveInstances(controllers: Map<string, PluginController>, names: string[]): PluginInstance[] {
  return selected(controllers, names).flatMap((c) => (c.instance instanceof PluginInstance ? [c.instance] : []));
}

/**
 * Puts a revocation in force within a second: the CRL reaches every instance
 * (go-shim polls it and closes revoked peers' connections), and instances
 * whose own certificate was revoked get a new one and a fresh Control channel.
 * A revoked plugin identity is not re-issued: its instances are stopped and
 * quarantined by the refusal when they restart.
 */
async function enforceRevocation(trust: Trust, instances: PluginInstance[], serials: string[]): Promise<void> {
  await trust.publishCrl(instances.map((i) => i.directory));
  const revoked = new Set(serials);
  await Promise.all(
    instances.map(async (instance) => {
      if (!instance.certificateSerial || !revoked.has(instance.certificateSerial)) return;
      if (trust.registry.isIdentityRevoked(instance.identity)) await instance.destroy();
      else await instance.rotateCertificate();
    }),
  );
  if (revoked.has(trust.leaf.current.serialHex)) await trust.leaf.rotate();
}

function usageOf(sample: Sample): InstanceUsage {
  const rt = sample.runtime;
  return {
    atUnixMs: sample.at,
    cpuPercent: sample.cpuPercent,
    memoryBytes: sample.memoryBytes,
    openFds: sample.openFds,
    goroutines: rt?.goroutines ?? 0,
    heapSys: rt?.heapSys ?? 0,
    heapInuse: rt?.heapInuse ?? 0,
    heapAlloc: rt?.heapAlloc ?? 0,
    numGc: rt?.numGc ?? 0,
  };
}
