// Every configured plugin and what the supervisor holds for it: its
// controller, release store and deployer, its stable address, the watch on
// its `current` link, the ring of its output and its counts. Plugins are added and
// removed here, at start and on a config reload, and nowhere else, so each
// part has one owner that closes it.
import { mkdir } from "node:fs/promises";
import type { Config, PluginConfig } from "./config/schema.ts";
import type { Logger } from "./log.ts";
import { AlertBook, newAlert, type Alert } from "./breakers/alerts.ts";
import { RestartLoopDetector } from "./breakers/warning-signs.ts";
import type { DataPlaneDirectories } from "./dataplane/directories.ts";
import { StableAddress } from "./dataplane/stable-address.ts";
import { EventLog } from "./observe/event-log.ts";
import { OutputCounts } from "./observe/output-counts.ts";
import { OutputRing } from "./observe/output-ring.ts";
import { PluginController } from "./plugin/controller.ts";
import type { InstanceEnvironment } from "./plugin/environment.ts";
import { PluginInstance } from "./plugin/instance.ts";
import { OperatorStop } from "./plugin/operator-stop.ts";
import { OperatorTurns, type TurnTaker } from "./plugin/operator-turns.ts";
import { warningSignsConfig } from "./plugin/runtime-watch.ts";
import { CurrentWatch } from "./releases/current-watch.ts";
import { Deployer } from "./releases/deployer.ts";
import { releaseAtStart } from "./releases/release-at-start.ts";
import { ReleaseStore, type Release } from "./releases/store.ts";
import type { Trust } from "./trust.ts";
import { warnOfCpuAboveHost } from "./plugin/sampler.ts";
import { warnOfIpcGrants } from "../sandbox/grants.ts";
import { steadyNow } from "./steady-clock.ts";

export interface PluginParts {
  config: PluginConfig;
  controller: PluginController;
  store: ReleaseStore;
  deployer: Deployer;
  output: OutputRing;
  outputCounts: OutputCounts;
  address?: StableAddress;
  watch?: CurrentWatch;
  /** An operator's stop, kept across restarts of the supervisor. */
  operatorStop: OperatorStop;
  /** An open() under way: a second caller (two Start RPCs at once) waits for it rather than opening twice. */
  opening?: Promise<void>;
  /** remove() has begun: nothing is opened for the plugin from then on. */
  removing?: boolean;
}

const SET_CLOSED = "the supervisor is stopping";

export class PluginSet {
  readonly #plugins = new Map<string, PluginParts>();
  readonly #config: Config;
  readonly #dataPlaneDirs: DataPlaneDirectories;
  readonly #trust: Trust;
  readonly #alerts: AlertBook;
  readonly #events: EventLog;
  readonly #log: Logger;
  #env: InstanceEnvironment | undefined;
  readonly #operatorTurns = new OperatorTurns();
  #closed = false;

  constructor(parts: { config: Config; dataPlaneDirs: DataPlaneDirectories; trust: Trust; alerts: AlertBook; events: EventLog; log: Logger }) {
    this.#config = parts.config;
    this.#dataPlaneDirs = parts.dataPlaneDirs;
    this.#trust = parts.trust;
    this.#alerts = parts.alerts;
    this.#events = parts.events;
    this.#log = parts.log;
  }

  /** The environment instances are launched in; it refers back to this set (addresses, output rings). */
  set environment(env: InstanceEnvironment) {
    this.#env = env;
  }

  get(name: string): PluginParts | undefined {
    return this.#plugins.get(name);
  }
  get names(): string[] {
    return [...this.#plugins.keys()];
  }
  values(): PluginParts[] {
    return [...this.#plugins.values()];
  }
  /** The named plugins' parts (all when `names` is empty). */
  selected(names: string[]): PluginParts[] {
    return this.values().filter((p) => names.length === 0 || names.includes(p.controller.name));
  }
  /** The instance that serves the plugin's calls now, if one does. */
  serving(name: string): PluginInstance | undefined {
    const instance = this.#plugins.get(name)?.controller.instance;
    return instance instanceof PluginInstance ? instance : undefined;
  }

  /** Live instances of the named plugins (all when empty): each one's serving instance, a hot update's incoming one, and replaced ones still draining. */
  instances(names: string[]): PluginInstance[] {
    return this.selected(names).flatMap((p) => p.controller.instances.filter((i) => i instanceof PluginInstance));
  }

  /** Raises an alert (unless one of its kind is open for the plugin) and logs it; the alert book records it as an event. */
  raise(alert: Alert): void {
    if (!this.#alerts.raise(alert)) return;
    this.#log.warn({ plugin: alert.plugin, alert: alert.kind, evidence: alert.evidence }, `alert: ${alert.message}`);
  }

  /**
   * Adds a plugin, stopped: imports its configured binary into the release
   * store and makes its controller and deployer. Its address and watch come
   * with open() (once the runtime directory is swept), its instance with start().
   * A binary that cannot be imported is logged, and the plugin added without
   * a release (a deploy may bring one), unless `byReload` (a reload's
   * addition): then it is not added, and the error says why. A reload's
   * addition also runs whatever an operator's stop of an earlier entry of
   * that name left recorded; at the supervisor's start, the stop holds.
   */
  async add(plugin: PluginConfig, { byReload = false }: { byReload?: boolean } = {}): Promise<PluginParts> {
    if (this.#plugins.has(plugin.name)) throw new Error(`plugin ${plugin.name} exists already`);
    const log = this.#log;
    const store = new ReleaseStore(this.#config.stateDir, plugin.name);
    const release = await this.#currentAtStart(store, plugin, byReload);
    const operatorStop = await OperatorStop.open(this.#config.stateDir, plugin.name);
    if (byReload) await operatorStop.clear();
    else if (operatorStop.unreadable) log.error({ plugin: plugin.name, err: operatorStop.unreadable }, "the operator's recorded stop cannot be read: the plugin is kept stopped; corralctl start starts it");
    if (release) log.info({ plugin: plugin.name, release: release.sha256 }, "current release");
    warnOfCpuAboveHost(plugin, log);
    warnOfIpcGrants(plugin, log);
    // Listed in the CRL while its identity is revoked, from the start on.
    if (plugin.certificate) await this.#trust.noteOperatorCertificate(plugin.certificate.cert);
    const restartLoop = new RestartLoopDetector(warningSignsConfig(plugin).restartLoop, { plugin: plugin.name });
    const env = this.#env;
    if (!env) throw new Error("PluginSet.environment is not set");
    const controller = new PluginController(plugin, {
      createInstance: (p, release) => PluginInstance.launch(p, env, release),
      // A quarantine the CPU breaker imposed ends with its escalation: the
      // breaker starts over, closed and with no trips.
      onQuarantineLifted: () => env.forgetPlugin(plugin.name),
      address: {
        serve: (instance) => this.#plugins.get(plugin.name)?.address?.serve(instance),
        refuse: (reason) => this.#plugins.get(plugin.name)?.address?.refuse(reason),
      },
      onTransition: (t) => {
        const reason = "reason" in t.event ? t.event.reason : undefined;
        log.info({ plugin: t.plugin, instance: t.instance, from: t.from, to: t.to, ...(reason !== undefined && { reason }) }, `plugin ${t.to}`);
        this.#events.emit({
          at: Date.now(),
          plugin: t.plugin,
          ...(t.instance && { instance: t.instance }),
          kind: "transition",
          from: t.from,
          to: t.to,
          message: `${t.from} → ${t.to}${reason ? `: ${reason}` : ""}`,
        });
        if (t.from === "backoff" && t.to === "starting") {
          const config = this.#plugins.get(plugin.name)?.config ?? plugin; // as a reload left it
          // Restarts counted on the steady clock (a step back would crowd them into the period); the alert shown at wall time.
          const alert = restartLoop.onRestart(steadyNow(), warningSignsConfig(config).restartLoop);
          if (alert) this.raise({ ...alert, at: Date.now() });
        }
      },
    });
    const deployer = new Deployer({
      store,
      plugin: controller,
      keep: plugin.releases.keep,
      log,
      onDeployed: (message) => this.#events.emit({ at: Date.now(), plugin: plugin.name, kind: "deploy", message }),
      onRestarted: (message) => this.#events.emit({ at: Date.now(), plugin: plugin.name, kind: "config", message }),
      onFailure: (message) => this.raise(newAlert({ plugin: plugin.name }, { kind: "update-failed", message, evidence: {}, at: Date.now() })),
      ...(release && { current: release.sha256 }),
      readers: env.uids,
    });
    const parts: PluginParts = { config: plugin, controller, store, deployer, output: new OutputRing(), outputCounts: new OutputCounts(), operatorStop };
    if (this.#closed) throw new Error(SET_CLOSED); // closed while the binary was imported: close() did not see it
    this.#plugins.set(plugin.name, parts);
    return parts;
  }

  /** The release a plugin added starts with (releases/release-at-start.ts), and what the operator must hear of it. */
  async #currentAtStart(store: ReleaseStore, plugin: PluginConfig, binaryRequired: boolean): Promise<Release | undefined> {
    const log = this.#log.child({ plugin: plugin.name });
    const { release, importError, refusals, replaced } = await releaseAtStart(store, plugin.binary, log);
    if (importError) {
      if (binaryRequired) throw new Error(`cannot import the plugin's binary: ${importError.message}`, { cause: importError });
      log.error({ binary: plugin.binary, err: importError.message }, "cannot import the plugin's binary");
    }
    for (const message of refusals) this.raise(newAlert({ plugin: plugin.name }, { kind: "update-failed", message, evidence: {}, at: Date.now() }));
    if (replaced) {
      // Not through a deploy's gate, and maybe over an operator's deploy: said, and an event.
      log.warn({ binary: plugin.binary }, replaced);
      this.#events.emit({ at: Date.now(), plugin: plugin.name, kind: "deploy", message: replaced });
    }
    return release;
  }

  /** Opens the plugin's stable address and the watch on its `current` link (once, however many ask at once). */
  open(name: string): Promise<void> {
    const parts = this.#plugins.get(name);
    if (!parts || parts.removing) return Promise.reject(new Error(`plugin ${name} is being removed from the config`));
    parts.opening ??= this.#open(parts).finally(() => (parts.opening = undefined));
    return parts.opening;
  }

  async #open(parts: PluginParts): Promise<void> {
    const name = parts.config.name;
    // What is opened after close() or remove() began would outlive it:
    // closed at once, and refused.
    const kept = async <T extends { close(): unknown }>(opened: T): Promise<T> => {
      const refused = this.#closed ? SET_CLOSED : parts.removing ? `plugin ${name} is being removed from the config` : undefined;
      if (refused === undefined) return opened;
      await opened.close();
      throw new Error(refused);
    };
    parts.address ??= await kept(
      await StableAddress.open(parts.config, {
        directories: this.#dataPlaneDirs,
        caPem: this.#trust.ca.certPem,
        trustDomain: this.#trust.ca.trustDomain,
        issueLeaf: (plugin, ttlMs) => this.#trust.issuePluginLeaf(plugin, ttlMs),
        isRevoked: (serial) => this.#trust.registry.isRevoked(serial),
        log: this.#log,
      }),
    );
    if (!parts.watch) {
      // Also before the plugin has a release (its binary could not be
      // imported at start): a deploy, then another tool, may swap it later.
      await mkdir(parts.store.directory, { recursive: true });
      parts.watch = await kept(await CurrentWatch.start(parts.store, { log: this.#log, onChange: (change) => void parts.deployer.onCurrentChange(change) }));
    }
    // Served now: a start's 'not served' is over.
    if (this.#alerts.ack("not-served", name) > 0) this.#log.info({ plugin: name }, "the plugin's stable address is open; its not-served alert is closed");
  }

  /** An operator's stop (corralctl stop), recorded (OperatorTurns.stop). */
  async stopByOperator(name: string, by: string): Promise<void> {
    const parts = this.#plugins.get(name);
    if (parts) await this.#operatorTurns.stop(turnTaker(parts), by);
  }

  /** An operator's start or restart of a stopped or quarantined plugin, its recorded stop removed (OperatorTurns.start). */
  async startByOperator(name: string): Promise<void> {
    const parts = this.#plugins.get(name);
    if (parts) await this.#operatorTurns.start(turnTaker(parts));
  }

  /** A reload's addition started, unless an operator stopped it meanwhile (OperatorTurns.startAdded). Whether it was started. */
  async startAdded(name: string): Promise<boolean> {
    const parts = this.#plugins.get(name);
    return parts ? this.#operatorTurns.startAdded(turnTaker(parts)) : false;
  }

  /**
   * open() at the supervisor's start: a plugin whose address cannot be
   * opened (its identity revoked, its TCP port taken) is not served, and
   * says why, rather than keeping every other plugin from starting.
   * corralctl start tries again. Whether it was opened.
   */
  async openAtStart(name: string): Promise<boolean> {
    try {
      await this.open(name);
      return true;
    } catch (err) {
      if (this.#closed) throw err;
      const message = `plugin ${name} is not served: its stable address could not be opened: ${(err as Error).message}; corralctl start ${name} tries again`;
      this.raise(newAlert({ plugin: name }, { kind: "not-served", message, evidence: {}, at: Date.now() }));
      return false;
    }
  }

  /**
   * Stops the plugin, closes its address, watch and output's follows, and
   * forgets it; `why` is the event that says so (a reload's add that failed
   * is not a removal from the config).
   */
  async remove(name: string, why = "removed from the config"): Promise<void> {
    const parts = this.#plugins.get(name);
    if (!parts) return;
    // Before anything is awaited: an operator's start (or restart) that
    // finds the plugin meanwhile is refused, not left running unmanaged,
    // and an address or watch it was opening is closed, not kept.
    parts.controller.retire();
    parts.removing = true;
    await parts.opening?.catch(() => {});
    await parts.watch?.close();
    const deploys = parts.deployer.close();
    await parts.controller.stop();
    await deploys;
    await parts.address?.close();
    // Gone from the config: added again one day, it runs.
    await this.#operatorTurns.forget(turnTaker(parts)).catch((err: Error) =>
      this.#log.error({ plugin: name, err: err.message }, "forgetting the operator's stop of a removed plugin failed"),
    );
    this.#trust.forgetPlugin(name);
    this.#env?.forgetPlugin(name);
    // Its alerts could never be acknowledged (no such plugin), nor end.
    const closed = this.#alerts.ackAll(name);
    if (closed > 0) this.#log.info({ plugin: name, alerts: closed }, "closed the open alerts of a plugin removed from the config");
    this.#plugins.delete(name);
    parts.output.close(why);
    // The end of its history: its counts start again at 0 if it is added back.
    this.#events.emit({ at: Date.now(), plugin: name, kind: "config", message: why, to: "removed" });
  }

  /** Stops every plugin and closes what each holds; adds and opens are refused from then on. */
  async close(): Promise<void> {
    this.#closed = true; // no plugin is added or opened from now on
    await Promise.all(this.values().map((p) => p.watch?.close()));
    // Deploys still queued are refused; one under way is refused by the
    // stop, and puts back what it changed before the plugins are gone.
    const deploys = this.values().map((p) => p.deployer.close());
    await Promise.all(this.values().map((p) => p.controller.stop()));
    await Promise.all(deploys);
    await Promise.all(this.values().map((p) => p.address?.close()));
  }
}

/** A plugin's parts as an operator's turns take them. */
function turnTaker(parts: PluginParts): TurnTaker {
  return {
    name: parts.config.name,
    controller: parts.controller,
    operatorStop: parts.operatorStop,
    // When its turn comes, not when it was asked for.
    get removing() {
      return parts.removing === true;
    },
  };
}
