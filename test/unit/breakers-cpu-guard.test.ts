// The CPU guard (the breaker put to work on an instance) with a real process
// to stop, a fake cgroup and fake evidence: evidence starts with the window,
// and the trip stops at once, whether or not the evidence is done.
import { spawn, type ChildProcess } from "node:child_process";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import { breakerDefaults, type CpuBreakerConfig } from "../../supervisor/breakers/config.ts";
import { CpuBreaker } from "../../supervisor/breakers/cpu-breaker.ts";
import { CpuGuard, EVIDENCE_MIN_GAP_MS, EVIDENCE_PROFILE_MS, evidenceProfileMs, BREAKER_PARK_GRACE_MS } from "../../supervisor/plugin/cpu-guard.ts";
import { readProcStat } from "../../supervisor/proc-stat.ts";

const config: CpuBreakerConfig = { ...breakerDefaults.cpu, window: 1000, coolDown: 60_000, maxSampleGap: 1000 };

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
});

/** A guard over one real, idle process; its log lines and the evidence requests are recorded. */
function setup(options: { evidence?: (profileMs: number) => Promise<unknown>; cpuCores?: number; coolDown?: number; operatorPaused?: () => boolean; parkMs?: number } = {}) {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: "debug", base: undefined },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  const evidence: Array<{ at: number; profileMs: number }> = [];
  const events: string[] = [];
  const cgroup = {
    pids: async () => [child.pid!],
    setCpu: async (cores: number) => void events.push(`cpu ${cores}`),
  } as unknown as InstanceCgroup;
  const guard = new CpuGuard({
    breaker: new CpuBreaker({ ...config, coolDown: options.coolDown ?? config.coolDown }),
    cgroup,
    cpuCores: options.cpuCores ?? 0.5,
    log,
    onVerdict: () => {},
    evidence: (profileMs) => {
      evidence.push({ at: Date.now(), profileMs });
      return options.evidence ? options.evidence(profileMs) : Promise.resolve();
    },
    profileMs: evidenceProfileMs(config.window, 200),
    pause: {
      // As a go-shim that answers as it begins: the guard waits the grace.
      park: async (_reason, graceMs) => {
        events.push(`park ${graceMs}`);
        if (options.parkMs) await new Promise((r) => setTimeout(r, options.parkMs));
        return false;
      },
      unpark: async () => void events.push("unpark"),
      operatorPaused: options.operatorPaused ?? (() => false),
    },
  });
  return { child, guard, lines, evidence, events };
}

describe("CPU guard: evidence with the window, the stop at once", () => {
  it("sizes the CPU profile to end before the window does, within bounds", () => {
    expect(evidenceProfileMs(30_000, 1000)).toBe(EVIDENCE_PROFILE_MS);
    expect(evidenceProfileMs(1000, 200)).toBe(200);
    expect(evidenceProfileMs(1200, 100)).toBe(500);
    expect(evidenceProfileMs(500, 200)).toBe(100);
  });

  it("starts the evidence on the window's first sample above the threshold, once per window", async () => {
    const { guard, evidence, lines } = setup();
    const t = Date.now();
    await guard.onSample(t, 50);
    expect(evidence).toEqual([]);
    await guard.onSample(t + 200, 95);
    expect(evidence).toEqual([{ at: expect.any(Number), profileMs: 200 }]);
    await guard.onSample(t + 400, 95);
    await guard.onSample(t + 600, 95);
    expect(evidence).toHaveLength(1);
    // The window began where the first sample above measured from: the sample before it.
    expect(lines.find((l) => l.msg === "cpu above the threshold: window started; taking evidence")).toMatchObject({ windowStart: t, profileMs: 200 });
    await guard.close();
  });

  it("stops at once when the window completes, though the evidence is still being taken, and parks first", async () => {
    let finish!: () => void;
    const { child, guard, evidence, lines, events } = setup({ evidence: () => new Promise<void>((r) => (finish = r)) });
    const t = Date.now();
    await guard.onSample(t, 5);
    for (let at = t + 200; at < t + 1000; at += 200) await guard.onSample(at, 95);
    expect(evidence).toHaveLength(1);
    expect(guard.state).toBe("closed");

    // The samples at 200 to 1000 measured 0 to 1000: the window is covered.
    await guard.onSample(t + 1000, 95);
    expect(guard.state).toBe("open");
    // The CPU limit is lifted for the park, its grace and the stop, and put back after.
    expect(events).toEqual(["cpu Infinity", `park ${BREAKER_PARK_GRACE_MS}`, "cpu 0.5"]);
    expect(readProcStat(child.pid!)?.state).toBe("T");
    const open = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"));
    expect(open).toMatchObject({ trip: 1, verified: true, processes: 1, windowStart: t, sampledAt: t + 1000, evidence: "in progress" });
    // Shown on the wall clock: the steady clock's t read as a time of day (the two agree within ms here).
    expect(Math.abs(Date.parse(open!.evidenceFrom as string) - t)).toBeLessThan(50);
    finish();

    await guard.close();
    expect(readProcStat(child.pid!)?.state).not.toBe("T");
  });

  it("leaves an instance its operator paused meanwhile stopped and parked when the cool-down ends, its probation not begun", async () => {
    let operatorPaused = false;
    const { child, guard, events } = setup({ coolDown: 200, operatorPaused: () => operatorPaused });
    const t = Date.now();
    for (let at = t; at <= t + 1000; at += 200) await guard.onSample(at, 95);
    expect(guard.state).toBe("open");
    expect(guard.holdsStopped).toBe(true);
    operatorPaused = true; // corralctl pause, while the breaker has it stopped
    await new Promise((r) => setTimeout(r, t + 1000 + 200 + 150 - Date.now())); // past the cool-down (from the trip sample's time)
    expect(guard.state).toBe("half-open");
    expect(guard.holdsStopped).toBe(false); // the operator's pause holds it now
    expect(readProcStat(child.pid!)?.state).toBe("T");
    expect(events).not.toContain("unpark");
    // Held by its operator past its probation (at no CPU), it has served none of it.
    const resumedAt = t + 1000 + 200 + config.probation + 1000;
    for (let at = t + 1400; at < resumedAt; at += 200) await guard.onSample(at, 0);
    expect(guard.state).toBe("half-open");
    // corralctl resume: the first sample above the threshold trips it again.
    operatorPaused = false;
    await guard.onSample(resumedAt, 95);
    expect(guard.state).toBe("open");
    await guard.close();
  });

  it("resumes after the stop, not before it, when a cool-down shorter than the stop ends while it parks", async () => {
    const { child, guard, events } = setup({ coolDown: 100, parkMs: 300 });
    const t = Date.now();
    for (let at = t; at < t + 1000; at += 200) await guard.onSample(at, 95);
    const stopping = guard.onSample(t + 1000, 95); // trips; its park takes 300 ms
    await new Promise((r) => setTimeout(r, 50));
    const resuming = guard.onSample(t + 1200, 0); // past the cool-down (t + 1100): the breaker resumes
    await Promise.all([stopping, resuming]);
    expect(events.filter((e) => e.startsWith("park") || e === "unpark")).toEqual([`park ${BREAKER_PARK_GRACE_MS}`, "unpark"]);
    expect(guard.state).toBe("half-open");
    expect(guard.holdsStopped).toBe(false);
    expect(readProcStat(child.pid!)?.state).not.toBe("T");
    await guard.close();
  });

  it("leaves the CPU limit of an instance that has none alone", async () => {
    const { child, guard, events } = setup({ cpuCores: Infinity });
    const t = Date.now();
    for (let at = t; at <= t + 1000; at += 200) await guard.onSample(at, 95);
    expect(guard.state).toBe("open");
    expect(events).toEqual([`park ${BREAKER_PARK_GRACE_MS}`]);
    expect(readProcStat(child.pid!)?.state).toBe("T");
    await guard.close();
  });

  it("reports the evidence taken when it finished within the window", async () => {
    const { guard, lines } = setup();
    const t = Date.now();
    for (let at = t; at <= t + 1000; at += 200) await guard.onSample(at, 95);
    expect(lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"))).toMatchObject({ evidence: "taken" });
    await guard.close();
  });

  it("takes no new evidence for a window that starts soon after the last, nor while it is still being taken", async () => {
    let finish!: () => void;
    const { guard, evidence } = setup({ evidence: () => new Promise<void>((r) => (finish = r)) });
    const t = Date.now();
    await guard.onSample(t, 95);
    await guard.onSample(t + 200, 10); // a dip: the window is broken
    await guard.onSample(t + 400, 95); // a new window, evidence still in flight
    expect(evidence).toHaveLength(1);
    finish();
    await new Promise((r) => setImmediate(r));
    await guard.onSample(t + 600, 10);
    await guard.onSample(t + 800, 95); // done, but too recent
    expect(evidence).toHaveLength(1);
    await guard.onSample(t + EVIDENCE_MIN_GAP_MS, 10);
    await guard.onSample(t + EVIDENCE_MIN_GAP_MS + 200, 95); // long enough after
    expect(evidence).toHaveLength(2);
    await guard.close();
  });
});
