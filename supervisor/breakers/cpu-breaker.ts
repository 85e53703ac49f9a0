// The CPU breaker of one plugin as a state machine you can draw. A trip is
// numbered k among the trips within escalation.period; R is
// tripsBeforeRestart and Q tripsBeforeQuarantine.
//
//               trip, k < R: stop               cool-down over: resume
//      closed ──────────────────────▶ open ─────────────────────────▶ half-open
//      ▲ ▲ ▲                          ▲                                 │   │
//      │ │ │                          └─── a sample > threshold: trip ──┘   │
//      │ │ │                               (k < R: stop, longer cool-down)  │
//      │ │ └──── every sample ≤ threshold for `probation`: recovered ───────┘
//      │ │
//      │ └────── trip, R ≤ k < Q, from closed or half-open: restart
//      │         (a new instance, a clean window)
//      │
//      └──────── reset() ◀── quarantined ◀── trip, k ≥ Q, from closed or half-open: quarantine
//
//   A trip from closed needs samples above the threshold, none missing,
//   covering `window`; newInstance() (crash, update, operator stop) takes any
//   state but quarantined back to closed. open: SIGSTOP, calls fail fast.
//   half-open: SIGCONT, on probation.
//
// A sample measures the CPU used since the sample before it, so a window's
// run of samples covers the time from that sample on: the window is covered
// `window` after the sample before its first, when that sample is of the
// same instance and at most maxSampleGap earlier (the instance's first
// sample, or one after a gap, covers from itself). Counting from the first
// sample above instead would make every window one sampling interval longer
// than asked, and the breaker an interval slower.
//
// Trips happen only where the instance runs (closed, half-open), so restart
// and quarantine never meet a stopped process. Trip k stops for
// coolDown × coolDownMultiplier^(k−1).
//
// Pure: the caller feeds samples and the clock (`at`, `now`, monotonic ms),
// and executes the action returned; timers, signals and processes are its
// business. Each call returns at most one action.
import { cpuBreakerConfigProblems, type CpuBreakerConfig } from "./config.ts";
import { formatDuration, formatPercent } from "./format.ts";

/** The longest a cool-down lasts, escalated or not: 24 days, the longest a config duration may be. */
export const MAX_COOL_DOWN_MS = 24 * 86_400_000;

export const cpuBreakerStates = ["closed", "open", "half-open", "quarantined"] as const;
export type CpuBreakerState = (typeof cpuBreakerStates)[number];

/** CPU use since the previous sample, in percent of the instance's allowance (may exceed 100 briefly). */
export type CpuSample = { at: number; cpuPercent: number };

export type CpuBreakerAction =
  /** SIGSTOP every process of the instance; calls fail fast until resumed. `until` is when to call tick(). */
  | { type: "stop"; reason: string; trip: number; until: number }
  /** SIGCONT every process: the instance is on probation. */
  | { type: "resume" }
  /** Nothing to signal: probation passed and the breaker closed; record the recovery. */
  | { type: "recovered"; reason: string }
  /** Replace the instance; the breaker is closed with a clean window for the new one. */
  | { type: "restart"; reason: string; trip: number }
  /** Stop the plugin and quarantine it; only reset() leaves this. */
  | { type: "quarantine"; reason: string; trip: number };

export type CpuBreakerStatus = {
  state: CpuBreakerState;
  /** Trips within escalation.period as of `now`. */
  trips: number;
  /** Why the breaker is not closed; undefined when closed. */
  reason: string | undefined;
  /** When an open breaker resumes the instance; undefined in any other state. */
  coolDownEndsAt: number | undefined;
  lastSample: CpuSample | undefined;
};

/** Consecutive samples with no gap longer than maxSampleGap between them. */
type Run = { startAt: number; lastAt: number; sum: number; count: number };

export class CpuBreaker {
  #config: CpuBreakerConfig;
  #state: CpuBreakerState = "closed";
  #reason: string | undefined;
  #coolDownEndsAt: number | undefined;
  #tripTimes: number[] = [];
  /** closed: the current run above the threshold; half-open: the current run at or below it. */
  #run: Run | undefined;
  #lastSample: CpuSample | undefined;
  /** The time of this instance's previous sample: where a window starting now begins. */
  #instanceLastAt: number | undefined;

  constructor(config: CpuBreakerConfig) {
    this.#config = checked(config);
  }

  /**
   * Settings from now on (a config reload): the next sample is judged by
   * them. The trips so far still count toward escalation, and a cool-down
   * under way keeps the end it was given.
   */
  reconfigure(config: CpuBreakerConfig): void {
    this.#config = checked(config);
  }

  get state(): CpuBreakerState {
    return this.#state;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  get coolDownEndsAt(): number | undefined {
    return this.#coolDownEndsAt;
  }

  /**
   * When the window now running began, while closed: the start of what the
   * first of an unbroken run of samples above the threshold measured (the
   * time of the sample before it); undefined when no such run is on. The
   * breaker trips at the first sample at least `window` after it, unless a
   * sample at or below the threshold (or a gap) ends the run first. A caller
   * that wants evidence from before the stop starts taking it when this
   * changes, so the trip need not wait for it.
   */
  get windowStartedAt(): number | undefined {
    return this.#state === "closed" ? this.#run?.startAt : undefined;
  }

  /** Trips within escalation.period as of `now`. */
  trips(now: number): number {
    return this.#tripTimes.filter((t) => now - t < this.#config.escalation.period).length;
  }

  status(now: number): CpuBreakerStatus {
    return {
      state: this.#state,
      trips: this.trips(now),
      reason: this.#reason,
      coolDownEndsAt: this.#coolDownEndsAt,
      lastSample: this.#lastSample,
    };
  }

  /**
   * The reason to give a caller (UNAVAILABLE) instead of forwarding its call,
   * or undefined when calls may go through. A stopped instance would hold a
   * call until its deadline; failing fast with the cause is the breaker's point.
   */
  rejectsCalls(): string | undefined {
    if (this.#state === "open") return `stopped by the CPU breaker until cool-down ends: ${this.#reason}`;
    if (this.#state === "quarantined") return `quarantined by the CPU breaker: ${this.#reason}`;
    return undefined;
  }

  /**
   * Feeds one sample. Samples not after the previous one are ignored (a timer
   * that fired twice); a non-finite value is a caller bug and throws.
   */
  sample(sample: CpuSample): CpuBreakerAction | undefined {
    if (!Number.isFinite(sample.at) || !Number.isFinite(sample.cpuPercent)) {
      throw new RangeError(`CPU sample must be finite numbers, got at=${sample.at} cpuPercent=${sample.cpuPercent}`);
    }
    if (this.#lastSample !== undefined && sample.at <= this.#lastSample.at) return undefined;
    this.#lastSample = sample;
    const previousAt = this.#instanceLastAt;
    this.#instanceLastAt = sample.at;
    switch (this.#state) {
      case "closed":
        return this.#sampleClosed(sample, previousAt);
      case "open":
        // A stopped instance's sample measures the stop, not the plugin: it is
        // only noted, and may end the cool-down, but never counts towards probation.
        return this.tick(sample.at);
      case "half-open":
        return this.#sampleHalfOpen(sample);
      case "quarantined":
        return undefined;
    }
  }

  /** The clock alone: ends the cool-down of an open breaker. Call it at `until` of the stop action. */
  tick(now: number): CpuBreakerAction | undefined {
    if (this.#state !== "open" || this.#coolDownEndsAt === undefined || now < this.#coolDownEndsAt) return undefined;
    this.#state = "half-open";
    this.#coolDownEndsAt = undefined;
    this.#run = undefined;
    return { type: "resume" };
  }

  /**
   * The instance was replaced or stopped for another reason (crash, update,
   * operator): the new one starts closed with a clean window. Trips are kept,
   * so a spinner cannot shed its escalation by crashing. A quarantine's
   * verdict starts no instance: one that starts after it was started on
   * purpose (an operator's stop and start, a deploy that overtook the
   * verdict), which lifts the quarantine as an operator's lift does: a
   * quarantined breaker would watch it not at all.
   */
  newInstance(): void {
    if (this.#state === "quarantined") {
      this.reset();
      return;
    }
    this.#instanceLastAt = undefined;
    this.#close();
  }

  /** An operator lifted the quarantine or cleared the history: everything is forgotten. */
  reset(): void {
    this.#close();
    this.#tripTimes = [];
    this.#lastSample = undefined;
    this.#instanceLastAt = undefined;
  }

  #sampleClosed(sample: CpuSample, previousAt: number | undefined): CpuBreakerAction | undefined {
    const { thresholdPercent, window } = this.#config;
    if (sample.cpuPercent <= thresholdPercent) {
      this.#run = undefined;
      return undefined;
    }
    const run = this.#extend(sample, previousAt);
    // Covered means the run began at least `window` ago; each sample in it
    // was above the threshold and none was missing.
    if (sample.at - run.startAt < window) return undefined;
    const mean = run.sum / run.count;
    return this.#trip(
      sample.at,
      `cpu above ${formatPercent(thresholdPercent)} of its allowance for ${formatDuration(window)} (mean ${formatPercent(mean)})`,
    );
  }

  #sampleHalfOpen(sample: CpuSample): CpuBreakerAction | undefined {
    const { thresholdPercent, probation } = this.#config;
    // On probation one sample above the threshold is enough: this instance
    // already proved it spins, and another full window would let it.
    if (sample.cpuPercent > thresholdPercent) {
      return this.#trip(
        sample.at,
        `cpu above ${formatPercent(thresholdPercent)} of its allowance on probation (${formatPercent(sample.cpuPercent)})`,
      );
    }
    const run = this.#extend(sample);
    if (sample.at - run.startAt < probation) return undefined;
    const mean = run.sum / run.count;
    this.#close();
    return {
      type: "recovered",
      reason: `cpu at or below ${formatPercent(thresholdPercent)} of its allowance for ${formatDuration(probation)} of probation (mean ${formatPercent(mean)})`,
    };
  }

  /**
   * Adds the sample to the current run, or starts a new run after a gap: from
   * `from` (the sample before, whose time the new sample measures from) when
   * it is close enough, else from the sample itself.
   */
  #extend(sample: CpuSample, from?: number): Run {
    const previous = this.#run;
    const { maxSampleGap } = this.#config;
    const continuous = previous !== undefined && sample.at - previous.lastAt <= maxSampleGap;
    const startAt = from !== undefined && sample.at - from <= maxSampleGap ? from : sample.at;
    const run: Run = continuous
      ? { startAt: previous.startAt, lastAt: sample.at, sum: previous.sum + sample.cpuPercent, count: previous.count + 1 }
      : { startAt, lastAt: sample.at, sum: sample.cpuPercent, count: 1 };
    this.#run = run;
    return run;
  }

  #trip(at: number, cause: string): CpuBreakerAction {
    const { coolDown, escalation } = this.#config;
    this.#tripTimes = [...this.#tripTimes.filter((t) => at - t < escalation.period), at];
    const trip = this.#tripTimes.length;
    const history = `trip ${trip} within ${formatDuration(escalation.period)}`;
    if (trip >= escalation.tripsBeforeQuarantine) {
      this.#close();
      this.#instanceLastAt = undefined;
      this.#state = "quarantined";
      this.#reason = `${cause}; ${history} (tripsBeforeQuarantine: ${escalation.tripsBeforeQuarantine})`;
      return { type: "quarantine", reason: this.#reason, trip };
    }
    if (trip >= escalation.tripsBeforeRestart) {
      this.#close();
      this.#instanceLastAt = undefined; // the next sample is a new instance's
      return { type: "restart", reason: `${cause}; ${history} (tripsBeforeRestart: ${escalation.tripsBeforeRestart})`, trip };
    }
    // Each duration of the config is at most 24 days (a Node timer longer
    // than 2^31-1 ms fires at once); so is what they escalate to.
    const coolDownMs = Math.min(coolDown * escalation.coolDownMultiplier ** (trip - 1), MAX_COOL_DOWN_MS);
    this.#state = "open";
    this.#run = undefined;
    this.#coolDownEndsAt = at + coolDownMs;
    this.#reason = `${cause}; stopped for ${formatDuration(coolDownMs)} (${history})`;
    return { type: "stop", reason: this.#reason, trip, until: this.#coolDownEndsAt };
  }

  #close(): void {
    this.#state = "closed";
    this.#reason = undefined;
    this.#coolDownEndsAt = undefined;
    this.#run = undefined;
  }
}

function checked(config: CpuBreakerConfig): CpuBreakerConfig {
  const problems = cpuBreakerConfigProblems(config);
  if (problems.length > 0) throw new RangeError(`invalid CPU breaker config: ${problems.join("; ")}`);
  return config;
}
