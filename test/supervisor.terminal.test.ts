// A supervisor run from a terminal (`npm start`, `corral serve` in a shell):
// the terminal signals the whole foreground job, every process in its
// process group, on Ctrl-C (SIGINT) and on hang-up (SIGHUP). Those signals
// are the supervisor's to act on (drain everything; reload the config), and
// must not reach the plugins' launchers and sandbox inits behind its back:
// a launcher killed by SIGHUP takes its plugin with it.
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readProcStat, type ProcStat } from "../supervisor/proc-stat.ts";
import { corralctl, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echo = { name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" };

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

/** A running process's /proc/PID/stat. */
function stat(pid: number): ProcStat {
  const found = readProcStat(pid);
  if (!found) throw new Error(`no process ${pid}`);
  return found;
}

describe("a supervisor in a terminal", () => {
  it("keeps its plugins' launchers and inits out of its session, so a hang-up reloads the config and kills nothing", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [echo], ownProcessGroup: true });
    running.push(supervisor);
    const before = (await supervisor.plugin("echo")).instance!;

    // The plugin's parent is the sandbox's init, whose parent is the launcher.
    const init = stat(before.pid!).ppid;
    const launcher = stat(init).ppid;
    for (const [what, pid] of [["init", init], ["launcher", launcher]] as const) {
      expect(stat(pid).session, what).not.toBe(supervisor.pid);
    }

    supervisor.signalGroup("SIGHUP");
    await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("config reloaded"));
    await new Promise((r) => setTimeout(r, 500)); // a killed launcher's exit would be reported by now
    const after = await supervisor.plugin("echo");
    expect(after.state).toBe("ready");
    expect(after.instance?.id).toBe(before.id);
    expect(supervisor.logs.filter((l) => l.msg === "plugin crashed")).toEqual([]);

    // Ctrl-C: the supervisor drains its plugins and exits cleanly.
    supervisor.signalGroup("SIGINT");
    expect(await supervisor.exited()).toEqual({ code: 0, signal: undefined });
    expect(supervisor.logs.find((l) => l.instance === before.id && l.msg === "plugin exited with status 0")).toBeDefined();
  }, 60_000);

  it("takes a Ctrl-C that npm passes on as well as the terminal (the same signal twice at once) as one: it drains, and leaves nothing", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [echo], ownProcessGroup: true });
    running.push(supervisor);
    const before = (await supervisor.plugin("echo")).instance!;
    // `npm start` execs node: the terminal's SIGINT reaches the group, npm
    // among it, and npm passes it on to its child.
    supervisor.signalGroup("SIGINT");
    // npm's copy comes a moment later: after the first has been taken (two
    // pending at once would merge into one).
    await supervisor.waitForLog((l) => l.msg === "stopping: draining all plugins");
    process.kill(supervisor.pid!, "SIGINT");
    expect(await supervisor.exited()).toEqual({ code: 0, signal: undefined });
    expect(supervisor.logs.find((l) => l.instance === before.id && l.msg === "plugin exited with status 0")).toBeDefined();
    expect(supervisor.logs.some((l) => typeof l.msg === "string" && l.msg.startsWith("second signal"))).toBe(false);
    expect(await supervisor.leftovers()).toEqual([]);
  }, 60_000);

  it("shows nothing a plugin says raw on the operator's terminal: its version's escape sequences are quoted", async () => {
    // A clipboard write (OSC 52), a window title, a line erased and rewritten.
    const forged = "1.0.0\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b]0;owned\u0007\r\u001b[2Kstate: ready";
    const supervisor = await TestSupervisor.start({ plugins: [{ ...echo, env: { ECHO_PLUGIN_VERSION: forged } }] });
    running.push(supervisor);
    const p = await supervisor.waitForPlugin("echo", (s) => s.state === "quarantined");
    expect(p.reason).toContain(`the plugin's version ${JSON.stringify(forged)} is not 128 characters or fewer without control characters`);
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
    for (const args of [["status"], ["describe", "echo"], ["alerts"], ["start", "echo"]]) {
      const r = await ctl(...args);
      // eslint-disable-next-line no-control-regex
      expect(`${r.stdout}${r.stderr}`, args.join(" ")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    expect((await ctl("status")).stdout).toContain("\\u001b]52;c;");
  }, 60_000);
});
