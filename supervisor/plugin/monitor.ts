// Watches one running instance: samples it (sampler.ts) and feeds every
// sample to its breakers (the plugin's CPU breaker through cpu-guard.ts, the
// goroutine breaker and warning signs through runtime-watch.ts). One owner
// for the timer, the stats stream and a stopped instance: close() ends them
// and continues the instance, so it can be drained or killed.
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import type { AlertBook } from "../breakers/alerts.ts";
import type { CpuBreaker } from "../breakers/cpu-breaker.ts";
import type { PluginConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { ControlChannel } from "./control-channel.ts";
import { CpuGuard, evidenceProfileMs, type PauseHooks, type Verdict } from "./cpu-guard.ts";
import { RuntimeWatch, warningSignsConfig } from "./runtime-watch.ts";
import { InstanceSampler, usableCores, type Sample } from "./sampler.ts";

export interface MonitorOptions {
  plugin: PluginConfig;
  cgroup: InstanceCgroup;
  /** The Control channel as it is now (it is replaced when the certificate is). */
  channel: () => ControlChannel;
  pid: () => number | undefined;
  cpuBreaker: CpuBreaker;
  alerts: AlertBook;
  log: Logger;
  capture: (why: string, cpuMs?: number) => Promise<unknown>;
  /** A breaker's verdict: the instance is to be restarted or quarantined. */
  onVerdict: (verdict: Verdict) => void;
  /** Moving calls away from the instance while the CPU breaker has it stopped. */
  pause?: PauseHooks;
  /** The CPU breaker's trips, resumes, recoveries and verdicts. */
  onBreakerEvent?: (state: string, message: string) => void;
  /**
   * The OOM killer killed a process of the instance that is still running
   * (on cgroup v1, which cannot have the kernel kill the whole instance):
   * the memory breaker's trip all the same.
   */
  onOomKill: (kills: number) => void;
}

/** How many reads of the kill count an OOM notice takes at most, and how far apart, until the kill is counted. */
const OOM_CHECK_ATTEMPTS = 5;
const OOM_CHECK_SPACING_MS = 20;

export class InstanceMonitor {
  readonly #sampler: InstanceSampler;
  readonly #cpu: CpuGuard;
  /** An OOM notice being checked (checkOomKills); notices meanwhile are the same kill. */
  #oomCheck: Promise<void> | undefined;
  #oomKillsSeen = 0;
  readonly #onOomKill: (kills: number) => void;
  readonly #cgroupEvents: () => Promise<{ oomKills: number }>;
  #closed = false;

  constructor(options: MonitorOptions) {
    const { plugin, cgroup, log } = options;
    options.cpuBreaker.newInstance();
    const cpu = new CpuGuard({
      breaker: options.cpuBreaker,
      cgroup,
      cpuCores: plugin.limits.cpu,
      log,
      onVerdict: options.onVerdict,
      // Taken when a window starts, sized to be done when it ends.
      evidence: (profileMs) => options.capture("cpu breaker", profileMs),
      profileMs: evidenceProfileMs(plugin.breakers.cpu.window, plugin.sampleInterval),
      ...(options.pause && { pause: options.pause }),
      ...(options.onBreakerEvent && { onEvent: options.onBreakerEvent }),
    });
    const runtime = new RuntimeWatch({
      plugin: plugin.name,
      goroutineThreshold: plugin.breakers.goroutines.threshold,
      warningSigns: warningSignsConfig(plugin),
      alerts: options.alerts,
      log,
      collectGarbage: () => options.channel().collectGarbage(),
      capture: (why) => options.capture(why),
    });
    this.#cpu = cpu;
    this.#cgroupEvents = () => cgroup.events();
    this.#onOomKill = options.onOomKill;
    this.#sampler = new InstanceSampler({
      usage: () => cgroup.usage(),
      pid: options.pid,
      stats: (intervalMs) => options.channel().stats(intervalMs),
      cpuCores: usableCores(plugin.limits.cpu),
      intervalMs: plugin.sampleInterval,
      onSample: (sample) => {
        this.#noteOomKills(sample.oomKills);
        // A breaker's bug is this instance's to report, not every plugin's end
        // (an unhandled rejection ends the supervisor).
        cpu.onSample(sample.at, sample.cpuPercent).catch((err: unknown) => log.error({ err }, "CPU breaker failed on a sample"));
        runtime.onSample(sample);
      },
      onRuntime: (stats) => runtime.onRuntime(stats),
    });
    this.#sampler.start();
  }

  get latest(): Sample | undefined {
    return this.#sampler.latest;
  }

  /**
   * The kernel says its OOM killer acted in the instance's cgroup (cgroup
   * v1): a sample now, not at the next beat, reads the kill count, and
   * onOomKill follows if it grew. The notice can come just before the kill
   * is counted, so a sample that finds no new kill is taken again, a few
   * times, shortly after.
   */
  checkOomKills(): void {
    if (this.#oomCheck) return;
    this.#oomCheck = (async () => {
      for (let attempt = 0; attempt < OOM_CHECK_ATTEMPTS && !this.#closed; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, OOM_CHECK_SPACING_MS));
        // The count alone: a whole sample 20 ms after the last would also
        // feed the CPU breaker a percentage of a window that short.
        const events = await this.#cgroupEvents().catch(() => undefined);
        if (events && this.#noteOomKills(events.oomKills)) break;
      }
    })().finally(() => (this.#oomCheck = undefined));
  }

  /** Calls onOomKill when the cgroup's kill count has grown since it was last seen; says whether it had. */
  #noteOomKills(kills: number): boolean {
    if (kills <= this.#oomKillsSeen) return false;
    this.#oomKillsSeen = kills;
    this.#onOomKill(kills);
    return true;
  }

  get cpuBreaker(): { state: string; reason: string | undefined } {
    return { state: this.#cpu.state, reason: this.#cpu.reason };
  }

  /** Whether the CPU breaker holds the instance stopped. */
  get cpuBreakerHoldsStopped(): boolean {
    return this.#cpu.holdsStopped;
  }

  /** Stops sampling and continues a stopped instance. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sampler.stop();
    await this.#cpu.close();
  }
}
