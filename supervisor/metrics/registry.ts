// The supervisor's Prometheus metrics (prom-client). Plugin gauges are read
// from the plugin set when scraped, so they are never stale and cost nothing
// between scrapes; counters of things that happen come from the event log;
// the data plane's calls are asked of the instances when scraped (calls.ts).
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { alertKinds, type AlertBook } from "../breakers/alerts.ts";
import type { EventLog, PluginEvent } from "../observe/event-log.ts";
import type { PluginSet } from "../plugin-set.ts";
import { pluginStates } from "../plugin/lifecycle.ts";
import { PluginInstance } from "../plugin/instance.ts";
import type { Trust } from "../trust.ts";
import { registerCallMetrics } from "./calls.ts";
import type { EndedInstanceCalls } from "./ended-calls.ts";

export function createMetrics(deps: { plugins: PluginSet; alerts: AlertBook; events: EventLog; trust: Trust; endedCalls?: EndedInstanceCalls }): {
  registry: Registry;
  close(): void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "corral_supervisor_" });
  const { plugins } = deps;

  // Metrics set afresh from what the supervisor holds, at each scrape:
  // gauges of state, and counters of totals it keeps itself.
  const setAtScrape = <M extends { reset(): void }>(collect: (metric: M) => void) => ({
    registers: [registry],
    collect(this: M) {
      this.reset();
      collect(this);
    },
  });
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, ...setAtScrape(collect) });
  const counter = (name: string, help: string, labelNames: string[], collect: (c: Counter) => void) =>
    new Counter({ name, help, labelNames, ...setAtScrape(collect) });

  gauge("corral_plugin_state", "1 for the state each plugin is in, 0 for the others.", ["plugin", "state"], (g) => {
    for (const p of plugins.values()) for (const state of pluginStates) g.set({ plugin: p.controller.name, state }, p.controller.state === state ? 1 : 0);
  });
  gauge("corral_plugin_restarts", "Restarts of each plugin since the supervisor started.", ["plugin"], (g) => {
    for (const p of plugins.values()) g.set({ plugin: p.controller.name }, p.controller.restarts);
  });
  const usage = (name: string, help: string, pick: (i: PluginInstance) => number | undefined) =>
    gauge(name, help, ["plugin", "instance"], (g) => {
      for (const p of plugins.values()) {
        const instance = p.controller.instance;
        if (!(instance instanceof PluginInstance)) continue;
        const value = pick(instance);
        if (value !== undefined) g.set({ plugin: p.controller.name, instance: instance.id }, value);
      }
    });
  usage("corral_instance_cpu_percent", "CPU use as a percentage of the instance's CPU allowance (last sample).", (i) => i.usage?.cpuPercent);
  usage("corral_instance_memory_bytes", "Memory of the instance's cgroup (last sample).", (i) => i.usage?.memoryBytes);
  usage("corral_instance_open_fds", "Open file descriptors of the plugin process (last sample).", (i) => i.usage?.openFds);
  usage("corral_instance_goroutines", "Goroutines of the plugin (last sample, from go-shim).", (i) => i.usage?.runtime?.goroutines);
  usage("corral_instance_heap_inuse_bytes", "Go HeapInuse of the plugin (last sample).", (i) => i.usage?.runtime?.heapInuse);
  usage("corral_instance_heap_sys_bytes", "Go HeapSys of the plugin (last sample).", (i) => i.usage?.runtime?.heapSys);
  usage("corral_instance_certificate_expiry_seconds", "Seconds until the instance's certificate expires (renewed at about half its life).", (i) =>
    i.certificateNotAfter ? (i.certificateNotAfter.getTime() - Date.now()) / 1000 : undefined,
  );
  gauge("corral_cpu_breaker_open", "1 while the plugin's CPU breaker holds its instance stopped or on probation (state label).", ["plugin", "state"], (g) => {
    for (const p of plugins.values()) {
      const breaker = p.controller.instance?.cpuBreaker;
      if (breaker) g.set({ plugin: p.controller.name, state: breaker.state }, breaker.state === "closed" ? 0 : 1);
    }
  });
  gauge("corral_alerts_open", "Open (unacknowledged) alerts by plugin and kind.", ["plugin", "kind"], (g) => {
    // Every kind of every plugin has its series, 0 when none is open: an
    // acknowledged alert's series goes to 0 rather than away, which a rule
    // such as `corral_alerts_open > 0` would read as "no data", not "resolved".
    for (const p of plugins.values()) for (const kind of alertKinds) g.set({ plugin: p.controller.name, kind }, 0);
    for (const a of deps.alerts.open()) g.inc({ plugin: a.plugin ?? "", kind: a.kind });
  });
  gauge("corral_certificate_expiry_seconds", "Seconds until the CA's and the supervisor's own certificates expire.", ["certificate"], (g) => {
    g.set({ certificate: "ca" }, (deps.trust.ca.notAfter.getTime() - Date.now()) / 1000);
    g.set({ certificate: "supervisor" }, (deps.trust.leaf.current.notAfter.getTime() - Date.now()) / 1000);
  });

  counter(
    "corral_output_lines_total",
    "Lines of the plugin's stdout and stderr since the supervisor started: logged, or dropped over output.rate (outcome label).",
    ["plugin", "outcome"],
    (c) => {
      for (const p of plugins.values()) {
        c.inc({ plugin: p.controller.name, outcome: "logged" }, p.outputCounts.logged);
        c.inc({ plugin: p.controller.name, outcome: "dropped" }, p.outputCounts.dropped);
      }
    },
  );
  counter(
    "corral_output_wait_seconds_total",
    "How long reading the plugin's output waited over output.maxBytesPerSecond since the supervisor started; its writes waited as long.",
    ["plugin"],
    (c) => {
      for (const p of plugins.values()) c.inc({ plugin: p.controller.name }, p.outputCounts.waitedMs / 1000);
    },
  );

  // The data plane's calls, from go-shim's counts (calls.ts): the serving
  // instances', and the final ones of those that drained lately.
  registerCallMetrics(registry, function* () {
    for (const p of plugins.values()) {
      const instance = p.controller.instance;
      if (instance instanceof PluginInstance) yield { plugin: p.controller.name, instance: instance.id, callStats: (signal: AbortSignal) => instance.callStats(signal) };
    }
    yield* deps.endedCalls?.sources() ?? [];
  });

  // Counted from the event log, per plugin, and served for the plugins
  // configured now: a plugin removed by a reload takes its series with it.
  const tallies = new Map<string, Map<string, number>>(); // metric name -> labels (JSON) -> count
  const tally = (metric: string, labels: Record<string, string>) => {
    const counts = tallies.get(metric) ?? tallies.set(metric, new Map()).get(metric)!;
    const key = JSON.stringify(labels);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const tallied = (name: string, help: string, labelNames: string[]) =>
    counter(name, help, labelNames, (c) => {
      const configured = new Set(plugins.names);
      for (const [key, count] of tallies.get(name) ?? []) {
        const labels = JSON.parse(key) as Record<string, string>;
        if (configured.has(labels.plugin!)) c.inc(labels, count);
        else tallies.get(name)!.delete(key);
      }
    });
  tallied("corral_plugin_transitions_total", "Lifecycle transitions, by the state entered.", ["plugin", "to"]);
  tallied("corral_breaker_events_total", "Breaker trips and recoveries.", ["plugin", "event"]);
  tallied("corral_alerts_raised_total", "Alerts raised, by kind (goroutines, fd-growth, restart-loop, update-failed, ...).", ["plugin", "kind"]);
  tallied("corral_deploys_total", "Releases brought into service, and deploys that failed.", ["plugin", "result"]);
  const reloads = new Counter({ name: "corral_config_reloads_total", help: "Config reloads (SIGHUP, corralctl reload), applied or rejected.", labelNames: ["result"], registers: [registry] });
  for (const result of ["applied", "rejected"]) reloads.inc({ result }, 0);
  const count = (e: PluginEvent) => {
    switch (e.kind) {
      case "transition":
        if (e.to) tally("corral_plugin_transitions_total", { plugin: e.plugin, to: e.to });
        break;
      case "breaker":
        tally("corral_breaker_events_total", { plugin: e.plugin, event: e.to ?? "trip" });
        break;
      case "alert":
        // Its message is "<kind>: ..." (Supervisor's alert events).
        tally("corral_alerts_raised_total", { plugin: e.plugin, kind: e.message.slice(0, Math.max(0, e.message.indexOf(":"))) || "unknown" });
        if (e.message.startsWith("update-failed")) tally("corral_deploys_total", { plugin: e.plugin, result: "failed" });
        break;
      case "deploy":
        tally("corral_deploys_total", { plugin: e.plugin, result: "ok" });
        break;
      case "config":
        if (e.plugin === "" && (e.to === "applied" || e.to === "rejected")) reloads.inc({ result: e.to });
        // A plugin removed: its series go at once, not at the next scrape, so
        // that one added back starts every count at 0, as its output counts do.
        if (e.to === "removed") for (const counts of tallies.values()) for (const key of counts.keys()) if ((JSON.parse(key) as { plugin?: string }).plugin === e.plugin) counts.delete(key);
        break;
    }
  };
  // What happened before the metrics were made counts too: a start's
  // transitions, an alert raised while the plugins were opened (an
  // unfinished hot update undone). The ring holds all of it at start.
  for (const e of deps.events.recent(Number.MAX_SAFE_INTEGER)) count(e);
  const unsubscribe = deps.events.subscribe(count);
  return { registry, close: unsubscribe };
}
