// The escape suite, in the style of bubblewrap's: a hostile plugin
// (test/plugins/hostile) runs in a real sandbox, with real namespaces and
// real cgroups beneath this process's own, and tries one way out per test.
// Each test asserts the try was blocked the way the sandbox must block it:
//
//  - refused by the kernel: the plugin prints one JSON line per try
//    ({"attempt","escaped","detail"}, detail the errno) and exits 0;
//  - killed by seccomp: a syscall outside the allow-list (one no Go program
//    needs: mount, unshare, ptrace, keyctl, bpf, ...) kills the plugin with
//    SIGSYS, and the exited event names the syscall; where the allow-list
//    admits a syscall (socket, mknodat, setpriority, prlimit64, capset), the
//    kernel's refusal is the expected outcome;
//  - held by a limit (pids, memory, workspace, file size, fds, cpu), as the
//    cgroup's accounting and events show, with the host unaffected.
//
// PID 1 reaping orphaned grandchildren is tested in sandbox.launcher.test.ts.
// Needs root. Every test removes its processes, cgroups, listeners and
// directories, also when it fails.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { hostname, networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CgroupDriver, CgroupLimits, InstanceCgroup } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { launchSandbox, type SandboxExit, type SandboxProcess } from "../sandbox/launcher.ts";
import type { SandboxSpec } from "../sandbox/spec.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const LAUNCHER = path.join(REPO, "build/bin/corral-sandbox");
const HOSTILE = path.join(REPO, "build/test-plugins/hostile");
const PROBE = path.join(REPO, "build/test-plugins/probe");
/** Unprivileged, distinct per test process and from the launcher tests' range. */
const UID = 300_000 + (process.pid % 1000);
const MiB = 1024 * 1024;

/** What a plugin gets by default (DESIGN.md §3, supervisor/config): realistic, not generous. */
const LIMITS: CgroupLimits = { memoryBytes: 128 * MiB, swapBytes: 0, pids: 64, cpu: 0.5 };
const WORKSPACE_BYTES = 16 * MiB;
/** nproc is twice the pids limit, as supervisor/plugin/sandbox-spec.ts sets it, so pids.max binds. */
const RLIMITS: SandboxSpec["rlimits"] = { nofile: 1024, nproc: LIMITS.pids * 2, fsizeBytes: 64 * MiB };

/** Exit status of the hostile plugin when a try escaped. */
const ESCAPED = 42;
const ZERO_CAPS = "0000000000000000";

beforeAll(async () => {
  // Build what is tested, so a stale binary cannot pass for the current code.
  const env = { CGO_ENABLED: "0" };
  await execa("go", ["build", "-trimpath", "-o", LAUNCHER, "./sandbox/cmd/corral-sandbox"], { cwd: REPO, env });
  await execa("go", ["build", "-trimpath", "-o", HOSTILE, "./test/plugins/hostile"], { cwd: REPO, env });
}, 120_000);

let driver: CgroupDriver;
let instanceDir: string;
let launched: SandboxProcess[];
let tempDirs: string[];
let hostProcesses: ResultPromise[];
let servers: net.Server[];

beforeEach(async () => {
  launched = [];
  tempDirs = [];
  hostProcesses = [];
  servers = [];
  driver = await openCgroupDriver({ parent: `corral-escape-${process.pid}-${randomBytes(3).toString("hex")}` });
  instanceDir = await tempDir("corral-instance-");
  await chown(instanceDir, UID, UID);
  await chmod(instanceDir, 0o700);
});

afterEach(async () => {
  // Each step runs even if one before it fails; the first failure is rethrown.
  const failures: unknown[] = [];
  const step = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      failures.push(err);
    }
  };
  for (const sandbox of launched) {
    await step(async () => {
      sandbox.kill();
      await sandbox.exited;
    });
  }
  await step(() => driver.removeParent()); // kills anything left in the cgroups first
  for (const child of hostProcesses) {
    await step(async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
      await child.catch(() => {});
    });
  }
  for (const server of servers) await step(() => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const dir of tempDirs) await step(() => rm(dir, { recursive: true, force: true }));
  if (failures.length > 0) throw failures[0];
});

/** A directory of its own for one test (in base, by default the host's /tmp), removed after it. */
async function tempDir(prefix: string, base = tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(base, prefix));
  tempDirs.push(dir);
  return dir;
}

interface RunOptions {
  spec?: Partial<SandboxSpec>;
  limits?: Partial<CgroupLimits>;
  /** How the launcher learns the ids before the spec: --owner (the default), --ids, --owner-fd (later), or not at all. */
  ids?: "owner" | "ids" | "later" | "none";
}

interface Running {
  sandbox: SandboxProcess;
  cgroup: InstanceCgroup;
  spec: SandboxSpec;
  /** Every line the plugin wrote, as "stdout: ..." or "stderr: ...". */
  output: string[];
}

/** One try the hostile plugin made, as it reported it. */
interface Attempt {
  attempt: string;
  escaped: boolean;
  detail: string;
}

interface Outcome extends Running {
  exit: SandboxExit;
  attempts: Attempt[];
}

/** Starts the hostile plugin with args in a sandbox of its own. */
async function start(args: string[], options: RunOptions = {}): Promise<Running> {
  const cgroup = await driver.create(`instance-${launched.length}`, { ...LIMITS, ...options.limits });
  const spec: SandboxSpec = {
    binary: HOSTILE,
    args,
    env: { CORRAL_INSTANCE_DIR: "/corral", HOME: "/tmp", TMPDIR: "/tmp", PATH: "/" },
    instanceDir,
    hostname: "hostile",
    uid: UID,
    gid: UID,
    workspaceBytes: WORKSPACE_BYTES,
    cgroupProcs: cgroup.procsFiles,
    network: "none",
    readOnlyPaths: [],
    stdin: "null",
    rlimits: RLIMITS,
    ...options.spec,
  };
  const sandbox =
    options.ids === "ids"
      ? launchSandbox(spec, { launcherPath: LAUNCHER, ids: { uid: spec.uid, gid: spec.gid } })
      : options.ids === "none"
        ? launchSandbox(Promise.resolve(spec), { launcherPath: LAUNCHER })
        : options.ids === "later"
          ? launchTraced(spec, sleep(30).then(() => ({ uid: spec.uid, gid: spec.gid })))
          : launchSandbox(spec, { launcherPath: LAUNCHER });
  launched.push(sandbox);
  const output: string[] = [];
  sandbox.onOutput((stream, line) => output.push(`${stream}: ${line}`));
  return { sandbox, cgroup, spec, output };
}

/** A launch told its owner on --owner-fd when `owner` resolves, with the launcher's trace on. */
function launchTraced(spec: SandboxSpec, owner: Promise<{ uid: number; gid: number }>): SandboxProcess {
  process.env.CORRAL_SANDBOX_TRACE = "1"; // read at spawn, passed on to the launcher
  try {
    return launchSandbox(Promise.resolve(spec), { launcherPath: LAUNCHER, owner });
  } finally {
    delete process.env.CORRAL_SANDBOX_TRACE;
  }
}

/** Runs the hostile plugin with args to its end. */
async function run(args: string[], options: RunOptions = {}): Promise<Outcome> {
  const running = await start(args, options);
  const exit = await running.sandbox.exited; // the output is all in by then
  return { ...running, exit, attempts: attemptsIn(running.output) };
}

function attemptsIn(output: string[]): Attempt[] {
  return output.flatMap((line) => {
    const json = /^stdout: (\{.*\})$/.exec(line)?.[1];
    return json === undefined ? [] : [JSON.parse(json) as Attempt];
  });
}

/** How many inotify instances a host process of uid can make before EMFILE: what the kernel leaves that uid. */
async function hostInotifyRoom(uid: number): Promise<number> {
  const { stdout } = await execa(PROBE, ["inotify-room"], { uid, gid: uid, stdin: "ignore" });
  const count = /^(\d+) EMFILE$/.exec(stdout)?.[1];
  if (count === undefined) throw new Error(`probe inotify-room as uid ${uid} said ${JSON.stringify(stdout)}`);
  return Number(count);
}

/** The output, for assertion messages. */
function shown(r: Running & { exit?: SandboxExit }): string {
  return JSON.stringify({ exit: r.exit, output: r.output }, null, 1);
}

/**
 * The plugin ran to its end and the kernel refused every try: each try's
 * errno is the one expected (a string, or a pattern where the order of the
 * kernel's checks decides between equally final refusals).
 */
function expectRefused(outcome: Outcome, expected: Record<string, string | RegExp>): void {
  const got = Object.fromEntries(outcome.attempts.map((a) => [a.attempt, a.detail]));
  const want = Object.fromEntries(
    Object.entries(expected).map(([k, v]) => [k, typeof v === "string" ? v : expect.stringMatching(v)]),
  );
  expect(got, shown(outcome)).toEqual(want);
  expect(outcome.attempts.filter((a) => a.escaped), shown(outcome)).toEqual([]);
  expect(outcome.exit, shown(outcome)).toEqual({ code: 0 });
}

/**
 * seccomp killed the plugin at syscall, and the exited event names it. The
 * tries it reported before are exactly those in before, each refused.
 */
function expectKilledBySeccomp(outcome: Outcome, syscall: string, before: Record<string, string | RegExp> = {}): void {
  const got = Object.fromEntries(outcome.attempts.map((a) => [a.attempt, a.detail]));
  const want = Object.fromEntries(
    Object.entries(before).map(([k, v]) => [k, typeof v === "string" ? v : expect.stringMatching(v)]),
  );
  expect(got, shown(outcome)).toEqual(want);
  expect(outcome.attempts.filter((a) => a.escaped), shown(outcome)).toEqual([]);
  expect(outcome.exit, shown(outcome)).toEqual({ signal: "SIGSYS", syscall });
}

/**
 * The launcher learns which syscall seccomp refused from the kernel's audit
 * record of the kill, which the kernel prints through its host-wide printk
 * rate limit (kernel.printk_ratelimit_burst records per
 * kernel.printk_ratelimit seconds; 10 per 5 s by default): past it, records
 * are dropped and a kill goes unnamed. The kills of this suite are spaced to
 * stay within it, with room to spare for the rest of the host.
 */
let lastSeccompKill = 0;
async function printkRateLimit(): Promise<{ intervalMs: number; burst: number }> {
  const read = async (name: string, fallback: number) =>
    Number((await readFile(`/proc/sys/kernel/${name}`, "utf8").catch(() => String(fallback))).trim()) || fallback;
  return { intervalMs: (await read("printk_ratelimit", 5)) * 1000, burst: await read("printk_ratelimit_burst", 10) };
}

/**
 * Runs the hostile plugin with args to its end, which a seccomp kill is
 * expected to be: at most one kill per two slots of the rate limit. Other
 * processes on the host spend the same budget (other test files' kills,
 * other kernel messages), so a kill that still went unnamed is run once
 * more, after a full interval: the assertions stay the same.
 */
async function runToSeccompKill(args: string[], options: RunOptions = {}): Promise<Outcome> {
  const { intervalMs, burst } = await printkRateLimit();
  const wait = lastSeccompKill + (2 * intervalMs) / burst - Date.now();
  if (wait > 0) await sleep(wait);
  lastSeccompKill = Date.now();
  const outcome = await run(args, options);
  const unnamed = outcome.exit.signal === "SIGSYS" && (outcome.exit as { syscall?: string }).syscall === undefined;
  if (!unnamed) return outcome;
  await sleep(intervalMs);
  lastSeccompKill = Date.now();
  return run(args, options);
}

/** The one try reported, which must not have escaped. */
function onlyAttempt(outcome: Outcome, name: string): Attempt {
  expect(outcome.attempts.map((a) => a.attempt), shown(outcome)).toEqual([name]);
  const attempt = outcome.attempts[0]!;
  expect(attempt.escaped, shown(outcome)).toBe(false);
  return attempt;
}

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A long-running host process of the sandbox's own host uid: only the namespaces stand between them. */
async function hostProcess(): Promise<number> {
  const child = execa("sleep", ["600"], { uid: UID, gid: UID, reject: false, cleanup: true });
  hostProcesses.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error("sleep did not start");
  await waitUntil("the host process runs", async () => (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).startsWith("sleep"));
  return pid;
}

async function isAlive(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  return status !== undefined && !/^State:\s+Z/m.test(status);
}

/** A listener on the host that counts the connections it gets. */
async function listen(at: net.ListenOptions): Promise<{ server: net.Server; connections: () => number; port: number }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at, () => resolve());
  });
  const address = server.address();
  return { server, connections: () => count, port: typeof address === "object" && address !== null ? address.port : 0 };
}

/** A secret file at path, which must never show up in the sandbox's output. */
async function secretFile(file: string, owner: number): Promise<string> {
  const secret = `SECRET-${randomBytes(12).toString("hex")}`;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `-----BEGIN PRIVATE KEY-----\n${secret}\n`, { mode: 0o600 });
  await chown(file, owner, owner);
  return secret;
}

describe("the sandbox holds against a hostile plugin", () => {
  describe("host files", () => {
    it("finds none of the host's root: no /etc/shadow, /etc/passwd, /root, /home, /run, /sys", async () => {
      const paths = ["/etc/shadow", "/etc/passwd", "/etc", "/root", "/home", "/run", "/var/run/docker.sock", "/sys/fs/cgroup", "/usr/bin"];
      const outcome = await run(["read", ...paths]);
      expectRefused(outcome, Object.fromEntries(paths.map((p) => [`read:${p}`, "ENOENT"])));
    });

    it("cannot read the CA key by its host path, nor via /proc/1/root, /proc/self/root, /proc/1/cwd, ../ or /corral/../", async () => {
      const state = await tempDir("corral-state-");
      const caKey = path.join(state, "ca/key.pem");
      const secret = await secretFile(caKey, 0);
      const outcome = await run(["read-host", caKey, path.dirname(caKey)]);

      const ways = ["direct", "proc-1-root", "proc-self-root", "proc-1-cwd", "dotdot", "corral-dotdot"];
      // Not there (ENOENT), or, through pid 1, not ours to look into (EACCES).
      const expected = Object.fromEntries(
        [caKey, path.dirname(caKey)].flatMap((p) => ways.map((way) => [`${way}:${p}`, /^(ENOENT|EACCES)$/])),
      );
      expectRefused(outcome, expected);
      expect(outcome.output.join("\n")).not.toContain(secret);
    });

    it("cannot reach another instance's directory, even one owned by its own host uid", async () => {
      const runtime = await tempDir("corral-runtime-");
      const own = path.join(runtime, "instances/own");
      const other = path.join(runtime, "instances/other");
      await mkdir(own, { recursive: true, mode: 0o700 });
      await chown(own, UID, UID);
      const secret = await secretFile(path.join(other, "key.pem"), UID);
      await chown(other, UID, UID);
      const outcome = await run(["read-host", other, path.join(other, "key.pem"), "/corral/../other/key.pem"], {
        spec: { instanceDir: own },
      });

      const ways = ["direct", "proc-1-root", "proc-self-root", "proc-1-cwd", "dotdot", "corral-dotdot"];
      const targets = [other, path.join(other, "key.pem"), "/corral/../other/key.pem"];
      expectRefused(outcome, Object.fromEntries(targets.flatMap((p) => ways.map((way) => [`${way}:${p}`, /^(ENOENT|EACCES)$/]))));
      expect(outcome.output.join("\n")).not.toContain(secret);
    });

    it("finds no device or kernel memory to read: /dev/mem, /dev/kmsg, disks, /proc/kcore, /proc/kmsg", async () => {
      const outcome = await run(["devices"]);
      expectRefused(outcome, {
        "open:/dev/mem": "ENOENT",
        "open:/dev/kmem": "ENOENT",
        "open:/dev/port": "ENOENT",
        "open:/dev/kmsg": "ENOENT",
        "open:/dev/sda": "ENOENT",
        "open:/dev/vda": "ENOENT",
        "open:/dev/nvme0n1": "ENOENT",
        "open:/dev/net/tun": "ENOENT",
        "open:/dev/fuse": "ENOENT",
        "open:/dev/shm": "ENOENT",
        // The fresh /proc still has them, owned by the host's root: not ours.
        "open:/proc/kcore": /^(ENOENT|EACCES)$/, // absent without CONFIG_PROC_KCORE
        "open:/proc/kmsg": "EACCES",
        "open:/sys/kernel": "ENOENT",
      });
    });
  });

  describe("host processes", () => {
    it("sees only its own processes in /proc, not a host process's pid", async () => {
      const hostPid = await hostProcess();
      const outcome = await run(["procs", String(hostPid)]);
      expectRefused(outcome, {
        "list-proc": /^pids 1,(\d+) self \1$/,
        "proc-host-pid": "ENOENT",
      });
    });

    it("cannot signal a host process, even one of its own host uid", async () => {
      const hostPid = await hostProcess();
      const outcome = await run(["signal", String(hostPid)]);
      expectRefused(outcome, { "kill-0": "ESRCH", "kill-SIGKILL": "ESRCH", "kill-group-SIGKILL": "ESRCH" });
      expect(await isAlive(hostPid)).toBe(true);
    });

    it("kills only its own child with kill(-1, SIGKILL): a host process of its uid, the launcher and the init survive", async () => {
      const hostPid = await hostProcess();
      const { sandbox, cgroup, output } = await start(["kill-all"]);
      const init = await sandbox.init;
      const exit = await sandbox.exited;
      const [attempt] = attemptsIn(output);
      expect(attempt, JSON.stringify(output)).toEqual({
        attempt: "kill-all",
        escaped: false,
        detail: "kill(-1): ok; own child: signal: killed",
      });
      // The plugin, spared by its own kill(-1), ended normally, so the init
      // lived to report it.
      expect(exit, JSON.stringify(output)).toEqual({ code: 0 });
      expect(await isAlive(hostPid)).toBe(true);
      expect(init.pid).toBeGreaterThan(0);
      await waitUntil("the cgroup is empty", async () => (await cgroup.pids()).length === 0);
    });
  });

  describe("writes", () => {
    it("cannot write outside its workspace and /corral: /, /plugin, /proc, /proc/sys (mounted read-only)", async () => {
      const outcome = await run(["write-outside"]);
      expectRefused(outcome, {
        "create:/escaped": "EROFS",
        "create:/plugin.d": "EROFS",
        "create:/corral/../escaped": "EROFS",
        "create:/proc/escaped": /^(EACCES|ENOENT)$/,
        "open-write:/plugin": /^(EACCES|EROFS|ETXTBSY)$/,
        // Sysctls, its own UTS and network namespace's too, are writable only
        // by the host's root or with a capability (EACCES, checked before the
        // mount); /proc/sys is also mounted read-only (below).
        "open-write:/proc/sys/kernel/hostname": /^(EACCES|EROFS)$/,
        "open-write:/proc/sys/kernel/core_pattern": /^(EACCES|EROFS)$/,
        "open-write:/proc/sys/vm/drop_caches": /^(EACCES|EROFS)$/,
        "open-write:/proc/sys/net/ipv4/ip_forward": /^(EACCES|EROFS)$/,
        "open-write:/proc/sys/net/core/somaxconn": /^(EACCES|EROFS)$/,
        "mount-options:/proc/sys": /^ro,/,
        "open-write:/proc/sysrq-trigger": /^(ENOENT|EACCES|EROFS)$/, // absent without CONFIG_MAGIC_SYSRQ
        "mkdir:/escaped.d": "EROFS",
        "symlink:/escaped-link": "EROFS",
      });
    });

    it("cannot write into /dev, whose tmpfs would be room outside workspaceBytes bounded only by the memory limit", async () => {
      const outcome = await run(["write-dev"]);
      expectRefused(outcome, {
        "create:/dev/escaped": "EROFS",
        "mkdir:/dev/escaped.d": "EROFS",
        "chmod:/dev/null": /^(EPERM|EROFS)$/, // the host root's device
        "rename:/dev/zero": /^(EBUSY|EROFS)$/, // a mount point
      });
    });

    it("cannot overwrite, truncate, replace or remove its own binary, even one its host uid owns", async () => {
      const dir = await tempDir("corral-release-");
      await chmod(dir, 0o755);
      const binary = path.join(dir, "plugin");
      await copyFile(HOSTILE, binary);
      await chown(binary, UID, UID);
      await chmod(binary, 0o755);
      const outcome = await run(["overwrite-exe"], { spec: { binary } });
      // The file would let its owner write; the read-only mount does not
      // (ETXTBSY when the kernel checks the running text first).
      expectRefused(outcome, {
        "open-wronly:/proc/self/exe": /^(EROFS|ETXTBSY)$/,
        "open-rdwr:/proc/self/exe": /^(EROFS|ETXTBSY)$/,
        "open-wronly:/plugin": /^(EROFS|ETXTBSY)$/,
        "open-rdwr:/plugin": /^(EROFS|ETXTBSY)$/,
        "chmod:/plugin": "EROFS",
        "truncate:/plugin": "EROFS",
        "rename-over:/plugin": /^(EXDEV|EBUSY)$/,
        "unlink:/plugin": /^(EROFS|EBUSY)$/,
      });
      expect((await readFile(binary)).equals(await readFile(HOSTILE)), "the binary is unchanged").toBe(true);
    });
  });

  describe("privileged syscalls: seccomp kills the plugin and the exited event names the syscall", () => {
    /** Reading pid 1's ns files needs ptrace access to it, which the non-dumpable init denies. */
    const initNsRefused = Object.fromEntries(
      ["cgroup", "mnt", "net", "pid", "uts", "ipc", "user"].map((ns) => [`open:/proc/1/ns/${ns}`, "EACCES"]),
    );
    const cases: { proves: string; args: string[]; syscall: string; before?: Record<string, string | RegExp> }[] = [
      { proves: "mounting a tmpfs", args: ["mount-tmpfs"], syscall: "mount" },
      { proves: "remounting / read-write", args: ["remount-root"], syscall: "mount" },
      { proves: "remounting /plugin read-write", args: ["remount-plugin"], syscall: "mount" },
      { proves: "the new mount API (fsopen)", args: ["fsopen"], syscall: "fsopen" },
      { proves: "a new user namespace (unshare CLONE_NEWUSER)", args: ["unshare-user"], syscall: "unshare" },
      { proves: "a new mount namespace (unshare CLONE_NEWNS)", args: ["unshare-mount"], syscall: "unshare" },
      { proves: "joining pid 1's namespaces (setns)", args: ["setns"], syscall: "setns", before: initNsRefused },
      {
        proves: "a new user namespace by clone (clone3 fails ENOSYS: its flags are out of the filter's sight)",
        args: ["clone-newuser"],
        syscall: "clone",
        before: { "clone3-newuser": "ENOSYS" },
      },
      { proves: "pivot_root", args: ["pivot-root"], syscall: "pivot_root" },
      { proves: "chroot and the break-out through it", args: ["chroot"], syscall: "chroot" },
      { proves: "ptrace(PTRACE_ATTACH) of pid 1", args: ["ptrace-init"], syscall: "ptrace" },
      {
        proves: "reading pid 1's memory (/proc/1/mem, environ and fds refused, then process_vm_readv)",
        args: ["init-memory"],
        syscall: "process_vm_readv",
        before: {
          "open:/proc/1/mem": "EACCES",
          "open-write:/proc/1/mem": "EACCES",
          "open:/proc/1/environ": "EACCES",
          "open:/proc/1/fd/3": "EACCES",
        },
      },
      { proves: "taking pid 1's channel to the launcher (pidfd_getfd)", args: ["pidfd-getfd"], syscall: "pidfd_getfd" },
      {
        proves: "pushing input into a terminal (TIOCSTI, also with high bits set), after finding no tty in /dev",
        args: ["tiocsti"],
        syscall: "ioctl",
        before: Object.fromEntries(
          ["/dev/tty", "/dev/console", "/dev/ptmx", "/dev/pts/ptmx", "/dev/tty0", "/dev/tty1"].map((p) => [`tiocsti:${p}`, "open: ENOENT"]),
        ),
      },
      { proves: "the kernel keyring (keyctl)", args: ["keyctl"], syscall: "keyctl" },
      { proves: "bpf", args: ["bpf"], syscall: "bpf" },
      { proves: "perf_event_open", args: ["perf-event"], syscall: "perf_event_open" },
      { proves: "loading a kernel module (init_module)", args: ["init-module"], syscall: "init_module" },
      { proves: "loading a kernel module from a file (finit_module)", args: ["finit-module"], syscall: "finit_module" },
      { proves: "loading a new kernel (kexec_load)", args: ["kexec-load"], syscall: "kexec_load" },
      { proves: "reboot", args: ["reboot"], syscall: "reboot" },
      { proves: "setting the clock (settimeofday)", args: ["settimeofday"], syscall: "settimeofday" },
      { proves: "setting the clock (clock_settime)", args: ["clock-settime"], syscall: "clock_settime" },
      // The UTS namespace is its own, so the host could not be touched; but
      // the hostname is the supervisor's to set (spec.hostname), and no Go
      // program needs sethostname.
      { proves: "sethostname", args: ["sethostname"], syscall: "sethostname" },
      { proves: "reading the kernel log (syslog)", args: ["syslog"], syscall: "syslog" },
      { proves: "io_uring, whose operations seccomp cannot see", args: ["io-uring"], syscall: "io_uring_setup" },
      { proves: "userfaultfd", args: ["userfaultfd"], syscall: "userfaultfd" },
      { proves: "switching off address-space randomisation (personality)", args: ["personality"], syscall: "personality" },
      { proves: "opening the host filesystem by handle (open_by_handle_at, the shocker escape)", args: ["open-by-handle"], syscall: "open_by_handle_at" },
    ];

    it.each(cases)("refuses $proves: killed at $syscall", async ({ args, syscall, before }) => {
      const hostName = hostname();
      const outcome = await runToSeccompKill(args);
      expectKilledBySeccomp(outcome, syscall, before);
      expect(hostname()).toBe(hostName);
    });
  });

  describe("network", () => {
    it("cannot connect to the host's loopback, its other addresses, or its unix sockets, abstract or by path", async () => {
      const loopback = await listen({ host: "127.0.0.1", port: 0 });
      const abstract = `corral-escape-${randomBytes(6).toString("hex")}`;
      const abstractServer = await listen({ path: `\0${abstract}` });
      const dir = await tempDir("corral-sockets-");
      await chmod(dir, 0o755);
      const socketPath = path.join(dir, "host.sock");
      const pathServer = await listen({ path: socketPath });
      await chmod(socketPath, 0o777);
      // A non-loopback address of the host, listened on too, where there is one.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((a) => a !== undefined && a.family === "IPv4" && !a.internal);
      const externalServer = external ? await listen({ host: external.address, port: 0 }) : undefined;

      const targets = [
        `tcp:127.0.0.1:${loopback.port}`,
        `unix:@${abstract}`,
        `unix:${socketPath}`,
        ...(external && externalServer ? [`tcp:${external.address}:${externalServer.port}`] : []),
      ];
      const outcome = await run(["connect", ...targets]);
      expectRefused(outcome, {
        // Its own loopback, where nothing listens.
        [`connect:tcp:127.0.0.1:${loopback.port}`]: "ECONNREFUSED",
        // Abstract sockets belong to the network namespace.
        [`connect:unix:@${abstract}`]: "ECONNREFUSED",
        [`connect:unix:${socketPath}`]: "ENOENT",
        // Only lo: no route anywhere else.
        ...(external && externalServer ? { [`connect:tcp:${external.address}:${externalServer.port}`]: "ENETUNREACH" } : {}),
      });
      expect([loopback, abstractServer, pathServer, ...(externalServer ? [externalServer] : [])].map((s) => s.connections())).toEqual(
        [0, 0, 0, ...(externalServer ? [0] : [])],
      );
    });

    it("reaches the host's loopback only with network: host (the control for the test above)", async () => {
      const loopback = await listen({ host: "127.0.0.1", port: 0 });
      const outcome = await run(["connect", `tcp:127.0.0.1:${loopback.port}`], { spec: { network: "host" } });
      expect(outcome.attempts, shown(outcome)).toEqual([
        { attempt: `connect:tcp:127.0.0.1:${loopback.port}`, escaped: true, detail: "connected" },
      ]);
      expect(outcome.exit).toEqual({ code: ESCAPED });
      await waitUntil("the listener saw the connection", () => loopback.connections() === 1);
    });

    it("cannot open raw sockets (AF_PACKET, AF_INET and AF_INET6 SOCK_RAW)", async () => {
      const outcome = await run(["raw-sockets"]);
      expectRefused(outcome, {
        // Refused by the filter (a family it does not allow) or, past it, by
        // the kernel (no CAP_NET_RAW): either way no socket.
        "socket:AF_PACKET": /^(EAFNOSUPPORT|EPERM)$/,
        "socket:AF_INET-SOCK_RAW": "EPERM",
        "socket:AF_INET6-SOCK_RAW": "EPERM",
      });
    });
  });

  describe("privileges", () => {
    it("holds no capability, has no_new_privs and a seccomp filter", async () => {
      const outcome = await run(["status"]);
      const fields = Object.fromEntries(onlyAttempt(outcome, "status").detail.split(" ").map((kv) => kv.split("=")));
      expect(fields).toEqual({
        CapInh: ZERO_CAPS,
        CapPrm: ZERO_CAPS,
        CapEff: ZERO_CAPS,
        CapBnd: ZERO_CAPS,
        CapAmb: ZERO_CAPS,
        NoNewPrivs: "1",
        Seccomp: "2",
        Seccomp_filters: expect.stringMatching(/^[1-9]\d*$/),
      });
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("cannot raise an rlimit above its hard limit, its priority above normal, nor shield itself from the OOM killer", async () => {
      const outcome = await run(["rlimits"]);
      expectRefused(outcome, {
        "raise-rlimit:NOFILE": "EPERM",
        "raise-rlimit:NPROC": "EPERM",
        "raise-rlimit:FSIZE": "EPERM",
        "raise-rlimit:CORE": "EPERM",
        "oom_score_adj": "EACCES",
      });
      // setpriority is allowed (nice above 0 is anyone's), nice below 0 is not.
      expectRefused(await run(["nice"]), { setpriority: "EACCES" });
    });

    it("gains no uid or capability by exec'ing a setuid-root binary granted read-only", async () => {
      // A grant may not overlap the sandbox's own /tmp: not in the host's /tmp either.
      const grant = await tempDir("corral-grant-", "/var/tmp");
      await chmod(grant, 0o755);
      const helper = path.join(grant, "setuid-helper");
      await copyFile(HOSTILE, helper);
      await chown(helper, 0, 0);
      await chmod(helper, 0o4755);
      const outcome = await run(["exec-creds", "setuid-helper", helper], { spec: { readOnlyPaths: [grant] } });
      expect(onlyAttempt(outcome, "setuid-helper").detail).toBe(`euid 0 -> 0, CapEff ${ZERO_CAPS} -> ${ZERO_CAPS}`);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("cannot write into a mount the host makes beneath a read-only grant once the sandbox runs", async () => {
      // A grant that is a shared mount, as every mount is on a systemd host:
      // a mount made beneath it later propagates to its peers and slaves.
      const grant = await tempDir("corral-grant-shared-", "/var/tmp");
      await chmod(grant, 0o755);
      await execa("mount", ["--bind", grant, grant]);
      await execa("mount", ["--make-shared", grant]);
      const later = path.join(grant, "later");
      await mkdir(later);
      try {
        const running = await start(["write-when", path.join(grant, "mounted"), path.join(later, "x")], { spec: { readOnlyPaths: [grant] } });
        await running.sandbox.started;
        await execa("mount", ["-t", "tmpfs", "-o", "mode=1777,size=1m", "corral-escape-later", later]);
        await writeFile(path.join(grant, "mounted"), "");
        const exit = await running.sandbox.exited;
        const outcome = { ...running, exit, attempts: attemptsIn(running.output) };
        expectRefused(outcome, { "write-when": "EROFS" });
        expect(await readFile(path.join(later, "x"), "utf8").catch(() => "absent")).toBe("absent");
      } finally {
        await execa("umount", [later], { reject: false });
        await execa("umount", [grant], { reject: false });
      }
    });

    it("cannot take huge pages from the host's pool, which no memory limit counts (refused, not left to the pool's size)", async () => {
      expectRefused(await run(["hugetlb"]), { "mmap-hugetlb": "EPERM", "memfd-hugetlb": "EPERM" });
    });

    it("gains nothing by exec'ing a setuid-root copy of itself made in the workspace", async () => {
      const outcome = await run(["setuid-copy"]);
      expect(onlyAttempt(outcome, "setuid-copy").detail).toBe(`euid 0 -> 0, CapEff ${ZERO_CAPS} -> ${ZERO_CAPS}`);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("regains no capability by exec'ing as root of its user namespace", async () => {
      const outcome = await run(["exec-creds", "exec-as-root", "/plugin"]);
      expect(onlyAttempt(outcome, "exec-as-root").detail).toBe(`euid 0 -> 0, CapEff ${ZERO_CAPS} -> ${ZERO_CAPS}`);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("cannot get a capability back: capset, an ambient capability, clearing securebits, unsetting no_new_privs", async () => {
      const outcome = await run(["caps-raise"]);
      expectRefused(outcome, {
        "capset-all": "EPERM",
        "ambient-raise": "EPERM",
        "securebits-clear": "EPERM", // locked, and no CAP_SETPCAP
        "no-new-privs-unset": "EINVAL", // it cannot be unset at all
      });
    });

    it("cannot make a device node, in the workspace, /dev or /corral (mknod)", async () => {
      const outcome = await run(["mknod"]);
      // CAP_MKNOD on the host is what it takes; every mount is nodev anyway.
      // /dev is read-only, so there the refusal comes before the privilege check.
      expectRefused(outcome, { "mknod:/tmp/mem": "EPERM", "mknod:/dev/mem2": "EROFS", "mknod:/corral/mem": "EPERM" });
    });
  });

  describe("limits", () => {
    it("contains a fork bomb at pids.max, reports the pids-limit hit, and leaves the host able to fork", async () => {
      const { sandbox, cgroup, output } = await start(["fork-bomb", "100000"]);
      await waitUntil("the fork bomb reports", () => attemptsIn(output).length > 0, 20_000);
      const [bomb] = attemptsIn(output);
      expect(bomb!.escaped, JSON.stringify(output)).toBe(false);
      const [, errno, count] = /^(\w+) after (\d+) processes$/.exec(bomb!.detail) ?? [];
      expect(errno, bomb!.detail).toBe("EAGAIN");
      expect(Number(count)).toBeLessThan(LIMITS.pids);
      expect(Number(count)).toBeGreaterThan(LIMITS.pids / 2);

      // The cgroup, not a luckier limit, refused the fork, and says so.
      expect((await cgroup.events()).pidsLimitHits).toBeGreaterThanOrEqual(1);
      expect((await cgroup.pids()).length).toBeLessThanOrEqual(LIMITS.pids);
      // The host is unaffected: it still forks and runs processes.
      const host = await execa("sh", ["-c", "for i in 1 2 3 4 5 6 7 8; do true & done; wait; echo forked"]);
      expect(host.stdout).toBe("forked");

      expect(sandbox.signal("SIGTERM")).toBe(true);
      expect(await sandbox.exited).toEqual({ code: 0 });
      await waitUntil("the cgroup is empty", async () => (await cgroup.pids()).length === 0);
    });

    // The kernel charges a sandbox's inotify instances at every level up,
    // at the host's to the owner of the sandbox's user namespace: its own
    // uid, so what it makes is taken from no one else (root's daemons) and
    // a host process of that uid has 16 fewer left. Each way the launcher
    // makes the namespaces: at once with --owner (a cold start), at once
    // with --ids (a warm spare), once the owner comes on --owner-fd (corral
    // sandbox), or once it has the spec.
    it.each(["owner", "ids", "later", "none"] as const)(
      "holds a plugin to 16 inotify instances, charged to its own uid and not root's (ids known: %s)",
      async (ids) => {
        const { sandbox, output } = await start(["inotify", "1000"], { ids });
        await waitUntil("the inotify hog reports", () => attemptsIn(output).length > 0, 20_000);
        const [hog] = attemptsIn(output);
        expect(hog).toEqual({ attempt: "inotify", escaped: false, detail: "EMFILE after 16 instances" });
        const max = Number(await readFile("/proc/sys/fs/inotify/max_user_instances", "utf8"));
        expect(await hostInotifyRoom(UID)).toBe(max - 16);
        // Told later, the front made the namespaces, as that owner, and the launcher adopted them.
        if (ids === "later") expect(output.filter((l) => l.includes(" launcher adopted "))).toHaveLength(1);
        // Root can still make some.
        const host = await execa(path.join(REPO, "node_modules/.bin/node"), ["-e", "require('node:fs').watch('/tmp').close(); console.log('watched')"]);
        expect(host.stdout).toBe("watched");
        expect(sandbox.signal("SIGTERM")).toBe(true);
        expect(await sandbox.exited).toEqual({ code: 0 });
      },
    );

    it("gets a memory hog OOM-killed at its memory limit and the kill counted as OOM", async () => {
      const outcome = await run(["memory-hog", "4096"], { limits: { memoryBytes: 64 * MiB } });
      expect(outcome.attempts, shown(outcome)).toEqual([]);
      expect(outcome.exit, shown(outcome)).toEqual({ signal: "SIGKILL" });
      expect((await outcome.cgroup.events()).oomKills).toBeGreaterThanOrEqual(1);
    });

    it("fills its workspace only up to workspaceBytes (ENOSPC)", async () => {
      const outcome = await run(["fill", "/tmp/fill", String(1024 * MiB)]);
      const [, errno, bytes] = /^(\w+) after (\d+) bytes$/.exec(onlyAttempt(outcome, "fill").detail) ?? [];
      expect(errno).toBe("ENOSPC");
      expect(Number(bytes)).toBeLessThanOrEqual(WORKSPACE_BYTES);
      expect(Number(bytes)).toBeGreaterThan(WORKSPACE_BYTES * 0.9);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("writes no file larger than rlimits.fsizeBytes (EFBIG, not killed by SIGXFSZ)", async () => {
      const fsizeBytes = 1 * MiB;
      const outcome = await run(["fill", "/tmp/big", String(1024 * MiB)], { spec: { rlimits: { ...RLIMITS, fsizeBytes } } });
      expect(onlyAttempt(outcome, "fill").detail).toBe(`EFBIG after ${fsizeBytes} bytes`);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("opens no more files than rlimits.nofile (EMFILE)", async () => {
      const outcome = await run(["fds", "100000"]);
      const [, errno, files] = /^(\w+) after (\d+) files$/.exec(onlyAttempt(outcome, "fds").detail) ?? [];
      expect(errno).toBe("EMFILE");
      // Its stdio and the runtime's own few fds take the rest.
      expect(Number(files)).toBeLessThanOrEqual(RLIMITS.nofile - 3);
      expect(Number(files)).toBeGreaterThan(RLIMITS.nofile - 16);
      expect(outcome.exit).toEqual({ code: 0 });
    });

    it("is held to its CPU quota when it spins every core, by the cgroup's accounting", async () => {
      const cpu = 0.25;
      const seconds = 3;
      const { sandbox, cgroup, output } = await start(["spin", String(seconds), "2"], { limits: { cpu } });
      await sandbox.started;
      const t0 = performance.now();
      const u0 = (await cgroup.usage()).cpuMicros;
      const exit = await sandbox.exited;
      const t1 = performance.now();
      const u1 = (await cgroup.usage()).cpuMicros;
      expect(exit, JSON.stringify(output)).toEqual({ code: 0 });
      expect(attemptsIn(output)).toEqual([{ attempt: "spin", escaped: false, detail: `spun 2 threads for ${seconds}s` }]);

      const share = (u1 - u0) / 1000 / (t1 - t0); // cores used over the wall time
      expect(share).toBeLessThanOrEqual(cpu + 0.1);
      expect(share).toBeGreaterThan(cpu * 0.6); // it did spin
    });
  });
});
