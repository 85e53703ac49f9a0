// The data plane's calls and their latency. Host applications call plugins
// directly, so the supervisor never sees those calls: go-shim counts them in
// each instance (by method and status code, with a latency histogram) and
// the supervisor pulls the counts with Control.CallStats when it is scraped,
// from every live instance at once, waiting at most a second; an instance
// that does not answer in time is left out of that scrape.
//
// prom-client can only observe a histogram itself; these come with their
// buckets counted already, so they are exported by a metric of our own that
// the registry reads as it reads its own (name, help, type, get()).
import type { Metric, Registry } from "prom-client";
import type { MethodCalls__Output } from "../../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";
import type { CallStatsResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/CallStatsResponse.ts";
import { isMethodName } from "../plugin/compatibility.ts";

/** One live instance to ask for its calls. */
export interface CallStatsSource {
  plugin: string;
  instance: string;
  /** The instance's CallStats; undefined if it cannot answer now. */
  callStats(signal: AbortSignal): Promise<CallStatsResponse__Output | undefined>;
}

/** A sample as the registry formats it: `metricName` (default: the metric's name), labels, value. */
interface Sample {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric whose samples are computed when scraped. It has what the registry
 * reads of a metric (lib/registry.js): name, help, type, aggregator, get(),
 * and reset() for resetMetrics().
 */
class ComputedMetric {
  name: string; // the registry renames counters for OpenMetrics
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator = "sum";
  readonly #samples: () => Promise<Sample[]>;

  constructor(name: string, help: string, type: "counter" | "histogram", samples: () => Promise<Sample[]>) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#samples = samples;
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.#samples() };
  }

  reset(): void {}
}

/** An instance's answer, with the labels that say whose it is. */
interface Collected {
  plugin: string;
  instance: string;
  methods: MethodCalls__Output[];
}

/**
 * Registers corral_calls_total{plugin,instance,method,code} and
 * corral_call_duration_seconds{plugin,instance,method} on the registry,
 * collected from `sources()` at every scrape, each bounded by timeoutMs.
 */
export function registerCallMetrics(registry: Registry, sources: () => Iterable<CallStatsSource>, timeoutMs = 1000): void {
  // Both metrics are read in the same scrape (the registry gets every
  // metric at once): they share one round of calls.
  let pending: Promise<Collected[]> | undefined;
  const collect = () => (pending ??= collectFrom([...sources()], timeoutMs).finally(() => (pending = undefined)));

  const calls = new ComputedMetric(
    "corral_calls_total",
    "Calls of the plugin's own methods, on its data socket and its instance socket, by status code (counted by go-shim since the instance started; a drained instance's final counts stay 5 min after it ends).",
    "counter",
    async () =>
      (await collect()).flatMap(({ plugin, instance, methods }) =>
        methods.flatMap((m) => Object.entries(m.codes).map(([code, n]) => ({ labels: { plugin, instance, method: m.method, code }, value: n }))),
      ),
  );
  const duration = new ComputedMetric(
    "corral_call_duration_seconds",
    "Latency of the calls of the plugin's own methods, from go-shim's interceptors to the handler's return; a stream's whole life.",
    "histogram",
    async () =>
      (await collect()).flatMap(({ plugin, instance, methods }) =>
        methods.flatMap((m): Sample[] => {
          const labels = { plugin, instance, method: m.method };
          return [
            ...m.bucketUpperBoundsSeconds.map((le, i) => ({
              metricName: "corral_call_duration_seconds_bucket",
              labels: { ...labels, le: le === Infinity ? "+Inf" : String(le) },
              value: m.bucketCumulativeCounts[i]!,
            })),
            { metricName: "corral_call_duration_seconds_sum", labels, value: m.sumSeconds },
            { metricName: "corral_call_duration_seconds_count", labels, value: m.count },
          ];
        }),
      ),
  );
  // prom-client types Metric as the union of its own classes; the registry
  // uses only what ComputedMetric has.
  registry.registerMetric(calls as unknown as Metric);
  registry.registerMetric(duration as unknown as Metric);
}

/** Asks every source at once; those that fail or do not answer within timeoutMs are left out. */
async function collectFrom(sources: CallStatsSource[], timeoutMs: number): Promise<Collected[]> {
  if (sources.length === 0) return [];
  const signal = AbortSignal.timeout(timeoutMs);
  // The calls heed the signal; this bounds the wait even if one did not.
  const timedOut = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
  timedOut.catch(() => {});
  const answers = await Promise.allSettled(sources.map(async (s) => Promise.race([s.callStats(signal), timedOut])));
  const collected: Collected[] = [];
  answers.forEach((answer, i) => {
    if (answer.status !== "fulfilled" || !answer.value) return;
    const { plugin, instance } = sources[i]!;
    collected.push({ plugin, instance, methods: wellFormed(answer.value.methods) });
  });
  return collected;
}

/** A plugin's answer is not trusted: more than this many methods, buckets or codes are ignored. */
const MAX_METHODS = 1000;
const MAX_BUCKETS = 64;
const MAX_CODES = 32;
const CODE_NAME = /^(?:[A-Z][A-Z_]{0,31}|CODE_\d{1,5})$/;
/**
 * The series an instance's answer may make, at most (a code, a bucket, the
 * sum and the count of each method are each one): the methods past it are
 * left out. At the other bounds alone an instance made 98 000 series, 13 MB
 * and half a second of the event loop per scrape; go-shim's own answer is 1
 * to 17 codes and 15 buckets a method, so this is some 100 busy methods.
 */
export const MAX_SERIES_PER_INSTANCE = 4000;

/**
 * The methods of an answer that make sense as Prometheus series: each once,
 * with increasing bounds ending at +Inf, cumulative counts that never
 * decrease and end at the count, and codes named as go-shim names them.
 */
export function wellFormed(methods: MethodCalls__Output[]): MethodCalls__Output[] {
  const seen = new Set<string>();
  const ok: MethodCalls__Output[] = [];
  let series = 0;
  for (const m of methods.slice(0, MAX_METHODS)) {
    const bounds = m.bucketUpperBoundsSeconds;
    const counts = m.bucketCumulativeCounts;
    const sane =
      isMethodName(m.method) &&
      !seen.has(m.method) &&
      bounds.length > 0 &&
      bounds.length <= MAX_BUCKETS &&
      counts.length === bounds.length &&
      bounds.at(-1) === Infinity &&
      bounds.every((b, i) => i === 0 || b > bounds[i - 1]!) &&
      counts.every((c, i) => i === 0 || c >= counts[i - 1]!) &&
      counts.at(-1) === m.count &&
      Number.isFinite(m.sumSeconds);
    if (!sane) continue;
    seen.add(m.method);
    const codes = Object.entries(m.codes).filter(([code]) => CODE_NAME.test(code)).slice(0, MAX_CODES);
    series += codes.length + bounds.length + 2;
    if (series > MAX_SERIES_PER_INSTANCE) break;
    ok.push({ ...m, codes: Object.fromEntries(codes) });
  }
  return ok;
}
