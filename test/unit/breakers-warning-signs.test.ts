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
  /** Counts every 5 s (a sample a second, fds every 5th), fds(t) at t seconds, for `seconds`; returns when (s) it fired. */
  function firings(d: FdGrowthDetector, fds: (t: number) => number, seconds: number, from = 0): number[] {
    const fired: number[] = [];
    for (let t = from; t <= from + seconds; t += 5) if (d.observe({ at: t * 1000, fds: fds(t) })) fired.push(t);
    return fired;
  }

  it("fires on a steady leak once the window is covered, with its evidence", () => {
    const d = new FdGrowthDetector(signs.fdGrowth, { plugin: "leaker" });
    // One fd a second from 20, over the 5-minute window.
    for (let t = 0; t < 300; t += 5) expect(d.observe({ at: t * 1000, fds: 20 + t })).toBeUndefined();
    expect(d.observe({ at: 300_000, fds: 320 })).toEqual({
      kind: "fd-growth",
      plugin: "leaker",
      message: "open fds grew from 20 to 320 over 5 min without falling (1 per second)",
      evidence: { fromFds: 20, toFds: 320, counts: 61, overMs: 300_000, perSecond: 1 },
      at: 300_000,
      acknowledged: false,
    });
  });

  it("fires on a leak in bursts, however far apart within the window: 10 every 15 s, 120 a minute, 600 a minute", () => {
    for (const [period, burst] of [
      [15, 10],
      [60, 120],
      [60, 600],
    ] as const) {
      const d = new FdGrowthDetector(signs.fdGrowth);
      expect(firings(d, (t) => 8 + burst * Math.floor(t / period), 900).length, `${burst} every ${period} s`).toBeGreaterThan(0);
    }
  });

  it("does not fire on a pool that fills and then holds, in steps or a ramp of up to half the window", () => {
    const ramps: Array<(t: number) => number> = [
      (t) => (t < 5 ? 8 : 14), // one step
      (t) => 8 + 10 * Math.min(4, Math.floor(t / 5)), // four steps, 20 s
      (t) => 8 + Math.min(150, t), // a ramp of 150 s (half the window), one a second
    ];
    for (const ramp of ramps) expect(firings(new FdGrowthDetector(signs.fdGrowth), ramp, 900)).toEqual([]);
  });

  it("does not fire on connection churn, a flat count or growth below the rate", () => {
    const churn = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(churn, (t) => 10 + t / 2 + ((t / 5) % 2 === 0 ? 0 : 6), 900)).toEqual([]);
    expect(firings(new FdGrowthDetector(signs.fdGrowth), () => 64, 900)).toEqual([]);
    // 0.4 per second, steady.
    expect(firings(new FdGrowthDetector(signs.fdGrowth), (t) => 10 + Math.floor(t * 0.4), 900)).toEqual([]);
  });

  it("is reset by a single fall and then needs a whole window again", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    // A leak of 1 a second, but for a fall at 100 s: the first window without it ends at 400 s.
    expect(firings(d, (t) => (t < 100 ? 20 + t : 10 + t), 500)).toEqual([400]);
  });

  it("starts over after firing, so an ongoing leak fires again only after another whole window", () => {
    const d = new FdGrowthDetector(signs.fdGrowth);
    expect(firings(d, (t) => 2 * t, 900)).toEqual([300, 600, 900]);
  });

  it("fires at exactly the minimum rate, and needs `samples` counts", () => {
    const config = { window: 10_000, samples: 3, minPerSecond: 1 };
    const d = new FdGrowthDetector(config);
    expect([0, 5, 10].map((t) => d.observe({ at: t * 1000, fds: 10 + t }) !== undefined)).toEqual([false, false, true]);
    const below = new FdGrowthDetector({ ...config, minPerSecond: 1.01 });
    expect([0, 5, 10].map((t) => below.observe({ at: t * 1000, fds: 10 + t }) !== undefined)).toEqual([false, false, false]);
    const few = new FdGrowthDetector({ ...config, samples: 4 });
    expect([0, 5, 10].map((t) => few.observe({ at: t * 1000, fds: 10 + t }) !== undefined)).toEqual([false, false, false]);
  });

  it("measures the rate over time, so a gap dilutes it", () => {
    const d = new FdGrowthDetector({ window: 10_000, samples: 3, minPerSecond: 0.5 });
    d.observe({ at: 0, fds: 100 });
    d.observe({ at: 5000, fds: 104 });
    // The next count 60 s later: the window's anchor is the count at 5 s; +5 over 60 s is below 0.5 per second.
    expect(d.observe({ at: 65_000, fds: 109 })).toBeUndefined();
  });

  it("ignores samples that are not after the previous one, and refuses fewer than 2 samples", () => {
    const d = new FdGrowthDetector({ window: 2000, samples: 2, minPerSecond: 1 });
    expect(d.observe({ at: 1000, fds: 1 })).toBeUndefined();
    expect(d.observe({ at: 1000, fds: 50 })).toBeUndefined();
    expect(d.observe({ at: 2000, fds: 3 })).toBeUndefined();
    expect(d.observe({ at: 3000, fds: 5 })?.evidence).toMatchObject({ fromFds: 1, toFds: 5, perSecond: 2 });
    expect(() => new FdGrowthDetector({ window: 2000, samples: 1, minPerSecond: 1 })).toThrow(RangeError);
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
