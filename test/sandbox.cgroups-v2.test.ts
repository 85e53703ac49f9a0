// The cgroup v2 driver and delegation against the real v2 tree, as well as
// against the fake of test/unit/cgroups-v2.test.ts: killing (cgroup.kill,
// and the freeze-then-signal path of kernels without it), removing,
// sweeping what an earlier supervisor left, refusing a tree without the
// controllers, and leaving the tree's root as it is.
//
// On a hybrid host the v2 tree has no controllers, so the instance cgroups
// here are made with mkdir beneath the driver's parent, as create() would
// lay them out, without limits. Needs root and a mounted v2 tree (skipped
// elsewhere). Everything is made beneath this process's own v2 cgroup; each
// process is started here, moved into a cgroup made here, and killed by pid
// after each test, also when it fails; then the cgroups are removed.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareV2Delegation } from "../sandbox/cgroups/delegation.ts";
import { nodeCgroupFs, type CgroupFs } from "../sandbox/cgroups/fs.ts";
import { V2CgroupDriver, type V2InstanceCgroup } from "../sandbox/cgroups/v2.ts";
import { ownV2Cgroup } from "./helpers/cgroup-v2.ts";
import { killStarted } from "./helpers/processes.ts";

const own = process.getuid?.() === 0 ? await ownV2Cgroup() : undefined;
const base = own?.dir;
const controllers = base === undefined ? "" : readFileSync(path.join(base, "cgroup.controllers"), "utf8");
const withoutControllers = !["memory", "pids", "cpu"].every((c) => controllers.split(/\s+/).includes(c));

/** The real cgroupfs, recording what the driver writes and signals; kernels without cgroup.kill can be played. */
class WatchedFs implements CgroupFs {
  readonly writes: [string, string][] = [];
  /** Each signal the driver sent: the pid, and whether its cgroup was being frozen, and was frozen, then. */
  readonly kills: { pid: number; freezing: boolean; frozen: boolean }[] = [];
  withoutKillFile = false;

  readFile = (p: string) => nodeCgroupFs.readFile(p);
  open = (p: string) => nodeCgroupFs.open(p);
  mkdir = (p: string) => nodeCgroupFs.mkdir(p);
  rmdir = (p: string) => nodeCgroupFs.rmdir(p);
  subdirs = (p: string) => nodeCgroupFs.subdirs(p);

  async writeFile(p: string, data: string): Promise<void> {
    this.writes.push([path.basename(p), data]);
    await nodeCgroupFs.writeFile(p, data);
  }

  async exists(p: string): Promise<boolean> {
    if (this.withoutKillFile && path.basename(p) === "cgroup.kill") return false;
    return nodeCgroupFs.exists(p);
  }

  kill(pid: number, signal: NodeJS.Signals): boolean {
    const dir = cgroupOf(pid);
    const read = (file: string) => (dir === undefined ? "" : readFileSync(path.join(dir, file), "utf8"));
    this.kills.push({ pid, freezing: read("cgroup.freeze").trim() === "1", frozen: /^frozen 1$/m.test(read("cgroup.events")) });
    return nodeCgroupFs.kill(pid, signal);
  }

  written(file: string): string[] {
    return this.writes.filter(([f]) => f === file).map(([, data]) => data);
  }
}

let fs: WatchedFs;
let driver: V2CgroupDriver;
let started: ResultPromise[] = [];
/** Directories made here, removed after each test (deepest first) if the driver left them. */
let made: string[] = [];

beforeEach(() => {
  fs = new WatchedFs();
  driver = new V2CgroupDriver({ base: base!, parent: `corral-test-${process.pid}-${randomBytes(3).toString("hex")}`, fs });
});

afterEach(async () => {
  // The kernel kills what is in the cgroups made here, forks included;
  // then the shells started here, by pid, if they were not in one yet.
  made.reverse(); // deepest first
  for (const dir of made) {
    if (existsSync(path.join(dir, "cgroup.kill"))) await writeFile(path.join(dir, "cgroup.kill"), "1").catch(() => {});
  }
  await killStarted(started);
  started = [];
  for (const dir of made) {
    for (let i = 0; i < 250 && existsSync(dir); i++) {
      await rmdir(dir).catch(() => sleep(20));
    }
  }
  made = [];
});

/** An instance cgroup laid out as create() lays it out: <base>/<parent>/<name>. */
async function instance(name: string, d: V2CgroupDriver = driver): Promise<V2InstanceCgroup> {
  if (!existsSync(d.parentDir)) {
    await mkdir(d.parentDir);
    made.push(d.parentDir);
  }
  const cgroup = d.open(name);
  await mkdir(cgroup.dir);
  made.push(cgroup.dir);
  return cgroup;
}

/**
 * Starts a shell waiting on its stdin, moves it into the cgroup, then lets
 * it fork `children` sleeps: all of them are in the cgroup. Resolves once
 * the cgroup lists the shell and every sleep.
 */
async function runIn(cgroup: V2InstanceCgroup, children: number): Promise<{ child: ResultPromise; pids: number[] }> {
  const script = `read _ && { ${"sleep 300 & ".repeat(children)}wait; }`;
  const child = execa("sh", ["-c", script], { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false });
  started.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error("sh did not start");
  await writeFile(path.join(cgroup.dir, "cgroup.procs"), String(pid));
  expect(await cgroup.pids()).toEqual([pid]);
  child.stdin.end("go\n");
  for (let i = 0; i < 250; i++) {
    const pids = await cgroup.pids();
    if (pids.length === children + 1) return { child, pids };
    await sleep(20);
  }
  throw new Error(`the shell in ${cgroup.dir} did not fork ${children} sleeps: ${(await cgroup.pids()).join(" ")}`);
}

describe.runIf(base !== undefined)("cgroup v2 driver on the real v2 tree", () => {
  it("kills a process and what it forked with one write to cgroup.kill, then removes the cgroup", async () => {
    const cgroup = await instance("busy");
    const { child, pids } = await runIn(cgroup, 3);
    expect(pids).toContain(child.pid);

    await cgroup.remove();

    expect((await child).signal).toBe("SIGKILL");
    expect(fs.written("cgroup.kill")[0]).toBe("1");
    expect(fs.kills).toEqual([]); // the kernel did the killing
    expect(existsSync(cgroup.dir)).toBe(false);
    for (const pid of pids) expect(cgroupOf(pid), `pid ${pid}`).not.toBe(cgroup.dir);
  });

  it("without cgroup.kill (Linux < 5.14), freezes the cgroup, signals each process while frozen, and thaws it", async () => {
    fs.withoutKillFile = true;
    const cgroup = await instance("old-kernel");
    const { child, pids } = await runIn(cgroup, 2);

    await cgroup.killAll();

    expect((await child).signal).toBe("SIGKILL");
    expect(await cgroup.pids()).toEqual([]);
    expect(fs.written("cgroup.kill")).toEqual([]);
    expect(fs.kills.map((k) => k.pid).sort()).toEqual([...pids].sort());
    // Every process was frozen when the first was signalled; a signalled one
    // wakes to die, so the cgroup stops reading frozen, but stays freezing.
    expect(fs.kills[0]!.frozen).toBe(true);
    expect(fs.kills.every((k) => k.freezing)).toBe(true);
    expect(fs.written("cgroup.freeze")).toEqual(["1", "0"]);
    expect((await readFile(path.join(cgroup.dir, "cgroup.freeze"), "utf8")).trim()).toBe("0");
    await cgroup.destroy();
    expect(existsSync(cgroup.dir)).toBe(false);
  });

  it("removes an empty cgroup with one rmdir, writing and signalling nothing; again is a no-op", async () => {
    const cgroup = await instance("ended");
    await cgroup.remove();
    expect(existsSync(cgroup.dir)).toBe(false);
    await cgroup.remove();
    expect(fs.writes).toEqual([]);
    expect(fs.kills).toEqual([]);
  });

  it("sweeps the instances an earlier supervisor left, killing their processes, then removes its parent", async () => {
    const parent = `corral-test-${process.pid}-${randomBytes(3).toString("hex")}`;
    const earlier = new V2CgroupDriver({ base: base!, parent, fs });
    await instance("left-1", earlier);
    const { child } = await runIn(await instance("left-2", earlier), 2);

    const restarted = new V2CgroupDriver({ base: base!, parent, fs });
    expect(await restarted.list()).toEqual(["left-1", "left-2"]);
    expect(await restarted.sweep()).toEqual(["left-1", "left-2"]);
    expect((await child).signal).toBe("SIGKILL");
    expect(await restarted.list()).toEqual([]);
    expect(existsSync(restarted.parentDir)).toBe(true);
    await restarted.removeParent();
    expect(existsSync(restarted.parentDir)).toBe(false);
    await restarted.removeParent(); // idempotent
  });

  it.runIf(withoutControllers)("refuses to create an instance where the controllers are not delegated, naming them, and leaves nothing", async () => {
    await expect(driver.create("limited", { memoryBytes: 64 * 1024 * 1024, swapBytes: 0, pids: 32, cpu: 1 })).rejects.toThrow(
      /^cgroup v2 controllers (memory|pids|cpu)(, (memory|pids|cpu))* are not available in \/.+; they must be delegated to the supervisor's cgroup$/,
    );
    expect(existsSync(driver.parentDir)).toBe(false);
    expect(fs.written("cgroup.subtree_control")).toEqual([]);
  });
});

describe.runIf(base !== undefined && withoutControllers)("cgroup v2 delegation on a v2 tree without the controllers", () => {
  it("refuses, moving no process and making no leaf; the tree's root is left as it is", async () => {
    // A stand-in supervisor: a process started here, in a cgroup made here.
    const cgroup = await instance("supervisor-cgroup");
    const { child, pids } = await runIn(cgroup, 1);
    await expect(prepareV2Delegation({ own: cgroup.dir, fs, pid: child.pid! })).rejects.toThrow(
      /^cgroup v2 controllers .* are not available in \/.+supervisor-cgroup \(it has: .*\); they must be delegated to the supervisor's cgroup$/,
    );
    expect(await cgroup.pids()).toEqual(pids);
    expect(await fs.subdirs(cgroup.dir)).toEqual([]);
    expect(fs.writes).toEqual([]);

    // The root has no cgroup.type: exempt from "no internal processes", nothing to move.
    const root = path.join(base!, path.relative(own!.path, "/"));
    if (existsSync(path.join(root, "cgroup.type"))) return; // this process's tree is a cgroup namespace's, not the root
    expect(await prepareV2Delegation({ own: root, fs, pid: child.pid! })).toEqual({ base: root, leaf: root, moved: false });
    expect(await cgroup.pids()).toEqual(pids);
    expect(fs.writes).toEqual([]);
  });
});

/** The v2 cgroup directory a process is in now; undefined once it is gone. */
function cgroupOf(pid: number): string | undefined {
  try {
    const now = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
    return now === undefined ? undefined : path.join(base!, path.relative(own!.path, now));
  } catch {
    return undefined;
  }
}
