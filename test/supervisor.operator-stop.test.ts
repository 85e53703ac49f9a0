// An operator's stop (corralctl stop) outlasts the supervisor: its next
// start, after a stop of its own or a SIGKILL, leaves the plugin stopped and
// says why, until an operator starts it. The supervisor's own stops record
// nothing; a plugin removed from the config and added back runs.
import { execa } from "execa";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor | undefined;
afterEach(async () => {
  await supervisor?.cleanup();
  supervisor = undefined;
});

/** A supervisor of greeter alone, and where an operator's stop of greeter is recorded. */
async function startGreeter() {
  supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
  return { sup: supervisor, record: path.join(supervisor.stateDir, "plugins", "greeter", "stopped") };
}

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
    const { sup, record } = await startGreeter();
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
    expect(existsSync(record)).toBe(false);
  }, 60_000);

  it("ends as the later of a stop and a start sent together says, its record with it, and never records a stop the plugin does not keep", async () => {
    const { sup, record } = await startGreeter();
    const admin = await connectAdmin(await resolveEndpoint({ config: sup.configFile }));
    const rpc = (method: "Start" | "Stop") =>
      new Promise<void>((resolve) => admin[method]({ plugin: "greeter" }, { deadline: new Date(Date.now() + 30_000) }, () => resolve()));
    try {
      const outcomes = new Set<string>();
      for (let round = 0; round < 24; round++) {
        const gap = round % 8;
        const [first, second] = round % 2 === 0 ? (["Stop", "Start"] as const) : (["Start", "Stop"] as const);
        await Promise.all([rpc(first), new Promise((r) => setTimeout(r, gap)).then(() => rpc(second))]);
        const greeter = await sup.plugin("greeter");
        const kept = existsSync(record);
        outcomes.add(`${greeter.state} ${kept}`);
        // Stopped with its record and its reason, or running without either.
        expect({ round, state: greeter.state, kept, reasonSaysKept: STOPPED.test(greeter.reason) }).toEqual(
          greeter.state === "stopped" ? { round, state: "stopped", kept: true, reasonSaysKept: true } : { round, state: "ready", kept: false, reasonSaysKept: false },
        );
      }
    } finally {
      admin.close();
    }
  }, 120_000);

  it("of a plugin a reload is adding leaves it added and stopped, its record kept, not started behind the operator's back", async () => {
    const { sup, record } = await startGreeter();
    const withGreeter = await readFile(sup.configFile, "utf8");
    const without = parse(withGreeter) as { plugins: unknown[] };
    without.plugins = [];
    const admin = await connectAdmin(await resolveEndpoint({ config: sup.configFile }));
    try {
      for (let round = 0; round < 4; round++) {
        await writeFile(sup.configFile, stringify(without));
        expect((await corralctl(["--config", sup.configFile, "reload"])).code).toBe(0);
        await writeFile(sup.configFile, withGreeter);
        const reload = new Promise<{ added: string[]; failed: string[] }>((resolve, reject) =>
          admin.Reload({}, { deadline: new Date(Date.now() + 30_000) }, (err, r) => (err ? reject(err) : resolve(r as { added: string[]; failed: string[] }))),
        );
        let stopped = false;
        let answered = false;
        void reload.finally(() => (answered = true));
        // Stop as soon as the reload has it in the set (NOT_FOUND until then).
        while (!stopped && !answered) {
          stopped = await new Promise<boolean>((resolve) => admin.Stop({ plugin: "greeter" }, { deadline: new Date(Date.now() + 30_000) }, (err) => resolve(!err)));
        }
        const result = await reload;
        expect(result.failed).toEqual([]);
        expect(result.added).toEqual(["greeter"]);
        const greeter = await sup.plugin("greeter");
        if (stopped) expect({ round, state: greeter.state, kept: existsSync(record) }).toEqual({ round, state: "stopped", kept: true });
        else expect({ round, state: greeter.state, kept: existsSync(record) }).toEqual({ round, state: "ready", kept: false });
        await corralctl(["--config", sup.configFile, "start", "greeter"]);
      }
    } finally {
      admin.close();
    }
  }, 120_000);

  it("that cannot be recorded stops the plugin, and says the stop will not outlast the supervisor", async () => {
    const { sup, record } = await startGreeter();
    const dir = path.dirname(record);
    await execa("chattr", ["+i", dir]); // no new entry, for root too
    try {
      const stop = await corralctl(["--config", sup.configFile, "stop", "greeter"]);
      expect(stop.code).toBe(1);
      expect(stop.stderr).toMatch(/^corralctl: plugin greeter is stopped, but its stop could not be recorded \(.*EPERM.*\): the supervisor's next start will start it\n$/);
      expect((await sup.plugin("greeter")).state).toBe("stopped");
    } finally {
      await execa("chattr", ["-i", dir]);
    }
  }, 60_000);
});
