// Signals the daemon gets from an operator or systemd at moments the
// supervisor's own handlers are not yet in place (while its modules load),
// and one it must never act on: SIGUSR1, which by Node's default opens an
// unauthenticated inspector in the (root) supervisor.
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { plugins, TestSupervisor } from "./helpers/supervisor.ts";

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

describe("the daemon's signals", () => {
  it("a SIGHUP while the daemon's modules still load is held, not fatal, and reloaded once started", async () => {
    supervisor = await TestSupervisor.create({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    const s = supervisor;
    const started = s.start();
    started.catch(() => {});
    await new Promise((r) => setTimeout(r, 150)); // Node is up; the supervisor's modules are still being read
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
});
