// The original design's warning signs, each on a real plugin that shows it,
// beside a well-behaved plugin that must not be flagged.
import { afterEach, describe, expect, it } from "vitest";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

interface AlertJson {
  kind: string;
  plugin: string;
  evidence: Record<string, number>;
}

const misbehaving = (name: string, mode: string) => ({
  name,
  binary: plugins.crasher,
  apiVersion: "1.0",
  env: { CRASH_AFTER_MS: "100", CRASH_MODE: mode },
  sampleInterval: "200ms",
  limits: { memory: "256MiB" },
});

describe("warning signs", () => {
  it("flags the fd leaker and the goroutine storm, and not the well-behaved plugin beside them", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [
        // A window of a few seconds rather than the default 5 minutes.
        { ...misbehaving("fdleak", "fds"), breakers: { warningSigns: { fdGrowth: { window: "5s", samples: 4 } } } },
        { ...misbehaving("storm", "goroutines"), env: { CRASH_AFTER_MS: "1500", CRASH_MODE: "goroutines", GOROUTINES: "3000" } },
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0", sampleInterval: "200ms" },
      ],
    });
    running.push(supervisor);
    const alertsOf = async () =>
      (JSON.parse((await corralctl(["--config", supervisor.configFile, "alerts", "--json"])).stdout) as { alerts: AlertJson[] }).alerts;
    const deadline = Date.now() + 15_000;
    let alerts: AlertJson[] = [];
    const has = (plugin: string, kind: string) => alerts.some((a) => a.plugin === plugin && a.kind === kind);
    while (Date.now() < deadline && !(has("fdleak", "fd-growth") && has("storm", "goroutine-rise"))) {
      await new Promise((r) => setTimeout(r, 250));
      alerts = await alertsOf();
    }
    expect(alerts.find((a) => a.plugin === "fdleak" && a.kind === "fd-growth")?.evidence).toBeDefined();
    expect(has("storm", "goroutine-rise")).toBe(true);
    expect(alerts.filter((a) => a.plugin === "greeter")).toEqual([]);
  });

  it("flags a heap that GC does not give back (HeapSys − HeapInuse growing across GCs), and not the well-behaved plugin", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [
        // Transient peaks 8 MiB larger every 500 ms, each followed by a GC: the idle heap grows 8 MiB per GC.
        misbehaving("hoarder", "heap"),
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0", sampleInterval: "200ms" },
      ],
    });
    running.push(supervisor);
    const raised = await supervisor.waitForLog((l) => l.plugin === "hoarder" && l.alert === "heap-growth", 15_000);
    const started = supervisor.logs.find((l) => l.plugin === "hoarder" && typeof l.msg === "string" && l.msg.startsWith("crasher: growing the heap"));
    // Four GCs after the growth began (one per 500 ms cycle), and a sample or two.
    expect(Date.parse(raised.time) - Date.parse(started!.time)).toBeLessThan(5000);
    expect(raised.msg).toMatch(/^alert: heap held but unused \(HeapSys − HeapInuse\) grew from [\d.]+ MiB to [\d.]+ MiB across 4 GCs$/);
    const evidence = raised.evidence as Record<string, number>;
    expect(evidence.growthBytes).toBeGreaterThanOrEqual(8 * 1024 ** 2);
    expect(evidence.toNumGC! - evidence.fromNumGC!).toBeGreaterThanOrEqual(4);

    const { stdout } = await corralctl(["--config", supervisor.configFile, "alerts", "--json"]);
    const alerts = (JSON.parse(stdout) as { alerts: AlertJson[] }).alerts;
    expect(alerts.filter((a) => a.plugin === "hoarder").map((a) => a.kind)).toEqual(["heap-growth"]);
    expect(alerts.filter((a) => a.plugin === "greeter")).toEqual([]);
  });

  it("takes each plugin's own settings of a warning sign (breakers.warningSigns)", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [{ ...misbehaving("hoarder", "heap"), breakers: { warningSigns: { heapGrowth: { gcs: 2, minGrowth: "4MiB" } } } }],
    });
    running.push(supervisor);
    const raised = await supervisor.waitForLog((l) => l.plugin === "hoarder" && l.alert === "heap-growth", 15_000);
    expect(raised.msg).toMatch(/across 2 GCs$/);
  });
});
