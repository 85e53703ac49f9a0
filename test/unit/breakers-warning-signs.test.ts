import { describe, expect, it } from "vitest";
import { breakerDefaults } from "../../supervisor/breakers/config.ts";
import {
  FdGrowthDetector,
  GoroutineRiseDetector,
  HeapGrowthDetector,
  RestartLoopDetector,
} from "../../supervisor/breakers/warning-signs.ts";

const signs = breakerDefaults.warningSigns;
const MiB = 1024 ** 2;

describe("fd growth", () => {
  /** Feeds fds[i] at i seconds; returns the times (s) at which it fired. */
  function firings(d: FdGrowthDetector, fds: number[], startSecond = 0): number[] {
    return fds.flatMap((n, i) => (d.observe({ at: (startSecond + i) * 1000, fds: n }) ? [startSecond + i] : []));
  }

  it("fires on a steady leak once the last `samples` samples never fell, with its evidence", () => {
    const d = new FdGrowthDetector(signs.fdGrowth, { plugin: "leaker" });
    for (let i = 0; i < 9; i++) expect(d.observe({ at: i * 1000, fds: 20 + i })).toBeUndefined();
    expect(d.observe({ at: 9000, fds: 29 })).toEqual({
      kind: "fd-growth",
      plugin: "leaker",
      message: "open fds grew from 20 to 29 over 9 s without falling (1 per second)",
      evidence: { fromFds: 20, toFds: 29, samples: 10, overMs: 9000, perSecond: 1 },
      at: 9000,
      acknowledged: false,
    });
  });

  it("counts plateaus as steady: a slow leak with flat steps still fires", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    // +1 every other second, flat in between: 5 over 9 s, just above the 0.5 per second minimum.
    expect(firings(d, [10, 10, 11, 11, 12, 12, 13, 13, 14, 15])).toEqual([9]);
  });

  it("does not fire on connection churn, a flat count or growth below the rate", () => {
    const churn = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(churn, [10, 14, 12, 18, 11, 16, 13, 20, 12, 25, 14, 30, 15, 31, 16, 40])).toEqual([]);
    const flat = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(flat, Array.from({ length: 30 }, () => 64))).toEqual([]);
    const slow = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(slow, [10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 13, 13])).toEqual([]);
  });

  it("does not fire on a step up to a level that then holds (connections opened and kept)", () => {
    const step = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(step, [8, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14])).toEqual([]);
    const twoSteps = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(twoSteps, [8, 8, 8, 14, 14, 14, 20, 20, 20, 20, 20])).toEqual([]);
  });

  it("is reset by a single fall and then needs a full run again", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    const fds = [1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
    // The fall at index 8 means the first window without it ends at index 17.
    expect(firings(d, fds)).toEqual([17]);
  });

  it("starts over after firing, so an ongoing leak fires again only after another full run", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(d, Array.from({ length: 30 }, (_, i) => i * 2))).toEqual([9, 19, 29]);
  });

  it("fires at exactly the minimum rate", () => {
    const d = new FdGrowthDetector({ samples: 3, minPerSecond: 1 });
    expect(firings(d, [10, 11, 12])).toEqual([2]);
    const below = new FdGrowthDetector({ samples: 3, minPerSecond: 1.01 });
    expect(firings(below, [10, 11, 12])).toEqual([]);
  });

  it("fires on a leak in bursts: 10 fds every 15 s, counted every 5 s (0.67 per second)", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    const counts = Array.from({ length: 40 }, (_, i) => 8 + 10 * Math.floor(i / 3));
    expect(counts.flatMap((n, i) => (d.observe({ at: i * 5000, fds: n }) ? [i] : [])).length).toBeGreaterThan(0);
  });

  it("measures the rate over time, so a gap dilutes it", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    for (let i = 0; i < 9; i++) d.observe({ at: i * 1000, fds: 100 + i });
    // The tenth sample 60 s later: +9 over 68 s is below 0.5 per second.
    expect(d.observe({ at: 68_000, fds: 109 })).toBeUndefined();
  });

  it("ignores samples that are not after the previous one, and refuses fewer than 2 samples", () => {
    const d = new FdGrowthDetector({ samples: 2, minPerSecond: 1 });
    expect(d.observe({ at: 1000, fds: 1 })).toBeUndefined();
    expect(d.observe({ at: 1000, fds: 50 })).toBeUndefined();
    expect(d.observe({ at: 2000, fds: 3 })?.evidence).toMatchObject({ fromFds: 1, toFds: 3, perSecond: 2 });
    expect(() => new FdGrowthDetector({ samples: 1, minPerSecond: 1 })).toThrow(RangeError);
  });
});

describe("goroutine rise", () => {
  it("fires when consecutive samples rise faster than 150 per 100 ms, scaled from the interval", () => {
    const d = new GoroutineRiseDetector(signs.goroutineRise, { plugin: "storm" });
    expect(d.observe({ at: 0, goroutines: 10 })).toBeUndefined();
    // +1510 in 1 s = 151 per 100 ms.
    expect(d.observe({ at: 1000, goroutines: 1520 })).toEqual({
      kind: "goroutine-rise",
      plugin: "storm",
      message: "goroutines rose from 10 to 1520 in 1 s (151 per 100 ms, limit 150)",
      evidence: { fromGoroutines: 10, toGoroutines: 1520, overMs: 1000, per100ms: 151 },
      at: 1000,
      acknowledged: false,
    });
  });

  it("does not fire at exactly the limit, on falls, or on a burst spread over a long interval", () => {
    const d = new GoroutineRiseDetector(signs.goroutineRise);
    expect(d.observe({ at: 0, goroutines: 10 })).toBeUndefined();
    expect(d.observe({ at: 1000, goroutines: 1510 })).toBeUndefined();
    expect(d.observe({ at: 2000, goroutines: 20 })).toBeUndefined();
    expect(d.observe({ at: 12_000, goroutines: 15_000 })).toBeUndefined();
  });

  it("scales short intervals up: 16 goroutines in 10 ms is 160 per 100 ms", () => {
    const d = new GoroutineRiseDetector(signs.goroutineRise);
    d.observe({ at: 0, goroutines: 100 });
    expect(d.observe({ at: 10, goroutines: 116 })?.evidence.per100ms).toBe(160);
  });

  it("does not fire on noise around a steady count", () => {
    const d = new GoroutineRiseDetector(signs.goroutineRise);
    const noise = [40, 55, 38, 61, 44, 90, 41, 52, 47, 39];
    expect(noise.map((g, i) => d.observe({ at: i * 1000, goroutines: g }))).toEqual(noise.map(() => undefined));
  });

  it("ignores samples that are not after the previous one", () => {
    const d = new GoroutineRiseDetector(signs.goroutineRise);
    d.observe({ at: 1000, goroutines: 10 });
    expect(d.observe({ at: 1000, goroutines: 100_000 })).toBeUndefined();
    expect(d.observe({ at: 2000, goroutines: 20 })).toBeUndefined();
  });
});

describe("heap growth across GCs", () => {
  const sample = (at: number, idleMiB: number, numGC: number) => ({ at, heapSys: 100 * MiB + idleMiB * MiB, heapInuse: 100 * MiB, numGC });

  it("fires when HeapSys − HeapInuse grew after each of `gcs` GCs by enough in total", () => {
    const d = new HeapGrowthDetector(signs.heapGrowth, { plugin: "hoarder" });
    expect(d.observe(sample(0, 4, 10))).toBeUndefined();
    expect(d.observe(sample(1000, 7, 11))).toBeUndefined();
    expect(d.observe(sample(2000, 9, 12))).toBeUndefined();
    expect(d.observe(sample(3000, 11, 13))).toBeUndefined();
    expect(d.observe(sample(4000, 14, 14))).toEqual({
      kind: "heap-growth",
      plugin: "hoarder",
      message: "heap held but unused (HeapSys − HeapInuse) grew from 4 MiB to 14 MiB across 4 GCs",
      evidence: { fromBytes: 4 * MiB, toBytes: 14 * MiB, growthBytes: 10 * MiB, gcs: 4, fromNumGC: 10, toNumGC: 14 },
      at: 4000,
      acknowledged: false,
    });
  });

  it("compares only samples taken after a new GC: growth between GCs does not count, nor does a dip", () => {
    const d = new HeapGrowthDetector(signs.heapGrowth);
    const series = [
      sample(0, 4, 10),
      sample(500, 1, 10), // no GC since the last kept sample: ignored, though it fell
      sample(1000, 7, 11),
      sample(1500, 50, 11), // ignored, though it rose a lot
      sample(2000, 9, 12),
      sample(3000, 11, 13),
      sample(4000, 14, 14),
    ];
    expect(series.map((s) => d.observe(s)?.kind)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, "heap-growth"]);
  });

  it("does not fire when one GC gave memory back, or when the growth is small", () => {
    const back = new HeapGrowthDetector(signs.heapGrowth);
    const idle = [4, 7, 9, 8, 11, 14, 16];
    // The fall at GC 3 restarts the streak from 8: 8 → 11 → 14 → 16 is only 3 GCs.
    expect(idle.map((mib, i) => back.observe(sample(i * 1000, mib, i))?.kind)).toEqual(idle.map(() => undefined));
    const small = new HeapGrowthDetector(signs.heapGrowth);
    // Rising after every GC but by 1 MiB each: 4 MiB in total, under the 8 MiB minimum.
    expect([1, 2, 3, 4, 5].map((mib, i) => small.observe(sample(i * 1000, mib, i)))).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("starts over when NumGC falls (a new process)", () => {
    const d = new HeapGrowthDetector(signs.heapGrowth);
    [4, 7, 9, 11].forEach((mib, i) => d.observe(sample(i * 1000, mib, 20 + i)));
    expect(d.observe(sample(4000, 14, 1))).toBeUndefined();
    expect(d.observe(sample(5000, 20, 2))).toBeUndefined();
  });

  it("starts over after firing", () => {
    const d = new HeapGrowthDetector({ gcs: 2, minGrowthBytes: 1 });
    const fired = [1, 2, 3, 4, 5, 6, 7].map((mib, i) => d.observe(sample(i * 1000, mib, i)) !== undefined);
    // Fires at the 3rd point (two growths), then needs a baseline and two more growths.
    expect(fired).toEqual([false, false, true, false, false, true, false]);
    expect(() => new HeapGrowthDetector({ gcs: 0, minGrowthBytes: 1 })).toThrow(RangeError);
  });
});

describe("restart loop", () => {
  it("fires at the Nth restart within the period", () => {
    const d = new RestartLoopDetector(signs.restartLoop, { plugin: "looper" });
    expect(d.onRestart(0)).toBeUndefined();
    expect(d.onRestart(60_000)).toBeUndefined();
    expect(d.onRestart(120_000)).toEqual({
      kind: "restart-loop",
      plugin: "looper",
      message: "restarted 3 times within 2 min (limit 3 within 5 min)",
      evidence: { restarts: 3, overMs: 120_000, periodMs: 300_000 },
      at: 120_000,
      acknowledged: false,
    });
  });

  it("does not fire for restarts spread wider than the period, at exactly the period apart either", () => {
    const d = new RestartLoopDetector(signs.restartLoop);
    expect([0, 150_000, 300_000, 450_000, 600_000].map((t) => d.onRestart(t))).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("starts counting over after firing, and ignores a restart dated before the last", () => {
    const d = new RestartLoopDetector({ restarts: 2, period: 10_000 });
    expect(d.onRestart(0)).toBeUndefined();
    expect(d.onRestart(1000)?.kind).toBe("restart-loop");
    expect(d.onRestart(2000)).toBeUndefined();
    expect(d.onRestart(1500)).toBeUndefined();
    expect(d.onRestart(3000)?.kind).toBe("restart-loop");
    expect(() => new RestartLoopDetector({ restarts: 0, period: 1 })).toThrow(RangeError);
  });
});
