// An operator's stop (corralctl stop) outlasts the supervisor: its next
// start, after a stop of its own or a SIGKILL, leaves the plugin stopped and
// says why, until an operator starts it. The supervisor's own stops record
// nothing; a plugin removed from the config and added back runs.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor | undefined;
afterEach(async () => {
  await supervisor?.cleanup();
  supervisor = undefined;
});

const STOPPED = /^by an operator \(spiffe:\/\/test\.corral\.local\/admin\/local-root\) at \d{4}-\d\d-\d\dT[\d:.]+Z; kept stopped across restarts of the supervisor until corralctl start greeter$/;

describe("an operator's stop", () => {
  it("keeps the plugin stopped across restarts of the supervisor until an operator starts it", async () => {
    supervisor = await TestSupervisor.start({
      plugins: [
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
        { name: "bystander", binary: plugins.slowdrain, apiVersion: "1.0" },
      ],
    });
    const sup = supervisor;
    const ctl = (...args: string[]) => corralctl(["--config", sup.configFile, ...args]);
    expect((await ctl("stop", "greeter")).code).toBe(0);
    expect((await sup.plugin("greeter")).reason).toMatch(STOPPED);

    // A stop of the supervisor's own, then a SIGKILL: each next start leaves it stopped.
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      await sup.stop(signal);
      await sup.start();
      const greeter = await sup.plugin("greeter");
      expect({ signal, state: greeter.state, instance: greeter.instance }).toEqual({ signal, state: "stopped", instance: null });
      expect(greeter.reason).toMatch(STOPPED);
      expect((await sup.plugin("bystander")).state).toBe("ready");
      expect(sup.logs.some((l) => l.plugin === "greeter" && typeof l.msg === "string" && STOPPED.test(l.msg.replace(/^plugin not started: stopped /, "")))).toBe(true);
    }

    // Started by an operator: the stop is over, and the supervisor's own stop records none.
    expect((await ctl("start", "greeter")).code).toBe(0);
    expect((await sup.plugin("greeter")).reason).toBe("");
    await sup.stop("SIGTERM");
    await sup.start();
    expect((await sup.plugin("greeter")).state).toBe("ready");
  }, 90_000);

  it("is forgotten when the plugin is removed from the config: added back, it runs", async () => {
    supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    const sup = supervisor;
    const ctl = (...args: string[]) => corralctl(["--config", sup.configFile, ...args]);
    expect((await ctl("stop", "greeter")).code).toBe(0);
    const withGreeter = await readFile(sup.configFile, "utf8");
    const doc = parse(withGreeter) as { plugins: unknown[] };
    doc.plugins = [];
    await writeFile(sup.configFile, stringify(doc));
    expect((await ctl("reload")).code).toBe(0);
    await writeFile(sup.configFile, withGreeter);
    expect((await ctl("reload")).code).toBe(0);
    expect((await sup.plugin("greeter")).state).toBe("ready");
    await expect(readFile(path.join(sup.stateDir, "plugins", "greeter", "stopped"), "utf8")).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
