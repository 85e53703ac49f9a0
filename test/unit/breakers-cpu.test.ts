import { describe, expect, it } from "vitest";
import { breakerDefaults, type CpuBreakerConfig } from "../../supervisor/breakers/config.ts";
import { CpuBreaker, MAX_COOL_DOWN_MS, type CpuBreakerAction } from "../../supervisor/breakers/cpu-breaker.ts";
import { PluginCpuBreakers } from "../../supervisor/breakers/plugin-cpu-breakers.ts";

const config: CpuBreakerConfig = breakerDefaults.cpu;

type Timed = { at: number; action: CpuBreakerAction };

/** Feeds one sample every `step` ms in [from, to] at `cpu` %, and returns the actions with their times. */
function feed(b: CpuBreaker, from: number, to: number, cpu: number | ((at: number) => number), step = 1000): Timed[] {
  const out: Timed[] = [];
  for (let at = from; at <= to; at += step) {
    const action = b.sample({ at, cpuPercent: typeof cpu === "number" ? cpu : cpu(at) });
    if (action !== undefined) out.push({ at, action });
  }
  return out;
}

/** A breaker tripped once at 30 s (samples from 0) and resumed at 90 s, on probation. */
function onProbation(): CpuBreaker {
  const b = new CpuBreaker(config);
  expect(feed(b, 0, 30_000, 95).map((t) => t.action.type)).toEqual(["stop"]);
  expect(b.tick(90_000)).toEqual({ type: "resume" });
  return b;
}

describe("CPU breaker: closed → open", () => {
  it("stays closed at or below the threshold however long", () => {
    const b = new CpuBreaker(config);
    expect(feed(b, 0, 600_000, 85)).toEqual([]);
    expect(feed(b, 601_000, 700_000, 10)).toEqual([]);
    expect(b.state).toBe("closed");
    expect(b.reason).toBeUndefined();
    expect(b.rejectsCalls()).toBeUndefined();
  });

  it("trips exactly when the first sample above is `window` old, not a millisecond earlier", () => {
    const b = new CpuBreaker(config);
    expect(feed(b, 0, 29_000, 95)).toEqual([]);
    expect(b.sample({ at: 29_999, cpuPercent: 95 })).toBeUndefined();
    expect(b.sample({ at: 30_000, cpuPercent: 95 })).toMatchObject({ type: "stop", trip: 1, until: 90_000 });
    expect(b.state).toBe("open");
  });

  it("measures the window from the first sample, whatever the sampling phase", () => {
    const b = new CpuBreaker(config);
    expect(feed(b, 250, 40_250, 95).map((t) => t.at)).toEqual([30_250]);
  });

  it("needs the window covered: one sample far above is not enough", () => {
    const b = new CpuBreaker(config);
    expect(b.sample({ at: 0, cpuPercent: 400 })).toBeUndefined();
    expect(b.state).toBe("closed");
  });

  it("starts over after a single dip below the threshold", () => {
    const b = new CpuBreaker(config);
    const dip = (at: number) => (at === 20_000 ? 50 : 95);
    // The sample at 21 s measured from 20 s on: the new window covers 30 s at 50 s.
    expect(feed(b, 0, 60_000, dip).map((t) => t.at)).toEqual([50_000]);
  });

  it("counts a sample exactly at the threshold as a dip (trips only strictly above)", () => {
    const b = new CpuBreaker(config);
    const dip = (at: number) => (at === 29_000 ? 85 : 85.1);
    expect(feed(b, 0, 60_000, dip).map((t) => t.at)).toEqual([59_000]);
  });

  it("covers a window from the sample before its first: each sample measured the interval since that one", () => {
    const b = new CpuBreaker({ ...config, window: 1000 });
    // Idle, then spinning from just after 200: the sample at 400 is the first above,
    // measuring 200..400; five samples above cover 200..1200.
    const cpu = (at: number) => (at <= 200 ? 2 : 100);
    expect(feed(b, 0, 2000, cpu, 200)).toMatchObject([{ at: 1200, action: { type: "stop", reason: expect.stringMatching(/for 1 s \(mean 100 %\)/) } }]);
  });

  it("covers from a window's first sample when the one before is too far back, or of another instance", () => {
    const gap = new CpuBreaker(config);
    gap.sample({ at: 0, cpuPercent: 10 });
    expect(feed(gap, 3001, 33_000, 95)).toEqual([]);
    expect(gap.sample({ at: 33_001, cpuPercent: 95 })?.type).toBe("stop");

    const replaced = new CpuBreaker(config);
    replaced.sample({ at: 0, cpuPercent: 10 });
    replaced.newInstance();
    expect(feed(replaced, 1000, 30_000, 95)).toEqual([]);
    expect(replaced.sample({ at: 31_000, cpuPercent: 95 })?.type).toBe("stop");
  });

  it("does not count a sampling gap longer than maxSampleGap", () => {
    const b = new CpuBreaker(config);
    expect(feed(b, 0, 20_000, 95)).toEqual([]);
    // 20 s → 23 001 ms: nobody watched for longer than 3 s, the window starts over.
    expect(feed(b, 23_001, 53_000, 95)).toEqual([]);
    expect(b.sample({ at: 53_001, cpuPercent: 95 })?.type).toBe("stop");
  });

  it("treats a gap of exactly maxSampleGap as continuous", () => {
    const b = new CpuBreaker(config);
    expect(feed(b, 0, 30_000, 95, 3000).map((t) => t.at)).toEqual([30_000]);
  });

  it("gives the reason with the threshold, the window and the mean", () => {
    const b = new CpuBreaker(config);
    // 16 samples at 99 and 15 at 95: mean 97.06.
    const [trip] = feed(b, 0, 30_000, (at) => ((at / 1000) % 2 === 0 ? 99 : 95));
    expect(trip?.action).toEqual({
      type: "stop",
      trip: 1,
      until: 90_000,
      reason: "cpu above 85 % of its allowance for 30 s (mean 97 %); stopped for 60 s (trip 1 within 10 min)",
    });
    expect(b.reason).toBe(trip?.action.type === "stop" ? trip.action.reason : "");
    expect(b.reason?.startsWith("cpu above 85 % of its allowance for 30 s (mean 97 %)")).toBe(true);
  });
});

describe("CPU breaker: the window in progress", () => {
  it("tells when the window now running began, so evidence can be taken before the trip", () => {
    const b = new CpuBreaker(config);
    expect(b.windowStartedAt).toBeUndefined();
    b.sample({ at: 0, cpuPercent: 50 });
    expect(b.windowStartedAt).toBeUndefined();
    // The first sample above measured from the one before: the window began there.
    b.sample({ at: 1000, cpuPercent: 95 });
    expect(b.windowStartedAt).toBe(0);
    feed(b, 2000, 29_000, 95);
    expect(b.windowStartedAt).toBe(0);
    // A dip ends it; the next sample above starts another.
    b.sample({ at: 29_500, cpuPercent: 10 });
    expect(b.windowStartedAt).toBeUndefined();
    b.sample({ at: 30_000, cpuPercent: 95 });
    expect(b.windowStartedAt).toBe(29_500);
    // So does a gap, after which the window begins with its first sample.
    b.sample({ at: 40_000, cpuPercent: 95 });
    expect(b.windowStartedAt).toBe(40_000);
  });

  it("has none once tripped, on probation or quarantined: only a closed breaker runs a window", () => {
    const b = onProbation();
    expect(b.windowStartedAt).toBeUndefined();
    b.sample({ at: 91_000, cpuPercent: 95 });
    expect(b.state).toBe("open");
    expect(b.windowStartedAt).toBeUndefined();
  });
});

describe("CPU breaker: open", () => {
  it("fails calls fast with the reason and says when the cool-down ends", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 30_000, 95);
    expect(b.rejectsCalls()).toMatch(/^stopped by the CPU breaker until cool-down ends: cpu above 85 % of its allowance for 30 s/);
    expect(b.coolDownEndsAt).toBe(90_000);
    expect(b.status(31_000)).toEqual({
      state: "open",
      trips: 1,
      reason: b.reason,
      coolDownEndsAt: 90_000,
      lastSample: { at: 30_000, cpuPercent: 95 },
    });
  });

  it("ignores samples except to note them, and resumes only when the cool-down is over", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 30_000, 95);
    expect(feed(b, 31_000, 89_000, 400)).toEqual([]);
    expect(b.state).toBe("open");
    expect(b.status(89_000).lastSample).toEqual({ at: 89_000, cpuPercent: 400 });
    expect(b.tick(89_999)).toBeUndefined();
    expect(b.tick(90_000)).toEqual({ type: "resume" });
    expect(b.state).toBe("half-open");
    expect(b.coolDownEndsAt).toBeUndefined();
    expect(b.rejectsCalls()).toBeUndefined();
    expect(b.tick(200_000)).toBeUndefined();
  });

  it("resumes on the first sample after the cool-down when nobody ticked", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 30_000, 95);
    expect(b.sample({ at: 90_500, cpuPercent: 400 })).toEqual({ type: "resume" });
    expect(b.state).toBe("half-open");
  });

  it("does not count the sample that ended the cool-down towards probation (it measured the stop)", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 30_000, 95);
    expect(b.sample({ at: 90_000, cpuPercent: 0 })).toEqual({ type: "resume" });
    expect(feed(b, 91_000, 150_000, 10)).toEqual([]);
    expect(b.sample({ at: 151_000, cpuPercent: 10 })?.type).toBe("recovered");
  });
});

describe("CPU breaker: half-open", () => {
  it("closes after every sample stayed at or below the threshold for the probation window", () => {
    const b = onProbation();
    expect(feed(b, 91_000, 150_000, 85)).toEqual([]);
    expect(b.state).toBe("half-open");
    expect(b.sample({ at: 151_000, cpuPercent: 20 })).toEqual({
      type: "recovered",
      reason: "cpu at or below 85 % of its allowance for 60 s of probation (mean 84 %)",
    });
    expect(b.state).toBe("closed");
    expect(b.reason).toBeUndefined();
  });

  it("lets calls through while on probation", () => {
    const b = onProbation();
    expect(b.rejectsCalls()).toBeUndefined();
    expect(b.status(91_000)).toMatchObject({ state: "half-open", trips: 1, coolDownEndsAt: undefined });
  });

  it("trips again on one sample above the threshold, with a doubled cool-down", () => {
    const b = onProbation();
    expect(feed(b, 91_000, 140_000, 20)).toEqual([]);
    expect(b.sample({ at: 141_000, cpuPercent: 90 })).toEqual({
      type: "stop",
      trip: 2,
      until: 141_000 + 120_000,
      reason: "cpu above 85 % of its allowance on probation (90 %); stopped for 2 min (trip 2 within 10 min)",
    });
    expect(b.state).toBe("open");
    expect(b.coolDownEndsAt).toBe(261_000);
  });

  it("starts probation over after a sampling gap", () => {
    const b = onProbation();
    expect(feed(b, 91_000, 140_000, 20)).toEqual([]);
    // 140 s → 145 s: a 5 s gap.
    expect(feed(b, 145_000, 204_000, 20)).toEqual([]);
    expect(b.sample({ at: 205_000, cpuPercent: 20 })?.type).toBe("recovered");
  });

  it("needs probation covered by samples: time alone does not close it", () => {
    const b = onProbation();
    expect(b.tick(1_000_000)).toBeUndefined();
    expect(b.state).toBe("half-open");
  });
});

describe("CPU breaker: escalation", () => {
  /** Trips a running (closed or half-open) breaker with one window's worth of samples from `from`. */
  function spin(b: CpuBreaker, from: number): Timed[] {
    return feed(b, from, from + 30_000, 95);
  }

  it("doubles the cool-down per trip, restarts at tripsBeforeRestart and quarantines at tripsBeforeQuarantine", () => {
    const b = new CpuBreaker(config);
    expect(spin(b, 0)).toMatchObject([{ at: 30_000, action: { type: "stop", trip: 1, until: 90_000 } }]);
    expect(b.tick(90_000)).toEqual({ type: "resume" });
    expect(b.sample({ at: 91_000, cpuPercent: 99 })).toMatchObject({ type: "stop", trip: 2, until: 211_000 });
    expect(b.tick(211_000)).toEqual({ type: "resume" });

    const third = b.sample({ at: 212_000, cpuPercent: 99 });
    expect(third).toEqual({
      type: "restart",
      trip: 3,
      reason: "cpu above 85 % of its allowance on probation (99 %); trip 3 within 10 min (tripsBeforeRestart: 3)",
    });
    expect(b.state).toBe("closed");
    expect(b.rejectsCalls()).toBeUndefined();
    expect(b.trips(212_000)).toBe(3);

    // The new instance needs a full window of its own before the next trip.
    expect(feed(b, 213_000, 242_000, 95)).toEqual([]);
    expect(b.sample({ at: 243_000, cpuPercent: 95 })).toMatchObject({ type: "restart", trip: 4 });

    expect(spin(b, 244_000)).toMatchObject([
      { at: 274_000, action: { type: "quarantine", trip: 5, reason: expect.stringMatching(/trip 5 within 10 min \(tripsBeforeQuarantine: 5\)$/) } },
    ]);
    expect(b.state).toBe("quarantined");
    expect(b.rejectsCalls()).toMatch(/^quarantined by the CPU breaker: cpu above 85 %/);
    expect(b.coolDownEndsAt).toBeUndefined();
  });

  it("escalates a trip after a passed probation too, while the first is within the period", () => {
    const b = onProbation();
    expect(feed(b, 91_000, 151_000, 10).map((t) => t.action.type)).toEqual(["recovered"]);
    // The window covers from 151 s, the last sample of probation.
    expect(spin(b, 152_000)).toMatchObject([{ at: 181_000, action: { type: "stop", trip: 2, until: 181_000 + 120_000 } }]);
  });

  it("forgets trips older than the period", () => {
    const b = new CpuBreaker(config);
    for (const start of [0, 700_000, 1_400_000, 2_100_000, 2_800_000]) {
      const [trip] = spin(b, start);
      expect(trip?.action).toMatchObject({ type: "stop", trip: 1, until: start + 30_000 + 60_000 });
      b.tick(start + 90_000);
      feed(b, start + 91_000, start + 151_000, 10);
      expect(b.state).toBe("closed");
    }
    expect(b.trips(2_830_000)).toBe(1);
    expect(b.trips(2_830_000 + 600_000)).toBe(0);
  });

  /** Trips `b` `trips` times, each once its cool-down has ended: how long each stop was, and when the last ended (+1 s). */
  function coolDowns(b: CpuBreaker, trips: number): { lengths: number[]; at: number } {
    const lengths: number[] = [];
    let at = 0;
    for (let i = 0; i < trips; i++) {
      const [trip] = spin(b, at);
      if (trip?.action.type !== "stop") throw new Error(`expected a stop, got ${JSON.stringify(trip)}`);
      lengths.push(trip.action.until - trip.at);
      at = trip.action.until;
      b.tick(at);
      at += 1000;
    }
    return { lengths, at };
  }

  it("uses the configured multiplier and counts", () => {
    const b = new CpuBreaker({ ...config, escalation: { coolDownMultiplier: 3, tripsBeforeRestart: 4, tripsBeforeQuarantine: 5, period: 3_600_000 } });
    const { lengths, at } = coolDowns(b, 3);
    expect(lengths).toEqual([60_000, 180_000, 540_000]);
    expect(b.sample({ at, cpuPercent: 99 })).toMatchObject({ type: "restart", trip: 4 });
  });

  it("holds an escalated cool-down to 24 days, the longest a timer waits (2^31-1 ms fires at once)", () => {
    const period = 24 * 86_400_000;
    const b = new CpuBreaker({ ...config, coolDown: 3_600_000, escalation: { coolDownMultiplier: 10, tripsBeforeRestart: 5, tripsBeforeQuarantine: 6, period } });
    expect(coolDowns(b, 4).lengths).toEqual([3_600_000, 36_000_000, 360_000_000, MAX_COOL_DOWN_MS]);
    expect(MAX_COOL_DOWN_MS).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it("restarts on the first trip when tripsBeforeRestart is 1", () => {
    const b = new CpuBreaker({ ...config, escalation: { ...config.escalation, tripsBeforeRestart: 1, tripsBeforeQuarantine: 2 } });
    expect(spin(b, 0)).toMatchObject([{ action: { type: "restart", trip: 1 } }]);
    expect(spin(b, 31_000)).toMatchObject([{ action: { type: "quarantine", trip: 2 } }]);
  });
});

describe("CPU breaker: quarantine, new instances and reset", () => {
  function quarantined(): CpuBreaker {
    const b = new CpuBreaker({ ...config, escalation: { ...config.escalation, tripsBeforeRestart: 1, tripsBeforeQuarantine: 2 } });
    feed(b, 0, 30_000, 95);
    feed(b, 31_000, 61_000, 95);
    expect(b.state).toBe("quarantined");
    return b;
  }

  it("ignores samples and the clock while quarantined", () => {
    const b = quarantined();
    expect(feed(b, 62_000, 200_000, 400)).toEqual([]);
    expect(b.tick(10_000_000)).toBeUndefined();
    expect(b.state).toBe("quarantined");
  });

  it("watches an instance started after a quarantine (an operator's stop and start, a deploy) afresh: the quarantine is lifted", () => {
    const b = quarantined();
    b.newInstance();
    expect(b.status(300_000)).toEqual({ state: "closed", trips: 0, reason: undefined, coolDownEndsAt: undefined, lastSample: undefined });
    expect(feed(b, 300_000, 330_000, 95)).toMatchObject([{ action: { type: "restart", trip: 1 } }]);
  });

  it("leaves quarantine only by reset, which forgets the trips", () => {
    const b = quarantined();
    b.reset();
    expect(b.status(62_000)).toEqual({ state: "closed", trips: 0, reason: undefined, coolDownEndsAt: undefined, lastSample: undefined });
    expect(feed(b, 62_000, 92_000, 95)).toMatchObject([{ action: { type: "restart", trip: 1 } }]);
  });

  it("closes an open breaker for a new instance but keeps its trips", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 30_000, 95);
    b.newInstance();
    expect(b.state).toBe("closed");
    expect(b.rejectsCalls()).toBeUndefined();
    expect(b.coolDownEndsAt).toBeUndefined();
    expect(b.tick(90_000)).toBeUndefined();
    expect(feed(b, 40_000, 70_000, 95)).toMatchObject([{ action: { type: "stop", trip: 2 } }]);
  });

  it("drops a half-built window for a new instance", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 20_000, 95);
    b.newInstance();
    expect(feed(b, 21_000, 50_000, 95)).toEqual([]);
    expect(b.sample({ at: 51_000, cpuPercent: 95 })?.type).toBe("stop");
  });
});

describe("CPU breaker: inputs", () => {
  it("ignores samples that are not after the previous one", () => {
    const b = new CpuBreaker(config);
    feed(b, 0, 29_000, 95);
    expect(b.sample({ at: 29_000, cpuPercent: 95 })).toBeUndefined();
    expect(b.sample({ at: 10_000, cpuPercent: 0 })).toBeUndefined();
    expect(b.sample({ at: 30_000, cpuPercent: 95 })?.type).toBe("stop");
  });

  it("throws on non-finite numbers", () => {
    const b = new CpuBreaker(config);
    expect(() => b.sample({ at: 0, cpuPercent: Number.NaN })).toThrow(RangeError);
    expect(() => b.sample({ at: Number.POSITIVE_INFINITY, cpuPercent: 1 })).toThrow(RangeError);
  });

  it("refuses a config it cannot honour, naming the fields", () => {
    expect(() => new CpuBreaker({ ...config, thresholdPercent: 0 })).toThrow(/thresholdPercent/);
    expect(() => new CpuBreaker({ ...config, window: 0 })).toThrow(/window: must be a positive duration/);
    expect(() => new CpuBreaker({ ...config, escalation: { ...config.escalation, tripsBeforeQuarantine: 3 } })).toThrow(
      /tripsBeforeQuarantine: must be a whole number above tripsBeforeRestart/,
    );
    expect(() => new CpuBreaker({ ...config, escalation: { ...config.escalation, coolDownMultiplier: 0.5 } })).toThrow(/coolDownMultiplier/);
  });
});

describe("CPU breakers of plugins (a config reload)", () => {
  it("gives each plugin one breaker, which a reload's new settings reach, its trips still counting", () => {
    const breakers = new PluginCpuBreakers();
    const slow: CpuBreakerConfig = { ...config, window: 600_000 };
    const b = breakers.of("spinner", slow);
    expect(breakers.of("spinner", { ...slow })).toBe(b); // the same settings, however built
    expect(breakers.of("other", slow)).not.toBe(b);
    expect(feed(b, 0, 30_000, 95)).toEqual([]); // a 10 min window: no trip yet

    // The reload shortens the window: the next instance's samples are judged by it.
    expect(breakers.of("spinner", { ...slow, window: 1000 })).toBe(b);
    expect(feed(b, 31_000, 33_000, 95).map((t) => t.action.type)).toEqual(["stop"]);
    expect(b.tick(100_000)).toEqual({ type: "resume" });
    expect(b.trips(100_000)).toBe(1);

    // Removed from the config, and added again: a new breaker, with no trips.
    breakers.forget("spinner");
    const fresh = breakers.of("spinner", slow);
    expect(fresh).not.toBe(b);
    expect(fresh.trips(100_000)).toBe(0);
  });

  it("refuses settings a breaker cannot work with", () => {
    const b = new CpuBreaker(config);
    expect(() => b.reconfigure({ ...config, thresholdPercent: 0 })).toThrow(/invalid CPU breaker config/);
  });
});
