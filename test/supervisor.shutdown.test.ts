// Nothing outlives the supervisor: a SIGTERM drains and removes everything;
// a SIGKILL takes the plugins down with it, and the next start sweeps what
// was left on disk and in cgroupfs.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { descendants } from "./helpers/processes.ts";
import { execa } from "execa";
import { parse, stringify } from "yaml";
import { pluginCredentials } from "../client/index.ts";
import { echoClient, makeRelease, sha256File } from "./helpers/echo.ts";
import { corralBin, corralctl, corralctlBin, nodeBin, plugins, processAlive, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

const twoPlugins = [
  { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
  { name: "other", binary: plugins.slowdrain, apiVersion: "1.0" },
];

describe("supervisor shutdown", () => {
  it("SIGTERM drains every plugin and exits 0 leaving no process, cgroup, mount or socket", async () => {
    const supervisor = await TestSupervisor.start({ plugins: twoPlugins });
    running.push(supervisor);
    const pids = await descendants(supervisor.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(6); // launcher, init, plugin, twice (and a warm spare launcher)
    expect(await supervisor.leftovers()).toEqual(expect.arrayContaining([expect.stringMatching(/^cgroup /)]));

    const exit = await supervisor.stop("SIGTERM");
    expect(exit).toEqual({ code: 0, signal: undefined });
    // A killed sandbox's init is reaped by the host's PID 1 once its
    // launcher is gone: give it a moment.
    const deadline = Date.now() + 5000;
    while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pids.filter(processAlive)).toEqual([]);
    expect(await supervisor.leftovers()).toEqual([]);
    const drained = supervisor.logs.filter((l) => l.to === "stopped").map((l) => l.plugin).sort();
    expect(drained).toEqual(["greeter", "other"]);
    // Each plugin exited by itself after the drain request, not by a kill.
    expect(supervisor.logs.filter((l) => l.msg === "plugin exited with status 0")).toHaveLength(2);
  });

  it("SIGTERM ends the admin API's follow streams (logs -f, events), and does not wait for their clients", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [twoPlugins[0]!] });
    running.push(supervisor);
    const follow = (...args: string[]) => execa(nodeBin, [corralctlBin, "--config", supervisor.configFile, ...args], { reject: false });
    // Each prints what is there already as soon as its stream is open (a
    // fixed wait was too short for corralctl's start on a busy machine).
    const followers = [follow("events", "--recent", "1"), follow("logs", "greeter", "-f", "--tail", "1")];
    const printed = followers.map((f) => new Promise<void>((resolve) => f.stdout!.once("data", () => resolve())));
    await Promise.race([Promise.all(printed), new Promise((r) => setTimeout(r, 15_000))]);
    expect(followers.map((f) => f.exitCode ?? "running")).toEqual(["running", "running"]);

    // It used to wait for them for good, until systemd's stop timeout killed it.
    const started = Date.now();
    expect(await supervisor.stop("SIGTERM", 20_000)).toEqual({ code: 0, signal: undefined });
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const follower of await Promise.all(followers)) {
      expect(follower.stderr).toMatch(/the supervisor is stopping/);
    }
  });

  it("SIGTERM during a reload does not wait for the reload's plugin that cannot start, and takes no more changes", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
        // Only SIGKILL ends it: the drain takes its stopTimeout, 2 s.
        { name: "stubborn", binary: path.join(repoRoot, "build/test-plugins/stubborn"), apiVersion: "1.0", stopTimeout: "2s" },
      ],
    });
    running.push(supervisor);
    const config = parse(await readFile(supervisor.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    // Never ready: 5 starts of 10 s each before its quarantine.
    config.plugins.push({ name: "hangs", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", env: { ECHO_START_DELAY_MS: "600000" } });
    await writeFile(supervisor.configFile, stringify(config));
    process.kill(supervisor.pid!, "SIGHUP");
    await supervisor.waitForLog((l) => l.msg === "reloading config");
    await new Promise((r) => setTimeout(r, 300));

    const started = Date.now();
    const exit = supervisor.stop("SIGTERM", 60_000);
    await supervisor.waitForLog((l) => l.plugin === "greeter" && l.to === "stopped");
    // Draining: a start now would begin an instance nothing drains.
    const refused = await corralctl(["--config", supervisor.configFile, "start", "greeter"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/the supervisor is stopping/);
    expect(await exit).toEqual({ code: 0, signal: undefined });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await supervisor.leftovers()).toEqual([]);
  }, 90_000);

  it("SIGKILL takes the plugins down with it, and the next start sweeps the leftovers", async () => {
    const supervisor = await TestSupervisor.start({ plugins: twoPlugins });
    running.push(supervisor);
    const pids = await descendants(supervisor.pid!);
    const before = await supervisor.status();
    const instanceIds = before.plugins.map((p) => p.instance!.id);
    const instanceCgroups = supervisor.logs.filter((l) => l.msg === "plugin process started").map((l) => l.cgroup as string);
    expect(instanceCgroups).toHaveLength(2);

    const exit = await supervisor.stop("SIGKILL");
    expect(exit.signal).toBe("SIGKILL");
    // Parent-death signals end launcher, init and (with the pid namespace) the plugin.
    const deadline = Date.now() + 5000;
    while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pids.filter(processAlive)).toEqual([]);
    // What a killed supervisor cannot clean: cgroups, instance dirs, its socket.
    const left = await supervisor.leftovers();
    expect(left).toEqual(expect.arrayContaining([expect.stringMatching(/^cgroup /), `socket ${supervisor.adminSocket}`]));
    for (const id of instanceIds) expect(existsSync(path.join(supervisor.runtimeDir, "instances", id))).toBe(true);

    await supervisor.start();
    const swept = await supervisor.waitForLog((l) => l.msg === "removed leftovers of a previous supervisor");
    // The instances' cgroups, and a warm launcher's if one was waiting.
    const sweptCgroups = swept.cgroups as string[];
    expect(sweptCgroups).toEqual(expect.arrayContaining(instanceCgroups));
    expect(sweptCgroups.filter((n) => !instanceCgroups.includes(n)).every((n) => /^spare-[0-9a-f]{8}$/.test(n))).toBe(true);
    for (const id of instanceIds) expect(existsSync(path.join(supervisor.runtimeDir, "instances", id))).toBe(false);
    const after = await supervisor.status();
    expect(after.plugins.map((p) => p.state)).toEqual(["ready", "ready"]);

    expect((await supervisor.stop("SIGTERM")).code).toBe(0);
    expect(await supervisor.leftovers()).toEqual([]);
  });

  it("takes no change while it sweeps what a killed one left: a start then is refused as such, and works once it is ready", async () => {
    const supervisor = await TestSupervisor.start({ plugins: twoPlugins });
    running.push(supervisor);
    expect((await supervisor.stop("SIGKILL")).signal).toBe("SIGKILL");
    // Enough leftover instance directories that the sweep takes a while.
    const instances = path.join(supervisor.runtimeDir, "instances");
    for (let i = 0; i < 20_000; i++) mkdirSync(path.join(instances, `left-${i}`));
    const starting = supervisor.start();
    // The first answer from the new supervisor (the dead one's socket is still there until it listens).
    let early = await corralctl(["--config", supervisor.configFile, "restart", twoPlugins[0]!.name]);
    while (early.stderr.includes("the Corral daemon is not running")) early = await corralctl(["--config", supervisor.configFile, "restart", twoPlugins[0]!.name]);
    await starting;
    expect(early.code).toBe(3);
    expect(early.stderr).toContain("did not take the call: the supervisor is still starting (removing what a previous one left); try again");
    expect(readdirSync(instances).filter((d) => d.startsWith("left-"))).toEqual([]);
    const later = await corralctl(["--config", supervisor.configFile, "restart", twoPlugins[0]!.name]);
    expect(later.code).toBe(0);
    expect((await supervisor.status()).plugins.map((p) => p.state)).toEqual(["ready", "ready"]);
  }, 120_000);

  it("a bug no code handles is logged as fatal with its stack, and ends the supervisor with its plugins (exit 70)", async () => {
    // A preloaded module plants the bug: a rejected promise nobody awaits,
    // on SIGUSR2, once the supervisor runs.
    const dir = await mkdtemp(path.join(tmpdir(), "corral-bug-"));
    const plant = path.join(dir, "plant.mjs");
    await writeFile(plant, 'process.on("SIGUSR2", () => void Promise.reject(new Error("planted bug")));\n');
    try {
      const supervisor = await TestSupervisor.start({ plugins: [twoPlugins[0]!], env: { NODE_OPTIONS: `--import=${plant}` } });
      running.push(supervisor);
      const pids = await descendants(supervisor.pid!);
      process.kill(supervisor.pid!, "SIGUSR2");
      expect(await supervisor.exited()).toEqual({ code: 70, signal: undefined });
      const fatal = supervisor.logs.find((l) => l.level === "fatal");
      expect(fatal).toMatchObject({ msg: "supervisor bug: an error no code handled; exiting", err: "planted bug" });
      expect(String(fatal!.stack)).toMatch(/^Error: planted bug\n {4}at /);
      const deadline = Date.now() + 5000;
      while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(pids.filter(processAlive)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a second supervisor on the same state directory refuses to start, before it writes there, and leaves the first alone", async () => {
    const first = await TestSupervisor.start({ plugins: twoPlugins.slice(0, 1) });
    running.push(first);
    const { corralBin } = await import("./helpers/supervisor.ts");
    // The CA's CRL and registry, which a second supervisor wrote into before
    // it found the socket taken (its own leaf, a CRL number further on).
    // (The first issues plugin leaves ahead meanwhile: only supervisor leaves are compared.)
    const caFiles = async () => {
      const read = (f: string) => readFile(path.join(first.stateDir, "ca", f), "utf8").catch(() => "");
      const supervisorLeaves = (await read("issued.jsonl")).split("\n").filter((l) => l.includes('"kind":"supervisor"'));
      return [await read("revoked.json"), await read("crl.pem"), supervisorLeaves];
    };
    const before = await caFiles();
    const second = await execa(nodeBin, [corralBin, "serve", "--config", first.configFile], { reject: false, stdin: "ignore" });
    expect(second.exitCode).toBe(1);
    expect(await caFiles()).toEqual(before);
    expect(second.stderr).toContain(`another Corral supervisor (pid ${first.pid}) uses the state directory ${first.stateDir}`);
    expect((await first.plugin("greeter")).state).toBe("ready");
  });

  it("a second supervisor on the same cgroup parent, with a state of its own, refuses to start and kills none of the first's plugins", async () => {
    const first = await TestSupervisor.start({ plugins: twoPlugins.slice(0, 1) });
    running.push(first);
    const before = (await first.plugin("greeter")).instance!;
    // Another checkout's example config, say: its own directories, the same cgroupParent.
    const second = await TestSupervisor.create({ plugins: [] });
    running.push(second);
    const config = parse(await readFile(second.configFile, "utf8")) as { sandbox: { cgroupParent: string } };
    config.sandbox.cgroupParent = first.cgroupParent;
    await writeFile(second.configFile, stringify(config));
    await expect(second.start()).rejects.toThrow(new RegExp(`another Corral supervisor \\(pid ${first.pid}\\) uses the cgroup parent .*${first.cgroupParent} \\(sandbox\\.cgroupParent: ${first.cgroupParent}\\)`));
    // Its sweep would have killed greeter's instance, and its spares'.
    await new Promise((r) => setTimeout(r, 300));
    const after = await first.plugin("greeter");
    expect([after.state, after.instance!.id, after.restarts]).toEqual(["ready", before.id, 0]);
  });

  it("SIGTERM during a hot update lets the replaced instance finish its calls in flight", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "corral-drain-"));
    try {
      const [first, second] = [await makeRelease(echoBinary, work, "a"), await makeRelease(echoBinary, work, "b")];
      const supervisor = await TestSupervisor.start({ plugins: [{ name: "echo", binary: first, apiVersion: "1.0", stopTimeout: "5s" }] });
      running.push(supervisor);
      const client = echoClient((await supervisor.plugin("echo")).address, pluginCredentials("echo", await supervisor.clientPems("drain-test", ["echo"])));
      const old = (await supervisor.plugin("echo")).instance!.id;
      const call = client.unary({ message: "long", sleepMs: 3000, replySize: 0 }, { deadlineMs: 10_000 });
      call.catch(() => {});
      await new Promise((r) => setTimeout(r, 300)); // in flight on the first release's instance
      const deploy = corralctl(["--config", supervisor.configFile, "deploy", "echo", second]);
      // The new instance takes the calls; the old one drains.
      await supervisor.waitForLog((l) => l.msg === "stable address serves" && l.instance !== old, 15_000);
      expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
      const { reply } = await call;
      expect(reply.release).toBe(await sha256File(first));
      await deploy;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("refuses to start, before it writes its state, when the sandboxes' uid range holds a user of the host", async () => {
    const user = await hostUser();
    const supervisor = await TestSupervisor.create({ plugins: [] });
    running.push(supervisor);
    const config = parse(await readFile(supervisor.configFile, "utf8")) as { sandbox: { uidBase: number; uidCount: number } };
    Object.assign(config.sandbox, { uidBase: user.id - 10, uidCount: 20 });
    await writeFile(supervisor.configFile, stringify(config));
    const refusal = `sandbox.uidBase: the sandboxes' ids ${user.id - 10}-${user.id + 9} include user "${user.name}" (${user.id} in /etc/passwd), which a sandbox would share`;
    await expect(supervisor.start()).rejects.toThrow(new RegExp(`${supervisor.configFile}:\\d+:\\d+: ${refusal.replace(/[()]/g, "\\$&")}`));
    expect(existsSync(supervisor.stateDir)).toBe(false);
    // Both validates say so too, before a restart would fail on it.
    const validate = await execa(nodeBin, [corralBin, "validate", supervisor.configFile], { reject: false });
    expect(validate.exitCode).toBe(2);
    expect(validate.stderr).toContain(refusal);
  });

  it("takes over the state directory's lock of a supervisor that was killed", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [] });
    running.push(supervisor);
    expect(await supervisor.stop("SIGKILL")).toEqual({ code: undefined, signal: "SIGKILL" });
    expect(existsSync(path.join(supervisor.stateDir, "supervisor.pid"))).toBe(true);
    await supervisor.start();
    expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
    expect(existsSync(path.join(supervisor.stateDir, "supervisor.pid"))).toBe(false);
  });
});

/** A user of this host with an id a sandbox range could start below (nobody, on Debian). */
async function hostUser(): Promise<{ name: string; id: number }> {
  const users = (await readFile("/etc/passwd", "utf8")).split("\n").map((l) => l.split(":"));
  const found = users.find(([name, , id]) => name && Number(id) >= 1010 && Number(id) < 2 ** 31 - 10);
  if (!found) throw new Error("no user in /etc/passwd with a uid from 1010");
  return { name: found[0]!, id: Number(found[2]) };
}
