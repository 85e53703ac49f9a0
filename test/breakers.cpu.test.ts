// The CPU breaker on a real plugin that spins: stopped with SIGSTOP (seen in
// /proc), resumed on probation, restarted, then quarantined as it escalates.
import { afterEach, describe, expect, it } from "vitest";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

/** A supervisor running one plugin that spins from 100 ms after it starts, held to half a core, with these CPU breaker settings. */
async function spinning(cpu: Record<string, unknown>, more: Record<string, unknown> = {}): Promise<TestSupervisor> {
  const supervisor = await TestSupervisor.start({
    plugins: [
      {
        name: "spinner",
        binary: plugins.crasher,
        apiVersion: "1.0",
        env: { CRASH_AFTER_MS: "100", CRASH_MODE: "spin" },
        limits: { cpu: 0.5 },
        sampleInterval: "200ms",
        breakers: { cpu },
        ...more,
      },
    ],
  });
  running.push(supervisor);
  return supervisor;
}

describe("cpu breaker", () => {
  it("measures an allowance above the host's cores against the cores the host has: it can still trip", async () => {
    // One spinning thread: a core, of the host's (2 here) rather than of the 1024 allowed, is well above 30 %.
    const supervisor = await spinning({ threshold: 30, window: "1s", coolDown: "1m" }, { limits: { cpu: 1024 } });
    const open = await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"), 15_000);
    expect(open).toMatchObject({ plugin: "spinner", trip: 1 });
    const warned = supervisor.logs.find((l) => l.plugin === "spinner" && l.level === "warn" && typeof l.msg === "string" && l.msg.startsWith("limits.cpu"));
    expect(warned?.msg).toMatch(/^limits\.cpu 1024 is more than the \d+ cores this host has: CPU % and the CPU breaker count against \d+$/);
  }, 60_000);

  it("stops a spinning plugin, resumes it on probation, restarts it, then quarantines it", async () => {
    // 60 %: a spinner held to its allowance on a machine busy with other tests still reads above it.
    const supervisor = await spinning(
      { threshold: 60, window: "1s", coolDown: "2s", probation: "1s", restartAfter: 2, quarantineAfter: 3, period: "1m" },
      { restart: { initialBackoff: "100ms", quarantineAfter: 10 } },
    );
    const first = (await supervisor.plugin("spinner")).instance!;

    // Trip 1: every process of the instance stopped, and status says why.
    const open = await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"));
    expect(open).toMatchObject({ plugin: "spinner", instance: first.id, trip: 1, verified: true });
    expect(open.msg).toMatch(/cpu above 60 % of its allowance for 1 s/);
    const status = await supervisor.plugin("spinner");
    expect(status.instance?.cpuBreaker).toBe("open");
    expect(status.instance?.cpuBreakerReason).toContain("cpu above 60 %");
    expect(readProcStat(first.pid)?.state).toBe("T");
    // Lifted for the park and the stop, the CPU limit is the plugin's again.
    const launched = supervisor.logs.find((l) => l.msg === "plugin process started" && l.instance === first.id)!;
    const cgroup = (await openCgroupDriver({ parent: supervisor.cgroupParent })).open(launched.cgroup as string);
    expect((await cgroup.readLimits()).cpu).toBe(0.5);

    // Reaction: the window begins where its first sample above the
    // threshold measured from (the sample before it); the trip comes on the
    // first sample at the window's end, 1 s later, and the stop follows at
    // once, not after the evidence: all stopped within one sampling interval
    // (200 ms) + 100 ms of the window's end. (Before the evidence was taken
    // with the window, a 500 ms profile, a dump and a heap profile came
    // first: 0.7 s or more.) What remains is mostly the park: the Park call
    // and the SIGSTOP, each made with the plugin's CPU limit lifted, and
    // between them the wait for its GOAWAYs.
    const windowStart = open.windowStart as number;
    const trippedAt = open.sampledAt as number;
    expect(trippedAt - windowStart).toBeGreaterThanOrEqual(1000);
    // The target itself (one interval + 100 ms) is measured by `npm run
    // bench -- breakers`; tests on a shared machine only bound it loosely,
    // well below the 0.7 s a profile before the stop would add.
    expect(trippedAt - windowStart).toBeLessThan(1000 + 600);
    const afterWindow = Date.parse(open.time) - (windowStart + 1000);
    expect(afterWindow).toBeGreaterThanOrEqual(0);
    // 900 ms: a loaded CI machine was measured at up to 340 ms; a profile
    // before the stop would still push it past.
    expect(afterWindow).toBeLessThanOrEqual(900);
    expect(open.stoppedInMs).toBeLessThanOrEqual(900);

    // Evidence started with the window, while the plugin ran: a CPU profile
    // (200 ms, sized to end before the window does: 1 s, less the interval
    // its first sample measured, less 600 ms for the dump and heap profile
    // of a throttled plugin), a goroutine dump, a heap profile. (With the window's own start, or, if an earlier window
    // was broken by a dip, with that one's, a moment before.)
    // (evidenceFrom is shown on the wall clock, windowStart is the steady clock's: they agree within ms.)
    const evidenceFrom = Date.parse(open.evidenceFrom as string);
    expect(evidenceFrom).toBeLessThanOrEqual(windowStart + 50);
    expect(windowStart - evidenceFrom).toBeLessThan(10_000);
    const started = supervisor.logs.find((l) => l.msg === "cpu above the threshold: window started; taking evidence" && l.instance === first.id);
    expect(started).toMatchObject({ profileMs: 200 });
    expect(Math.abs((started!.windowStart as number) - evidenceFrom)).toBeLessThan(50);
    expect(supervisor.logs.indexOf(started!)).toBeLessThan(supervisor.logs.indexOf(open));
    expect(open.evidence).toMatch(/^(taken|in progress)$/);
    const evidence = await supervisor.waitForLog((l) => l.msg === "captured diagnostics" && l.why === "cpu breaker" && l.instance === first.id);
    expect((evidence.files as string[]).map((f) => f.replace(/^.*-/, ""))).toEqual(["cpu.pprof", "goroutines.txt", "heap.pprof"]);

    // Cool-down over: continued on probation; still spinning: trip 2 is a restart.
    await supervisor.waitForLog((l) => l.msg === "cpu breaker half-open: resumed on probation");
    const restarted = await supervisor.waitForLog((l) => l.plugin === "spinner" && l.to === "crashed");
    expect(restarted.reason).toMatch(/^cpu breaker: /);
    // Trip 3, on the next instance: quarantine.
    const quarantined = await supervisor.waitForPlugin("spinner", (p) => p.state === "quarantined", 20_000);
    expect(quarantined.reason).toMatch(/^cpu breaker: /);
    expect(quarantined.restarts).toBe(1);

    // An operator lifts the quarantine: the breaker starts over (it stayed
    // quarantined, and watched the plugin no more), and trips again.
    const seen = supervisor.logs.length;
    const lifted = await corralctl(["--config", supervisor.configFile, "start", "spinner"]);
    expect(lifted.code, lifted.stderr).toBe(0);
    const again = await supervisor.waitForLog((l) => supervisor.logs.indexOf(l) >= seen && typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"), 15_000);
    expect(again.msg).toMatch(/\(trip 1 within 60 s\)$/);

    // Quarantined again, the operator stops and starts it (rather than
    // start alone): the new instance is watched afresh too.
    await supervisor.waitForPlugin("spinner", (p) => p.state === "quarantined", 30_000);
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
    expect((await ctl("stop", "spinner")).code).toBe(0);
    const seenStop = supervisor.logs.length;
    expect((await ctl("start", "spinner")).code).toBe(0);
    const watched = await supervisor.waitForLog((l) => supervisor.logs.indexOf(l) >= seenStop && typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"), 15_000);
    expect(watched.msg).toMatch(/\(trip 1 within 60 s\)$/);
  }, 90_000);

  it("continues a stopped instance before stopping it, so a supervisor stop still drains and cleans up", async () => {
    const supervisor = await spinning({ threshold: 60, window: "1s", coolDown: "60s" });
    const instance = (await supervisor.plugin("spinner")).instance!;
    await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"));
    expect(readProcStat(instance.pid)?.state).toBe("T");

    // The lifecycle stays ready (the instance is kept for its probation), but
    // what an operator reads says it is stopped, and why.
    expect((await supervisor.plugin("spinner")).state).toBe("ready");
    const status = await corralctl(["--config", supervisor.configFile, "status", "spinner"]);
    const [header, row] = status.stdout.split("\n");
    const column = (name: string) => row!.slice(header!.indexOf(name)).split(/\s{2,}/)[0];
    expect(column("STATE")).toBe("breaker-open");
    expect(column("REASON")).toMatch(/^stopped by the CPU breaker until cool-down ends: cpu above 60 % of its allowance for 1 s/);
    const described = await corralctl(["--config", supervisor.configFile, "describe", "spinner"]);
    expect(described.stdout).toMatch(/^state: {5}breaker-open \(stopped by the CPU breaker until cool-down ends: cpu above 60 %/m);

    expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
    expect(supervisor.logs.some((l) => l.msg === "plugin exited with status 0")).toBe(true);
    expect(await supervisor.leftovers()).toEqual([]);
  });

  it("gives an instance its operator pauses and resumes during the cool-down back to the breaker, which continues it when the cool-down ends", async () => {
    // A cool-down long enough for two corralctl runs on a busy machine (4 s was not, twice).
    const supervisor = await spinning({ threshold: 60, window: "1s", coolDown: "10s", probation: "10s" });
    const instance = (await supervisor.plugin("spinner")).instance!;
    const open = await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"));
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);

    const paused = await ctl("pause", "spinner");
    expect(paused.code, paused.stderr).toBe(0);
    // Stopped already, it is not asked to park: its stopped processes could not answer.
    const pauseLog = await supervisor.waitForLog((l) => l.msg === "instance paused" && l.instance === instance.id);
    expect(pauseLog.stoppedBy).toBe("cpu breaker");
    expect(supervisor.logs.filter((l) => l.msg === "parking the data socket failed")).toEqual([]);
    const resumed = await ctl("resume", "spinner");
    expect(resumed.code, resumed.stderr).toBe(0);
    // The cool-down has not ended: the operator's resume does not continue it.
    await supervisor.waitForLog((l) => l.msg === "instance resumed by its operator; the CPU breaker keeps it stopped until its cool-down ends");
    expect(Date.now()).toBeLessThan(Date.parse(open.time) + 10_000);
    expect(readProcStat(instance.pid)?.state).toBe("T");
    expect((await supervisor.plugin("spinner")).instance?.cpuBreaker).toBe("open");

    // The breaker's cool-down ends: it continues the instance, on probation.
    const halfOpen = await supervisor.waitForLog((l) => l.msg === "cpu breaker half-open: resumed on probation" && l.instance === instance.id);
    expect(Date.parse(halfOpen.time) - Date.parse(open.time)).toBeGreaterThanOrEqual(9900);
    expect(readProcStat(instance.pid)?.state).not.toBe("T");
    expect((await supervisor.plugin("spinner")).state).toBe("ready");
  });
});
