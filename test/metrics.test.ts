// The Prometheus endpoint of a real daemon, scraped and parsed with a
// Prometheus text-format parser: per-plugin state, usage, breaker, alerts,
// certificate expiry, event counters, the data plane's calls (counted by
// go-shim, pulled at scrape time), and the supervisor's own process.
import { status } from "@grpc/grpc-js";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import type { MethodCalls__Output } from "../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";
import { registerCallMetrics, type CallStatsSource } from "../supervisor/metrics/calls.ts";
import { echoClient } from "./helpers/echo.ts";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
let url: string;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    config: { metrics: { listen: "127.0.0.1:0" } },
    plugins: [
      { name: "greeter", binary: plugins.greeter, apiVersion: "1.0", sampleInterval: "200ms" },
      { name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" },
    ],
  });
  url = await supervisor.metricsUrl();
}, 60_000);

afterAll(async () => {
  await supervisor?.cleanup();
});

async function scrape() {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The sample lines of an exposition, parsed strictly by the text format
 * (0.0.4): a line that does not parse fails the test. (The parser above
 * merges the series of a histogram with labels into one.)
 */
function sampleLines(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const labels: Record<string, string> = {};
    let rest = m![2] ?? "";
    while (rest !== "") {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/.exec(rest);
      expect(l, line).not.toBeNull();
      expect(labels, line).not.toHaveProperty(l![1]!);
      labels[l![1]!] = l![2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(l![0].length);
    }
    const value = m![3] === "+Inf" ? Infinity : m![3] === "-Inf" ? -Infinity : Number(m![3]);
    expect(Number.isNaN(value) && m![3] !== "NaN", line).toBe(false);
    samples.push({ name: m![1]!, labels, value });
  }
  return samples;
}

function parse(text: string) {
  const families = parsePrometheusTextFormat(text);
  const matching = (name: string, labels: Record<string, string>) =>
    families.find((f) => f.name === name)?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) ?? [];
  const value = (name: string, labels: Record<string, string> = {}) => {
    const sample = matching(name, labels)[0];
    return sample === undefined ? undefined : Number(sample.value);
  };
  const lines = sampleLines(text);
  /** A histogram's series of these labels: cumulative counts by le, in order, count and sum. */
  const histogram = (name: string, labels: Record<string, string>) => {
    const of = (suffix: string) => lines.filter((l) => l.name === name + suffix && Object.entries(labels).every(([k, v]) => l.labels[k] === v));
    const buckets = of("_bucket");
    const [count] = of("_count");
    const [sum] = of("_sum");
    if (buckets.length === 0 || !count || !sum) return undefined;
    // les keeps the order of the lines (an object would put "1", "5", "10" first).
    return { les: buckets.map((b) => b.labels.le!), buckets: Object.fromEntries(buckets.map((b) => [b.labels.le!, b.value])), count: count.value, sum: sum.value };
  };
  return { families, value, matching, histogram, lines };
}

describe("metrics", () => {
  it("serves plugin state, usage and certificate expiry, and the supervisor's process metrics", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await new Promise((r) => setTimeout(r, 600)); // a sample or two
    const { value, families } = await scrape();
    expect(value("corral_plugin_state", { plugin: "greeter", state: "ready" })).toBe(1);
    expect(value("corral_plugin_state", { plugin: "greeter", state: "crashed" })).toBe(0);
    expect(value("corral_plugin_restarts", { plugin: "greeter" })).toBe(0);
    expect(value("corral_instance_memory_bytes", { plugin: "greeter" })).toBeGreaterThan(1024 * 1024);
    expect(value("corral_instance_goroutines", { plugin: "greeter" })).toBeGreaterThan(1);
    expect(value("corral_instance_open_fds", { plugin: "greeter" })).toBeGreaterThan(2);
    // A 24 h leaf, renewed at half its life.
    expect(value("corral_instance_certificate_expiry_seconds", { plugin: "greeter" })).toBeGreaterThan(11 * 3600);
    expect(value("corral_certificate_expiry_seconds", { certificate: "ca" })).toBeGreaterThan(365 * 86400);
    expect(value("corral_plugin_transitions_total", { plugin: "greeter", to: "ready" })).toBe(1);
    expect(value("corral_supervisor_process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    expect(families.find((f) => f.name === "corral_plugin_state")?.type).toBe("GAUGE");
  });

  it("counts what happens: a restart is an update and a ready", async () => {
    const r = await corralctl(["--config", supervisor.configFile, "restart", "greeter"]);
    expect(r.code, r.stderr).toBe(0);
    const { value } = await scrape();
    expect(value("corral_plugin_transitions_total", { plugin: "greeter", to: "updating" })).toBe(1);
    expect(value("corral_plugin_transitions_total", { plugin: "greeter", to: "ready" })).toBe(2);
  });

  it("counts every failed deploy and every alert raised, also while the first alert is still open", async () => {
    for (const bad of ["echo-crash", "echo-api2"]) {
      const r = await corralctl(["--config", supervisor.configFile, "deploy", "echo", path.join(repoRoot, "build/test-plugins", bad)]);
      expect(r.code).toBe(1);
    }
    const { value } = await scrape();
    expect(value("corral_deploys_total", { plugin: "echo", result: "failed" })).toBe(2);
    expect(value("corral_alerts_raised_total", { plugin: "echo" })).toBe(2);
    // One alert to acknowledge, showing the latest failure.
    const alerts = JSON.parse((await corralctl(["--config", supervisor.configFile, "alerts", "echo", "--json"])).stdout) as {
      alerts: Array<{ kind: string; message: string; evidence: Record<string, number> }>;
    };
    expect(alerts.alerts).toHaveLength(1);
    expect(alerts.alerts[0]!.message).toMatch(/plugin implements version "2\.0"/);
    expect(alerts.alerts[0]!.evidence.raised).toBe(2);
    expect(value("corral_alerts_open", { plugin: "echo", kind: "update-failed" })).toBe(1);
    expect(value("corral_alerts_open", { plugin: "greeter", kind: "update-failed" })).toBe(0);
    expect((await corralctl(["--config", supervisor.configFile, "ack", "echo"])).code).toBe(0);
    // Acknowledged: its series reads 0, it does not go away.
    const acked = await scrape();
    expect(acked.value("corral_alerts_open", { plugin: "echo", kind: "update-failed" })).toBe(0);
  }, 60_000);

  it("counts the data plane's calls by method and code, with latency histograms", async () => {
    const echo = await supervisor.plugin("echo");
    // No retries: every call reaches the plugin once.
    const client = echoClient(echo.address, pluginCredentials("echo", await supervisor.clientPems("metrics-test", ["echo"])), channelOptions({ retry: false }));
    try {
      for (let i = 0; i < 5; i++) await client.unary({ message: `m${i}`, sleepMs: 0, replySize: 0 });
      expect((await client.fail({ code: status.FAILED_PRECONDITION, message: "no" })).code).toBe(status.FAILED_PRECONDITION);
      expect((await client.fail({ code: status.FAILED_PRECONDITION, message: "still no" })).code).toBe(status.FAILED_PRECONDITION);
      expect((await client.fail({ code: status.UNAVAILABLE, message: "away" })).code).toBe(status.UNAVAILABLE);
      // A stream of four replies 150 ms apart (450 ms) is timed whole.
      expect((await client.serverStream({ message: "s", count: 4, intervalMs: 150 })).replies).toHaveLength(4);
    } finally {
      client.close();
    }

    const { value, matching, histogram, families } = await scrape();
    const instance = echo.instance!.id;
    const method = (name: string) => `/corral.test.echo.v1.Echo/${name}`;
    const calls = (name: string, code: string) => value("corral_calls_total", { plugin: "echo", instance, method: method(name), code });
    expect(families.find((f) => f.name === "corral_calls_total")?.type).toBe("COUNTER");
    expect(families.find((f) => f.name === "corral_call_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(calls("Unary", "OK")).toBe(5);
    expect(calls("Fail", "FAILED_PRECONDITION")).toBe(2);
    expect(calls("Fail", "UNAVAILABLE")).toBe(1);
    expect(calls("Fail", "OK")).toBeUndefined();
    expect(calls("ServerStream", "OK")).toBe(1);
    // Only the calls made: none of greeter's, nor of Control and health.
    expect(matching("corral_calls_total", {}).map((m) => m.labels?.method).sort()).toEqual([method("Fail"), method("Fail"), method("ServerStream"), method("Unary")]);

    const expectHistogram = (name: string, count: number) => {
      const h = histogram("corral_call_duration_seconds", { plugin: "echo", instance, method: method(name) });
      expect(h, name).toBeDefined();
      expect(h!.count).toBe(count);
      expect(h!.buckets["+Inf"]).toBe(count);
      expect(h!.les).toEqual(["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
      const cumulative = h!.les.map((le) => h!.buckets[le]!);
      expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
      return h!;
    };
    expectHistogram("Unary", 5);
    expectHistogram("Fail", 3);
    const stream = expectHistogram("ServerStream", 1);
    expect(stream.buckets["0.25"]).toBe(0);
    expect(stream.sum).toBeGreaterThanOrEqual(0.45);
  });

  it("keeps the final calls of an instance a hot update drained, a stream it finished while draining included", async () => {
    const echo = await supervisor.plugin("echo");
    const old = echo.instance!.id;
    const client = echoClient(echo.address, pluginCredentials("echo", await supervisor.clientPems("metrics-test", ["echo"])), channelOptions({ retry: false }));
    const method = (name: string) => `/corral.test.echo.v1.Echo/${name}`;
    try {
      const before = await scrape();
      const calls = (from: Awaited<ReturnType<typeof scrape>>, instance: string, name: string) =>
        from.value("corral_calls_total", { plugin: "echo", instance, method: method(name), code: "OK" }) ?? 0;
      // Made after the last scrape the old instance answers: only its final counts can show them.
      for (let i = 0; i < 3; i++) await client.unary({ message: `d${i}`, sleepMs: 0, replySize: 0 });
      const stream = client.serverStream({ message: "across", count: 4, intervalMs: 200 });
      await new Promise((r) => setTimeout(r, 100)); // begun on the old instance
      const r = await corralctl(["--config", supervisor.configFile, "restart", "echo"]);
      expect(r.code, r.stderr).toBe(0);
      expect((await stream).replies).toHaveLength(4);
      // The old instance exits once drained; its final counts are kept then.
      let after = await scrape();
      for (const start = Date.now(); calls(after, old, "ServerStream") <= calls(before, old, "ServerStream") && Date.now() - start < 10_000; ) {
        await new Promise((r) => setTimeout(r, 100));
        after = await scrape();
      }
      const now = (await supervisor.plugin("echo")).instance!.id;
      expect(now).not.toBe(old);
      expect(calls(after, old, "Unary")).toBe(calls(before, old, "Unary") + 3);
      expect(calls(after, old, "ServerStream")).toBe(calls(before, old, "ServerStream") + 1);
      expect(after.histogram("corral_call_duration_seconds", { plugin: "echo", instance: old, method: method("Unary") })?.count).toBe(
        before.histogram("corral_call_duration_seconds", { plugin: "echo", instance: old, method: method("Unary") })!.count + 3,
      );
      expect(calls(after, now, "ServerStream")).toBe(0); // the stream was the old instance's alone
    } finally {
      client.close();
    }
  });

  it("serves every metric the example Grafana dashboard asks for", async () => {
    const dashboard = JSON.parse(await readFile(path.join(repoRoot, "deploy/grafana-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[] };
    const asked = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr.match(/\bcorral_[a-z0-9_]+/g) ?? [])));
    expect(asked.size).toBeGreaterThan(10);
    const text = await (await fetch(url)).text();
    const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const family = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
    expect([...asked].filter((name) => !served.has(name) && !served.has(family(name)))).toEqual([]);
  });

  it("answers only GET /metrics", async () => {
    const res = await fetch(url.replace("/metrics", "/"));
    expect(res.status).toBe(404);
  });
});

describe("call metrics (calls.ts)", () => {
  const methodCalls = (method: string, counts: number[], codes: Record<string, number>): MethodCalls__Output => ({
    method,
    codes,
    bucketUpperBoundsSeconds: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity],
    bucketCumulativeCounts: counts,
    sumSeconds: 1.5,
    count: counts.at(-1)!,
  });
  const counts = [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];

  it("exports what the instances that answer within the bound report, as valid exposition", async () => {
    const registry = new Registry();
    const asked: string[] = [];
    const source = (instance: string, callStats: CallStatsSource["callStats"]): CallStatsSource => ({
      plugin: "p",
      instance,
      callStats: (signal) => {
        asked.push(instance);
        return callStats(signal);
      },
    });
    const sources = [
      source("a", async () => ({ methods: [methodCalls("/x.Y/SayHi", counts, { OK: 2, UNAVAILABLE: 1 })] })),
      source("hangs", () => new Promise(() => {})), // heeds no signal
      source("fails", async () => Promise.reject(new Error("connection refused"))),
      source("none", async () => undefined),
      source("odd", async () => ({
        methods: [
          methodCalls("/x.Y/Decreasing", [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { OK: 2 }),
          { ...methodCalls("/x.Y/NoInf", counts, { OK: 3 }), bucketUpperBoundsSeconds: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20] },
          methodCalls("/x.Y/Fine", counts, { OK: 3, "bad\ncode": 1 }),
          // Named as no gRPC method is (a label of the plugin's choosing): not kept.
          methodCalls('/x.Y/Say"hi"\nfake 1', counts, { OK: 3 }),
        ],
      })),
    ];
    registerCallMetrics(registry, () => sources, 300);

    const started = Date.now();
    const text = await registry.metrics();
    expect(Date.now() - started).toBeLessThan(1000);
    // Both metrics from one round of calls.
    expect(asked.sort()).toEqual(["a", "fails", "hangs", "none", "odd"]);
    const { value, matching, histogram } = parse(text);
    expect(value("corral_calls_total", { instance: "a", method: "/x.Y/SayHi", code: "OK" })).toBe(2);
    expect(value("corral_calls_total", { instance: "a", method: "/x.Y/SayHi", code: "UNAVAILABLE" })).toBe(1);
    expect(matching("corral_calls_total", {}).map((m) => `${m.labels?.instance} ${m.labels?.method} ${m.labels?.code}`).sort()).toEqual([
      "a /x.Y/SayHi OK",
      "a /x.Y/SayHi UNAVAILABLE",
      "odd /x.Y/Fine OK",
    ]);
    const h = histogram("corral_call_duration_seconds", { plugin: "p", instance: "a", method: "/x.Y/SayHi" });
    expect(h?.buckets).toMatchObject({ "0.0005": 1, "0.0025": 2, "1": 3, "+Inf": 3 });
    expect(h?.count).toBe(3);
    expect(h?.sum).toBe(1.5);
    expect(histogram("corral_call_duration_seconds", { method: "/x.Y/Fine" })?.count).toBe(3);
    expect(histogram("corral_call_duration_seconds", { method: "/x.Y/Decreasing" })).toBeUndefined();
    expect(histogram("corral_call_duration_seconds", { method: "/x.Y/NoInf" })).toBeUndefined();
    // The lines as Prometheus reads them: each series' buckets, then sum and count.
    const exposition = text.split("\n");
    const first = exposition.indexOf('corral_call_duration_seconds_bucket{plugin="p",instance="a",method="/x.Y/SayHi",le="0.0005"} 1');
    expect(first).toBeGreaterThan(0);
    expect(exposition[first + 14]).toBe('corral_call_duration_seconds_bucket{plugin="p",instance="a",method="/x.Y/SayHi",le="+Inf"} 3');
    expect(exposition[first + 15]).toBe('corral_call_duration_seconds_sum{plugin="p",instance="a",method="/x.Y/SayHi"} 1.5');
    expect(exposition[first + 16]).toBe('corral_call_duration_seconds_count{plugin="p",instance="a",method="/x.Y/SayHi"} 3');
    expect(text).not.toContain("fake 1");
    expect(text).toContain("# TYPE corral_call_duration_seconds histogram");
    expect(text).toContain("# TYPE corral_calls_total counter");
  });

  it("exports the families without samples when no instance answers", async () => {
    const registry = new Registry();
    registerCallMetrics(registry, () => []);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE corral_calls_total counter");
    expect(parse(text).matching("corral_calls_total", {})).toEqual([]);
  });
});
