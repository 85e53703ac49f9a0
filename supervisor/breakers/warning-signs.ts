// The original design's warning signs: patterns that precede a plugin's
// failure while nothing has tripped yet. Each detector watches one instance,
// is fed samples in time order, and returns an alert with its evidence when
// its pattern shows. After firing a detector starts over, so an ongoing leak
// is raised again only after a fresh full pattern (the AlertBook drops it
// while the first alert is still open). Samples not after the previous one
// are ignored. Pure: time comes in as `at` (monotonic ms).
import { newAlert, type Alert, type AlertSource } from "./alerts.ts";
import type { FdGrowthConfig, GoroutineRiseConfig, HeapGrowthConfig, RestartLoopConfig } from "./config.ts";
import { formatDuration, formatMiB } from "./format.ts";

export type FdSample = { at: number; fds: number };
export type GoroutineSample = { at: number; goroutines: number };
/** From go-shim's stats stream; NumGC tells samples taken after a new GC cycle apart. */
export type HeapSample = { at: number; heapSys: number; heapInuse: number; numGC: number };

/**
 * Open fds growing steadily: across the last `window` the count never
 * falls, grows at least `minPerSecond`, and rises in both halves of it
 * (judged on at least `samples` counts). A server's fds go up and down with
 * its connections, or ramp up and then hold (a pool filling); a leak keeps
 * going up, steadily or in bursts. The window is time, not counts: fds are
 * counted every few samples, and a window of a few counts could not tell a
 * pool's ramp from a leak's bursts.
 */
export class FdGrowthDetector {
  readonly #config: FdGrowthConfig;
  readonly #source: AlertSource;
  /** The counts within the window, and the one before it that anchors its start. */
  #samples: FdSample[] = [];

  constructor(config: FdGrowthConfig, source: AlertSource = {}) {
    if (!(Number.isInteger(config.samples) && config.samples >= 2)) throw new RangeError("fdGrowth.samples must be a whole number, at least 2");
    if (!(config.window > 0)) throw new RangeError("fdGrowth.window must be positive");
    this.#config = config;
    this.#source = source;
  }

  observe(sample: FdSample): Alert | undefined {
    const last = this.#samples.at(-1);
    if (last !== undefined && sample.at <= last.at) return undefined;
    const { window, samples, minPerSecond } = this.#config;
    this.#samples.push(sample);
    // Keep the latest count at or before the window's start, and all after it.
    let from = 0;
    while (from + 1 < this.#samples.length && this.#samples[from + 1]!.at <= sample.at - window) from++;
    if (from > 0) this.#samples.splice(0, from);
    const first = this.#samples[0]!;
    if (sample.at - first.at < window || this.#samples.length < samples) return undefined;
    const steps = this.#samples.slice(1).map((s, i) => ({ at: s.at, rise: s.fds - this.#samples[i]!.fds }));
    const middle = first.at + (sample.at - first.at) / 2;
    const perSecond = ((sample.fds - first.fds) * 1000) / (sample.at - first.at);
    const rose = (half: (at: number) => boolean) => steps.some((s) => s.rise > 0 && half(s.at));
    if (steps.some((s) => s.rise < 0) || perSecond < minPerSecond || !rose((at) => at <= middle) || !rose((at) => at > middle)) return undefined;
    this.#samples = [sample];
    return newAlert(this.#source, {
      kind: "fd-growth",
      message: `open fds grew from ${first.fds} to ${sample.fds} over ${formatDuration(sample.at - first.at)} without falling (${round(perSecond)} per second)`,
      evidence: { fromFds: first.fds, toFds: sample.fds, counts: steps.length + 1, overMs: sample.at - first.at, perSecond },
      at: sample.at,
    });
  }
}

/**
 * Goroutines rising faster than `per100ms` between two consecutive samples,
 * the rate scaled to 100 ms: a storm is under way well before the count
 * reaches the goroutine breaker's threshold.
 */
export class GoroutineRiseDetector {
  readonly #config: GoroutineRiseConfig;
  readonly #source: AlertSource;
  #previous: GoroutineSample | undefined;

  constructor(config: GoroutineRiseConfig, source: AlertSource = {}) {
    this.#config = config;
    this.#source = source;
  }

  observe(sample: GoroutineSample): Alert | undefined {
    const previous = this.#previous;
    if (previous !== undefined && sample.at <= previous.at) return undefined;
    this.#previous = sample;
    if (previous === undefined) return undefined;
    const overMs = sample.at - previous.at;
    const per100ms = ((sample.goroutines - previous.goroutines) * 100) / overMs;
    if (per100ms <= this.#config.per100ms) return undefined;
    return newAlert(this.#source, {
      kind: "goroutine-rise",
      message: `goroutines rose from ${previous.goroutines} to ${sample.goroutines} in ${formatDuration(overMs)} (${round(per100ms)} per 100 ms, limit ${this.#config.per100ms})`,
      evidence: { fromGoroutines: previous.goroutines, toGoroutines: sample.goroutines, overMs, per100ms },
      at: sample.at,
    });
  }
}

/**
 * HeapSys − HeapInuse (heap the runtime holds but does not use) growing
 * across `gcs` GC cycles in a row, by at least `minGrowthBytes`. Only samples
 * with a higher NumGC than the last one kept are compared: between GCs the
 * figure moves with allocation and says nothing about what GC gives back.
 */
export class HeapGrowthDetector {
  readonly #config: HeapGrowthConfig;
  readonly #source: AlertSource;
  /** Post-GC points, oldest first; each one's idle heap above the one before. */
  #points: { at: number; idle: number; numGC: number }[] = [];

  constructor(config: HeapGrowthConfig, source: AlertSource = {}) {
    if (!(Number.isInteger(config.gcs) && config.gcs >= 1)) throw new RangeError("heapGrowth.gcs must be a whole number, at least 1");
    this.#config = config;
    this.#source = source;
  }

  observe(sample: HeapSample): Alert | undefined {
    const last = this.#points.at(-1);
    if (last !== undefined && sample.at <= last.at) return undefined;
    const point = { at: sample.at, idle: sample.heapSys - sample.heapInuse, numGC: sample.numGC };
    if (last !== undefined && sample.numGC === last.numGC) return undefined;
    // A lower NumGC is a new process (a restart): its heap is no continuation.
    // An idle heap that did not grow ends the streak; the new point starts one.
    if (last === undefined || sample.numGC < last.numGC || point.idle <= last.idle) {
      this.#points = [point];
      return undefined;
    }
    this.#points = [...this.#points, point].slice(-(this.#config.gcs + 1));
    if (this.#points.length < this.#config.gcs + 1) return undefined;
    const first = this.#points[0]!;
    const growth = point.idle - first.idle;
    if (growth < this.#config.minGrowthBytes) return undefined;
    this.#points = [];
    return newAlert(this.#source, {
      kind: "heap-growth",
      message: `heap held but unused (HeapSys − HeapInuse) grew from ${formatMiB(first.idle)} to ${formatMiB(point.idle)} across ${this.#config.gcs} GCs`,
      evidence: { fromBytes: first.idle, toBytes: point.idle, growthBytes: growth, gcs: this.#config.gcs, fromNumGC: first.numGC, toNumGC: point.numGC },
      at: sample.at,
    });
  }
}

/** `restarts` restarts of one plugin within `period`, whatever their causes. */
export class RestartLoopDetector {
  readonly #config: RestartLoopConfig;
  readonly #source: AlertSource;
  #times: number[] = [];

  constructor(config: RestartLoopConfig, source: AlertSource = {}) {
    if (!(Number.isInteger(config.restarts) && config.restarts >= 1)) throw new RangeError("restartLoop.restarts must be a whole number, at least 1");
    this.#config = config;
    this.#source = source;
  }

  /** Records a restart at `at`, judged by `config` when given (a reload's), else by the one it was made with. */
  onRestart(at: number, config: RestartLoopConfig = this.#config): Alert | undefined {
    const last = this.#times.at(-1);
    if (last !== undefined && at < last) return undefined;
    const { restarts, period } = config;
    this.#times = [...this.#times.filter((t) => at - t < period), at];
    if (this.#times.length < restarts) return undefined;
    const first = this.#times[0]!;
    this.#times = [];
    return newAlert(this.#source, {
      kind: "restart-loop",
      message: `restarted ${restarts} times within ${formatDuration(at - first)} (limit ${restarts} within ${formatDuration(period)})`,
      evidence: { restarts, overMs: at - first, periodMs: period },
      at,
    });
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
