// parkThenStop with a real process to stop and a fake cgroup: the SIGSTOP
// comes only once the park has answered, and without the grace again when
// go-shim said its connections were closed (answer_when_closed); after the
// grace when it only said it had begun (an older go-shim).
import { spawn, type ChildProcess } from "node:child_process";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import { parkThenStop } from "../../supervisor/plugin/park-then-stop.ts";
import { readProcStat } from "../../supervisor/proc-stat.ts";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
});

/** A process that sleeps a minute, killed after the test. */
function spawnSleeper(): ChildProcess {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  return child;
}

/** Parks, then stops the processes a cgroup whose list is `pids` holds (no CPU limit to lift, no grace). */
function stopAt(pids: () => Promise<number[]>) {
  const cgroup = { pids, setCpu: async () => {} } as unknown as InstanceCgroup;
  return parkThenStop({ cgroup, cpuCores: Infinity, log: pino({ level: "silent" }), park: async () => true, graceMs: 0, signalled: () => {} });
}

/** Parks a real idle process with a park that takes `parkMs` and says `closed`; returns what happened, in order. */
async function run(parkMs: number, closed: boolean, graceMs: number) {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  children.push(child);
  const events: string[] = [];
  const cgroup = {
    pids: async () => [child.pid!],
    setCpu: async (cores: number) => void events.push(`cpu ${cores}`),
  } as unknown as InstanceCgroup;
  const started = Date.now();
  let parkedAt = 0;
  const stopped = await parkThenStop({
    cgroup,
    cpuCores: 0.5,
    log: pino({ level: "silent" }),
    park: async () => {
      events.push("park");
      await new Promise((r) => setTimeout(r, parkMs));
      parkedAt = Date.now();
      events.push(closed ? "closed" : "begun");
      return closed;
    },
    graceMs,
    signalled: () => events.push(`stopped (${readProcStat(child.pid!)?.state === "T" || "signalled"})`),
  });
  return { events, stopped, afterPark: Date.now() - parkedAt, total: Date.now() - started, child };
}

describe("park, then stop", () => {
  it("stops once go-shim has closed the connections, the CPU limit lifted throughout", async () => {
    const { events, stopped, afterPark, child } = await run(100, true, 5_000);
    expect(events.slice(0, 3)).toEqual(["cpu Infinity", "park", "closed"]);
    expect(events.at(-1)).toBe("cpu 0.5");
    expect(stopped).toMatchObject({ processes: 1, verified: true });
    expect(readProcStat(child.pid!)?.state).toBe("T");
    // Not a further 5 s grace: the connections are closed already.
    expect(afterPark).toBeLessThan(2_500);
  });

  it("waits the grace out when go-shim only says it has begun", async () => {
    const { events, total } = await run(0, false, 300);
    expect(events.slice(0, 3)).toEqual(["cpu Infinity", "park", "begun"]);
    expect(total).toBeGreaterThanOrEqual(300);
  });
});

describe("the stop of a plugin that forks", () => {
  it("stops a process forked after the cgroup's list was read, reading it again until every process listed is stopped", async () => {
    const parent = spawnSleeper();
    let forked: ChildProcess | undefined;
    // The first read misses the child the plugin forks just after it.
    const stopped = await stopAt(async () => {
      if (!forked) {
        forked = spawnSleeper();
        await new Promise((r) => forked!.once("spawn", r));
        return [parent.pid!];
      }
      return [parent.pid!, forked.pid!];
    });
    expect(stopped).toEqual({ processes: 2, verified: true });
    expect(readProcStat(parent.pid!)?.state).toBe("T");
    expect(readProcStat(forked!.pid!)?.state).toBe("T");
  });

  it("stops again a process another continued after it stopped (kill(0, SIGCONT) from one not stopped yet)", async () => {
    const [first, second] = [spawnSleeper(), spawnSleeper()];
    await Promise.all([first, second].map((c) => new Promise((r) => c.once("spawn", r))));
    let reads = 0;
    const stopped = await stopAt(async () => {
      // By the second read the first is stopped; the one not stopped yet continues it.
      if (++reads === 2) {
        for (let i = 0; i < 200 && readProcStat(first.pid!)?.state !== "T"; i++) await new Promise((r) => setTimeout(r, 1));
        first.kill("SIGCONT");
      }
      return [first.pid!, second.pid!];
    });
    expect(stopped).toEqual({ processes: 2, verified: true });
    expect(readProcStat(first.pid!)?.state).toBe("T");
    expect(readProcStat(second.pid!)?.state).toBe("T");
  });
});
