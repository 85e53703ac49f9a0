import { describe, expect, it } from "vitest";
import { AlertBook, newAlert, type Alert, type AlertKind } from "../../supervisor/breakers/alerts.ts";
import { breakerDefaults, cpuBreakerConfigProblems } from "../../supervisor/breakers/config.ts";
import { GoroutineBreaker } from "../../supervisor/breakers/goroutine-breaker.ts";

const alert = (kind: AlertKind, plugin: string | undefined, at: number): Alert =>
  newAlert(plugin === undefined ? {} : { plugin }, { kind, message: `${kind} at ${at}`, evidence: { at }, at });

describe("alert book", () => {
  it("keeps an alert until it is acknowledged, and no duplicate of it meanwhile: the open one shows the latest, and the count", () => {
    const told: Array<[number, boolean]> = [];
    let minutes = 0; // a minute apart: each repeat is told (see the next test)
    const book = new AlertBook({ history: 100, now: () => minutes++ * 60_000, onRaised: (a, repeat) => told.push([a.at, repeat]) });
    expect(book.raise(alert("fd-growth", "a", 1))).toBe(true);
    expect(book.raise(alert("fd-growth", "a", 2))).toBe(false);
    expect(book.open()).toEqual([{ kind: "fd-growth", plugin: "a", message: "fd-growth at 2", evidence: { at: 2, raised: 2 }, at: 2, acknowledged: false }]);
    // Each raise is told, so that it is an event and counted.
    expect(told).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(book.isOpen("fd-growth", "a")).toBe(true);
    expect(book.ack("fd-growth", "a")).toBe(1);
    expect(book.open()).toEqual([]);
    expect(book.isOpen("fd-growth", "a")).toBe(false);
    expect(book.raise(alert("fd-growth", "a", 3))).toBe(true);
    expect(book.list().map((a) => [a.at, a.acknowledged])).toEqual([
      [3, false],
      [2, true],
    ]);
  });

  it("tells a detector's repeats of an open alert at most once a minute, by its own clock, and counts them all; a failed deploy's every time", () => {
    const told: Array<[string, number, number]> = [];
    let now = 0;
    const book = new AlertBook({ history: 100, now: () => now, onRaised: (a, repeat) => told.push([a.kind, a.at, repeat ? a.evidence.raised! : 1]) });
    // A plugin's stream raising it with every message, its own times leaping a minute each.
    for (let i = 0; i < 1000; i++) book.raise(alert("goroutine-rise", "a", i * 60_000));
    now = 59_999;
    book.raise(alert("goroutine-rise", "a", 1));
    now = 60_000;
    book.raise(alert("goroutine-rise", "a", 2));
    expect(told).toEqual([
      ["goroutine-rise", 0, 1],
      ["goroutine-rise", 2, 1002],
    ]);
    expect(book.open()[0]!.evidence.raised).toBe(1002);
    told.length = 0;
    for (let i = 0; i < 3; i++) book.raise(newAlert({ plugin: "a" }, { kind: "update-failed", message: "deploy failed", evidence: {}, at: i }));
    expect(told).toEqual([
      ["update-failed", 0, 1],
      ["update-failed", 1, 2],
      ["update-failed", 2, 3],
    ]);
    // Acknowledged, the next is new, and told.
    book.ack("goroutine-rise", "a");
    book.raise(alert("goroutine-rise", "a", 3));
    expect(told.at(-1)).toEqual(["goroutine-rise", 3, 1]);
  });

  it("tells alerts apart by kind and by plugin, and a supervisor-wide one from a plugin's", () => {
    const book = new AlertBook();
    expect(book.raise(alert("fd-growth", "a", 1))).toBe(true);
    expect(book.raise(alert("fd-growth", "b", 1))).toBe(true);
    expect(book.raise(alert("heap-growth", "a", 1))).toBe(true);
    expect(book.raise(alert("fd-growth", undefined, 1))).toBe(true);
    expect(book.open("a").map((a) => a.kind)).toEqual(["fd-growth", "heap-growth"]);
    expect(book.open()).toHaveLength(4);
  });

  it("acks one kind for one plugin, one kind everywhere, all of a plugin's, or everything", () => {
    const book = new AlertBook();
    for (const p of ["a", "b"]) for (const k of ["fd-growth", "goroutines", "restart-loop"] as const) book.raise(alert(k, p, 1));
    expect(book.ack("fd-growth", "a")).toBe(1);
    expect(book.ack("fd-growth", "a")).toBe(0);
    expect(book.ack("goroutines")).toBe(2);
    expect(book.ackAll("b")).toBe(2);
    expect(book.open().map((a) => `${a.plugin}/${a.kind}`)).toEqual(["a/restart-loop"]);
    expect(book.ackAll()).toBe(1);
    expect(book.open()).toEqual([]);
    expect(book.ackAll()).toBe(0);
    expect(book.list().every((a) => a.acknowledged)).toBe(true);
  });

  it("keeps a bounded history of acknowledged alerts, dropping the oldest", () => {
    const book = new AlertBook({ history: 2 });
    for (let at = 1; at <= 4; at++) {
      book.raise(alert("restart-loop", "a", at));
      book.ack("restart-loop", "a");
    }
    expect(book.list().map((a) => a.at)).toEqual([3, 4]);
    const none = new AlertBook({ history: 0 });
    none.raise(alert("goroutines", "a", 1));
    none.ackAll();
    expect(none.list()).toEqual([]);
  });

  it("does not let a caller change a kept alert through the object it raised", () => {
    const book = new AlertBook();
    const raised = { ...alert("goroutines", "a", 1), acknowledged: true };
    book.raise(raised);
    expect(book.open()[0]?.acknowledged).toBe(false);
  });

  it("leaves plugin out of a supervisor-wide alert", () => {
    expect("plugin" in alert("restart-loop", undefined, 1)).toBe(false);
  });
});

describe("goroutine breaker", () => {
  it("trips above the threshold: force a GC, dump goroutines, raise the alert, in that order", () => {
    const b = new GoroutineBreaker(breakerDefaults.goroutines, { plugin: "storm" });
    expect(b.observe({ at: 0, goroutines: 5000 })).toEqual([]);
    expect(b.tripped).toBe(false);
    expect(b.observe({ at: 1000, goroutines: 5001 })).toEqual([
      { type: "force-gc" },
      { type: "dump-goroutines" },
      {
        type: "alert",
        alert: {
          kind: "goroutines",
          plugin: "storm",
          message: "5001 goroutines, above the limit of 5000: a GC is forced and a goroutine dump captured",
          evidence: { goroutines: 5001, threshold: 5000 },
          at: 1000,
          acknowledged: false,
        },
      },
    ]);
    expect(b.tripped).toBe(true);
  });

  it("trips once per storm, and again for the next storm", () => {
    const b = new GoroutineBreaker(breakerDefaults.goroutines);
    const counts = [100, 6000, 9000, 12_000, 7000, 5000, 100, 5500, 5600];
    const trips = counts.map((g, i) => b.observe({ at: i * 1000, goroutines: g }).length > 0);
    expect(trips).toEqual([false, true, false, false, false, false, false, true, false]);
  });

  it("with the book: the alert stays until acked, a storm that goes on does not re-raise it, the next storm does", () => {
    const book = new AlertBook();
    const b = new GoroutineBreaker({ threshold: 100 }, { plugin: "storm" });
    const raise = (at: number, goroutines: number) => {
      for (const action of b.observe({ at, goroutines })) if (action.type === "alert") book.raise(action.alert);
    };
    raise(0, 500);
    raise(1000, 800);
    expect(book.open("storm")).toHaveLength(1);
    expect(book.ackAll("storm")).toBe(1);
    raise(2000, 900);
    expect(book.open("storm")).toEqual([]);
    raise(3000, 50);
    raise(4000, 300);
    expect(book.open("storm").map((a) => a.at)).toEqual([4000]);
    // A new storm while the last alert is still open forces a GC and a dump, but the book keeps one alert.
    raise(5000, 10);
    const actions = b.observe({ at: 6000, goroutines: 400 });
    expect(actions.map((a) => a.type)).toEqual(["force-gc", "dump-goroutines", "alert"]);
    const second = actions[2];
    expect(second?.type === "alert" && book.raise(second.alert)).toBe(false);
    // ...which shows the latest storm, and that there were two.
    expect(book.open("storm").map((a) => [a.at, a.evidence.raised])).toEqual([[6000, 2]]);
  });

  it("rearms for a new instance and ignores samples that are not after the previous one", () => {
    const b = new GoroutineBreaker({ threshold: 10 });
    b.observe({ at: 1000, goroutines: 20 });
    expect(b.observe({ at: 1000, goroutines: 5 })).toEqual([]);
    expect(b.tripped).toBe(true);
    b.newInstance();
    expect(b.tripped).toBe(false);
    expect(b.observe({ at: 0, goroutines: 20 })).toHaveLength(3);
  });
});

describe("breaker defaults", () => {
  it("match DESIGN.md §6", () => {
    expect(breakerDefaults.cpu).toMatchObject({ thresholdPercent: 85, window: 30_000, coolDown: 60_000, probation: 60_000 });
    expect(breakerDefaults.goroutines.threshold).toBe(5000);
    expect(breakerDefaults.warningSigns.goroutineRise.per100ms).toBe(150);
  });

  it("are a usable CPU breaker config", () => {
    expect(cpuBreakerConfigProblems(breakerDefaults.cpu)).toEqual([]);
  });

  it("report every problem of a bad config at once", () => {
    const problems = cpuBreakerConfigProblems({
      thresholdPercent: 101,
      window: Number.NaN,
      coolDown: -1,
      probation: 1,
      maxSampleGap: 0,
      escalation: { coolDownMultiplier: 0, tripsBeforeRestart: 1.5, tripsBeforeQuarantine: 1, period: 1 },
    });
    expect(problems).toEqual([
      "thresholdPercent: must be above 0 and at most 100",
      "window: must be a positive duration",
      "coolDown: must be a positive duration",
      "maxSampleGap: must be a positive duration",
      "escalation.coolDownMultiplier: must be at least 1",
      "escalation.tripsBeforeRestart: must be a whole number, at least 1",
      "escalation.tripsBeforeQuarantine: must be a whole number above tripsBeforeRestart",
    ]);
  });
});
