// systemd integration: the sd_notify messages (READY=1, RELOADING=1,
// STOPPING=1, STATUS=, WATCHDOG=1) received on a real Unix datagram socket
// standing in for NOTIFY_SOCKET, from the notifier alone and from a real
// `corral serve`; the unit checked with `systemd-analyze verify`; and
// scripts/install.sh run into a staging root (never into the real system).
//
// Node cannot open a datagram socket, so the stand-in for systemd is a small
// python3 program: it binds the socket with SO_PASSCRED, as systemd does, and
// prints each datagram with the sender's pid from SCM_CREDENTIALS and its
// arrival time on CLOCK_MONOTONIC (the clock process.hrtime reads).
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../supervisor/config/load.ts";
import { createLogger } from "../supervisor/log.ts";
import { Notifier, supervisingStatus, watchdogIntervalMs } from "../supervisor/systemd/notify.ts";
import { plugins, processAlive, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const LISTENER = String.raw`
import json, socket, struct, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
print(json.dumps({"listening": addr}), flush=True)
size = struct.calcsize("3i")
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(size))
    at = time.monotonic_ns()
    pid = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", value[:size])[0]
    print(json.dumps({"at": at, "pid": pid, "data": data.decode("utf-8", "replace")}), flush=True)
`;

interface Datagram {
  /** Arrival, CLOCK_MONOTONIC in ns. */
  at: bigint;
  /** The sender's pid as the kernel vouches for it (what systemd checks NotifyAccess= against). */
  pid: number | null;
  data: string;
  fields: Record<string, string>;
}

/** The stand-in for systemd's notification socket. */
class NotifyListener {
  readonly received: Datagram[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** Binds `address` (a path, or @NAME for an abstract socket) and resolves once it listens. */
  static async open(address: string): Promise<NotifyListener> {
    const child = spawn("python3", ["-u", "-c", LISTENER, address], { stdio: ["ignore", "pipe", "pipe"] });
    const listener = new NotifyListener(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    const listening = new Promise<void>((resolve, reject) => {
      lines.on("line", (line) => {
        const parsed = JSON.parse(line) as { listening?: string; at: number | string; pid: number | null; data: string };
        if (parsed.listening !== undefined) return resolve();
        listener.received.push({
          at: BigInt(parsed.at),
          pid: parsed.pid,
          data: parsed.data,
          fields: Object.fromEntries(parsed.data.split("\n").map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)])),
        });
      });
      child.once("error", (err) => reject(new Error(`python3 (the stand-in for systemd's socket) did not start: ${err.message}`)));
      child.once("exit", (code) => reject(new Error(`the notify listener exited (${code}) before listening: ${stderr}`)));
    });
    try {
      await withTimeout(listening, 10_000, "the notify listener did not start listening");
    } catch (err) {
      await listener.close();
      throw err;
    }
    return listener;
  }

  /** The first datagram (received or to come) that `predicate` accepts. */
  async waitFor(predicate: (d: Datagram) => boolean, what: string, timeoutMs = 10_000): Promise<Datagram> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; received: ${JSON.stringify(this.received.map((d) => d.data))}`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
    await this.#exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const monotonicNs = () => process.hrtime.bigint();
const ms = (ns: bigint) => Number(ns) / 1e6;

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A log that keeps its JSON lines, to check what the notifier logged. */
function memoryLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "corral-systemd-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function listen(address: string): Promise<NotifyListener> {
  const listener = await NotifyListener.open(address);
  cleanups.push(() => listener.close());
  return listener;
}

function notifier(env: NodeJS.ProcessEnv, options: { helperPath?: string } = {}) {
  const { logger, lines } = memoryLogger();
  const n = new Notifier({ logger, env, ...options });
  cleanups.push(() => n.close());
  return { notifier: n, lines };
}

describe("the notifier (supervisor/systemd/notify.ts)", () => {
  it("is a no-op without NOTIFY_SOCKET: nothing started, sent or logged", async () => {
    const { notifier: n, lines } = notifier({ WATCHDOG_USEC: "400000" }, { helperPath: "/nonexistent/corral-notify" });
    expect(n.enabled).toBe(false);
    expect(await n.ready("x")).toBe(false);
    expect(await n.stopping()).toBe(false);
    expect(n.startWatchdog()).toBeUndefined();
    await n.close();
    expect(lines).toEqual([]);
  });

  it("sends to a path socket, on behalf of the supervisor's pid, one datagram per message", async () => {
    const socket = path.join(await tempDir(), "notify.sock");
    const listener = await listen(socket);
    const { notifier: n, lines } = notifier({ NOTIFY_SOCKET: socket });
    expect(await n.ready("line one\nline two")).toBe(true);
    expect(await n.status("busy")).toBe(true);
    expect(await n.stopping()).toBe(true);
    await listener.waitFor((d) => d.fields.STOPPING === "1", "STOPPING=1");
    expect(listener.received.map((d) => d.data)).toEqual(["READY=1\nSTATUS=line one line two", "STATUS=busy", "STOPPING=1"]);
    // Sent by the helper, but in this process's name: NotifyAccess=main accepts it.
    expect(listener.received.map((d) => d.pid)).toEqual([process.pid, process.pid, process.pid]);
    expect(lines.filter((l) => l.level !== "info")).toEqual([]);
  });

  it("cuts a long STATUS, so that READY=1 with it stays under what systemd reads of a datagram (4096 bytes; a longer one it drops whole)", async () => {
    const socket = path.join(await tempDir(), "notify.sock");
    const listener = await listen(socket);
    const { notifier: n } = notifier({ NOTIFY_SOCKET: socket });
    const names = Array.from({ length: 150 }, (_, i) => `payments-reconcile-worker-${i}`);
    expect(supervisingStatus(names)).toBe("supervising 150 plugins; corralctl status for their states");
    expect(supervisingStatus(["a", "b"])).toBe("supervising 2 plugins (a, b); corralctl status for their states");
    expect(await n.ready(`supervising ${names.join(", ")} é`.repeat(3))).toBe(true);
    const ready = await listener.waitFor((d) => d.fields.READY === "1", "READY=1");
    expect(Buffer.byteLength(ready.data)).toBeLessThanOrEqual(4096);
    expect(ready.fields.STATUS).toMatch(/^supervising payments-reconcile-worker-0, .*…$/);
    expect(Buffer.byteLength(ready.fields.STATUS!)).toBe(1024);
  });

  it("sends to an abstract socket (@NAME)", async () => {
    const address = `@corral-test-${randomBytes(6).toString("hex")}`;
    const listener = await listen(address);
    const { notifier: n } = notifier({ NOTIFY_SOCKET: address });
    expect(await n.ready()).toBe(true);
    const ready = await listener.waitFor((d) => d.fields.READY === "1", "READY=1");
    expect(ready.data).toBe("READY=1");
    expect(ready.pid).toBe(process.pid);
  });

  it("reloading() sends RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC), reloaded() READY=1", async () => {
    const socket = path.join(await tempDir(), "notify.sock");
    const listener = await listen(socket);
    const { notifier: n } = notifier({ NOTIFY_SOCKET: socket });
    const before = monotonicNs() / 1000n;
    expect(await n.reloading("reloading /etc/corral/corral.yaml")).toBe(true);
    const after = monotonicNs() / 1000n;
    expect(await n.reloaded("reloaded: 1 plugin changed")).toBe(true);
    const reloaded = await listener.waitFor((d) => d.fields.READY === "1", "READY=1");
    const [reloading] = listener.received;
    expect(Object.keys(reloading!.fields)).toEqual(["RELOADING", "MONOTONIC_USEC", "STATUS"]);
    expect(reloading!.fields.RELOADING).toBe("1");
    const stamp = BigInt(reloading!.fields.MONOTONIC_USEC!);
    expect(stamp >= before && stamp <= after).toBe(true);
    // The same clock as the receiver's (systemd compares it with its own).
    expect(stamp * 1000n <= reloading!.at).toBe(true);
    expect(reloaded.data).toBe("READY=1\nSTATUS=reloaded: 1 plugin changed");
  });

  it("the watchdog interval is half of WATCHDOG_USEC, and only for the process WATCHDOG_PID names", async () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "400000" }, 42)).toBe(200);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "41" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "soon" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();

    const socket = path.join(await tempDir(), "notify.sock");
    const listener = await listen(socket);
    const { notifier: other } = notifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000", WATCHDOG_PID: String(process.pid + 1) });
    expect(other.startWatchdog()).toBeUndefined();
    const { notifier: n } = notifier({ NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000", WATCHDOG_PID: String(process.pid) });
    const watchdog = n.startWatchdog();
    expect(watchdog?.intervalMs).toBe(200);
    await listener.waitFor((d) => d.fields.WATCHDOG === "1", "WATCHDOG=1"); // the first, at once
    await sleep(700);
    watchdog!.stop();
    // A ping sent just before the stop may still be on its way: a marker
    // sent after it arrives after it, and the count is taken then.
    await n.notify("STATUS=watchdog stopped");
    await listener.waitFor((d) => d.fields.STATUS === "watchdog stopped", "the marker");
    const count = listener.received.length - 1;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(6);
    await sleep(500);
    expect(listener.received).toHaveLength(count + 1); // stopped means stopped
  });

  it("logs what it cannot send, once, and never throws", async () => {
    const dir = await tempDir();
    // Nobody listening.
    const { notifier: n, lines } = notifier({ NOTIFY_SOCKET: path.join(dir, "nobody.sock") });
    expect(await n.ready()).toBe(false);
    expect(await n.notify("WATCHDOG=1")).toBe(false);
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/systemd notification not sent: .*(no such file|connection refused)/i);
    // The helper missing.
    const missing = notifier({ NOTIFY_SOCKET: path.join(dir, "x.sock") }, { helperPath: path.join(dir, "no-helper") });
    expect(await missing.notifier.ready()).toBe(false);
    expect(missing.lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([expect.stringMatching(/no-helper.*ENOENT/)]);
    // A socket address it cannot use: the helper says why and exits; the next message tries again.
    const vsock = notifier({ NOTIFY_SOCKET: "vsock:2:1234" });
    expect(await vsock.notifier.ready()).toBe(false);
    expect(await vsock.notifier.ready()).toBe(false);
    expect(vsock.lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([expect.stringMatching(/exited \(1\): .*only a path or an @abstract name/)]);
  });

  it("takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of process.env, so no child inherits them", async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "30000000", WATCHDOG_PID: String(process.pid) });
      const { logger } = memoryLogger();
      const n = new Notifier({ logger });
      expect(n.enabled).toBe(true);
      expect(n.watchdogIntervalMs).toBe(15_000);
      expect([process.env.NOTIFY_SOCKET, process.env.WATCHDOG_USEC, process.env.WATCHDOG_PID]).toEqual([undefined, undefined, undefined]);
      await n.close();
    } finally {
      for (const name of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});

describe("corral serve under a stand-in for systemd", () => {
  let dir: string;
  let socket: string;
  let listener: NotifyListener | undefined;
  let supervisor: TestSupervisor | undefined;
  /** CLOCK_MONOTONIC ns minus wall-clock ns: converts the log's times. */
  let offsetNs: bigint;
  const logMonotonic = (time: string) => BigInt(Date.parse(time)) * 1_000_000n + offsetNs;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-systemd-"));
    socket = path.join(dir, "notify.sock");
    listener = await NotifyListener.open(socket);
    supervisor = await TestSupervisor.create({
      plugins: [
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
        // Its first attempt fails (it crashes at start); it goes on in its
        // backoff. READY=1 waits for that first attempt, not for the crash
        // loop to settle: a loop that never quarantines would hold it for good.
        {
          name: "crashy",
          binary: path.join(repoRoot, "build/test-plugins/echo-crash"),
          apiVersion: "1.0",
          restart: { initialBackoff: "200ms", maxBackoff: "400ms", quarantineAfter: 3, quarantineWindow: "60s" },
        },
      ],
    });
    offsetNs = monotonicNs() - BigInt(Date.now()) * 1_000_000n;
    // `corral serve` inherits this process's environment (execa extends it):
    // set what systemd would for a Type=notify unit with WatchdogSec=400ms.
    const saved = { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET, WATCHDOG_USEC: process.env.WATCHDOG_USEC };
    Object.assign(process.env, { NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000" });
    try {
      await supervisor.start();
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  afterAll(async () => {
    await supervisor?.cleanup();
    await listener?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends READY=1 (with STATUS) once every plugin has had its first attempt, as the supervisor's own pid", async () => {
    const ready = await listener!.waitFor((d) => d.fields.READY === "1", "READY=1");
    const status = await supervisor!.status();
    expect(status.plugins.find((p) => p.name === "greeter")?.state).toBe("ready");
    expect(status.plugins.find((p) => p.name === "crashy")?.state).not.toBe("ready");
    expect(ready.pid).toBe(supervisor!.pid);
    expect(ready.fields.STATUS).toMatch(/^supervising 2 plugins \(greeter, crashy\)/);
    // Nothing before it, and it came after greeter was ready and crashy's
    // first attempt had failed (log times have ms resolution; the clocks
    // are converted within a ms or so).
    expect(listener!.received[0]).toBe(ready);
    const firstAttemptAt = ["greeter", "crashy"].map((name) => {
      const line = supervisor!.logs.find((l) => l.plugin === name && (l.to === "ready" || l.to === "crashed"));
      expect(line, `${name}'s first attempt`).toBeDefined();
      return logMonotonic(line!.time);
    });
    for (const at of firstAttemptAt) expect(ms(ready.at - at)).toBeGreaterThan(-5);
  });

  it("sends WATCHDOG=1 every half of WATCHDOG_USEC (400 ms: every 200 ms), after READY=1", async () => {
    const ready = await listener!.waitFor((d) => d.fields.READY === "1", "READY=1");
    const pings = () => listener!.received.filter((d) => d.fields.WATCHDOG === "1");
    const deadline = Date.now() + 5000;
    while (pings().length < 7 && Date.now() < deadline) await sleep(20);
    const all = pings();
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(all.every((d) => d.at > ready.at && d.pid === supervisor!.pid)).toBe(true);
    expect(ms(all[0]!.at - ready.at)).toBeLessThan(250); // started right after READY=1
    const first = all[0]!.at;
    const inFirstSecond = all.filter((d) => d.at - first < 1_000_000_000n).length;
    expect(inFirstSecond).toBeGreaterThanOrEqual(3);
    expect(inFirstSecond).toBeLessThanOrEqual(7);
    const intervals = all.slice(1).map((d, i) => ms(d.at - all[i]!.at)).sort((a, b) => a - b);
    const median = intervals[Math.floor(intervals.length / 2)]!;
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(300);
  });

  it("reloads the config on SIGHUP (the unit's ExecReload), between RELOADING=1 and READY=1", async () => {
    const readies = () => listener!.received.filter((d) => d.fields.READY === "1").length;
    const readyBefore = readies();
    process.kill(supervisor!.pid!, "SIGHUP");
    const reloading = await listener!.waitFor((d) => d.fields.RELOADING === "1", "RELOADING=1", 5000);
    expect(reloading.pid).toBe(supervisor!.pid);
    expect(Number(reloading.fields.MONOTONIC_USEC)).toBeGreaterThan(0);
    await supervisor!.waitForLog((l) => l.msg.startsWith("config reloaded: 0 added, 0 removed, 0 changed"), 5000);
    const reloaded = await listener!.waitFor((d) => d.fields.READY === "1" && d.at > reloading.at, "READY=1 after RELOADING=1", 5000);
    expect(reloaded.fields.STATUS).toMatch(/^config reloaded/);
    expect(readies()).toBe(readyBefore + 1);
    expect(processAlive(supervisor!.pid!)).toBe(true);
    expect((await supervisor!.plugin("greeter")).state).toBe("ready");
  });

  it("sends STOPPING=1 on SIGTERM, drains, exits 0, and leaves no helper behind", async () => {
    const exit = await supervisor!.stop("SIGTERM");
    const exitedAt = monotonicNs();
    expect(exit).toEqual({ code: 0, signal: undefined });
    const stopping = await listener!.waitFor((d) => d.fields.STOPPING === "1", "STOPPING=1", 1000);
    expect(stopping.pid).toBe(supervisor!.pid);
    expect(stopping.at < exitedAt).toBe(true);
    expect(stopping.fields.STATUS).toMatch(/stopping \(SIGTERM\)/);
    const greeterStopped = supervisor!.logs.find((l) => l.plugin === "greeter" && l.to === "stopped");
    expect(greeterStopped, "greeter drained").toBeDefined();
    expect(stopping.at <= logMonotonic(greeterStopped!.time) + 5_000_000n).toBe(true); // before the drain ended
    // The helper ends with the supervisor (its stdin closes).
    const helpers = () =>
      readdirSync("/proc")
        .filter((e) => /^\d+$/.test(e))
        .filter((pid) => {
          try {
            const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
            return argv[0]!.endsWith("corral-notify") && argv.includes(socket);
          } catch {
            return false;
          }
        })
        .map(Number)
        .filter(processAlive);
    const deadline = Date.now() + 3000;
    while (helpers().length > 0 && Date.now() < deadline) await sleep(20);
    expect(helpers()).toEqual([]);
    expect(await supervisor!.leftovers()).toEqual([]);
  });
});

describe("deploy/corral.service", () => {
  const unitFile = path.join(repoRoot, "deploy/corral.service");
  const unit = readFileSync(unitFile, "utf8");
  const setting = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]);
  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));

  it("says what the supervisor needs: notify, watchdog, delegation, a stop that lets it drain", () => {
    expect(setting("Type")).toEqual(["notify"]);
    expect(setting("NotifyAccess")).toEqual(["main"]); // the helper sends on the main pid's behalf
    expect(setting("WatchdogSec")).toEqual(["30s"]);
    expect(setting("Delegate")).toEqual(["yes"]);
    expect(setting("KillMode")).toEqual(["mixed"]);
    expect(setting("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    expect(setting("ExecStart")).toEqual(["/usr/local/bin/corral serve --config /etc/corral/corral.yaml"]);
    expect(setting("TasksMax")).toEqual(["infinity"]); // each instance has its own pids limit
    expect(setting("RuntimeDirectoryPreserve")).toEqual(["yes"]); // corral sandbox runs' uid locks
    expect(setting("RestartPreventExitStatus")).toEqual(["2"]); // a config that does not load
    // The instances' tmpfs, in the host's namespace (supervisor.instance-dir tests the take-over).
    const launcher = "/usr/local/lib/corral/build/bin/corral-sandbox";
    expect(setting("ExecStartPre")).toEqual(["+/bin/mkdir -p -m 0711 /run/corral/instances", `+${launcher} instances-fs mount /run/corral/instances`]);
    expect(setting("ExecStopPost")).toEqual([`+${launcher} instances-fs unmount /run/corral/instances`]);
    const stopSeconds = Number(/^(\d+)s$/.exec(setting("TimeoutStopSec")[0] ?? "")?.[1]);
    expect(stopSeconds).toBeGreaterThanOrEqual(15); // stopTimeout (5 s) and a margin
    // Hardening that would break the sandbox stays out.
    for (const key of ["ProtectKernelTunables", "ProtectControlGroups", "RestrictNamespaces", "PrivateUsers", "ProtectProc", "ProtectKernelLogs", "ProtectHostname", "MemoryDenyWriteExecute"]) {
      expect(setting(key), key).toEqual([]);
    }
  });

  it.skipIf(!analyze)(`passes systemd-analyze verify${analyze ? "" : " (skipped: systemd-analyze is not installed; apt-get install systemd)"}`, async () => {
    const dir = await tempDir();
    // verify checks that ExecStart's binary exists: point it at this checkout's wrapper.
    const local = path.join(dir, "corral.service");
    await writeFile(local, unit.replace("ExecStart=/usr/local/bin/corral ", `ExecStart=${path.join(repoRoot, "bin/corral")} `).replaceAll("/usr/local/lib/corral/", `${repoRoot}/`));
    // verify exits 0 even for unknown keys and bad values, warning on
    // stderr: only silence about this unit is a pass.
    const about = (r: { stdout: unknown; stderr: unknown }) =>
      `${String(r.stdout)}\n${String(r.stderr)}`.split("\n").filter((l) => l.includes("corral.service") || l.includes(dir));
    const good = await execa(analyze!, ["verify", local], { reject: false });
    expect(about(good)).toEqual([]);
    expect(good.exitCode).toBe(0);
    // The check catches a broken unit.
    const broken = path.join(dir, "broken", "corral.service");
    await mkdir(path.dirname(broken));
    await writeFile(broken, (await readFile(local, "utf8")).replace("KillMode=mixed", "KillMod=mixed"));
    const bad = await execa(analyze!, ["verify", broken], { reject: false });
    expect(about(bad).join("\n")).toMatch(/Unknown key.*KillMod/);
  });
});

describe("scripts/install.sh", () => {
  const script = path.join(repoRoot, "scripts/install.sh");

  it("installs the tree, the wrappers, an example config and the unit beneath DESTDIR, and keeps an edited config", async () => {
    const root = await tempDir();
    // A file of the checkout that its builder, not root, owns, writable by others.
    const probe = path.join(repoRoot, "examples/.install-ownership-probe");
    await writeFile(probe, "builder's\n", { mode: 0o666 });
    await chmod(probe, 0o666);
    await chown(probe, 65534, 65534);
    let first;
    try {
      first = await execa("bash", [script], { env: { DESTDIR: root }, reject: false });
    } finally {
      await rm(probe, { force: true });
    }
    expect(first.exitCode, String(first.stderr)).toBe(0);
    // Root runs the tree: all of it is root's, and no one else may write it.
    const installed = await stat(path.join(root, "usr/local/lib/corral/examples/.install-ownership-probe"));
    expect([installed.uid, installed.gid, installed.mode & 0o777]).toEqual([0, 0, 0o644]);
    const writable = await execa("find", [path.join(root, "usr/local/lib/corral"), "(", "-perm", "/022", "-o", "!", "-uid", "0", ")", "!", "-type", "l", "-print", "-quit"]);
    expect(writable.stdout).toBe("");
    expect(String(first.stdout)).toMatch(/systemctl enable --now corral/);
    const lib = path.join(root, "usr/local/lib/corral");
    for (const file of ["bin/corral", "bin/corralctl", "build/bin/corral-sandbox", "build/bin/corral-notify", "build/plugins/greeter", "node_modules/.bin/node", "package.json", "supervisor/cli/corral.ts", "proto/corral/admin/v1/admin.proto"]) {
      expect(existsSync(path.join(lib, file)), file).toBe(true);
    }
    expect(await readlink(path.join(root, "usr/local/bin/corral"))).toBe("/usr/local/lib/corral/bin/corral");
    expect(await readlink(path.join(root, "usr/local/bin/corralctl"))).toBe("/usr/local/lib/corral/bin/corralctl");
    expect(await readFile(path.join(root, "etc/systemd/system/corral.service"), "utf8")).toBe(readFileSync(path.join(repoRoot, "deploy/corral.service"), "utf8"));
    // The example config is valid and names the installed greeter.
    const configFile = path.join(root, "etc/corral/corral.yaml");
    const config = parseConfig(await readFile(configFile, "utf8"), configFile);
    expect(config.stateDir).toBe("/var/lib/corral");
    expect(config.runtimeDir).toBe("/run/corral");
    expect(config.plugins.map((p) => p.binary)).toEqual(["/usr/local/lib/corral/build/plugins/greeter"]);
    // The installed tree runs on its own Node.
    const help = await execa(path.join(lib, "bin/corral"), ["--help"], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(String(help.stdout)).toMatch(/serve/);

    await writeFile(configFile, "# edited\n");
    const again = await execa("bash", [script], { env: { DESTDIR: root }, reject: false });
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(await readFile(configFile, "utf8")).toBe("# edited\n");
    expect(existsSync(`${lib}.old`) || existsSync(`${lib}.new`)).toBe(false);
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    const root = await tempDir();
    const r = await execa("bash", [script, "--dry-run"], { env: { DESTDIR: root }, reject: false });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/\+ cp -a node_modules/);
    // The stage is root's alone to enter while its copies are still the builder's.
    const plan = String(r.stdout).split("\n");
    const at = (re: RegExp) => plan.findIndex((l) => re.test(l));
    expect(at(/^\+ mkdir -m 0700 .*corral\.new$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^\+ mkdir -m 0700 /)).toBeLessThan(at(/^\+ cp -a /));
    expect(at(/^\+ chmod -R go-w /)).toBeLessThan(at(/^\+ chmod 0755 .*corral\.new$/));
    expect(readdirSync(root)).toEqual([]);
    expect((await lstat(root)).isDirectory()).toBe(true);
  });
});

describe("scripts/uninstall.sh", () => {
  const install = path.join(repoRoot, "scripts/install.sh");
  const uninstall = path.join(repoRoot, "scripts/uninstall.sh");

  it("refuses while something runs from the tree, then removes the install and keeps config and state unless --purge", async () => {
    const root = await tempDir();
    const installed = await execa("bash", [install], { env: { DESTDIR: root }, reject: false });
    expect(installed.exitCode, String(installed.stderr)).toBe(0);
    const lib = path.join(root, "usr/local/lib/corral");
    const state = path.join(root, "var/lib/corral");
    const runtime = path.join(root, "run/corral");
    const instances = path.join(runtime, "instances");
    await mkdir(path.join(state, "ca"), { recursive: true });
    await writeFile(path.join(state, "ca/ca.key"), "the CA's key\n", { mode: 0o600 });
    await mkdir(instances, { recursive: true });

    // A process running the installed Node: nothing is removed while it runs.
    const user = spawn(path.join(lib, "node_modules/.bin/node"), ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    cleanups.push(async () => {
      if (user.exitCode === null && user.signalCode === null) user.kill("SIGKILL");
    });
    await new Promise<void>((resolve, reject) => user.once("spawn", resolve).once("error", reject));
    const refused = await execa("bash", [uninstall], { env: { DESTDIR: root }, reject: false });
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toMatch(new RegExp(`processes still run from .*usr/local/lib/corral[^\\n]*\\n\\s+pid ${user.pid} \\(.*node_modules/node/bin/node\\)`));
    expect(existsSync(path.join(lib, "bin/corral"))).toBe(true);
    // A supervisor started by hand with another Node runs the tree's code: found by its command line.
    const byHand = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", path.join(lib, "supervisor/cli/corral.ts"), "serve"], { stdio: "ignore" });
    cleanups.push(async () => {
      if (byHand.exitCode === null && byHand.signalCode === null) byHand.kill("SIGKILL");
    });
    await new Promise<void>((resolve, reject) => byHand.once("spawn", resolve).once("error", reject));
    const refusedByHand = await execa("bash", [uninstall], { env: { DESTDIR: root }, reject: false });
    expect(refusedByHand.exitCode).toBe(1);
    expect(String(refusedByHand.stderr)).toMatch(new RegExp(`\\n\\s+pid ${byHand.pid} \\(${process.execPath} .*usr/local/lib/corral/supervisor/cli/corral\\.ts\\)`));
    const byHandExited = new Promise((resolve) => byHand.once("exit", resolve));
    byHand.kill("SIGTERM");
    await byHandExited;
    // Upgraded meanwhile: the process runs a tree that is gone, and still counts.
    const upgraded = await execa("bash", [install], { env: { DESTDIR: root }, reject: false });
    expect(upgraded.exitCode, String(upgraded.stderr)).toBe(0);
    const stillRefused = await execa("bash", [uninstall], { env: { DESTDIR: root }, reject: false });
    expect(stillRefused.exitCode).toBe(1);
    expect(String(stillRefused.stderr)).toMatch(new RegExp(`pid ${user.pid} \\(.*corral\\.old/node_modules/node/bin/node \\(deleted\\)\\)`));
    expect(existsSync(path.join(root, "etc/systemd/system/corral.service"))).toBe(true);
    // The operator's own corralctl, not install.sh's link: it stays.
    await rm(path.join(root, "usr/local/bin/corralctl"));
    await writeFile(path.join(root, "usr/local/bin/corralctl"), "#!/bin/sh\n", { mode: 0o755 });
    const exited = new Promise((resolve) => user.once("exit", resolve));
    user.kill("SIGTERM");
    await exited;

    const removed = await execa("bash", [uninstall], { env: { DESTDIR: root }, reject: false });
    expect(removed.exitCode, String(removed.stderr)).toBe(0);
    for (const gone of ["usr/local/lib/corral", "usr/local/bin/corral", "etc/systemd/system/corral.service"]) {
      expect(existsSync(path.join(root, gone)), gone).toBe(false);
    }
    expect(String(removed.stdout)).toMatch(/keeping .*usr\/local\/bin\/corralctl: not install\.sh's link/);
    expect(await readFile(path.join(root, "usr/local/bin/corralctl"), "utf8")).toBe("#!/bin/sh\n");
    expect(await readFile(path.join(state, "ca/ca.key"), "utf8")).toBe("the CA's key\n");
    expect(existsSync(path.join(root, "etc/corral/corral.yaml"))).toBe(true);

    // A supervisor killed with SIGKILL leaves its instances' tmpfs mounted: --purge unmounts it.
    await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "corral-uninstall-test", instances]);
    cleanups.push(async () => {
      await execa("umount", [instances], { reject: false });
    });
    const plan = await execa("bash", [uninstall, "--purge", "--dry-run"], { env: { DESTDIR: root }, reject: false });
    expect(plan.exitCode, String(plan.stderr)).toBe(0);
    expect(String(plan.stdout)).toMatch(new RegExp(`\\+ umount .*run/corral/instances`));
    expect(existsSync(path.join(state, "ca/ca.key"))).toBe(true);

    // The supervisors' locks on their cgroup parents (exclusive-lock.ts).
    await mkdir(path.join(root, "run/lock/corral"), { recursive: true });
    await writeFile(path.join(root, "run/lock/corral/corral.lock"), "");
    const purged = await execa("bash", [uninstall, "--purge"], { env: { DESTDIR: root }, reject: false });
    expect(purged.exitCode, String(purged.stderr)).toBe(0);
    for (const gone of ["etc/corral", "var/lib/corral", "run/corral", "run/lock/corral"]) {
      expect(existsSync(path.join(root, gone)), gone).toBe(false);
    }
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(instances);
  });
});
