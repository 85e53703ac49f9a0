// Signals the daemon gets from an operator or systemd at moments the
// supervisor's own handlers are not yet in place (while its modules load),
// and one it must never act on: SIGUSR1, which by Node's default opens an
// unauthenticated inspector in the (root) supervisor.
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor | undefined;
afterEach(async () => {
  await supervisor?.cleanup();
  supervisor = undefined;
});

/** The TCP sockets the process `pid` listens on ("address:port"), as ss shows them. */
async function listeningSockets(pid: number): Promise<string[]> {
  const { stdout } = await execa("ss", ["-Hltnp"]);
  return stdout
    .split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3]!)
    .sort();
}

/** Resolves once process pid handles signal number signo (its bit in /proc/PID/status SigCgt). */
async function handlesSignal(pid: number, signo: number): Promise<void> {
  for (;;) {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (caught !== undefined && (BigInt(`0x${caught}`) >> BigInt(signo - 1)) & 1n) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the daemon's signals", () => {
  it("a SIGHUP while the daemon's modules still load is held, not fatal, and reloaded once started", async () => {
    supervisor = await TestSupervisor.create({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    const s = supervisor;
    const started = s.start();
    started.catch(() => {});
    // Once the daemon handles SIGHUP (early-signals.ts holds it from its
    // first module on), while its other modules still load (about a second):
    // a fixed wait was too short on a loaded machine, and SIGHUP's default ended it.
    await handlesSignal(s.pid!, 1);
    process.kill(s.pid!, "SIGHUP");
    await started; // without the hold: "supervisor exited (SIGHUP) before ready"
    expect(s.logs.some((l) => l.msg === "SIGHUP while starting: reloading once started")).toBe(true);
    const ready = s.logs.findIndex((l) => l.msg.startsWith("supervisor ready"));
    const reloaded = await s.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("config reloaded:"), 15_000);
    expect(s.logs.indexOf(reloaded)).toBeGreaterThan(ready);
    expect((await s.plugin("greeter")).state).toBe("ready");
  }, 60_000);

  it("a SIGUSR1 opens no inspector and ends nothing", async () => {
    supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    const s = supervisor;
    const before = await listeningSockets(s.pid!);
    process.kill(s.pid!, "SIGUSR1");
    await new Promise((r) => setTimeout(r, 1000));
    expect(await listeningSockets(s.pid!)).toEqual(before); // by Node's default, 127.0.0.1:9229
    expect((await s.plugin("greeter")).state).toBe("ready");
  }, 60_000);

  it("a SIGTERM while a plugin's first attempt is under way gives it up and drains what is ready, not waiting out its startTimeout", async () => {
    supervisor = await TestSupervisor.create({
      plugins: [
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
        { name: "hang", binary: path.join(repoRoot, "build/test-plugins/echo-hang"), apiVersion: "1.0", startTimeout: "5m" },
      ],
    });
    const s = supervisor;
    const started = s.start({ readyWithinMs: 60_000 });
    started.catch(() => {});
    await s.waitForLog((l) => l.plugin === "greeter" && l.msg === "plugin ready", 30_000);
    await s.waitForLog((l) => l.plugin === "hang" && typeof l.msg === "string" && l.msg.startsWith("plugin process started"), 30_000);
    // Bounded well below the 5 minutes: SIGKILLed (and failing here) if the stop waited for the attempt.
    expect(await s.stop("SIGTERM", 30_000)).toEqual({ code: 0, signal: undefined });
    const greeterStopped = s.logs.findIndex((l) => l.plugin === "greeter" && l.msg === "plugin stopped");
    expect(greeterStopped).toBeGreaterThan(-1); // drained, not killed with the supervisor
    expect(s.logs.some((l) => l.msg === "supervisor stopped")).toBe(true);
    expect(await s.leftovers()).toEqual([]);
  }, 90_000);
});
