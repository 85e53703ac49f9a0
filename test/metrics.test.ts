// The Prometheus endpoint of a real daemon, scraped and parsed with a
// Prometheus text-format parser: per-plugin state, usage, breaker, alerts,
// certificate expiry, event counters, and the supervisor's own process.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
let url: string;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    config: { metrics: { listen: "127.0.0.1:0" } },
    plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0", sampleInterval: "200ms" }],
  });
  const ready = await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("supervisor ready"));
  url = ready.metrics as string;
}, 60_000);

afterAll(async () => {
  await supervisor?.cleanup();
});

async function scrape() {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text());
  const value = (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === name);
    const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    return sample === undefined ? undefined : Number(sample.value);
  };
  return { families, value };
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

  it("answers only GET /metrics", async () => {
    const res = await fetch(url.replace("/metrics", "/"));
    expect(res.status).toBe(404);
  });
});
