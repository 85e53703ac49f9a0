// Samples one instance at an interval: CPU (from its cgroup, as a percentage
// of its allowance), memory (its cgroup), open fds (/proc, every few
// samples) and the Go runtime's own numbers (go-shim's Stats stream). The
// breakers read these; so do status and metrics. One timer and one stream
// per instance, both ended by stop().
//
// The stream is go-shim's to pace: it samples at the interval but sends only
// what changed, and a heartbeat (StatsRequest), so an idle instance costs
// next to nothing; each message is handed on as it arrives (onRuntime), so a
// change is acted on within an interval of its happening, not one more
// interval later at the next tick. The latest message stands for the runtime
// until the next one: nothing changed meanwhile. A plugin that sends faster
// than go-shim would (a modified go-shim flooding the stream cost the
// supervisor 40 % of a core) is read no faster than MESSAGES_PER_INTERVAL
// messages an interval: the stream is paused meanwhile, and HTTP/2's flow
// control holds the plugin's sends.
import type { ClientReadableStream } from "@grpc/grpc-js";
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { RuntimeStats__Output } from "../../proto/gen/ts/corral/plugin/v1/RuntimeStats.ts";
import type { CgroupUsage } from "../../sandbox/cgroups/driver.ts";
import { steadyNow } from "../steady-clock.ts";

export interface Sample {
  /** Steady-clock ms (steady-clock.ts): what windows and intervals are measured on. */
  at: number;
  /** CPU time used since the last sample, as a percentage of the instance's allowance. */
  cpuPercent: number;
  memoryBytes: number;
  /** Open fds of the plugin process, from /proc (0 when it cannot be read). */
  openFds: number;
  /** When openFds was counted (every FDS_EVERY samples; the count stands between). */
  openFdsAt: number;
  /** Processes of the instance the kernel's OOM killer has killed so far. */
  oomKills: number;
  /** The latest numbers from the plugin's Go runtime, when it has sent any. */
  runtime?: RuntimeStats__Output;
}

export interface SamplerSources {
  usage(): Promise<CgroupUsage>;
  pid(): number | undefined;
  /** Opens go-shim's Stats stream at the interval. */
  stats(intervalMs: number): ClientReadableStream<RuntimeStats__Output>;
  /** CPU allowance in cores. */
  cpuCores: number;
  intervalMs: number;
  onSample?: (sample: Sample) => void;
  /** Each message of the Stats stream, as it arrives. */
  onRuntime?: (stats: RuntimeStats__Output) => void;
  /** The clock samples are taken on; default the steady clock (a wall-clock step must not distort CPU %). */
  now?: () => number;
}

/**
 * The cores an instance can use: its allowance (limits.cpu), but no more
 * than the host has. Its CPU % is of this: measured against an allowance
 * above the host's cores, a plugin using all of them read 50 % of
 * `cpu: 4` on 2 cores, and the CPU breaker's 85 % could never be reached.
 */
export function usableCores(allowance: number, hostCores = availableParallelism()): number {
  return Math.min(allowance, hostCores);
}

/** Says so when a plugin's allowance is above the host's cores (see usableCores); at its add and at a reload. */
export function warnOfCpuAboveHost(plugin: { name: string; limits: { cpu: number } }, log: { warn(o: object, msg: string): void }, hostCores = availableParallelism()): void {
  if (plugin.limits.cpu <= hostCores) return;
  log.warn({ plugin: plugin.name, cpu: plugin.limits.cpu, hostCores }, `limits.cpu ${plugin.limits.cpu} is more than the ${hostCores} cores this host has: CPU % and the CPU breaker count against ${hostCores}`);
}

/** The most Stats messages read in an interval: go-shim sends one, and a heartbeat. */
export const MESSAGES_PER_INTERVAL = 4;

/** Open fds are counted at every FDS_EVERY-th sample (the first included). */
export const FDS_EVERY = 5;

export class InstanceSampler {
  readonly #sources: SamplerSources;
  #timer: NodeJS.Timeout | undefined;
  #stream: ClientReadableStream<RuntimeStats__Output> | undefined;
  /** Resumes the stream paused for reading too fast. */
  #resume: NodeJS.Timeout | undefined;
  #previous: { at: number; cpuMicros: number } | undefined;
  #runtime: RuntimeStats__Output | undefined;
  #latest: Sample | undefined;
  #busy = false;
  /** Samples until the next fd count. */
  #fdsCountdown = 0;

  constructor(sources: SamplerSources) {
    this.#sources = sources;
  }

  get latest(): Sample | undefined {
    return this.#latest;
  }

  start(): void {
    if (this.#timer) return;
    this.#openStream();
    void this.sample();
    // On the clock's beat (whole intervals since the epoch), at least half an
    // interval from now: every sampler of the same interval then wakes the
    // supervisor at once, one wakeup for all instead of one per instance.
    const { intervalMs } = this.#sources;
    let delay = intervalMs - ((this.#sources.now ?? steadyNow)() % intervalMs);
    if (delay < intervalMs / 2) delay += intervalMs;
    this.#timer = setTimeout(() => {
      this.#timer = setInterval(() => void this.sample(), intervalMs);
      void this.sample();
    }, delay);
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#resume);
    this.#resume = undefined;
    this.#stream?.cancel();
    this.#stream = undefined;
  }

  /** Takes one sample now (also what the timer does); overlapping calls are skipped. */
  async sample(): Promise<Sample | undefined> {
    if (this.#busy) return undefined;
    this.#busy = true;
    try {
      const now = (this.#sources.now ?? steadyNow)();
      // Open fds change slowly, and only the fd-growth warning sign reads
      // them: counted every few samples, the last count standing between.
      const fdsDue = this.#fdsCountdown-- <= 0;
      if (fdsDue) this.#fdsCountdown = FDS_EVERY - 1;
      const [usage, openFds] = await Promise.all([
        this.#sources.usage(),
        fdsDue ? countFds(this.#sources.pid()) : (this.#latest?.openFds ?? 0),
      ]);
      const openFdsAt = fdsDue ? now : (this.#latest?.openFdsAt ?? now);
      const previous = this.#previous;
      this.#previous = { at: now, cpuMicros: usage.cpuMicros };
      const elapsedMicros = previous ? (now - previous.at) * 1000 : 0;
      const cpuPercent =
        previous && elapsedMicros > 0 ? ((usage.cpuMicros - previous.cpuMicros) / (elapsedMicros * this.#sources.cpuCores)) * 100 : 0;
      const sample: Sample = {
        at: now,
        cpuPercent: Math.max(0, Math.round(cpuPercent * 10) / 10),
        memoryBytes: usage.memoryBytes,
        oomKills: usage.oomKills,
        openFds,
        openFdsAt,
        ...(this.#runtime && { runtime: this.#runtime }),
      };
      this.#latest = sample;
      this.#sources.onSample?.(sample);
      return sample;
    } catch {
      return undefined; // the instance is going away; its exit is reported elsewhere
    } finally {
      this.#busy = false;
    }
  }

  #openStream(): void {
    const stream = this.#sources.stats(this.#sources.intervalMs);
    this.#stream = stream;
    const spacing = this.#sources.intervalMs / MESSAGES_PER_INTERVAL;
    let nextAt = -Infinity; // when the next message may be read
    stream.on("data", (stats: RuntimeStats__Output) => {
      this.#runtime = stats;
      this.#sources.onRuntime?.(stats);
      const now = performance.now();
      const early = nextAt - now;
      nextAt = Math.max(now, nextAt) + spacing;
      if (early <= 0 || this.#stream !== stream) return;
      stream.pause();
      this.#resume = setTimeout(() => {
        if (this.#stream === stream) stream.resume();
      }, early);
    });
    // The stream ends when the plugin drains or recycles the connection
    // (max connection age): reopen it while sampling goes on.
    const reopen = () => {
      if (this.#stream !== stream || !this.#timer) return;
      setTimeout(() => {
        if (this.#stream === stream && this.#timer) this.#openStream();
      }, this.#sources.intervalMs).unref();
    };
    stream.on("error", reopen);
    stream.on("end", reopen);
  }
}

/**
 * Open fds of `pid`. Since Linux 6.2 a stat of /proc/<pid>/fd gives their
 * count as its size: one call, where listing the directory makes an entry
 * per fd (2.5 µs against 15 for a small process, and sampling does this for
 * every instance every second). Older kernels give 0 there; a process always
 * has some fd open, so 0 means "list them".
 */
async function countFds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const dir = `/proc/${pid}/fd`;
    return statSync(dir).size || readdirSync(dir).length;
  } catch {
    return 0;
  }
}
