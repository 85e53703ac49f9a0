// Drives one configured plugin through its lifecycle (lifecycle.ts): starts
// instances, watches them, restarts them after crashes with the crash
// policy's backoff, quarantines a crash loop, and stops them on request.
// All state changes go through #dispatch, so the state machine is the single
// source of truth about where a plugin is.
import type { PluginConfig } from "../config/schema.ts";
import { CrashPolicy } from "./crash-policy.ts";
import { withoutWords } from "./exit-reason.ts";
import { IncompatiblePlugin } from "./compatibility.ts";
import { nextState, type LifecycleEvent, type PluginState } from "./lifecycle.ts";
import type { Sample } from "./sampler.ts";
import { steadyNow } from "../steady-clock.ts";

/** What the controller needs of an instance; plugin/instance.ts provides it. */
export interface Instance {
  readonly id: string;
  readonly release: string;
  /**
   * Puts the data socket where the plugin's stable address may lead
   * (dataplane/published-socket.ts) and returns that path; throws when the
   * plugin put something else in its place.
   */
  publishDataSocket(): string;
  /** Host pid of the plugin process, once it runs. */
  readonly pid: number | undefined;
  readonly pluginVersion: string | undefined;
  readonly apiVersion: string | undefined;
  /** The latest sample, once sampling has begun. */
  readonly usage?: Sample | undefined;
  /** The CPU breaker's state, once sampling has begun. */
  readonly cpuBreaker?: { state: string; reason: string | undefined } | undefined;
  /** Set when a breaker ended the instance and said what should follow. */
  readonly verdict?: { action: "restart" | "quarantine"; reason: string } | undefined;
  /** Resolves when the instance has passed handshake and health; rejects with the reason it did not. */
  ready(signal: AbortSignal): Promise<void>;
  /** Resolves once the instance's processes are gone, with a description of how they ended. */
  readonly exited: Promise<string>;
  /** Drains (bounded by graceMs), then terminates, then cleans up. */
  stop(graceMs: number): Promise<void>;
  /** Kills at once and cleans up. Idempotent. */
  destroy(): Promise<void>;
  /** Renews the instance's certificate now. */
  rotateCertificate(): Promise<void>;
  /** Moves calls away (refused with `reason`), then stops every process (SIGSTOP). */
  pause(reason: string): Promise<void>;
  /** Continues the processes and takes calls again. */
  resume(): Promise<void>;
}

/**
 * Launches an instance of `plugin` running `release` (a sha256), or its
 * current release when none is named.
 */
export type InstanceFactory = (plugin: PluginConfig, release?: string) => Promise<Instance>;

export interface Transition {
  plugin: string;
  from: PluginState;
  to: PluginState;
  event: LifecycleEvent;
  instance?: string;
}

/** Where the plugin's calls go (dataplane/stable-address.ts): the controller keeps it pointed at the instance that serves. */
export interface ServingAddress {
  serve(instance: { id: string; publishDataSocket(): string }): void;
  refuse(reason: string): void;
}

export interface ControllerOptions {
  createInstance: InstanceFactory;
  onTransition?: (t: Transition) => void;
  /** An operator's start (or a deploy) lifts the plugin's quarantine: what a breaker held against it is to be forgotten. */
  onQuarantineLifted?: () => void;
  address?: ServingAddress;
  now?: () => number;
}

/** What a hot update did. */
export interface UpdateResult {
  /** False when the release already served (or the plugin is stopped and will run it when started). */
  changed: boolean;
  release: string;
  previous: string;
  /** The instance serving now; empty when the plugin is not running. */
  instance: string;
}

/** A hot update whose new instance did not become ready: the old one (if any) keeps serving. */
export class UpdateFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpdateFailed";
  }
}

/**
 * One start attempt: of `release` (the current release if not given). With
 * `failedBackTo`, a failed attempt returns the plugin to quarantine with
 * that reason instead of to the crash policy. A `trial` release (one that
 * has not served) that proves incompatible goes to the crash policy too,
 * rather than quarantining the plugin.
 */
interface RunOptions {
  failedBackTo?: string;
  release?: string;
  trial?: boolean;
}

export class PluginController {
  readonly name: string;
  #config: PluginConfig;
  readonly #options: ControllerOptions;
  readonly #policy: CrashPolicy;
  readonly #now: () => number;
  #state: PluginState = "stopped";
  #since: number;
  #reason = "";
  /** Why the last start attempt failed (the reason a deploy into quarantine gives, the quarantine's own staying). */
  #failedAttempt = "";
  #restarts = 0;
  #instance: Instance | undefined;
  /**
   * The release of the instance that came into service last: what restarts,
   * reloads and crash retries run, whatever `current` names meanwhile (a
   * deploy's release on trial, or one that has just failed its trial).
   */
  #served: string | undefined;
  #retired = false;
  #readySince = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt: AbortController | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /** During a hot update, the new instance until it serves or is given up. */
  #incoming: Instance | undefined;
  /** Hot updates, one after the other. */
  #updates: Promise<unknown> = Promise.resolve();
  /** The drains of instances a hot update replaced: a stop waits for them too. */
  readonly #draining = new Set<Promise<void>>();
  /** Replaced instances while they drain. */
  readonly #outgoing = new Set<Instance>();

  constructor(config: PluginConfig, options: ControllerOptions) {
    this.name = config.name;
    this.#config = config;
    this.#options = options;
    // Crash windows and time in service: a step of the wall clock must not stretch or shrink them.
    this.#now = options.now ?? steadyNow;
    this.#since = this.#now();
    this.#policy = new CrashPolicy(config.restart);
  }

  get state(): PluginState {
    return this.#state;
  }
  get reason(): string {
    return this.#reason;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get instance(): Instance | undefined {
    return this.#instance;
  }
  /**
   * Every live instance, the serving one first: during a hot update also
   * the one that is to replace it, and after it the replaced ones still
   * draining (a revocation must reach their open calls too).
   */
  get instances(): Instance[] {
    return [this.#instance, this.#incoming, ...this.#outgoing].filter((i): i is Instance => i !== undefined);
  }
  /**
   * The release of the instance that serves calls now, or will again once
   * resumed (paused): what a failed deploy puts `current` back to.
   */
  get servingRelease(): string | undefined {
    return this.#state === "ready" || this.#state === "updating" || this.#state === "paused" ? this.#instance?.release : undefined;
  }
  get stateAgeMs(): number {
    return this.#now() - this.#since;
  }

  /**
   * The plugin is being removed from the config: from now on start, update,
   * restart and applyConfig are refused, so that nothing starts an instance
   * that no one would stop once it is forgotten. stop() still works.
   */
  retire(): void {
    this.#retired = true;
  }

  #refuseIfRetired(): void {
    if (this.#retired) throw new UpdateFailed(`plugin ${this.name} is being removed from the config`);
  }

  /** Starts the plugin (from stopped, or lifting a quarantine). Resolves when ready or after the first failure. */
  async start(): Promise<void> {
    this.#refuseIfRetired();
    if (this.#state !== "stopped" && this.#state !== "quarantined") return;
    if (this.#state === "quarantined") this.#options.onQuarantineLifted?.();
    // From stopped, what is current runs, and so do the retries if it
    // fails: a reload may have made the configured binary current while
    // the plugin was stopped, and the retries ran the release that served
    // before the stop, while current, the seed and the config named the new one.
    if (this.#state === "stopped") this.#served = undefined;
    this.#policy.reset();
    await this.#run();
  }

  /** Stops the plugin: drains a ready instance, aborts a starting one, cancels a pending retry. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /**
   * The plugin's own instance, and every instance a hot update replaced
   * that is still draining: its calls in flight end within stopTimeout,
   * not at the supervisor's removal of what is left after the stop.
   */
  async #stop(): Promise<void> {
    await Promise.all([this.#stopCurrent(), ...this.#draining]);
  }

  async #stopCurrent(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const instance = this.#instance;
    switch (this.#state) {
      case "stopped":
        return;
      case "crashed":
      case "backoff":
      case "quarantined":
        this.#dispatch({ type: "stop" });
        return;
      case "starting":
        this.#dispatch({ type: "stop" });
        this.#attempt?.abort(new Error("stop requested"));
        await this.#running; // the attempt destroys what it started
        break;
      case "ready":
        this.#dispatch({ type: "stop" });
        await instance?.stop(this.#config.stopTimeout);
        break;
      case "paused":
        this.#dispatch({ type: "stop" });
        await instance?.stop(this.#config.stopTimeout); // continued first, then drained
        break;
      case "updating":
        // The update's attempt destroys the new instance; the serving one drains.
        this.#dispatch({ type: "stop" });
        this.#attempt?.abort(new Error("stop requested"));
        await instance?.stop(this.#config.stopTimeout);
        break;
      case "draining":
        await instance?.exited;
        return;
    }
    this.#instance = undefined;
    if ((this.#state as PluginState) === "draining") this.#dispatch({ type: "stopped" });
  }

  /**
   * Brings `release` (now the plugin's current release) into service. A
   * ready plugin is updated hot: a new instance starts beside the serving
   * one, takes the calls once it has passed handshake and health, and the
   * old one drains (bounded by stopTimeout) and stops. A plugin that is
   * crashed, backing off or quarantined is started on the new release at
   * once; a stopped one is refused. Updates are serialized.
   * Rejects with UpdateFailed when the new instance does not become ready.
   */
  update(release: string, onServing?: () => Promise<void>): Promise<UpdateResult> {
    const next = this.#updates.then(() => this.#update(release, { onServing }));
    this.#updates = next.catch(() => {});
    return next;
  }

  /**
   * Replaces the serving instance with a new one of the release it serves
   * (with the config as it is now) through the hot-update path: no call
   * fails. A plugin that is not ready is started instead, on the release
   * that served last (the current one if none has).
   */
  restart(): Promise<UpdateResult> {
    const next = this.#updates.then(() => this.#update(undefined));
    this.#updates = next.catch(() => {});
    return next;
  }

  /**
   * Puts the config of reconfigure() in force (a reload): an instance that
   * is ready, or still starting under the old config, is replaced through
   * the hot-update path as restart() does. A plugin with no instance
   * (stopped, crashed, backing off, quarantined) starts its next one under
   * the new config, and is left as it is. A paused or stopping plugin is
   * refused (UpdateFailed): its instance would keep the old config.
   */
  applyConfig(): Promise<UpdateResult> {
    const next = this.#updates.then(() => this.#update(undefined, { startIdle: false }));
    this.#updates = next.catch(() => {});
    return next;
  }

  /** Replaces the config the next instance starts with (a reload; applyConfig() puts it in force). */
  reconfigure(config: PluginConfig): void {
    if (config.name !== this.name) throw new Error(`config of ${config.name} given to the controller of ${this.name}`);
    this.#config = config;
    this.#policy.reconfigure(config.restart);
  }

  /** An operator's pause: calls are refused with the reason and the instance's processes stopped until resume(). */
  async pause(reason: string): Promise<void> {
    if (this.#state !== "ready") throw new UpdateFailed(`plugin ${this.name} is ${this.#state}, not ready: only a ready plugin can be paused`);
    const instance = this.#instance!;
    this.#dispatch({ type: "pause", reason });
    try {
      await instance.pause(`plugin ${this.name} is paused: ${reason}`);
    } catch (err) {
      if ((this.#state as PluginState) === "paused") this.#dispatch({ type: "resume" });
      throw err;
    }
  }

  async resume(): Promise<void> {
    if (this.#state !== "paused") throw new UpdateFailed(`plugin ${this.name} is ${this.#state}, not paused`);
    await this.#instance!.resume();
    if (this.#state === "paused") this.#dispatch({ type: "resume" });
  }

  /**
   * With `startIdle` false, a plugin with no instance is left as it is.
   * `onServing` is awaited once a hot update's new instance takes the calls.
   */
  async #update(release: string | undefined, { startIdle = true, onServing }: { startIdle?: boolean; onServing?: () => Promise<void> } = {}): Promise<UpdateResult> {
    this.#refuseIfRetired();
    // The attempt under way decides (ready, or back off): not waiting for a
    // crash loop to end, which it may never do without a quarantine.
    if (this.#state === "starting") await this.#running;
    const serving = this.#instance;
    const previous = serving?.release ?? "";
    switch (this.#state) {
      case "ready":
        if (release !== undefined && serving!.release === release) return { changed: false, release, previous, instance: serving!.id };
        return this.#swap(serving!, release ?? serving!.release, onServing);
      case "paused":
        throw new UpdateFailed(`plugin ${this.name} is paused; resume it first`);
      case "stopped":
        if (release === undefined) return { changed: false, release: "", previous, instance: "" };
        // Made current untried, it would run at the next start with no
        // release to go back to if it crashed: a release stays current only
        // by coming into service.
        throw new UpdateFailed(`plugin ${this.name} is stopped; start it, then deploy: a release stays current only once it serves`);
      case "draining":
      case "updating":
      case "starting":
        throw new UpdateFailed(`plugin ${this.name} is ${this.#state}`);
      case "crashed":
      case "backoff":
      case "quarantined": {
        if (!startIdle) return { changed: false, release: release ?? "", previous, instance: "" };
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
        // A quarantine is lifted only by what comes into service: a deploy
        // that fails puts the plugin back in quarantine, its crash history
        // and what its breakers hold against it kept, rather than giving
        // the release that crash-looped a fresh run.
        const quarantine = this.#state === "quarantined" ? this.#reason : undefined;
        if (quarantine === undefined) {
          this.#dispatch({ type: "stop" });
          this.#policy.reset();
        }
        // The release asked for; a restart or reload, the one that served last.
        const starting = release ?? this.#served;
        // A new release that fails is the deploy's failure, not the
        // plugin's: one that proves incompatible (another plugin's name,
        // another protocol) does not quarantine the plugin, whose release
        // that served is retried as after any failed attempt.
        const trial = starting !== this.#served;
        await this.#run(quarantine === undefined ? { release: starting, trial } : { failedBackTo: quarantine, release: starting });
        const now = this.#instance;
        if ((this.#state as PluginState) !== "ready" || !now) {
          const why = quarantine === undefined ? this.#reason : this.#failedAttempt;
          throw new UpdateFailed(`${release ? `release ${release.slice(0, 12)}` : `plugin ${this.name}`} did not become ready: ${why}`);
        }
        if (quarantine !== undefined) {
          this.#options.onQuarantineLifted?.();
          this.#policy.reset();
        }
        return { changed: true, release: now.release, previous, instance: now.id };
      }
    }
  }

  async #swap(old: Instance, release: string, onServing?: () => Promise<void>): Promise<UpdateResult> {
    this.#dispatch({ type: "update" });
    const attempt = new AbortController();
    this.#attempt = attempt;
    let oldExit: string | undefined;
    void old.exited.then((how) => {
      oldExit = how;
      // The serving instance died while the new one warms up: calls are
      // refused with the reason, not sent to its closed socket, until the
      // new one serves (or, if it fails, the crash path takes over).
      if (this.#state === "updating" && this.#instance === old) this.#options.address?.refuse(refusalReason(this.name, "crashed", how));
      // Its remains go at once, not at the update's end (up to startTimeout
      // away): a Node client closes its connections to an instance when
      // its directory goes (client/instance-watch.ts), rather than wait for
      // the keepalive. destroy() is idempotent: the update's end calls it again.
      void old.destroy();
    });
    let fresh: Instance | undefined;
    try {
      fresh = await this.#options.createInstance(this.#config, release);
      this.#incoming = fresh;
      await withTimeout(fresh.ready(attempt.signal), this.#config.startTimeout, attempt, () => {
        return `not ready within startTimeout (${this.#config.startTimeout} ms)`;
      });
    } catch (err) {
      attempt.abort(err);
      await fresh?.destroy();
      if (this.#state !== "updating") throw new UpdateFailed(`plugin ${this.name} was stopped during the update`);
      // The release launched: `current` may have named another than asked for by then.
      const reason = `release ${(fresh?.release ?? release).slice(0, 12)} did not become ready: ${(err as Error).message}`;
      this.#dispatch({ type: "update-failed", reason });
      // The old instance may have gone meanwhile; its exit was ignored while updating.
      if (oldExit !== undefined) void this.#onExit(old, oldExit);
      throw new UpdateFailed(reason);
    } finally {
      this.#incoming = undefined;
      if (this.#attempt === attempt) this.#attempt = undefined;
    }
    if (this.#state !== "updating") {
      await fresh.destroy();
      throw new UpdateFailed(`plugin ${this.name} was stopped during the update`);
    }
    this.#instance = fresh;
    this.#served = fresh.release;
    // The time the replaced instance served counts towards the crash
    // policy's calm as if it had ended: a plugin that crash-looped once and
    // then served for hours starts again from the first backoff.
    this.#policy.onStable(this.#now() - this.#readySince);
    this.#readySince = this.#now();
    this.#dispatch({ type: "updated" }); // the address now leads to the new instance
    void fresh.exited.then((how) => this.#onExit(fresh, how));
    // Counted as draining from now: a stop that comes meanwhile waits for it.
    const { promise: drained, resolve: drainEnded } = Promise.withResolvers<void>();
    this.#draining.add(drained);
    this.#outgoing.add(old);
    try {
      await onServing?.();
      await old.stop(this.#config.stopTimeout);
    } finally {
      this.#outgoing.delete(old);
      this.#draining.delete(drained);
      drainEnded();
    }
    return { changed: true, release: fresh.release, previous: old.release, instance: fresh.id };
  }

  /** Runs one start attempt (RunOptions). */
  #run(options?: RunOptions): Promise<void> {
    const running = this.#startInstance(options).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #startInstance(options?: RunOptions): Promise<void> {
    this.#dispatch({ type: "start" });
    const attempt = new AbortController();
    this.#attempt = attempt;
    let instance: Instance | undefined;
    try {
      instance = await this.#options.createInstance(this.#config, options?.release);
      this.#instance = instance;
      await withTimeout(instance.ready(attempt.signal), this.#config.startTimeout, attempt, () => {
        return `not ready within startTimeout (${this.#config.startTimeout} ms)`;
      });
    } catch (err) {
      attempt.abort(err);
      await instance?.destroy();
      if (this.#instance === instance) this.#instance = undefined;
      if (this.#state !== "starting") return; // stopped meanwhile: stop() completes the transition
      const reason = (err as Error).message;
      this.#failedAttempt = reason;
      if (options?.failedBackTo !== undefined) this.#dispatch({ type: "quarantine", reason: options.failedBackTo });
      else if (err instanceof IncompatiblePlugin && !options?.trial) this.#dispatch({ type: "quarantine", reason });
      else {
        this.#dispatch({ type: "failed", reason });
        this.#afterCrash();
      }
      return;
    } finally {
      if (this.#attempt === attempt) this.#attempt = undefined;
    }
    if (this.#state !== "starting") {
      // Became ready just as a stop arrived.
      await instance.destroy();
      if (this.#instance === instance) this.#instance = undefined;
      return;
    }
    this.#served = instance.release;
    this.#readySince = this.#now();
    this.#dispatch({ type: "ready" });
    void instance.exited.then((how) => this.#onExit(instance, how));
  }

  async #onExit(instance: Instance, how: string): Promise<void> {
    if (this.#instance !== instance || (this.#state !== "ready" && this.#state !== "paused")) return; // a stop or newer instance owns it
    this.#policy.onStable(this.#now() - this.#readySince);
    this.#dispatch({ type: "exited", reason: how });
    await instance.destroy();
    if (this.#instance === instance) this.#instance = undefined;
    // A stop may have come during the clean-up: it decides then.
    if ((this.#state as PluginState) !== "crashed") return;
    if (instance.verdict?.action === "quarantine") this.#dispatch({ type: "quarantine", reason: instance.verdict.reason });
    else this.#afterCrash();
  }

  #afterCrash(): void {
    if (this.#state !== "crashed") return;
    const decision = this.#policy.onCrash(this.#now());
    if (decision.action === "quarantine") {
      this.#dispatch({ type: "quarantine", reason: `${decision.reason}; last: ${this.#reason}` });
      return;
    }
    this.#dispatch({ type: "retry" });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#restarts += 1;
      // The release that served last, not `current`: a deploy may have made
      // its release current on trial meanwhile, or failed with it.
      void this.#run({ release: this.#served });
    }, decision.delayMs);
  }

  #route(): void {
    const address = this.#options.address;
    if (!address) return;
    const serving = this.#instance;
    if ((this.#state === "ready" || this.#state === "updating") && serving) address.serve(serving);
    else address.refuse(refusalReason(this.name, this.#state, this.#reason));
  }

  #dispatch(event: LifecycleEvent): void {
    const from = this.#state;
    const to = nextState(from, event);
    this.#state = to;
    this.#since = this.#now();
    if ("reason" in event) this.#reason = event.reason;
    else if (to === "ready" || to === "stopped") this.#reason = "";
    this.#route();
    this.#options.onTransition?.({ plugin: this.name, from, to, event, ...(this.#instance && { instance: this.#instance.id }) });
  }
}

/** Keeps the plugin's address pointed at the instance that serves, or refusing with the reason none does. */
export function refusalReason(plugin: string, state: PluginState, operatorReason: string): string {
  const reason = withoutWords(operatorReason);
  const why = reason ? `: ${reason}` : "";
  switch (state) {
    case "stopped":
      return `plugin ${plugin} is stopped`;
    case "starting":
      // The reason is the last failure's, if any: not the start's own.
      return reason ? `plugin ${plugin} is starting again after a failure: ${reason}` : `plugin ${plugin} is starting`;
    case "draining":
      return `plugin ${plugin} is stopping`;
    case "crashed":
    case "backoff":
      return `plugin ${plugin} is restarting after a failure${why}`;
    case "quarantined":
      return `plugin ${plugin} is quarantined${why}`;
    case "paused":
      return reason ? `plugin ${plugin} is paused: ${reason}` : `plugin ${plugin} is paused`;
    case "ready":
    case "updating":
      return `plugin ${plugin} is serving`;
  }
}

/** Races `promise` against a timer; on timeout aborts `attempt` with the message and rejects. */
async function withTimeout<T>(promise: Promise<T>, ms: number, attempt: AbortController, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(message());
      attempt.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
