// The counters of things that happen (transitions, alerts, deploys) count
// from the supervisor's event log: what happened before the metrics were
// made as well as what happens after.
import { describe, expect, it } from "vitest";
import { AlertBook } from "../../supervisor/breakers/alerts.ts";
import { createMetrics } from "../../supervisor/metrics/registry.ts";
import { EventLog } from "../../supervisor/observe/event-log.ts";
import type { PluginSet } from "../../supervisor/plugin-set.ts";
import type { Trust } from "../../supervisor/trust.ts";

// The counters read only the configured plugins' names from the plugin set.
const plugins = { names: ["echo"], values: () => [][Symbol.iterator]() } as unknown as PluginSet;
const trust = { ca: { notAfter: new Date(Date.now() + 1e9) }, leaf: { current: { notAfter: new Date(Date.now() + 1e9) } } } as unknown as Trust;

async function value(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe("createMetrics: counters from the event log", () => {
  it("counts the events logged before the metrics were made, once, and those after", async () => {
    const events = new EventLog();
    events.emit({ at: 1, plugin: "echo", kind: "transition", message: "", from: "stopped", to: "starting" });
    events.emit({ at: 2, plugin: "echo", kind: "alert", message: "update-failed: the release never served; undone at start" });
    const metrics = createMetrics({ plugins, alerts: new AlertBook(), events, trust });
    try {
      expect(await value(metrics, "corral_alerts_raised_total", { plugin: "echo", kind: "update-failed" })).toBe(1);
      expect(await value(metrics, "corral_deploys_total", { plugin: "echo", result: "failed" })).toBe(1);
      expect(await value(metrics, "corral_plugin_transitions_total", { plugin: "echo", to: "starting" })).toBe(1);

      // By kind: a goroutine breaker's trip is told from a failed update.
      events.emit({ at: 3, plugin: "echo", kind: "alert", message: "goroutines: 12000 over 10000" });
      expect(await value(metrics, "corral_alerts_raised_total", { plugin: "echo", kind: "goroutines" })).toBe(1);
      expect(await value(metrics, "corral_alerts_raised_total", { plugin: "echo", kind: "update-failed" })).toBe(1);
      expect(await value(metrics, "corral_deploys_total", { plugin: "echo", result: "failed" })).toBe(1);
    } finally {
      metrics.close();
    }
    expect(events.subscribers).toBe(0);
  });

  it("counts reloads applied and rejected, and not a reload's restart as a deploy", async () => {
    const events = new EventLog();
    const metrics = createMetrics({ plugins, alerts: new AlertBook(), events, trust });
    try {
      expect(await value(metrics, "corral_config_reloads_total", { result: "rejected" })).toBe(0);
      events.emit({ at: 1, plugin: "", kind: "config", message: "config reload rejected: invalid config", to: "rejected" });
      events.emit({ at: 2, plugin: "echo", kind: "config", message: "restarted under the reloaded config: ..." });
      events.emit({ at: 3, plugin: "", kind: "config", message: "config reloaded: 0 added, 0 removed, 1 changed, 0 failed", to: "applied" });
      expect(await value(metrics, "corral_config_reloads_total", { result: "rejected" })).toBe(1);
      expect(await value(metrics, "corral_config_reloads_total", { result: "applied" })).toBe(1);
      expect(await value(metrics, "corral_deploys_total", { plugin: "echo" })).toBeUndefined();
    } finally {
      metrics.close();
    }
  });

  it("starts every count of a plugin removed and added back at 0, whether or not a scrape came between", async () => {
    const events = new EventLog();
    const metrics = createMetrics({ plugins, alerts: new AlertBook(), events, trust });
    try {
      events.emit({ at: 1, plugin: "echo", kind: "transition", message: "", from: "starting", to: "ready" });
      events.emit({ at: 2, plugin: "echo", kind: "deploy", message: "release ... serves" });
      events.emit({ at: 3, plugin: "echo", kind: "config", message: "removed from the config", to: "removed" });
      // Added back before the next scrape.
      events.emit({ at: 4, plugin: "echo", kind: "transition", message: "", from: "starting", to: "ready" });
      expect(await value(metrics, "corral_plugin_transitions_total", { plugin: "echo", to: "ready" })).toBe(1);
      expect(await value(metrics, "corral_deploys_total", { plugin: "echo" })).toBeUndefined();
    } finally {
      metrics.close();
    }
  });
});
