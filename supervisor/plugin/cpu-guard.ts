// Puts the CPU breaker (breakers/cpu-breaker.ts, pure) to work on one
// instance: feeds it the samples, stops every process of the instance with
// SIGSTOP when it trips (and checks they are stopped), continues them when
// the cool-down ends, and hands a restart or quarantine verdict back to the
// instance. Owns one timer; close() ends it and continues a stopped instance,
// so that it can be drained or killed.
import { readFile } from "node:fs/promises";
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import { CpuBreaker, type CpuBreakerAction } from "../breakers/cpu-breaker.ts";
import type { CpuBreakerConfig } from "../breakers/config.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";

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
  /** New calls are refused with `reason`; the instance's open connections are sent away. */
  park(reason: string): Promise<void>;
  /** The instance takes calls again. */
  unpark(): Promise<void>;
}

export class CpuGuard {
  readonly #breaker: CpuBreaker;
  readonly #cgroup: InstanceCgroup;
  readonly #log: Logger;
  readonly #onVerdict: (verdict: Verdict) => void;
  #resumeTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #closed = false;

  readonly #beforeStop: () => Promise<unknown>;
  readonly #pause: PauseHooks;

  constructor(options: {
    breaker: CpuBreaker;
    cgroup: InstanceCgroup;
    log: Logger;
    onVerdict: (verdict: Verdict) => void;
    /** Evidence taken while the instance still runs (a CPU profile), bounded. */
    beforeStop?: () => Promise<unknown>;
    /** Moves calls away from the instance before it is stopped, and back after it is continued. */
    pause?: PauseHooks;
  }) {
    this.#breaker = options.breaker;
    this.#beforeStop = options.beforeStop ?? (async () => {});
    this.#pause = options.pause ?? { park: async () => {}, unpark: async () => {} };
    this.#cgroup = options.cgroup;
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
    if (this.#closed) return;
    await this.#act(this.#breaker.sample({ at, cpuPercent }));
  }

  /** Continues a stopped instance and ends the timer. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#resumeTimer);
    if (this.#stopped) await this.#signalAll("SIGCONT");
    this.#stopped = false;
  }

  async #act(action: CpuBreakerAction | undefined): Promise<void> {
    if (!action || this.#closed) return;
    switch (action.type) {
      case "stop": {
        // Calls first: they fail fast from here on, while the profile is taken.
        await this.#pause.park(`plugin paused by the CPU breaker until ${new Date(action.until).toISOString()}: ${action.reason}`).catch((err: Error) => {
          this.#log.warn({ err: err.message }, "parking the instance's data socket failed");
        });
        await this.#beforeStop().catch(() => {});
        if (this.#closed) return;
        const stopped = await this.#signalAll("SIGSTOP");
        this.#stopped = true;
        const verified = await allStopped(stopped);
        this.#log.warn({ breaker: "cpu", trip: action.trip, processes: stopped.length, verified, until: new Date(action.until) }, `cpu breaker open: ${action.reason}`);
        clearTimeout(this.#resumeTimer);
        this.#resumeTimer = setTimeout(() => void this.#act(this.#breaker.tick(action.until)), Math.max(0, action.until - Date.now()));
        return;
      }
      case "resume":
        await this.#signalAll("SIGCONT");
        this.#stopped = false;
        await this.#pause.unpark().catch((err: Error) => {
          this.#log.warn({ err: err.message }, "unparking the instance's data socket failed");
        });
        this.#log.info({ breaker: "cpu" }, "cpu breaker half-open: resumed on probation");
        return;
      case "recovered":
        this.#log.info({ breaker: "cpu" }, `cpu breaker closed: ${action.reason}`);
        return;
      case "restart":
      case "quarantine":
        this.#log.warn({ breaker: "cpu", trip: action.trip }, `cpu breaker: ${action.type}: ${action.reason}`);
        this.#onVerdict({ action: action.type, reason: `cpu breaker: ${action.reason}` });
        return;
    }
  }

  async #signalAll(signal: "SIGSTOP" | "SIGCONT"): Promise<number[]> {
    const pids = await this.#cgroup.pids().catch(() => [] as number[]);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  }
}

/** Whether every pid reaches the stopped state (T in /proc) within a moment: SIGSTOP is asynchronous. */
async function allStopped(pids: number[]): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const states = await Promise.all(
      pids.map((pid) =>
        readFile(`/proc/${pid}/stat`, "utf8").then(
          (stat) => stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3),
          () => "gone",
        ),
      ),
    );
    if (states.every((s) => s === "T" || s === "t" || s === "gone")) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
