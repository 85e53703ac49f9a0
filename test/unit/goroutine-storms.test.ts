// A goroutine count that swings about the breaker's threshold: the breaker
// trips again and again; its GC and capture run once a minute at most, and
// the evidence it saves concurrently keeps to the store's limits.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { AlertBook } from "../../supervisor/breakers/alerts.ts";
import { DiagnosticsStore } from "../../supervisor/diagnostics/store.ts";
import { parseConfig } from "../../supervisor/config/load.ts";
import { GOROUTINE_ACTIONS_EVERY_MS, RuntimeWatch, warningSignsConfig } from "../../supervisor/plugin/runtime-watch.ts";

const stats = (unixMs: number, goroutines: number) => ({ unixMs, goroutines, heapSys: 1, heapInuse: 1, heapAlloc: 1, numGc: 0, openFds: 5 });

describe("the goroutine breaker's actions", () => {
  /** A watch of `plugin` on the supervisor's clock `clock.now`, counting the GCs and captures it asks for. */
  function watching(plugin: string) {
    const clock = { now: 0 };
    const done = { gcs: 0, captures: 0 };
    const alerts = new AlertBook({ history: 10, now: () => clock.now });
    const watch = new RuntimeWatch({
      plugin,
      goroutineThreshold: 100,
      alerts,
      log: pino({ level: "silent" }),
      collectGarbage: async () => void done.gcs++,
      capture: async () => void done.captures++,
      now: () => clock.now,
      wallNow: () => clock.now,
    });
    return { watch, alerts, clock, acted: () => [done.gcs, done.captures] };
  }

  it("force a GC and capture once per minute at most, however often the breaker trips; the alert counts every trip", () => {
    const { watch, alerts, clock, acted } = watching("swing");
    // A thousand swings across the threshold in 50 s of the supervisor's time.
    for (let i = 0; i < 1000; i++) {
      clock.now = i * 50;
      watch.onRuntime(stats(2 * i, 1000));
      watch.onRuntime(stats(2 * i + 1, 10));
    }
    expect(acted()).toEqual([1, 1]);
    expect(alerts.open("swing").find((a) => a.kind === "goroutines")?.evidence.raised).toBe(1000);
    // The open alert says the skipped ones were skipped.
    expect(alerts.open("swing").find((a) => a.kind === "goroutines")?.message).toBe(
      "1000 goroutines, above the limit of 100: no GC forced nor dump captured this time (the last at 1970-01-01T00:00:00.000Z, at most one a minute while the alert is open)",
    );
    clock.now = GOROUTINE_ACTIONS_EVERY_MS;
    watch.onRuntime(stats(5000, 1000));
    expect(acted()).toEqual([2, 2]);
  });

  it("act at once on a trip after the operator acknowledged the alert: it is a new one", () => {
    const { watch, alerts, clock, acted } = watching("storms");
    for (let storm = 0; storm < 3; storm++) {
      clock.now = storm * 4000; // a storm every 4 s, each acknowledged
      watch.onRuntime(stats(2 * storm, 1500));
      watch.onRuntime(stats(2 * storm + 1, 10));
      const alert = alerts.open("storms").find((a) => a.kind === "goroutines");
      expect(alert?.message).toBe("1500 goroutines, above the limit of 100: a GC is forced and a goroutine dump captured");
      expect(alerts.ack("goroutines", "storms")).toBe(1);
    }
    expect(acted()).toEqual([3, 3]);
  });
});

describe("the diagnostics store", () => {
  it("saves concurrently without losing a save to another's prune, and keeps to its limits", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-diag-"));
    try {
      const store = new DiagnosticsStore(dir, { filesPerPlugin: 5, bytesPerPlugin: 1024 * 1024, bytes: 1024 * 1024 });
      const saves = Array.from({ length: 100 }, (_, i) => store.save("p", `p-${i}`, "goroutines.txt", Buffer.alloc(1000)));
      const saved = await Promise.all(saves);
      expect(saved).toHaveLength(100);
      expect((await readdir(path.join(dir, "diagnostics/p"))).length).toBe(5);
      expect((await store.list("p")).length).toBe(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps every plugin's evidence, those no longer configured too, within its overall bytes: the oldest go first", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-diag-"));
    try {
      // Left by a plugin since removed from the config, a year ago.
      await mkdir(path.join(dir, "diagnostics/gone"), { recursive: true });
      await writeFile(path.join(dir, "diagnostics/gone/2025-11-28T000000.000Z-gone-1-goroutines.txt"), Buffer.alloc(1000));
      const store = new DiagnosticsStore(dir, { filesPerPlugin: 50, bytesPerPlugin: 1024 * 1024, bytes: 3500 });
      const kept: string[] = [];
      for (const [i, plugin] of ["a", "b", "a", "c"].entries()) {
        kept.push(await store.save(plugin, `${plugin}-${i}`, "goroutines.txt", Buffer.alloc(1000)));
        await new Promise((r) => setTimeout(r, 5)); // another millisecond in the name
      }
      const left = (await Promise.all(["gone", "a", "b", "c"].map((p) => store.list(p)))).flat().map((d) => d.file);
      // 3 of 1000 bytes fit in 3500: the newest three; the removed plugin's and then a's first went.
      expect(left.sort()).toEqual(kept.slice(1).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the fd-growth warning sign, fed by the sampler", () => {
  it("reads a count only when it was taken: the count standing between two is no reading", () => {
    const alerts = new AlertBook({ history: 10 });
    const watch = new RuntimeWatch({ plugin: "server", goroutineThreshold: 100, alerts, log: pino({ level: "silent" }) , collectGarbage: async () => {}, capture: async () => {} });
    // Sampled every second, fds counted every fifth sample: 8, then 14 for good (six connections kept).
    for (let i = 0; i < 60; i++) {
      const countedAt = i - (i % 5);
      watch.onSample({ at: i * 1000, cpuPercent: 1, memoryBytes: 1, oomKills: 0, openFds: countedAt === 0 ? 8 : 14, openFdsAt: countedAt * 1000 });
    }
    expect(alerts.open("server")).toEqual([]);
    // A leak, as the counts show it (one a second), over the 5-minute window: fires.
    for (let i = 60; i < 420; i++) {
      const countedAt = i - (i % 5);
      watch.onSample({ at: i * 1000, cpuPercent: 1, memoryBytes: 1, oomKills: 0, openFds: 14 + (countedAt - 60), openFdsAt: countedAt * 1000 });
    }
    expect(alerts.open("server").map((a) => a.kind)).toEqual(["fd-growth"]);
  });

  it("raises a leak in bursts above the rate: 10 fds every 15 s (0.67 per second)", () => {
    const alerts = new AlertBook({ history: 10 });
    const watch = new RuntimeWatch({ plugin: "bursts", goroutineThreshold: 100, alerts, log: pino({ level: "silent" }), collectGarbage: async () => {}, capture: async () => {} });
    for (let i = 0; i < 600; i++) {
      const countedAt = i - (i % 5);
      watch.onSample({ at: i * 1000, cpuPercent: 1, memoryBytes: 1, oomKills: 0, openFds: 8 + 10 * Math.floor(countedAt / 15), openFdsAt: countedAt * 1000 });
    }
    expect(alerts.open("bursts").map((a) => a.kind)).toEqual(["fd-growth"]);
  });

  it("asks for no more counts than its window holds at the plugin's sampling interval, and takes a window of an hour at most", () => {
    const plugin = (extra: string) =>
      parseConfig(`plugins:\n  - {name: pp, binary: /bin/true, apiVersion: "1", ${extra}}\n`, "/tmp/c.yaml", { hostPaths: false }).plugins[0]!;
    // Counts every 5 samples: every 150 s at 30 s, so 3 in 5 minutes (the anchor included).
    expect(warningSignsConfig(plugin("sampleInterval: 30s")).fdGrowth).toEqual({ window: 300_000, samples: 3, minPerSecond: 0.5 });
    expect(warningSignsConfig(plugin("sampleInterval: 10s, breakers: {warningSigns: {fdGrowth: {samples: 10}}}")).fdGrowth.samples).toBe(7);
    expect(warningSignsConfig(plugin("")).fdGrowth.samples).toBe(5);
    expect(() => plugin("breakers: {warningSigns: {fdGrowth: {window: 2h}}}")).toThrow(/breakers\.warningSigns\.fdGrowth\.window.*must be at most 1h/);
  });
});

describe("times shown from the steady clock", () => {
  it("are read on the wall clock: an fd-growth alert's time and the goroutine breaker's 'last at', after the wall clock stepped", () => {
    const steady = { now: 1_000_000 };
    const wall = { now: 1_000_000 + 3_600_000 }; // the wall clock stepped an hour ahead since the start
    const alerts = new AlertBook({ history: 10, now: () => wall.now });
    const watch = new RuntimeWatch({
      plugin: "stepped",
      goroutineThreshold: 100,
      alerts,
      log: pino({ level: "silent" }),
      collectGarbage: async () => {},
      capture: async () => {},
      now: () => steady.now,
      wallNow: () => wall.now,
      warningSigns: warningSignsConfig(parseConfig('plugins:\n  - name: stepped\n    binary: x\n    apiVersion: "1"\n    breakers: { warningSigns: { fdGrowth: { window: 1s, samples: 3, minPerSecond: 0.5 } } }\n', "/tmp/c.yaml").plugins[0]!),
    });
    // fds rising on the sampler's (steady) clock, a count every 500 ms: the third completes the window.
    for (let i = 0; i < 3; i++) {
      const at = steady.now + i * 500;
      watch.onSample({ at, cpuPercent: 0, memoryBytes: 1, oomKills: 0, openFds: 10 + 10 * i, openFdsAt: at });
    }
    const grew = alerts.open("stepped").find((a) => a.kind === "fd-growth");
    expect(grew?.at).toBe(wall.now + 1000); // the last count's time, on the wall clock
    // A trip acted on, then one held back a moment later: "the last at" is a wall-clock time.
    watch.onRuntime(stats(1, 1000));
    const actedOnWall = wall.now;
    steady.now += 10;
    wall.now += 10;
    watch.onRuntime(stats(2, 10));
    watch.onRuntime(stats(3, 1000));
    expect(alerts.open("stepped").find((a) => a.kind === "goroutines")?.message).toContain(`the last at ${new Date(actedOnWall).toISOString()}`);
  });
});
