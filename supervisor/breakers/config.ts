// The breakers' settings as plain types with DESIGN.md §6's defaults. The
// config schema (zod, per plugin) is wired elsewhere and produces these
// shapes; keeping them free of zod lets the pure breakers and their tests
// stand alone. Durations are milliseconds, sizes bytes. The memory cap is
// not here: it is the plugin's `limits.memory`, enforced by the kernel.

export type CpuEscalation = {
  /** Each trip within `period` multiplies the cool-down: trip k waits coolDown × multiplier^(k−1). */
  coolDownMultiplier: number;
  /** The trip that reaches this count within `period` restarts the instance instead of stopping it. */
  tripsBeforeRestart: number;
  /** The trip that reaches this count within `period` quarantines the plugin. */
  tripsBeforeQuarantine: number;
  /** Trips older than this are forgotten. */
  period: number;
};

export type CpuBreakerConfig = {
  /** Percent of the instance's CPU allowance; the breaker counts samples strictly above it. */
  thresholdPercent: number;
  /** How long every sample must be above the threshold before the breaker trips. */
  window: number;
  /** How long a tripped instance stays stopped (before escalation). */
  coolDown: number;
  /** How long a resumed instance must stay at or below the threshold to close the breaker. */
  probation: number;
  /**
   * The longest interval between two samples that still counts as continuous
   * observation. A longer gap (sampling paused, stats unavailable) starts the
   * window or the probation over: time nobody watched proves nothing.
   */
  maxSampleGap: number;
  escalation: CpuEscalation;
};

export type GoroutineBreakerConfig = {
  /** Goroutines strictly above this trip the breaker: force a GC, dump goroutines, raise an alert. */
  threshold: number;
};

export type FdGrowthConfig = {
  /** How far back the counts are judged, in ms: a leak grows in both halves of it; connections opened and kept do not. */
  window: number;
  /** Counts it must hold at least (fds are counted every 5th sample). */
  samples: number;
  /** Least growth across it, in fds per second, to tell a leak from a plateau with a blip. */
  minPerSecond: number;
};

export type GoroutineRiseConfig = {
  /** Goroutines added per 100 ms between consecutive samples; strictly faster fires. */
  per100ms: number;
};

export type HeapGrowthConfig = {
  /** Consecutive post-GC samples over which HeapSys − HeapInuse must grow every time. */
  gcs: number;
  /** Least total growth across them, in bytes, so allocator jitter does not fire. */
  minGrowthBytes: number;
};

export type RestartLoopConfig = {
  /** Restarts within `period` that make a loop. */
  restarts: number;
  period: number;
};

export type WarningSignsConfig = {
  fdGrowth: FdGrowthConfig;
  goroutineRise: GoroutineRiseConfig;
  heapGrowth: HeapGrowthConfig;
  restartLoop: RestartLoopConfig;
};

export type BreakersConfig = {
  cpu: CpuBreakerConfig;
  goroutines: GoroutineBreakerConfig;
  warningSigns: WarningSignsConfig;
};

/**
 * §6's table gives the threshold, window, cool-down, probation and the
 * goroutine limit; the escalation steps, gap tolerance and warning-sign
 * sensitivities are ours, chosen for a 1 s sampling interval.
 */
export const breakerDefaults: BreakersConfig = {
  cpu: {
    thresholdPercent: 85,
    window: 30_000,
    coolDown: 60_000,
    probation: 60_000,
    maxSampleGap: 3_000,
    escalation: { coolDownMultiplier: 2, tripsBeforeRestart: 3, tripsBeforeQuarantine: 5, period: 600_000 },
  },
  goroutines: { threshold: 5000 },
  warningSigns: {
    fdGrowth: { window: 300_000, samples: 5, minPerSecond: 0.5 },
    goroutineRise: { per100ms: 150 },
    heapGrowth: { gcs: 4, minGrowthBytes: 8 * 1024 ** 2 },
    restartLoop: { restarts: 3, period: 300_000 },
  },
};

/**
 * What is wrong with a CPU breaker config, as messages naming the field;
 * empty when it is usable. The schema can reuse these; the breaker refuses a
 * config with problems rather than behave in a way nobody can draw.
 */
export function cpuBreakerConfigProblems(config: CpuBreakerConfig): string[] {
  const problems: string[] = [];
  const { thresholdPercent, window, coolDown, probation, maxSampleGap, escalation } = config;
  if (!(thresholdPercent > 0 && thresholdPercent <= 100)) problems.push("thresholdPercent: must be above 0 and at most 100");
  for (const [name, value] of [["window", window], ["coolDown", coolDown], ["probation", probation], ["maxSampleGap", maxSampleGap], ["escalation.period", escalation.period]] as const) {
    if (!(Number.isFinite(value) && value > 0)) problems.push(`${name}: must be a positive duration`);
  }
  if (!(escalation.coolDownMultiplier >= 1)) problems.push("escalation.coolDownMultiplier: must be at least 1");
  if (!(Number.isInteger(escalation.tripsBeforeRestart) && escalation.tripsBeforeRestart >= 1)) {
    problems.push("escalation.tripsBeforeRestart: must be a whole number, at least 1");
  }
  if (!(Number.isInteger(escalation.tripsBeforeQuarantine) && escalation.tripsBeforeQuarantine > escalation.tripsBeforeRestart)) {
    problems.push("escalation.tripsBeforeQuarantine: must be a whole number above tripsBeforeRestart");
  }
  return problems;
}
