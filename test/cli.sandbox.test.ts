// `corral sandbox`, the real command: a real launcher, real namespaces and
// cgroups (beneath this process's own, under a parent of the test's own),
// the probe test plugin as the command. Needs root. Every test checks that
// the run left nothing behind: no cgroup, no instance directory, no uid lock.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { corralBin, nodeBin, processAlive, repoRoot } from "./helpers/supervisor.ts";

const LAUNCHER = path.join(repoRoot, "build/bin/corral-sandbox");
const PROBE = path.join(repoRoot, "build/test-plugins/probe");
const UID_COUNT = 10;

beforeAll(async () => {
  // Build what is tested, so a stale binary cannot pass for the current code.
  const env = { CGO_ENABLED: "0" };
  await execa("go", ["build", "-trimpath", "-o", LAUNCHER, "./sandbox/cmd/corral-sandbox"], { cwd: repoRoot, env });
  await execa("go", ["build", "-trimpath", "-o", PROBE, "./test/plugins/probe"], { cwd: repoRoot, env });
}, 120_000);

let dir: string;
let configFile: string;
let cgroupParent: string;
let uidBase: number;
let started: ResultPromise[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-cli-sandbox-"));
  configFile = path.join(dir, "corral.yaml");
  cgroupParent = `corral-test-${randomBytes(4).toString("hex")}`;
  uidBase = 2_020_000_000 + (randomBytes(2).readUInt16BE() % 400) * 100;
  started = [];
  await writeConfig([]);
});

afterEach(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await child;
  }
  await (await openCgroupDriver({ parent: `${cgroupParent}-cli` })).removeParent();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(plugins: Array<Record<string, unknown>>): Promise<void> {
  const config = { runtimeDir: "./run", sandbox: { cgroupParent, uidBase, uidCount: UID_COUNT }, plugins };
  await writeFile(configFile, stringify(config));
}

/** Starts `corral sandbox --config <test config> ARGS`; input is its stdin. */
function corralSandbox(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const child = execa(nodeBin, [corralBin, "sandbox", "--config", configFile, ...args], {
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    ...(options.env && { env: options.env }),
  });
  started.push(child);
  return child;
}

async function run(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const r = await corralSandbox(args, options);
  return { code: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * What runs of this test left: the cgroup parent <parent>-cli, anything in
 * <runtimeDir>/cli (instance directories) or <runtimeDir>/uids (uid locks).
 * The two directories themselves are kept once made.
 */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const self = await readFile("/proc/self/cgroup", "utf8");
  for (const controller of ["memory", "cpu", "cpuacct", "pids", "freezer"]) {
    const own = self.split("\n").find((l) => l.split(":")[1]?.split(",").includes(controller))?.split(":")[2] ?? "/";
    const parentDir = path.join("/sys/fs/cgroup", controller, own, `${cgroupParent}-cli`);
    if (existsSync(parentDir)) found.push(`cgroup ${parentDir}`);
  }
  for (const name of ["cli", "uids"]) {
    const left = path.join(dir, "run", name);
    // (uids/.takeover, the lock a stale uid lock is taken over under, stays, as lock files do.)
    const entries = existsSync(left) ? (await readdir(left)).filter((e) => e !== ".takeover") : [];
    if (entries.length > 0) found.push(`${left} with [${entries.join(", ")}]`);
  }
  return found;
}

/** Resolves once `child` has written `text` on stdout. */
async function waitForOutput(child: ResultPromise, text: string): Promise<void> {
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" on stdout; saw ${JSON.stringify(seen)}`)), 10_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

describe("corral sandbox", () => {
  it("passes the command's exit status through", async () => {
    const r = await run(["--", PROBE, "exit", "3"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    expect(await leftovers()).toEqual([]);
  });

  it("looks the command up on the host PATH", async () => {
    const r = await run(["--", "probe", "exit", "4"], { env: { PATH: `${path.dirname(PROBE)}:/usr/bin:/bin` } });
    expect(r.code).toBe(4);
  });

  it("exits 128+n when the command dies by signal n", async () => {
    const r = await run(["--", PROBE, "crash-signal"]);
    expect(r.code).toBe(128 + 11); // SIGSEGV
    expect(await leftovers()).toEqual([]);
  });

  it("attaches stdout and stderr, and runs the command as /plugin in a plugin's sandbox", async () => {
    const r = await run(["--", PROBE, "print"]);
    expect(r.code).toBe(0);
    const inside = JSON.parse(r.stdout) as { args: string[]; env: string[]; hostname: string; uid: number; root: string[]; interfaces: string[] };
    expect(inside.args).toEqual(["/plugin", "print"]);
    expect(inside.uid).toBe(0);
    expect(inside.hostname).toBe("sandbox");
    expect(inside.interfaces).toEqual(["lo"]);
    expect(inside.root.sort()).toEqual(["corral", "dev", "plugin", "proc", "tmp"]);
    expect(inside.env).toEqual(
      expect.arrayContaining([
        "CORRAL_INSTANCE_DIR=/corral",
        "CORRAL_PLUGIN=sandbox",
        `CORRAL_MEMORY_LIMIT=${128 * 1024 * 1024}`,
        "HOME=/tmp",
        "PATH=/",
      ]),
    );
    expect(inside.env.find((e) => e.startsWith("CORRAL_INSTANCE_ID="))).toMatch(/^CORRAL_INSTANCE_ID=cli-\d+$/);

    const bad = await run(["--", PROBE, "exit", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("probe: strconv.Atoi");
  });

  it("attaches stdin", async () => {
    const r = await run(["--", PROBE, "cat"], { input: "through the sandbox\nand back\n" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("through the sandbox\nand back\n");
    expect(r.code).toBe(0);
  });

  it("confines the command as --plugin's entry, with flags overriding it; forwards SIGTERM", async () => {
    await writeConfig([
      {
        name: "debugged",
        binary: PROBE,
        apiVersion: "1",
        env: { FROM_CONFIG: "yes" },
        limits: { memory: "96MiB", pids: 64, cpu: 0.5 },
        dataPlane: { maxConnectionAge: "2h", maxConnectionAgeGrace: "5m" },
      },
    ]);
    const child = corralSandbox(["--plugin", "debugged", "--pids", "16", "--memory", "64MiB", "--env", "FROM_FLAG=1", "--", PROBE, "sleep"]);
    await waitForOutput(child, "sleeping");

    const cgroup = (await openCgroupDriver({ parent: `${cgroupParent}-cli` })).open(`cli-${child.pid}`);
    const limits = await cgroup.readLimits();
    expect(limits.pids).toBe(16);
    expect(limits.memoryBytes).toBe(64 * 1024 * 1024);
    expect(limits.cpu).toBe(0.5);
    expect((await cgroup.pids()).length).toBeGreaterThanOrEqual(2); // the init and the command

    // The instance directory: private, owned by a uid of the range (the top one: nothing else uses it).
    const instanceDir = path.join(dir, "run", "cli", `cli-${child.pid}`);
    const info = await stat(instanceDir);
    expect(info.mode & 0o777).toBe(0o700);
    expect(info.uid).toBe(uidBase + UID_COUNT - 1);

    child.kill("SIGTERM");
    const r = await child;
    expect(String(r.stdout)).toContain("got SIGTERM");
    expect(r.exitCode).toBe(7);
    expect(await leftovers()).toEqual([]);

    const print = await run(["--plugin", "debugged", "--env", "FROM_FLAG=1", "--", PROBE, "print"]);
    const inside = JSON.parse(print.stdout) as { env: string[]; hostname: string };
    expect(inside.hostname).toBe("debugged");
    expect(inside.env).toEqual(
      expect.arrayContaining([
        "FROM_CONFIG=yes",
        "FROM_FLAG=1",
        "CORRAL_PLUGIN=debugged",
        `CORRAL_MEMORY_LIMIT=${96 * 1024 * 1024}`,
        // Half a core, but never one P: a busy goroutine would hold it.
        `GOMAXPROCS=${Math.min(2, availableParallelism())}`,
        // Go durations, as go-shim reads them.
        "CORRAL_MAX_CONNECTION_AGE=7200000ms",
        "CORRAL_MAX_CONNECTION_AGE_GRACE=300000ms",
      ]),
    );
  });

  it("has the launcher's front make the namespaces once the uid is claimed on cgroup v1; not on v2, nor with the host's network", async () => {
    // On v2 an init made early would be moved into its cgroup whole (an RCU
    // grace period); one made after the spec is cloned straight into it.
    const v1 = (await openCgroupDriver({ parent: `${cgroupParent}-cli` })).version === "v1";
    const env = { CORRAL_SANDBOX_TRACE: "1" };
    const own = await run(["--", PROBE, "exit", "0"], { env });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr.includes(" launcher adopted ")).toBe(v1);
    const host = await run(["--network", "host", "--", PROBE, "exit", "0"], { env });
    expect(host.code, host.stderr).toBe(0);
    expect(host.stderr).toMatch(/corral-sandbox trace launcher spec /); // traced, yet nothing adopted
    expect(host.stderr).not.toContain(" launcher adopted ");
    expect(await leftovers()).toEqual([]);
  });

  it("takes no uid that a supervisor (or another run) holds, and holds its own while it runs", async () => {
    // What a supervisor with the same runtime directory does for each of
    // its instances: the top uid's lock, held by a live process (PID 1).
    const locks = path.join(dir, "run", "uids");
    await mkdir(locks, { recursive: true });
    const top = uidBase + UID_COUNT - 1;
    await writeFile(path.join(locks, String(top)), "1\n");

    const child = corralSandbox(["--", PROBE, "sleep"]);
    await waitForOutput(child, "sleeping");
    const info = await stat(path.join(dir, "run", "cli", `cli-${child.pid}`));
    expect(info.uid).toBe(top - 1);
    expect(await readFile(path.join(locks, String(top - 1)), "utf8")).toBe(`${child.pid} ${readProcStat(child.pid!)!.startTime}\n`);
    child.kill("SIGTERM");
    expect((await child).exitCode).toBe(7);
    // Its own lock is given back; the supervisor's stays.
    expect((await readdir(locks)).sort()).toEqual([String(top)]);
    await rm(path.join(locks, String(top)));
    expect(await leftovers()).toEqual([]);
  });

  it("gives the command a /corral of the sandbox's own (a tmpfs that goes with it), not a directory on the runtime directory's file system", async () => {
    const r = await run(["--", PROBE, "print"]);
    expect(r.code, r.stderr).toBe(0);
    const inside = JSON.parse(r.stdout) as { mountinfo: string; writeCorral: string };
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
    const line = inside.mountinfo.split("\n").find((l) => l.split(" ")[4] === "/corral");
    expect(line, inside.mountinfo).toBeDefined();
    const [fields, fs] = line!.split(" - ");
    // The root of a file system of its own (a host directory's bind mount has
    // the directory's path there), a tmpfs, writable by the command.
    expect(fields!.split(" ")[3]).toBe("/");
    expect(fs!.split(" ")[0]).toBe("tmpfs");
    expect(fields!.split(" ")[5]).toMatch(/^rw,nosuid,nodev,noexec/);
    expect(inside.writeCorral).toBe("ok");
    expect(await leftovers()).toEqual([]);
  });

  it("grants --ro paths read-only, at the same path inside", async () => {
    // Not below /tmp, where the sandbox's own /tmp is (the launcher refuses
    // such a grant), nor in the checkout, which may itself be below /tmp.
    const granted = await mkdtemp("/var/tmp/corral-grant-");
    try {
      const r = await run(["--ro", granted, "--", PROBE, "print"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const mountinfo = (JSON.parse(r.stdout) as { mountinfo: string }).mountinfo;
      const line = mountinfo.split("\n").find((l) => l.split(" ")[4] === granted);
      expect(line, mountinfo).toBeDefined();
      expect(line!.split(" ")[5]).toMatch(/^ro,/);
      expect(await leftovers()).toEqual([]);
    } finally {
      await rm(granted, { recursive: true, force: true });
    }
  });

  it("refuses a --ro path that does not exist, before making anything", async () => {
    const missing = path.join(dir, "no-such-dir");
    const r = await run(["--ro", missing, "--", PROBE, "exit", "0"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`corral sandbox: setup failed at grants: read-only grant ${missing} does not exist on this host\n`);
    expect(await leftovers()).toEqual([]);
    expect(existsSync(path.join(dir, "run"))).toBe(false);
  });

  it("exits 125 with the stage and message when Corral fails, not the command", async () => {
    const notFound = await run(["--", "no-such-command-here", "x"], { env: { PATH: "/usr/bin:/bin" } });
    expect(notFound.code).toBe(125);
    expect(notFound.stderr).toBe("corral sandbox: setup failed at command: no-such-command-here: not found on PATH\n");

    const noPlugin = await run(["--plugin", "nope", "--", PROBE, "exit", "0"]);
    expect(noPlugin.code).toBe(125);
    expect(noPlugin.stderr).toContain(`setup failed at config: no plugin named "nope" in ${configFile}`);

    const user = (await readFile("/etc/passwd", "utf8")).split("\n").map((l) => l.split(":")).find(([, , id]) => Number(id) >= 1010);
    const free = uidBase;
    uidBase = Number(user![2]) - 5;
    await writeConfig([]);
    const takenUid = await run(["--", PROBE, "exit", "0"]);
    expect(takenUid.code).toBe(125);
    expect(takenUid.stderr).toContain(`setup failed at config: invalid config\n${configFile}:`);
    expect(takenUid.stderr).toContain(`sandbox.uidBase: the sandboxes' ids ${uidBase}-${uidBase + UID_COUNT - 1} include user "${user![0]}" (${user![2]} in /etc/passwd)`);
    uidBase = free;
    await writeConfig([]);

    const badLimit = await run(["--pids", "4", "--", PROBE, "exit", "0"]);
    expect(badLimit.code).toBe(125);
    expect(badLimit.stderr).toMatch(/^corral sandbox: setup failed at usage: --pids 4: .*8/);
    const badEnv = await run(["--env", "1A=b", "--", PROBE, "exit", "0"]);
    expect(badEnv.code).toBe(125);
    expect(badEnv.stderr).toBe('corral sandbox: setup failed at usage: --env 1A=b: "1A" is not a valid environment variable name\n');

    const usage = await run(["--bogus", "--", PROBE]);
    expect(usage.code).toBe(125);
    expect(usage.stderr).toContain("unknown option '--bogus'");

    expect(await leftovers()).toEqual([]);
  });

  it("says which loader or interpreter the sandbox lacks when exec fails, and runs the command once it is granted", async () => {
    const loader = (await readFile("/bin/true")).includes("ld-linux") ? "dynamic" : "static";
    expect(loader, "this test needs a dynamically linked /bin/true").toBe("dynamic");
    const dynamic = await run(["--", "/bin/true"]);
    expect(dynamic.code).toBe(125);
    expect(dynamic.stderr).toMatch(
      /^corral sandbox: setup failed at exec: start \/plugin: no such file or directory: it is dynamically linked, and its loader \/\S*ld-linux\S* is not in the sandbox: grant the loader and its libraries read-only/,
    );

    const script = path.join(dir, "script.sh");
    await writeFile(script, "#!/opt/corral-no-such-dir/sh -e\necho hi\n", { mode: 0o755 });
    const scripted = await run(["--", script]);
    expect(scripted.code).toBe(125);
    expect(scripted.stderr).toBe(
      "corral sandbox: setup failed at exec: start /plugin: no such file or directory: it is a script, and its interpreter /opt/corral-no-such-dir/sh is not in the sandbox: grant it and what it loads read-only (readOnlyPaths; corral sandbox --ro)\n",
    );

    // The advice works: with the host's library directories granted, the same binary runs.
    const grants = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"].filter((p) => existsSync(p)).flatMap((p) => ["--ro", p]);
    const granted = await run([...grants, "--", "/bin/true"]);
    expect(granted.stderr).toBe("");
    expect(granted.code).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  it("removes what a killed run left behind at the next run", async () => {
    const child = corralSandbox(["--", PROBE, "sleep"]);
    await waitForOutput(child, "sleeping");
    const pid = child.pid!;
    const cgroup = (await openCgroupDriver({ parent: `${cgroupParent}-cli` })).open(`cli-${pid}`);
    const sandboxPids = await cgroup.pids();
    child.kill("SIGKILL");
    await child;
    // The sandbox dies with it (parent-death signals); its cgroup, directory and uid lock stay.
    for (let i = 0; i < 100 && sandboxPids.some(processAlive); i++) await sleep(20);
    expect(sandboxPids.filter(processAlive)).toEqual([]);
    expect((await leftovers()).length).toBeGreaterThan(0);

    expect((await run(["--", PROBE, "exit", "0"])).code).toBe(0);
    expect(await leftovers()).toEqual([]);
  });
});
