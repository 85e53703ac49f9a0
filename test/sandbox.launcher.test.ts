// The real sandbox: corral-sandbox run, started through launchSandbox, with
// real namespaces and real cgroups (v1) beneath this process's own. Needs
// root. Every test removes its cgroups, processes and directories.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, readlink, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CgroupDriver, InstanceCgroup } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { launchSandbox, SandboxSetupError, type LaunchOptions, type SandboxExit, type SandboxProcess } from "../sandbox/launcher.ts";
import { EventParseError, parseEvent, type SandboxSpec } from "../sandbox/spec.ts";
import { ownV2Cgroup } from "./helpers/cgroup-v2.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const LAUNCHER = path.join(REPO, "build/bin/corral-sandbox");
const PROBE = path.join(REPO, "build/test-plugins/probe");
const UID = 200_000 + (process.pid % 1000); // unprivileged, distinct per test process
const LIMITS = { memoryBytes: 256 * 1024 * 1024, swapBytes: 0, pids: 128, cpu: 0.5 };
const RLIMITS = { nofile: 256, nproc: 64, fsizeBytes: 16 * 1024 * 1024 };
/** The parts of /proc the sandbox makes read-only, those this kernel has. */
const READ_ONLY_PROC = ["sys", "sysrq-trigger", "irq", "bus", "fs"].filter((name) => existsSync(`/proc/${name}`));

beforeAll(async () => {
  // Build what is tested, so a stale binary cannot pass for the current code.
  const env = { CGO_ENABLED: "0" };
  await execa("go", ["build", "-trimpath", "-o", LAUNCHER, "./sandbox/cmd/corral-sandbox"], { cwd: REPO, env });
  await execa("go", ["build", "-trimpath", "-o", PROBE, "./test/plugins/probe"], { cwd: REPO, env });
}, 120_000);

let driver: CgroupDriver;
let instanceDir: string;
let launched: SandboxProcess[];
let tempDirs: string[];
let hostMounts: string[];
let instances = 0;

beforeEach(async () => {
  tempDirs = [];
  hostMounts = [];
  driver = await openCgroupDriver({ parent: `corral-test-${process.pid}-${randomBytes(3).toString("hex")}` });
  instanceDir = await mkdtemp(path.join(tmpdir(), "corral-instance-"));
  await chown(instanceDir, UID, UID);
  await chmod(instanceDir, 0o700);
  launched = [];
});

afterEach(async () => {
  for (const sandbox of launched) {
    sandbox.kill();
    await sandbox.exited;
  }
  await driver.removeParent(); // kills anything left in the cgroups first
  for (const mount of hostMounts.reverse()) await execa("umount", ["--lazy", mount], { reject: false });
  for (const dir of [instanceDir, ...tempDirs]) await rm(dir, { recursive: true, force: true });
});

/** A directory of its own for one test, removed after it; beneath /tmp unless parent says otherwise. */
async function tempDir(prefix: string, parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(parent, prefix));
  tempDirs.push(dir);
  return dir;
}

interface Running {
  sandbox: SandboxProcess;
  cgroup: InstanceCgroup;
  spec: SandboxSpec;
  lines: Lines;
}

type Overrides = Partial<SandboxSpec> | ((cgroup: InstanceCgroup) => Partial<SandboxSpec>);

async function launch(args: string[], overrides: Overrides = {}, options: Partial<LaunchOptions> = {}): Promise<Running> {
  const cgroup = await driver.create(`instance-${instances++}`, LIMITS); // counted before the await: launches may run side by side
  const spec = probeSpec(args, cgroup, typeof overrides === "function" ? overrides(cgroup) : overrides);
  const sandbox = launchSandbox(spec, { launcherPath: LAUNCHER, ...options });
  launched.push(sandbox);
  const lines = new Lines();
  sandbox.onOutput((stream, line) => lines.add(`${stream}: ${line}`));
  return { sandbox, cgroup, spec, lines };
}

function probeSpec(args: string[], cgroup: InstanceCgroup, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    binary: PROBE,
    args,
    env: { CORRAL_INSTANCE_DIR: "/corral", HOME: "/tmp", PATH: "/", GREETING: "hello there" },
    instanceDir,
    hostname: "probe-host",
    uid: UID,
    gid: UID,
    workspaceBytes: 8 * 1024 * 1024,
    cgroupProcs: cgroup.procsFiles,
    network: "none",
    readOnlyPaths: [],
    stdin: "null",
    rlimits: RLIMITS,
    ...overrides,
  };
}

/** Each mount point of a mountinfo, with its mount options and what follows " - " (type, source, super options). */
function mountsOf(mountinfo: string): Map<string, string> {
  return new Map(
    mountinfo
      .trim()
      .split("\n")
      .map((line) => {
        const [pre, post] = line.split(" - ");
        const fields = pre!.split(" ");
        return [fields[4]!, `${fields[5]} ${post}`];
      }),
  );
}

/** The root (the path within its filesystem) of the mount at mountPoint. */
function mountRoot(mountinfo: string, mountPoint: string): string | undefined {
  const fields = mountinfo.split("\n").map((line) => line.split(" "));
  return fields.find((f) => f[4] === mountPoint)?.[3];
}

/** Output lines, and a way to wait for one. */
class Lines {
  readonly all: string[] = [];
  add(line: string) {
    this.all.push(line);
  }
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.all) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (Date.now() > until) throw new Error(`no line matched ${pattern}; got ${JSON.stringify(this.all)}`);
      await sleep(10);
    }
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

async function status(pid: number): Promise<Map<string, string> | undefined> {
  const text = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  return new Map(text.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
}

/** Alive: it exists and is not a zombie waiting to be reaped. */
async function alive(pid: number): Promise<boolean> {
  const state = (await status(pid))?.get("State");
  return state !== undefined && !state.startsWith("Z");
}

/**
 * A process leaves cgroup.procs as it starts exiting, a moment before it is
 * a zombie: so wait for that too.
 */
async function noneAlive(pids: number[]): Promise<boolean> {
  for (const pid of pids) if (await alive(pid)) return false;
  return true;
}

describe("sandbox launcher", () => {
  it("runs the plugin as an unprivileged uid in new namespaces and in its cgroup, with the limits", async () => {
    const { sandbox, cgroup, lines } = await launch(["sleep"]);
    const init = await sandbox.init;
    const { pid } = await sandbox.started;
    await lines.waitFor(/^stdout: sleeping$/);

    expect((await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0")).toEqual(["/plugin", "sleep", ""]);
    for (const ns of ["pid", "mnt", "net", "user", "ipc", "uts", "cgroup"]) {
      expect(await readlink(`/proc/${pid}/ns/${ns}`), ns).not.toBe(await readlink(`/proc/self/ns/${ns}`));
    }
    const st = (await status(pid))!;
    expect(st.get("Uid")!.split(/\s+/)).toEqual([UID, UID, UID, UID].map(String));
    expect(st.get("Gid")!.split(/\s+/)).toEqual([UID, UID, UID, UID].map(String));
    expect(st.get("NSpid")!.split(/\s+/)).toHaveLength(2);
    expect((await status(init.pid))!.get("NSpid")!.split(/\s+/)).toEqual([String(init.pid), "1"]);
    expect((await readdir(`/proc/${pid}/fd`)).sort()).toEqual(["0", "1", "2"]);

    // Its cgroup is the instance cgroup in every hierarchy, holding the init and the plugin.
    const memberships = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n");
    const dirs = cgroup.procsFiles.map((file) => path.dirname(file));
    for (const controller of ["memory", "cpu", "pids"]) {
      const line = memberships.find((l) => l.split(":")[1]!.split(",").includes(controller))!;
      const dir = dirs.find((d) => d.startsWith(`/sys/fs/cgroup/${controller}/`))!;
      expect(dir.endsWith(line.split(":")[2]!), `${controller}: ${line} in ${dir}`).toBe(true);
    }
    expect(await cgroup.pids()).toEqual([init.pid, pid].sort((a, b) => a - b));
    const memoryDir = dirs.find((d) => d.includes("/memory/"))!;
    const cpuDir = dirs.find((d) => d.includes("/cpu/"))!;
    const pidsDir = dirs.find((d) => d.includes("/pids/"))!;
    expect(Number(await readFile(`${memoryDir}/memory.limit_in_bytes`, "utf8"))).toBe(LIMITS.memoryBytes);
    expect(Number(await readFile(`${memoryDir}/memory.memsw.limit_in_bytes`, "utf8"))).toBe(LIMITS.memoryBytes);
    expect((await readFile(`${pidsDir}/pids.max`, "utf8")).trim()).toBe(String(LIMITS.pids));
    expect(Number(await readFile(`${cpuDir}/cpu.cfs_quota_us`, "utf8"))).toBe(50_000);
    expect(await cgroup.readLimits()).toEqual(LIMITS);
    expect((await cgroup.usage()).memoryBytes).toBeGreaterThan(0);

    // SIGTERM to the launcher reaches the plugin, which exits 7 on it.
    expect(sandbox.signal("SIGTERM")).toBe(true);
    await lines.waitFor(/^stdout: got SIGTERM$/);
    expect(await sandbox.exited).toEqual({ code: 7 });
    await waitUntil("the cgroup is empty", async () => (await cgroup.pids()).length === 0);
  });

  it("passes on a SIGTERM that came before the init was cloned: the init is sent it once it catches it", async () => {
    // With the host's network the init is cloned after the spec: the
    // SIGTERM, held meanwhile, was forwarded microseconds after the clone,
    // before the init (PID 1 of its pid namespace, sent only the signals it
    // handles) had its handler, and dropped in some of the runs.
    for (let run = 0; run < 8; run++) {
      const cgroup = await driver.create(`instance-${instances++}`, LIMITS);
      const { promise: spec, resolve } = Promise.withResolvers<SandboxSpec>();
      const trace = process.env.CORRAL_SANDBOX_TRACE;
      process.env.CORRAL_SANDBOX_TRACE = "1"; // read at spawn, passed on to the launcher
      const sandbox = launchSandbox(spec, { launcherPath: LAUNCHER });
      if (trace === undefined) delete process.env.CORRAL_SANDBOX_TRACE;
      else process.env.CORRAL_SANDBOX_TRACE = trace;
      launched.push(sandbox);
      const traced = new Promise<void>((r) => sandbox.onOutput((_stream, line) => line.includes("trace launcher ready") && r()));
      const ready = Promise.race([traced, sandbox.exited.then((exit) => Promise.reject(new Error(`run ${run}: the launcher ended first: ${JSON.stringify(exit)}`)))]);
      // The launcher up, its SIGTERM handler set: it traces "ready" after
      // that. (A SIGTERM before it, which the Go runtime itself catches,
      // ends the launcher: "launcher ended (killed by SIGTERM) before the
      // plugin started".)
      await ready;
      expect(sandbox.signal("SIGTERM")).toBe(true);
      resolve(probeSpec(["sleep"], cgroup, { network: "host" }));
      const exit = await Promise.race([sandbox.exited, new Promise<"running">((r) => setTimeout(() => r("running"), 5000))]);
      // The plugin's handler says "got SIGTERM" and exits 7; SIGTERM before it had one ends it by the signal.
      expect([{ code: 7 }, { signal: "SIGTERM" }], `run ${run}`).toContainEqual(exit);
    }
  });

  it("gives the plugin a root of its own with exactly its environment", async () => {
    const { sandbox, spec, lines } = await launch(["print"]);
    const [, json] = await lines.waitFor(/^stdout: (\{.*\})$/);
    expect(await sandbox.exited).toEqual({ code: 0 });
    const inside = JSON.parse(json!);

    expect(inside.root.sort()).toEqual(["corral", "dev", "plugin", "proc", "tmp"]);
    expect(inside.env.sort()).toEqual(Object.entries(spec.env).map(([k, v]) => `${k}=${v}`).sort());
    expect(inside.args).toEqual(["/plugin", "print"]);
    expect(inside.hostname).toBe("probe-host");
    expect([inside.uid, inside.gid]).toEqual([0, 0]); // root inside, UID outside
    expect(inside.writeRoot).toMatch(/read-only file system/);
    expect(inside.writeTmp).toBe("ok");
    expect(inside.writeCorral).toBe("ok");
    expect(inside.interfaces).toEqual(["lo"]);
    expect(inside.loopbackUp).toBe(true);
    expect(inside.devNullWorks).toBe(true);
    // Its cgroup namespace is rooted at the instance cgroup.
    expect(inside.cgroup).toMatch(/^\d+:memory:\/$/m);

    const mounts = mountsOf(inside.mountinfo);
    expect([...mounts.keys()].sort()).toEqual(
      [
        ...["/", "/corral", "/dev", "/dev/full", "/dev/null", "/dev/urandom", "/dev/zero", "/plugin", "/proc", "/tmp"],
        ...READ_ONLY_PROC.map((name) => `/proc/${name}`),
      ].sort(),
    );
    expect(mounts.get("/")).toMatch(/^ro,nosuid,nodev.* tmpfs /);
    expect(mounts.get("/plugin")).toMatch(/^ro,nosuid,nodev/);
    expect(mounts.get("/corral")).toMatch(/^rw,nosuid,nodev,noexec/);
    expect(mounts.get("/tmp")).toMatch(/^rw,nosuid,nodev.* tmpfs .*size=8192k/);
    expect(mounts.get("/proc")).toMatch(/^rw,nosuid,nodev,noexec.* proc /);
    expect(mounts.get("/dev")).toMatch(/^ro,nosuid,nodev,noexec.* tmpfs /);
    expect(mounts.get("/dev/null")).toMatch(/^rw,nosuid,noexec/);
  });

  it("starts when the binary and instance directory lie beneath a directory only root may enter", async () => {
    // Like a checkout under /root or in a mktemp -d directory: the sandbox's
    // uid may not even look inside, yet the sandbox must start.
    const locked = await tempDir("corral-locked-");
    await chmod(locked, 0o700);
    expect((await stat(locked)).uid).toBe(0);
    const binary = path.join(locked, "bin/probe");
    await mkdir(path.dirname(binary));
    await copyFile(PROBE, binary);
    await chmod(binary, 0o755);
    const dir = path.join(locked, "instance");
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, UID, UID);

    const { sandbox, lines } = await launch(["print"], { binary, instanceDir: dir });
    expect(await sandbox.exited).toEqual({ code: 0 }); // the output is all in by then
    const [, json] = await lines.waitFor(/^stdout: (\{.*\})$/, 0);
    const inside = JSON.parse(json!);

    expect(inside.args).toEqual(["/plugin", "print"]);
    // The plugin's own view: /plugin read-only, /corral writable but noexec.
    const mounts = mountsOf(inside.mountinfo);
    expect(mounts.get("/plugin")).toMatch(/^ro,nosuid,nodev/);
    expect(mounts.get("/corral")).toMatch(/^rw,nosuid,nodev,noexec/);
    expect(inside.writeCorral).toBe("ok");
    // They are mounts of these very files (the root of a mount is its path within its filesystem).
    expect(mountRoot(inside.mountinfo, "/plugin")).toMatch(new RegExp(`/${path.basename(locked)}/bin/probe$`));
    expect(mountRoot(inside.mountinfo, "/corral")).toMatch(new RegExp(`/${path.basename(locked)}/instance$`));
  });

  it("refuses a binary that is not a regular file, or an instance directory that is not a directory", async () => {
    const dir = await tempDir("corral-sources-");
    const file = path.join(dir, "file");
    await copyFile(PROBE, file);

    const notFile = await launch(["exit", "0"], { binary: dir });
    expect(await notFile.sandbox.exited).toEqual({
      code: 125,
      error: { stage: "mount-sources", message: `binary ${dir}: not a regular file` },
    });
    const notDir = await launch(["exit", "0"], { instanceDir: file });
    expect(await notDir.sandbox.exited).toEqual({
      code: 125,
      error: { stage: "mount-sources", message: `instance directory ${file}: not a directory` },
    });
  });

  it("passes the exit code through", async () => {
    const { sandbox } = await launch(["exit", "3"]);
    expect((await sandbox.started).pid).toBeGreaterThan(0);
    expect(await sandbox.exited).toEqual({ code: 3 });
  });

  it("says the plugin ended before the launcher is gone, and also when the setup fails", async () => {
    const { sandbox } = await launch(["exit", "0"]);
    let exitedFirst = false;
    void sandbox.exited.then(() => (exitedFirst = true));
    await sandbox.ended;
    expect(exitedFirst).toBe(false);
    expect(await sandbox.exited).toEqual({ code: 0 });
    const failed = await launch(["exit", "0"], { binary: "/nonexistent/plugin" });
    await failed.sandbox.ended; // resolves, does not reject
    expect((await failed.sandbox.exited).error?.stage).toBeTruthy();
  });

  it("reports death by signal as the signal", async () => {
    const { sandbox } = await launch(["crash-signal"]);
    expect(await sandbox.exited).toEqual({ signal: "SIGSEGV" });
  });

  it("reaps orphaned grandchildren", async () => {
    const { sandbox, cgroup, lines } = await launch(["orphan"]);
    const init = await sandbox.init;
    const { pid } = await sandbox.started;
    await lines.waitFor(/^stdout: orphaned$/);

    // The grandchild's parent (the middle process) is gone: the init adopted it.
    const pids = await cgroup.pids();
    const adopted: number[] = [];
    for (const p of pids) if (p !== pid && (await status(p))?.get("PPid") === String(init.pid)) adopted.push(p);
    expect(adopted).toHaveLength(1);
    const orphan = adopted[0]!;

    process.kill(orphan, "SIGKILL");
    // A zombie keeps its /proc entry until its parent reaps it.
    await waitUntil("the orphan is reaped", async () => (await status(orphan)) === undefined);
    expect(await alive(pid)).toBe(true);
  });

  it("leaves nothing of the sandbox alive when the launcher is SIGKILLed", async () => {
    const { sandbox, cgroup, lines } = await launch(["orphan"]);
    await sandbox.started;
    await lines.waitFor(/^stdout: orphaned$/);
    const pids = await cgroup.pids();
    expect(pids.length).toBeGreaterThanOrEqual(3); // init, plugin, orphan

    expect(sandbox.kill()).toBe(true);
    expect(await sandbox.exited).toEqual({ signal: "SIGKILL" });
    await waitUntil("the cgroup is empty", async () => (await cgroup.pids()).length === 0);
    await waitUntil("no process of the sandbox is alive", () => noneAlive(pids));
  });

  it("takes the whole sandbox down when the supervisor dies", async () => {
    const cgroup = await driver.create("instance", LIMITS);
    const spec: SandboxSpec = {
      binary: PROBE,
      args: ["sleep"],
      env: {},
      instanceDir,
      hostname: "orphaned-supervisor",
      uid: UID,
      gid: UID,
      workspaceBytes: 1024 * 1024,
      cgroupProcs: cgroup.procsFiles,
      network: "none",
      readOnlyPaths: [],
      stdin: "null",
      rlimits: RLIMITS,
    };
    const script = `
      import { launchSandbox } from ${JSON.stringify(path.join(REPO, "sandbox/launcher.ts"))};
      const sandbox = launchSandbox(JSON.parse(process.argv[1]), { launcherPath: ${JSON.stringify(LAUNCHER)} });
      console.log((await sandbox.started).pid);
      setInterval(() => {}, 60_000);
    `;
    const supervisor = execa(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(spec)], {
      reject: false,
      cleanup: true,
    });
    try {
      await waitUntil("the plugin runs", async () => (await cgroup.pids()).length >= 2, 10_000);
      const pids = await cgroup.pids();
      supervisor.kill("SIGKILL");
      await supervisor;
      await waitUntil("the cgroup is empty", async () => (await cgroup.pids()).length === 0);
      await waitUntil("no process of the sandbox is alive", () => noneAlive(pids));
    } finally {
      supervisor.kill("SIGKILL");
    }
  });

  describe("with the owner sent after the launcher has started (--owner-fd, as corral sandbox)", () => {
    /** A launch whose owner and spec are each sent when the test says, with the launcher's trace on. */
    async function launchOwnerLater(args: string[]) {
      const cgroup = await driver.create(`instance-${instances++}`, LIMITS);
      const spec = probeSpec(args, cgroup);
      const owner = Promise.withResolvers<{ uid: number; gid: number }>();
      const specSent = Promise.withResolvers<SandboxSpec>();
      process.env.CORRAL_SANDBOX_TRACE = "1"; // read at spawn, passed on to the launcher
      let sandbox: SandboxProcess;
      try {
        sandbox = launchSandbox(specSent.promise, { launcherPath: LAUNCHER, owner: owner.promise });
      } finally {
        delete process.env.CORRAL_SANDBOX_TRACE;
      }
      launched.push(sandbox);
      const lines = new Lines();
      sandbox.onOutput((stream, line) => lines.add(`${stream}: ${line}`));
      return { sandbox, spec, lines, owner, specSent };
    }

    it("makes the namespaces as soon as the owner comes, before the spec, and adopts that init", async () => {
      const { sandbox, spec, lines, owner, specSent } = await launchOwnerLater(["exit", "3"]);
      owner.resolve({ uid: spec.uid, gid: spec.gid });
      // The front's init is up in its namespaces while the spec is still to come.
      await lines.waitFor(/corral-sandbox trace init start /);
      specSent.resolve(spec);
      expect(await sandbox.exited).toEqual({ code: 3 });
      expect(lines.all.filter((l) => / launcher adopted /.test(l))).toHaveLength(1);
    });

    it("refuses a spec whose uid is not the owner the namespaces were made as", async () => {
      const { sandbox, spec, lines, owner, specSent } = await launchOwnerLater(["exit", "0"]);
      owner.resolve({ uid: spec.uid + 1, gid: spec.gid + 1 });
      await lines.waitFor(/corral-sandbox trace init start /);
      specSent.resolve(spec);
      expect(await sandbox.exited).toEqual({
        code: 125,
        error: { stage: "spec", message: `spec uid ${spec.uid} differs from the owner ${spec.uid + 1} of the early init's user namespace` },
      });
    });

    it("clones the init after the spec when no owner comes", async () => {
      const { sandbox, spec, lines, owner, specSent } = await launchOwnerLater(["exit", "0"]);
      owner.reject(new Error("no uid to claim"));
      specSent.resolve(spec);
      expect(await sandbox.exited).toEqual({ code: 0 });
      expect(lines.all.filter((l) => / launcher adopted /.test(l))).toEqual([]);
    });
  });

  it("reports a setup failure with its stage and exits 125", async () => {
    const { sandbox } = await launch(["sleep"], { binary: "/nonexistent/plugin" });
    await sandbox.init;
    const failure = await sandbox.started.catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SandboxSetupError);
    expect((failure as SandboxSetupError).stage).toBe("mount-sources");
    expect(await sandbox.exited).toEqual({
      code: 125,
      error: { stage: "mount-sources", message: "binary: open_tree /nonexistent/plugin: no such file or directory" },
    });
  });

  it("clones the init into the instance cgroups from a thread that then moves back into the launcher's own", async () => {
    // Without --ids the launcher's main thread moves itself into the instance
    // cgroups, clones the init there and moves back (cgroupmove.go).
    const { sandbox, cgroup, lines } = await launch(["sleep"]);
    const init = await sandbox.init;
    await sandbox.started;
    await lines.waitFor(/^stdout: sleeping$/);

    const byHierarchy = (text: string) =>
      new Map(text.trim().split("\n").map((line) => line.split(":")).map(([, controllers, p]) => [controllers!, p!]));
    const dirs = cgroup.procsFiles.map((file) => path.dirname(file));
    const initCgroups = byHierarchy(await readFile(`/proc/${init.pid}/cgroup`, "utf8"));
    for (const controller of ["memory", "cpu", "cpuacct", "pids", "freezer"]) {
      const dir = dirs.find((d) => d.startsWith(`/sys/fs/cgroup/${controller}/`));
      if (dir === undefined) continue; // a hierarchy this driver does not use
      const [, p] = [...initCgroups].find(([controllers]) => controllers.split(",").includes(controller))!;
      expect(dir.endsWith(p), `init ${controller}: ${p} in ${dir}`).toBe(true);
    }
    // Every thread of the launcher is back in this process's cgroups, and no
    // task of the instance is the launcher's.
    const own = byHierarchy(await readFile("/proc/self/cgroup", "utf8"));
    const threads = await readdir(`/proc/${sandbox.pid}/task`);
    for (const tid of threads) {
      expect(byHierarchy(await readFile(`/proc/${sandbox.pid}/task/${tid}/cgroup`, "utf8")), `launcher thread ${tid}`).toEqual(own);
    }
    for (const dir of dirs) {
      const tasks = (await readFile(`${dir}/tasks`, "utf8")).trim().split("\n").filter(Boolean);
      for (const tid of threads) expect(tasks, `${dir}/tasks`).not.toContain(tid);
    }
    expect(await cgroup.pids()).not.toContain(sandbox.pid);
  });

  it("clones a warm launcher's init straight into a cgroup v2 cgroup (CLONE_INTO_CGROUP), and the v1 ones by its thread", async (ctx) => {
    // This process's cgroup in the v2 hierarchy, if the host mounts one (a
    // hybrid host does, without controllers; a v2 host does, with them).
    const own = await ownV2Cgroup();
    if (own === undefined) return ctx.skip();
    const v2 = path.join(own.dir, `corral-test-clone-${randomBytes(3).toString("hex")}`);
    await mkdir(v2);
    const trace = process.env.CORRAL_SANDBOX_TRACE;
    process.env.CORRAL_SANDBOX_TRACE = "1";
    let sandbox: SandboxProcess | undefined;
    try {
      const cgroup = await driver.create(`instance-${instances++}`, LIMITS);
      const spec = probeSpec(["sleep"], cgroup, { cgroupProcs: [...cgroup.procsFiles, path.join(v2, "cgroup.procs")] });
      sandbox = launchSandbox(spec, { launcherPath: LAUNCHER, ids: { uid: UID, gid: UID }, cgroupProcs: spec.cgroupProcs });
      launched.push(sandbox);
      const lines = new Lines();
      sandbox.onOutput((stream, line) => lines.add(`${stream}: ${line}`));
      const init = await sandbox.init;
      await lines.waitFor(/^stdout: sleeping$/);
      // Born there: the launcher cloned it into the v2 cgroup, not moved it.
      expect(lines.all.some((line) => line.includes("corral-sandbox trace launcher cloned-into-cgroup "))).toBe(true);
      const initCgroups = await readFile(`/proc/${init.pid}/cgroup`, "utf8");
      expect(/^0::(.*)$/m.exec(initCgroups)?.[1]).toBe(path.join(own.path, path.basename(v2)));
      const memory = /^\d+:memory:(.*)$/m.exec(initCgroups)?.[1];
      expect(cgroup.procsFiles.some((f) => memory !== undefined && path.dirname(f).endsWith(memory))).toBe(true);
      expect((await readFile(path.join(v2, "cgroup.procs"), "utf8")).trim().split("\n")).toContain(String(init.pid));
    } finally {
      if (trace === undefined) delete process.env.CORRAL_SANDBOX_TRACE;
      else process.env.CORRAL_SANDBOX_TRACE = trace;
      // The v2 cgroup is this test's alone (the driver's cleanup knows only v1): emptied, then removed.
      sandbox?.kill();
      await sandbox?.exited;
      for (let i = 0; i < 100; i++) {
        if (await rmdir(v2).then(() => true, (err: NodeJS.ErrnoException) => err.code === "ENOENT")) break;
        await sleep(20);
      }
    }
  });

  it("kills the init and reports when it cannot join a cgroup", async () => {
    const missing = path.join(instanceDir, "missing/cgroup.procs");
    const { sandbox, cgroup } = await launch(["sleep"], (cg) => ({ cgroupProcs: [...cg.procsFiles, missing] }));
    await expect(sandbox.init).rejects.toThrow(/at cgroup: .*missing/);
    expect(await sandbox.exited).toMatchObject({ code: 125, error: { stage: "cgroup" } });
    expect(await cgroup.pids()).toEqual([]);
  });
});

/** /proc/<pid>/limits as soft and hard value per limit name. */
function limitsOf(text: string): Map<string, [string, string]> {
  const limits = new Map<string, [string, string]>();
  for (const line of text.split("\n").slice(1)) {
    const [name, soft, hard] = line.trim().split(/\s{2,}/);
    if (name && soft && hard) limits.set(name, [soft, hard]);
  }
  return limits;
}

/**
 * Runs the probe with args, which the seccomp filter kills it for, and
 * returns how it ended. The kernel prints its audit records, where the
 * launcher finds the syscall, at most 10 in 5 seconds host-wide, and other
 * test files kill sandboxes too: when the record was dropped (SIGSYS but no
 * syscall), try again once that interval has passed.
 */
async function killedBySeccomp(args: string[]): Promise<SandboxExit> {
  let exit: SandboxExit = {};
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(5_500);
    const { sandbox } = await launch(args);
    exit = await sandbox.exited;
    if (exit.signal !== "SIGSYS" || exit.syscall !== undefined) break;
  }
  return exit;
}

/** Runs the probe with args to its end; returns its exit and its output lines. */
async function probe(args: string[], overrides: Partial<SandboxSpec> = {}, options: Partial<LaunchOptions> = {}) {
  const { sandbox, lines } = await launch(args, overrides, options);
  const exit = await sandbox.exited; // the output is all in by then
  return { exit, out: lines.all.filter((l) => !l.startsWith("stdout: calling ")) };
}

describe("sandbox hardening", () => {
  it("leaves the plugin no capability in any set, no_new_privs, a seccomp filter and the spec's rlimits", async () => {
    const { sandbox, lines } = await launch(["sleep"]);
    const init = await sandbox.init;
    const { pid } = await sandbox.started;
    await lines.waitFor(/^stdout: sleeping$/);

    const st = (await status(pid))!;
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(st.get(set), set).toBe("0000000000000000");
    expect(st.get("NoNewPrivs")).toBe("1");
    expect(st.get("Seccomp")).toBe("2");
    expect(st.get("Seccomp_filters")).toBe("1");
    const limits = limitsOf(await readFile(`/proc/${pid}/limits`, "utf8"));
    expect(limits.get("Max open files")).toEqual(["256", "256"]);
    expect(limits.get("Max processes")).toEqual(["64", "64"]);
    expect(limits.get("Max file size")).toEqual([String(16 * 1024 * 1024), String(16 * 1024 * 1024)]);
    expect(limits.get("Max core file size")).toEqual(["0", "0"]);

    // The init is under the same filter, and gives up its own capabilities
    // once it has reported the plugin's pid.
    await waitUntil("the init has dropped its capabilities", async () => (await status(init.pid))?.get("CapPrm") === "0000000000000000");
    const initSt = (await status(init.pid))!;
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(initSt.get(set), `init ${set}`).toBe("0000000000000000");
    expect([initSt.get("NoNewPrivs"), initSt.get("Seccomp")]).toEqual(["1", "2"]);

    expect(sandbox.signal("SIGTERM")).toBe(true);
    expect(await sandbox.exited).toEqual({ code: 7 });
  });

  it("keeps none of the supplementary groups of whoever launched it, cold or through --ids", async () => {
    // As under sudo: gid 0 and another group. The sandbox denies setgroups,
    // so groups it were given could not be dropped inside.
    const own = process.getgroups!();
    process.setgroups!([0, 42]);
    try {
      for (const options of [{}, { ids: { uid: UID, gid: UID } }]) {
        const { sandbox, lines } = await launch(["sleep"], {}, options);
        const init = await sandbox.init;
        const { pid } = await sandbox.started;
        await lines.waitFor(/^stdout: sleeping$/);
        expect((await status(pid))!.get("Groups"), `plugin, ${JSON.stringify(options)}`).toBe("");
        expect((await status(init.pid))!.get("Groups"), `init, ${JSON.stringify(options)}`).toBe("");
        expect(sandbox.signal("SIGTERM")).toBe(true);
        expect(await sandbox.exited).toEqual({ code: 7 });
      }
    } finally {
      process.setgroups!(own);
    }
  });

  it("kills the plugin with SIGSYS for a syscall off the allow-list, and names the syscall", async () => {
    expect(await killedBySeccomp(["syscall", "mount"])).toEqual({ signal: "SIGSYS", syscall: "mount" });
  });

  it("kills for TIOCSTI (high bits or not), namespace flags to clone, unshare and personality changes", async () => {
    const cases = [
      { args: ["syscall", "ioctl", "0", "0x5412"], syscall: "ioctl" }, // TIOCSTI
      { args: ["syscall", "ioctl", "0", "0x100005412"], syscall: "ioctl" }, // the kernel sees TIOCSTI
      { args: ["syscall", "ioctl", "0", "0x541c"], syscall: "ioctl" }, // TIOCLINUX
      { args: ["syscall", "clone", "0x10000011"], syscall: "clone" }, // CLONE_NEWUSER|SIGCHLD
      { args: ["syscall", "unshare", "0x20000"], syscall: "unshare" },
      { args: ["syscall", "personality", "0x0040000"], syscall: "personality" }, // ADDR_NO_RANDOMIZE
    ];
    const exits = await Promise.all(cases.map(async ({ args }) => (await launch(args)).sandbox.exited));
    exits.forEach((exit, i) => {
      // The name may be missing: the kernel rate-limits the records it comes from.
      expect(exit, cases[i]!.args.join(" ")).toEqual({ signal: "SIGSYS", ...(exit.syscall && { syscall: cases[i]!.syscall }) });
    });
  });

  it("fails other socket families and protocols, clone3 and harmless ioctls without killing", async () => {
    const cases: Array<[string[], string]> = [
      [["socket", "17", "3", "0"], "EAFNOSUPPORT"], // AF_PACKET
      [["socket", "2", "1", "132"], "EPROTONOSUPPORT"], // SCTP
      [["socket", "16", "3", "9"], "EPROTONOSUPPORT"], // netlink audit
      [["socket", "2", "3", "1"], "EPERM"], // raw ICMP: allowed by the filter, refused by the kernel
      [["socketpair", "2", "1", "0"], "EAFNOSUPPORT"],
      [["clone3"], "ENOSYS"],
      [["personality", "0xffffffff"], "OK"],
      [["ioctl", "0", "0x5401"], "ENOTTY"], // TCGETS on /dev/null
      [["setrlimit", "7", "0"], "EFAULT"], // reaches the kernel
    ];
    const runs = await Promise.all(cases.map(([args]) => probe(["syscall", ...args])));
    runs.forEach(({ exit, out }, i) => {
      const [args, errno] = cases[i]!;
      expect({ exit, out }, args.join(" ")).toEqual({ exit: { code: 0 }, out: [`stdout: syscall ${args[0]}: ${errno}`] });
    });
  });

  it("makes /proc/sys and the other kernel settings of /proc read-only", async () => {
    const { exit, out } = await probe(["print"]);
    expect(exit).toEqual({ code: 0 });
    const mounts = mountsOf(JSON.parse(out[0]!.replace(/^stdout: /, "")).mountinfo);
    expect(READ_ONLY_PROC).toContain("sys");
    for (const name of READ_ONLY_PROC) expect(mounts.get(`/proc/${name}`), name).toMatch(/^ro,nosuid,nodev,noexec.* proc /);

    // The network namespace is the sandbox's own, so its root could write
    // here but for the read-only mount.
    const write = await probe(["write", "/proc/sys/net/ipv4/ip_forward"]);
    expect(write.out).toEqual(["stdout: write /proc/sys/net/ipv4/ip_forward: EROFS"]);
  });

  it("mounts read-only grants at their host paths, with the mounts beneath a granted directory", async () => {
    // Outside /tmp, which the sandbox has of its own.
    const dir = await tempDir("corral-grant-", "/var/tmp");
    await chmod(dir, 0o755);
    await writeFile(path.join(dir, "hello.txt"), "hello from the host\n");
    const sub = path.join(dir, "sub");
    await mkdir(sub);
    await execa("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0755", "corral-test", sub]);
    hostMounts.push(sub);
    await writeFile(path.join(sub, "inner.txt"), "beneath\n");
    const fileDir = await tempDir("corral-grant-file-", "/var/tmp");
    const file = path.join(fileDir, "single.txt");
    await writeFile(file, "just this file\n");
    const grants = { readOnlyPaths: [dir, file] };

    const { exit, out } = await probe(["print"], grants);
    expect(exit).toEqual({ code: 0 });
    const inside = JSON.parse(out[0]!.replace(/^stdout: /, ""));
    const mounts = mountsOf(inside.mountinfo);
    for (const target of [dir, sub, file]) expect(mounts.get(target), target).toMatch(/^ro,nosuid,nodev[, ]/);
    expect(inside.root).toContain("var");

    const runs = await Promise.all([
      probe(["read", path.join(dir, "hello.txt")], grants),
      probe(["read", path.join(sub, "inner.txt")], grants),
      probe(["read", file], grants),
      probe(["write", path.join(dir, "new.txt")], grants),
      probe(["write", path.join(sub, "new.txt")], grants),
      probe(["write", file], grants),
      // Only the file is granted, not its directory's other entries.
      probe(["read", path.join(fileDir, "other.txt")], grants),
    ]);
    expect(runs.map((r) => r.out)).toEqual([
      [`stdout: read ${dir}/hello.txt: hello from the host`],
      [`stdout: read ${sub}/inner.txt: beneath`],
      [`stdout: read ${file}: just this file`],
      [`stdout: write ${dir}/new.txt: EROFS`],
      [`stdout: write ${sub}/new.txt: EROFS`],
      [`stdout: write ${file}: EROFS`],
      [`stdout: read ${fileDir}/other.txt: ENOENT`],
    ]);
  });

  it("refuses a grant that does not exist, that overlaps the sandbox's own mounts or another grant", async () => {
    const missing = await probe(["exit", "0"], { readOnlyPaths: ["/nonexistent/grant"] });
    expect(missing.exit).toEqual({
      code: 125,
      error: { stage: "mount-sources", message: "read-only path: open_tree /nonexistent/grant: no such file or directory" },
    });
    const overlapping = await Promise.all([
      probe(["exit", "0"], { readOnlyPaths: ["/tmp/x"] }),
      probe(["exit", "0"], { readOnlyPaths: ["/dev"] }),
      probe(["exit", "0"], { readOnlyPaths: ["/usr", "/usr/lib"] }),
    ]);
    expect(overlapping.map((r) => r.exit)).toEqual([
      { code: 125, error: { stage: "spec", message: `invalid spec: readOnlyPaths entry "/tmp/x" overlaps the sandbox's /tmp` } },
      { code: 125, error: { stage: "spec", message: `invalid spec: readOnlyPaths entry "/dev" overlaps the sandbox's /dev` } },
      { code: 125, error: { stage: "spec", message: `invalid spec: readOnlyPaths entries "/usr" and "/usr/lib" overlap` } },
    ]);
  });

  it("keeps the host's loopback out of reach with network none, and shares the host's network with host", async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [none, host, hostWarm] = await Promise.all([
        probe(["connect", target]),
        probe(["connect", target], { network: "host" }),
        // A launcher started with --ids clones its init ahead, into a network
        // namespace of its own; for network host it must start again.
        probe(["connect", target], { network: "host" }, { ids: { uid: UID, gid: UID } }),
      ]);
      expect(none).toEqual({ exit: { code: 0 }, out: [`stdout: connect: dial tcp ${target}: connect: connection refused`] });
      expect(host).toEqual({ exit: { code: 0 }, out: ["stdout: connect: ok"] });
      expect(hostWarm).toEqual({ exit: { code: 0 }, out: ["stdout: connect: ok"] });
    } finally {
      server.close();
    }

    // With host, the plugin is in the host's network namespace, and still
    // under the filter; the other namespaces are its own.
    const { sandbox, lines } = await launch(["sleep"], { network: "host" });
    const { pid } = await sandbox.started;
    await lines.waitFor(/^stdout: sleeping$/);
    expect(await readlink(`/proc/${pid}/ns/net`)).toBe(await readlink("/proc/self/ns/net"));
    expect(await readlink(`/proc/${pid}/ns/user`)).not.toBe(await readlink("/proc/self/ns/user"));
    expect((await status(pid))!.get("Seccomp")).toBe("2");
  });

  it("hands the launcher's stdin to the plugin with stdio inherit and stdin inherit", async () => {
    // A process of its own, whose stdin and stdout the launcher inherits.
    const script = `
      import { launchSandbox } from ${JSON.stringify(path.join(REPO, "sandbox/launcher.ts"))};
      const [spec, ids] = process.argv.slice(1).map((a) => JSON.parse(a));
      const sandbox = launchSandbox(spec, { launcherPath: ${JSON.stringify(LAUNCHER)}, stdio: "inherit", ...ids });
      console.log("exit " + JSON.stringify(await sandbox.exited));
    `;
    const run = async (name: string, stdin: SandboxSpec["stdin"], ids: object) => {
      const cgroup = await driver.create(name, LIMITS);
      const spec = probeSpec(["stdin"], cgroup, { stdin });
      const result = await execa(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(spec), JSON.stringify(ids)], {
        input: "fed through\n",
        reject: false,
        cleanup: true,
        timeout: 20_000,
      });
      return result.stdout.split("\n");
    };
    const [inherit, inheritWarm, nullStdin] = await Promise.all([
      run("stdin-inherit", "inherit", {}),
      run("stdin-inherit-ids", "inherit", { ids: { uid: UID, gid: UID } }),
      run("stdin-null", "null", {}),
    ]);
    expect(inherit).toEqual(["stdin: fed through", "", 'exit {"code":0}']);
    expect(inheritWarm).toEqual(["stdin: fed through", "", 'exit {"code":0}']);
    expect(nullStdin).toEqual(["stdin: ", 'exit {"code":0}']);

    // With the spec on stdin, there is no stdin to hand on.
    const refused = await probe(["stdin"], { stdin: "inherit" });
    expect(refused.exit).toEqual({
      code: 125,
      error: { stage: "spec", message: 'stdin "inherit" needs the spec on another fd than stdin (--spec-fd)' },
    });
  });
});

describe("launcher events", () => {
  it("carry the syscall of a seccomp kill only with SIGSYS, and only a syscall's name", () => {
    expect(parseEvent('{"type":"exited","signal":"SIGSYS","syscall":"mount"}')).toEqual({ type: "exited", signal: "SIGSYS", syscall: "mount" });
    expect(parseEvent('{"type":"exited","signal":"SIGSYS"}')).toEqual({ type: "exited", signal: "SIGSYS" });
    for (const bad of [
      '{"type":"exited","signal":"SIGKILL","syscall":"mount"}',
      '{"type":"exited","code":1,"syscall":"mount"}',
      '{"type":"exited","signal":"SIGSYS","syscall":"Mount; rm"}',
      '{"type":"exited","signal":"SIGSYS","syscall":42}',
      '{"type":"exited","signal":"SIGSYS","syscall":""}',
    ]) {
      expect(() => parseEvent(bad), bad).toThrow(EventParseError);
    }
  });
});
