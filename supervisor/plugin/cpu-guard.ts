// Puts the CPU breaker (breakers/cpu-breaker.ts, pure) to work on one
// instance: feeds it the samples, stops every process of the instance with
// SIGSTOP when it trips (and checks they are stopped), continues them when
// the cool-down ends, and hands a restart or quarantine verdict back to the
// instance. Owns one timer; close() ends it and continues a stopped instance,
// so that it can be drained or killed.
//
// Evidence is taken while the window runs, not when it ends: the first sample
// above the threshold starts a bounded capture (a CPU profile, then a
// goroutine dump and a heap profile), sized to finish before the window can
// complete, so that the trip stops the instance at once. A trip never waits
// for evidence: what is still being taken then (a window shorter than the
// profile, a plugin too throttled to answer in time) completes after the
// instance is continued, the CPU profile holding the samples from before the
// stop, or fails at its deadline (10 s past its length) if the cool-down is
// longer. One capture at a time per instance, and none for a window starting
// within 10 s of the last: a bursty plugin must not profile itself to death;
// the stop's log names the evidence it relies on (evidenceFrom). A trip on
// probation (one sample) relies on the evidence of the trip before it.
import { parkThenStop } from "./park-then-stop.ts";
import { signalAll } from "./signal-all.ts";
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import { CpuBreaker, type CpuBreakerAction } from "../breakers/cpu-breaker.ts";
import type { CpuBreakerConfig } from "../breakers/config.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { steadyNow, wallTime } from "../steady-clock.ts";

export type Verdict = { action: "restart" | "quarantine"; reason: string };

export function cpuBreakerConfig(plugin: PluginConfig): CpuBreakerConfig {
  const c = plugin.breakers.cpu;
  return {
    thresholdPercent: c.threshold,
    window: c.window,
    coolDown: c.coolDown,
    probation: c.probation,
    // A longer gap between samples is not a sustained load: a few sample intervals.
    maxSampleGap: Math.max(3 * plugin.sampleInterval, 1000),
    escalation: {
      coolDownMultiplier: c.coolDownMultiplier,
      tripsBeforeRestart: c.restartAfter,
      tripsBeforeQuarantine: c.quarantineAfter,
      period: c.period,
    },
  };
}

/** What the guard does around a stop so calls fail fast instead of hanging on a stopped process. */
export interface PauseHooks {
  /**
   * New calls are refused with `reason`; the instance's open connections are
   * sent away, its calls in flight given `graceMs`. Resolves with true once
   * the plugin has closed them all; false when it has only begun, and the
   * grace is then waited out (park-then-stop.ts).
   */
  park(reason: string, graceMs: number): Promise<boolean>;
  /** The instance takes calls again. */
  unpark(): Promise<void>;
  /** Whether an operator's pause holds the instance: the cool-down's end then leaves it stopped. */
  operatorPaused(): boolean;
}

/**
 * When the CPU breaker trips, the plugin spins: calls in flight get this
 * long, and the SIGSTOP waits as long for go-shim to send its GOAWAYs (a
 * client that has not seen one would wait out its deadline on the stopped
 * process). It adds to the breaker's reaction time, so it is short.
 */
export const BREAKER_PARK_GRACE_MS = 60;

/** The longest CPU profile taken as evidence. */
export const EVIDENCE_PROFILE_MS = 500;
/** The shortest one worth taking. */
const MIN_PROFILE_MS = 100;
/**
 * Left in the window, after the CPU profile, for sending it, the goroutine
 * dump and the heap profile (which runs a GC first). In a plugin that spins
 * at its CPU allowance every step waits for its quota: measured 0.3 to 0.5 s
 * at half a core.
 */
const EVIDENCE_RESERVE_MS = 600;
/** A window that starts this soon after the instance's last evidence began takes none: a bursty plugin must not profile itself to death. */
export const EVIDENCE_MIN_GAP_MS = 10_000;

/**
 * How long the CPU profile may run so the evidence is complete when the
 * window is. The evidence starts with the window's first sample above the
 * threshold, one sampling interval after the window began (that sample
 * measured the interval before it): it has `window − sampleInterval`.
 */
export function evidenceProfileMs(window: number, sampleInterval: number): number {
  return Math.min(EVIDENCE_PROFILE_MS, Math.max(MIN_PROFILE_MS, window - sampleInterval - EVIDENCE_RESERVE_MS));
}

type Evidence = { startedAt: number; done: boolean };

export class CpuGuard {
  readonly #breaker: CpuBreaker;
  readonly #cgroup: InstanceCgroup;
  readonly #log: Logger;
  readonly #onVerdict: (verdict: Verdict) => void;
  readonly #evidence: (profileMs: number) => Promise<unknown>;
  readonly #profileMs: number;
  readonly #pause: PauseHooks;
  readonly #cpuCores: number;
  readonly #onEvent: (state: "open" | "half-open" | "closed" | "restart" | "quarantine", message: string) => void;
  #resumeTimer: NodeJS.Timeout | undefined;
  /** The breaker's actions under way, in order (#enqueue). */
  #acting: Promise<void> = Promise.resolve();
  #stopped = false;
  #closed = false;
  /** The latest evidence this guard started taking. */
  #lastEvidence: Evidence | undefined;

  constructor(options: {
    breaker: CpuBreaker;
    cgroup: InstanceCgroup;
    /** The instance's CPU limit in cores, as its cgroup has it. */
    cpuCores: number;
    log: Logger;
    onVerdict: (verdict: Verdict) => void;
    /**
     * Takes evidence while the instance runs: a CPU profile of `profileMs`,
     * then a goroutine dump and a heap profile, each bounded. Started when a
     * window starts; never awaited by a trip.
     */
    evidence?: (profileMs: number) => Promise<unknown>;
    /** The CPU profile's length (see evidenceProfileMs). */
    profileMs?: number;
    /** Moves calls away from the instance before it is stopped, and back after it is continued. */
    pause?: PauseHooks;
    /** Each trip, resume, recovery and verdict, for the event log: the breaker's new state and why. */
    onEvent?: (state: "open" | "half-open" | "closed" | "restart" | "quarantine", message: string) => void;
  }) {
    this.#breaker = options.breaker;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#evidence = options.evidence ?? (async () => {});
    this.#profileMs = options.profileMs ?? EVIDENCE_PROFILE_MS;
    this.#pause = options.pause ?? { park: async () => false, unpark: async () => {}, operatorPaused: () => false };
    this.#cgroup = options.cgroup;
    this.#cpuCores = options.cpuCores;
    this.#log = options.log;
    this.#onVerdict = options.onVerdict;
  }

  get state(): string {
    return this.#breaker.state;
  }
  /** Why calls are refused now (the breaker is open), if they are. */
  get reason(): string | undefined {
    return this.#breaker.rejectsCalls();
  }

  async onSample(at: number, cpuPercent: number): Promise<void> {
    // Stopped by its operator, the instance measures the stop, not itself:
    // its samples would count as a probation it never served (or close a
    // window); the breaker's own timer still ends a cool-down meanwhile.
    if (this.#closed || this.#pause.operatorPaused()) return;
    const windowStart = this.#breaker.windowStartedAt;
    const action = this.#breaker.sample({ at, cpuPercent });
    // This sample began a window: take the evidence now, while it runs.
    const started = this.#breaker.windowStartedAt;
    if (started !== undefined && started !== windowStart) this.#windowStarted(started, cpuPercent);
    await this.#enqueue(action, { at, windowStart });
  }

  /**
   * Runs the breaker's actions one after another, in the order it decided
   * them: a resume decided while a stop is still parking (a cool-down
   * shorter than the stop) comes after the stop's SIGSTOP, not before it,
   * which would leave the instance stopped with the breaker closed.
   */
  #enqueue(action: CpuBreakerAction | undefined, sample?: { at: number; windowStart: number | undefined }): Promise<void> {
    if (!action) return Promise.resolve();
    const next = this.#acting.then(() => this.#act(action, sample));
    this.#acting = next.catch(() => {});
    return next;
  }

  /** Whether the breaker holds the instance stopped (until its cool-down ends). */
  get holdsStopped(): boolean {
    return this.#stopped;
  }

  /** Continues a stopped instance and ends the timer. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#resumeTimer);
    if (this.#stopped) await signalAll(this.#cgroup, "SIGCONT");
    this.#stopped = false;
  }

  /** A window began at `windowStart` (its first sample was `cpuPercent`): evidence, unless recent evidence stands. */
  #windowStarted(windowStart: number, cpuPercent: number): void {
    const last = this.#lastEvidence;
    if (last !== undefined && (!last.done || windowStart - last.startedAt < EVIDENCE_MIN_GAP_MS)) {
      this.#log.debug({ breaker: "cpu", windowStart, cpuPercent, evidenceFrom: wallTime(last.startedAt) }, "cpu above the threshold: window started; recent evidence stands");
      return;
    }
    const evidence: Evidence = { startedAt: windowStart, done: false };
    this.#lastEvidence = evidence;
    this.#log.info({ breaker: "cpu", windowStart, cpuPercent, profileMs: this.#profileMs }, "cpu above the threshold: window started; taking evidence");
    void this.#evidence(this.#profileMs)
      .catch((err: Error) => this.#log.warn({ err: err.message }, "taking the cpu breaker's evidence failed"))
      .finally(() => (evidence.done = true));
  }

  async #act(action: CpuBreakerAction | undefined, sample?: { at: number; windowStart: number | undefined }): Promise<void> {
    if (!action || this.#closed) return;
    switch (action.type) {
      case "stop": {
        // Calls first: they fail fast from here on. Then, after their grace,
        // the stop: the evidence was started with the window.
        const reason = `plugin paused by the CPU breaker until ${wallTime(action.until).toISOString()}: ${action.reason}`;
        const stopped = await parkThenStop({
          cgroup: this.#cgroup,
          cpuCores: this.#cpuCores,
          log: this.#log,
          park: (graceMs) => this.#pause.park(reason, graceMs),
          graceMs: BREAKER_PARK_GRACE_MS,
          cancelled: () => this.#closed,
          signalled: () => (this.#stopped = true),
        });
        if (!stopped) return;
        const evidence = this.#lastEvidence === undefined ? "none" : this.#lastEvidence.done ? "taken" : "in progress";
        this.#log.warn(
          {
            breaker: "cpu",
            trip: action.trip,
            processes: stopped.processes,
            verified: stopped.verified,
            until: wallTime(action.until),
            ...(sample && { sampledAt: sample.at, stoppedInMs: Math.round(steadyNow() - sample.at) }),
            ...(sample?.windowStart !== undefined && { windowStart: sample.windowStart }),
            evidence,
            ...(this.#lastEvidence && { evidenceFrom: wallTime(this.#lastEvidence.startedAt) }),
          },
          `cpu breaker open: ${action.reason}`,
        );
        this.#onEvent("open", `cpu breaker open (trip ${action.trip}, stopped until ${wallTime(action.until).toISOString()}): ${action.reason}`);
        clearTimeout(this.#resumeTimer);
        this.#resumeTimer = setTimeout(() => void this.#enqueue(this.#breaker.tick(action.until)), Math.max(0, action.until - steadyNow()));
        return;
      }
      case "resume":
        this.#stopped = false;
        if (this.#pause.operatorPaused()) {
          // Its operator paused it meanwhile: it stays stopped (and parked)
          // until resumed, and its probation begins then (onSample).
          this.#log.info({ breaker: "cpu" }, "cpu breaker half-open: the instance stays paused by its operator");
          this.#onEvent("half-open", "cpu breaker half-open: the instance stays paused by its operator");
          return;
        }
        await signalAll(this.#cgroup, "SIGCONT");
        await this.#pause.unpark().catch((err: Error) => {
          this.#log.warn({ err: err.message }, "unparking the instance's data socket failed");
        });
        this.#log.info({ breaker: "cpu" }, "cpu breaker half-open: resumed on probation");
        this.#onEvent("half-open", "cpu breaker half-open: resumed on probation");
        return;
      case "recovered":
        this.#log.info({ breaker: "cpu" }, `cpu breaker closed: ${action.reason}`);
        this.#onEvent("closed", `cpu breaker closed: ${action.reason}`);
        return;
      case "restart":
      case "quarantine":
        this.#log.warn({ breaker: "cpu", trip: action.trip }, `cpu breaker: ${action.type}: ${action.reason}`);
        this.#onEvent(action.type, `cpu breaker: ${action.type}: ${action.reason}`);
        this.#onVerdict({ action: action.type, reason: `cpu breaker: ${action.reason}` });
        return;
    }
  }
}
