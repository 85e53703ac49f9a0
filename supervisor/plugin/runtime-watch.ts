// Watches one instance's Go runtime through its samples: the goroutine
// breaker (force a GC, capture a goroutine dump, raise an alert that stays
// until an operator acknowledges it) and the original design's warning
// signs (fds growing steadily, goroutines rising fast, HeapSys - HeapInuse
// growing across GCs), each raised as an alert with its evidence. Open fds
// come with the sampler's ticks (onSample, from /proc); the runtime's
// numbers with go-shim's Stats messages as they arrive (onRuntime).
import { GoroutineBreaker } from "../breakers/goroutine-breaker.ts";
import { breakerDefaults, type WarningSignsConfig } from "../breakers/config.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Alert, AlertBook } from "../breakers/alerts.ts";
import { FdGrowthDetector, GoroutineRiseDetector, HeapGrowthDetector } from "../breakers/warning-signs.ts";
import type { Logger } from "../log.ts";
import type { RuntimeStats__Output } from "../../proto/gen/ts/corral/plugin/v1/RuntimeStats.ts";
import { FDS_EVERY, type Sample } from "./sampler.ts";
import { steadyNow } from "../steady-clock.ts";

/** A plugin's warning signs, as its config entry has them (breakers.warningSigns). */
export function warningSignsConfig(plugin: PluginConfig): WarningSignsConfig {
  const w = plugin.breakers.warningSigns;
  // fds are counted every FDS_EVERY samples: a window that holds fewer
  // counts than fdGrowth.samples asks for would never be judged. It asks for
  // as many as fit (at least 2).
  const fit = Math.floor(w.fdGrowth.window / (FDS_EVERY * plugin.sampleInterval)) + 1;
  return {
    fdGrowth: { ...w.fdGrowth, samples: Math.max(2, Math.min(w.fdGrowth.samples, fit)) },
    goroutineRise: w.goroutineRise,
    heapGrowth: { gcs: w.heapGrowth.gcs, minGrowthBytes: w.heapGrowth.minGrowth },
    restartLoop: w.restartLoop,
  };
}

export interface RuntimeWatchOptions {
  plugin: string;
  goroutineThreshold: number;
  /** The warning signs' sensitivities (default: breakers/config.ts's). */
  warningSigns?: WarningSignsConfig;
  alerts: AlertBook;
  log: Logger;
  /** Forces a GC in the plugin. */
  collectGarbage: () => Promise<unknown>;
  /** Captures a goroutine dump and heap profile as evidence. */
  capture: (why: string) => Promise<unknown>;
  /** The steady clock (steady-clock.ts), which spaces the breaker's actions; and the wall clock, for what is shown. */
  now?: () => number;
  wallNow?: () => number;
}

/**
 * The goroutine breaker's GC and capture, while its alert is still open, at
 * most once per this long for an instance. A count that swings about the
 * threshold trips the breaker again and again (it re-arms at the first
 * sample under it): once a second, a hostile plugin's trips had the
 * supervisor hold gigabytes of profiles and write a gigabyte of
 * diagnostics in 45 s. The alert is raised each time (the alert book tells
 * its repeats once a minute), saying when the GC and dump were skipped. A
 * trip once the operator has acknowledged the alert is a new one: it acts.
 */
export const GOROUTINE_ACTIONS_EVERY_MS = 60_000;

export class RuntimeWatch {
  readonly #options: RuntimeWatchOptions;
  readonly #goroutines: GoroutineBreaker;
  readonly #fds: FdGrowthDetector;
  readonly #rise: GoroutineRiseDetector;
  readonly #heap: HeapGrowthDetector;
  /** When the goroutine breaker's GC and capture last ran. */
  #actedAt = -Infinity;

  constructor(options: RuntimeWatchOptions) {
    this.#options = options;
    const source = { plugin: options.plugin };
    const signs = options.warningSigns ?? breakerDefaults.warningSigns;
    this.#goroutines = new GoroutineBreaker({ threshold: options.goroutineThreshold }, source);
    this.#fds = new FdGrowthDetector(signs.fdGrowth, source);
    this.#rise = new GoroutineRiseDetector(signs.goroutineRise, source);
    this.#heap = new HeapGrowthDetector(signs.heapGrowth, source);
  }

  onSample(sample: Sample): void {
    // Only counts: a count standing between two is no reading (the detector ignores a time it has seen).
    const grew = this.#fds.observe({ at: sample.openFdsAt, fds: sample.openFds });
    // Measured on the steady clock, shown on the wall clock as every alert is.
    this.#raise(grew && { ...grew, at: this.#onWall(grew.at) });
  }

  /** A steady time (the sampler's, #actedAt) read on the wall clock, for what is shown. */
  #onWall(steady: number): number {
    return (this.#options.wallNow ?? Date.now)() + (steady - (this.#options.now ?? steadyNow)());
  }

  onRuntime(rt: RuntimeStats__Output): void {
    this.#raise(this.#rise.observe({ at: rt.unixMs, goroutines: rt.goroutines }));
    this.#raise(this.#heap.observe({ at: rt.unixMs, heapSys: rt.heapSys, heapInuse: rt.heapInuse, numGC: rt.numGc }));
    const now = (this.#options.now ?? steadyNow)();
    const mayAct = !this.#options.alerts.isOpen("goroutines", this.#options.plugin) || now - this.#actedAt >= GOROUTINE_ACTIONS_EVERY_MS;
    const actions = this.#goroutines.observe({ at: rt.unixMs, goroutines: rt.goroutines }, mayAct ? undefined : { lastActedAt: this.#onWall(this.#actedAt) });
    if (actions.some((a) => a.type === "force-gc")) this.#actedAt = now;
    for (const action of actions) {
      switch (action.type) {
        case "force-gc":
          void this.#options.collectGarbage().then(
            () => this.#options.log.warn({ breaker: "goroutines" }, "goroutine breaker: forced a GC"),
            (err: Error) => this.#options.log.error({ err: err.message }, "goroutine breaker: forcing a GC failed"),
          );
          break;
        case "dump-goroutines":
          void this.#options.capture("goroutine breaker");
          break;
        case "alert":
          this.#raise(action.alert);
          break;
      }
    }
  }

  #raise(alert: Alert | undefined): void {
    if (alert && this.#options.alerts.raise(alert)) {
      this.#options.log.warn({ alert: alert.kind, evidence: alert.evidence }, `alert: ${alert.message}`);
    }
  }
}
