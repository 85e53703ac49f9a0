// The goroutine breaker of one instance (DESIGN.md §6): more goroutines than
// the threshold → force a GC in the plugin (runtime.GC, debug.FreeOSMemory),
// capture a goroutine dump, and raise an alert that stays until an operator
// acknowledges it. The alert's staying is the AlertBook's job; this machine
// only decides when a storm starts:
//
//   armed ── goroutines > threshold: force-gc, dump-goroutines, alert ──▶ tripped
//     ▲                                                                     │
//     └──────────────── goroutines ≤ threshold (the storm is over) ─────────┘
//
// It trips once per storm: a storm that goes on after the operator's ack
// does not re-raise the alert or GC every second; the next storm does.
// Pure: the caller feeds samples and executes the actions.
import { newAlert, type Alert, type AlertSource } from "./alerts.ts";
import type { GoroutineBreakerConfig } from "./config.ts";
import type { GoroutineSample } from "./warning-signs.ts";

export type GoroutineBreakerAction =
  /** Control RPC: runtime.GC and debug.FreeOSMemory in the plugin. */
  | { type: "force-gc" }
  /** Capture a goroutine dump into the instance's diagnostics. */
  | { type: "dump-goroutines" }
  /** Raise the alert in the AlertBook. */
  | { type: "alert"; alert: Alert };

export class GoroutineBreaker {
  readonly #config: GoroutineBreakerConfig;
  readonly #source: AlertSource;
  #tripped = false;
  #lastAt: number | undefined;

  constructor(config: GoroutineBreakerConfig, source: AlertSource = {}) {
    this.#config = config;
    this.#source = source;
  }

  get tripped(): boolean {
    return this.#tripped;
  }

  /**
   * Feeds one sample; returns the actions of a trip, in order, or none.
   * With `heldBack` (the caller's bound on how often it acts), a trip is the
   * alert alone, saying that nothing was done and when it last was.
   */
  observe(sample: GoroutineSample, heldBack?: { lastActedAt: number }): GoroutineBreakerAction[] {
    if (this.#lastAt !== undefined && sample.at <= this.#lastAt) return [];
    this.#lastAt = sample.at;
    const { threshold } = this.#config;
    if (sample.goroutines <= threshold) {
      this.#tripped = false;
      return [];
    }
    if (this.#tripped) return [];
    this.#tripped = true;
    const above = `${sample.goroutines} goroutines, above the limit of ${threshold}`;
    if (heldBack) {
      const { lastActedAt } = heldBack;
      const message = `${above}: no GC forced nor dump captured this time (the last at ${new Date(lastActedAt).toISOString()}, at most one a minute while the alert is open)`;
      return [{ type: "alert", alert: newAlert(this.#source, { kind: "goroutines", message, evidence: { goroutines: sample.goroutines, threshold, lastActedAt }, at: sample.at }) }];
    }
    const alert = newAlert(this.#source, {
      kind: "goroutines",
      message: `${above}: a GC is forced and a goroutine dump captured`,
      evidence: { goroutines: sample.goroutines, threshold },
      at: sample.at,
    });
    return [{ type: "force-gc" }, { type: "dump-goroutines" }, { type: "alert", alert }];
  }

  /** A new instance starts armed. */
  newInstance(): void {
    this.#tripped = false;
    this.#lastAt = undefined;
  }
}
