// The supervisor end to end: real sandboxes, real Go plugins, real cgroups,
// real mTLS. Each test runs its own `corral serve` and checks it left nothing.
import { existsSync } from "node:fs";
import { mkdir, readFile, readlink, rmdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectCgroups } from "../sandbox/cgroups/detect.ts";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { scopedCredentials, sayHello } from "./helpers/greeter.ts";
import { status, type ServiceError } from "@grpc/grpc-js";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { echoClient } from "./helpers/echo.ts";
import { corralctl, plugins, processAlive, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const cgroupMode = (await detectCgroups().catch(() => undefined))?.mode;
// "hybrid": v1 controllers beside a v2 tree without them.
const onCgroupV1 = cgroupMode === "v1" || cgroupMode === "hybrid";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

async function start(pluginConfigs: Array<Record<string, unknown>>) {
  const supervisor = await TestSupervisor.create({ plugins: pluginConfigs });
  running.push(supervisor);
  await supervisor.start();
  return supervisor;
}

const greeter = {
  name: "greeter",
  binary: plugins.greeter,
  apiVersion: "1.0",
  env: { GREETING: "Howdy" },
  limits: { memory: "48MiB", pids: 40, cpu: 0.25, workspace: "4MiB" },
  restart: { initialBackoff: "300ms", maxBackoff: "2s" },
};

describe("a sandboxed plugin under the supervisor", () => {
  it("becomes ready and answers a call over mTLS, in its own namespaces, uid and cgroup", async () => {
    const supervisor = await start([greeter]);
    const status = await supervisor.plugin("greeter");
    expect(status.state).toBe("ready");
    const instance = status.instance!;
    expect(instance.release).toMatch(/^[0-9a-f]{64}$/);

    // A host application with a client certificate scoped to greeter gets an answer.
    const socket = path.join(supervisor.runtimeDir, "instances", instance.id, "plugin.sock");
    const creds = await scopedCredentials(supervisor.stateDir, "test.corral.local", "greeter");
    const reply = await sayHello(socket, creds, "Corral");
    expect(reply).toEqual({ message: "Howdy, Corral!", instance: instance.id });

    // The pid is the plugin process itself, not the sandbox's init.
    const pid = instance.pid;
    expect(await readFile(`/proc/${pid}/cmdline`, "utf8")).toBe("/plugin\0");
    for (const ns of ["pid", "mnt", "net", "user", "ipc", "uts", "cgroup"]) {
      expect(await readlink(`/proc/${pid}/ns/${ns}`), ns).not.toBe(await readlink(`/proc/self/ns/${ns}`));
    }
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))![1];
    expect(Number(uid)).toBeGreaterThanOrEqual(400_000);
    // Held in the uid locks it shares with `corral sandbox` runs, in the supervisor's name.
    expect(await readFile(path.join(supervisor.runtimeDir, "uids", uid!), "utf8")).toBe(`${supervisor.pid} ${readProcStat(supervisor.pid!)!.startTime}\n`);

    // Its cgroup is the instance's, beneath the supervisor's parent, with the configured limits.
    const cgroups = await readFile(`/proc/${pid}/cgroup`, "utf8");
    const memoryPath = /:memory:(.*)$/m.exec(cgroups)![1]!;
    // Its own cgroup beneath the supervisor's parent (a warm launcher's, adopted, or one made for it).
    const started = supervisor.logs.find((l) => l.msg === "plugin process started" && l.instance === instance.id)!;
    expect(memoryPath.endsWith(`/${supervisor.cgroupParent}/${started.cgroup as string}`)).toBe(true);
    const read = (controller: string, cgroupPath: string, file: string) =>
      readFile(path.join("/sys/fs/cgroup", controller, cgroupPath, file), "utf8").then((s) => s.trim());
    expect(await read("memory", memoryPath, "memory.limit_in_bytes")).toBe(String(48 * 1024 * 1024));
    const pidsPath = /:pids:(.*)$/m.exec(cgroups)![1]!;
    expect(await read("pids", pidsPath, "pids.max")).toBe("40");
    const cpuPath = /:cpu(?:,cpuacct)?:(.*)$/m.exec(cgroups)![1]!;
    const quota = Number(await read("cpu", cpuPath, "cpu.cfs_quota_us"));
    const period = Number(await read("cpu", cpuPath, "cpu.cfs_period_us"));
    expect(quota / period).toBeCloseTo(0.25, 5);
  });

  it("corralctl status prints a table and the documented JSON", async () => {
    const supervisor = await start([greeter]);
    const json = await corralctl(["--config", supervisor.configFile, "status", "--json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { plugins: Array<{ name: string; state: string; restarts: number; instance: { id: string; pid: number; release: string } }> };
    expect(parsed.plugins).toHaveLength(1);
    const [p] = parsed.plugins;
    expect(p).toMatchObject({ name: "greeter", state: "ready", restarts: 0 });
    expect(Object.keys(p!.instance).sort()).toEqual(["id", "pid", "release"]);
    expect(processAlive(p!.instance.pid)).toBe(true);

    const viaSocket = await corralctl(["--socket", supervisor.adminSocket, "status"]);
    expect(viaSocket.code).toBe(0);
    expect(viaSocket.stdout).toMatch(/^PLUGIN\s+STATE\s+RESTARTS\s+PID\s+INSTANCE\s+RELEASE\s+CPU\s+MEM\s+GOROUTINES/);
    expect(viaSocket.stdout).toContain(`greeter  ready  0         ${p!.instance.pid}`);

    const viaEnv = await corralctl(["status", "--json"], { CORRAL_SOCKET: supervisor.adminSocket });
    // Usage is sampled between the two calls, and the state has aged; the rest is the same.
    const withoutUsage = (status: { plugins: Array<Record<string, unknown>> }) => status.plugins.map(({ usage: _, stateAgeMs: __, ...rest }) => rest);
    expect(withoutUsage(JSON.parse(viaEnv.stdout))).toEqual(withoutUsage(parsed));

    const missing = await corralctl(["--config", supervisor.configFile, "status", "nosuch"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe("corralctl: no such plugin: nosuch\n");
  });

  it("restarts a plugin killed with SIGKILL, after a backoff", async () => {
    const supervisor = await start([greeter]);
    const before = (await supervisor.plugin("greeter")).instance!;
    const killedAt = Date.now();
    process.kill(before.pid, "SIGKILL");
    const after = await supervisor.waitForPlugin("greeter", (p) => p.state === "ready" && p.instance?.id !== before.id);
    expect(after.restarts).toBe(1);
    expect(after.instance!.pid).not.toBe(before.pid);
    expect(processAlive(before.pid)).toBe(false);
    // Status can answer before the log line that says so is read from the supervisor's output.
    await supervisor.waitForLog((l) => l.to === "ready" && l.instance === after.instance!.id);
    const states = supervisor.logs.filter((l) => l.plugin === "greeter" && typeof l.to === "string").map((l) => l.to);
    expect(states, JSON.stringify(supervisor.logs.filter((l) => l.plugin === "greeter"))).toEqual([
      "starting",
      "ready",
      "crashed",
      "backoff",
      "starting",
      "ready",
    ]);
    const crashed = supervisor.logs.find((l) => l.to === "crashed")!;
    expect(crashed.reason).toBe("killed by SIGKILL");
    // Backoff: at least initialBackoff minus jitter (300 ms × 0.8) between the crash and the new start.
    const backoffAt = Date.parse(supervisor.logs.find((l) => l.to === "backoff")!.time);
    const restartAt = Date.parse(supervisor.logs.filter((l) => l.to === "starting")[1]!.time);
    // (log times are whole milliseconds: allow for rounding)
    expect(restartAt - backoffAt).toBeGreaterThanOrEqual(238);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(238);
  });

  it("quarantines a plugin that crashes in a loop, with the reason", async () => {
    const supervisor = await start([
      {
        name: "crashy",
        binary: plugins.crasher,
        apiVersion: "1.0",
        env: { CRASH_AFTER_MS: "100" },
        restart: { initialBackoff: "50ms", maxBackoff: "100ms", quarantineAfter: 3, quarantineWindow: "30s" },
      },
    ]);
    const p = await supervisor.waitForPlugin("crashy", (s) => s.state === "quarantined");
    expect(p.reason).toMatch(/^crashed 3 times within 30000 ms \(quarantineAfter: 3\); last: exited with status 3/);
    expect(p.restarts).toBe(2);
    expect(p.instance).toBeNull();
    // Its output reached the log, tagged with plugin and instance.
    const line = supervisor.logs.find((l) => l.msg === "crasher: crashing after 100 ms");
    expect(line).toMatchObject({ plugin: "crashy", stream: "stderr" });
    expect(line?.instance).toMatch(/^crashy-[0-9a-f]{6}$/);
  });

  it("is ready after each plugin's first attempt: one that never becomes ready holds up neither its start nor its stop", async () => {
    // Never ready, restarted forever: its crash loop never reaches a quarantine.
    const hangs = { name: "hangs", binary: path.join(repoRoot, "build/test-plugins/echo-hang"), apiVersion: "1.0", startTimeout: "1s", restart: { initialBackoff: "10ms", quarantineAfter: 1000 } };
    const supervisor = await start([greeter, hangs]);
    expect((await supervisor.plugin("greeter")).state).toBe("ready");
    const ready = supervisor.logs.find((l) => l.msg.startsWith("supervisor ready"));
    expect(ready?.plugins).toEqual({ greeter: "ready", hangs: "backoff" });
    expect((await supervisor.plugin("hangs")).reason).toBe("not ready within startTimeout (1000 ms)");
    expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
  });

  it("gives a plugin its whole startTimeout, past half a minute, to serve", async () => {
    const slow = { name: "slow", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", startTimeout: "50s", env: { ECHO_START_DELAY_MS: "31000" } };
    const supervisor = await TestSupervisor.create({ plugins: [slow] });
    running.push(supervisor);
    await supervisor.start({ readyWithinMs: 60_000 });
    const p = await supervisor.plugin("slow");
    expect([p.state, p.restarts, p.reason]).toEqual(["ready", 0, ""]);
  }, 90_000);

  it("starts a plugin that executes itself again before it serves, on the first try", async () => {
    // go-shim listens from the process's start (CORRAL_EARLY_SOCKET); the
    // exec closes that socket under the supervisor's connection, and the
    // new image listens anew. The supervisor waits for that socket rather
    // than counting the closed one as a failed start.
    const supervisor = await start([
      {
        name: "reexec",
        binary: path.join(path.dirname(plugins.crasher), "echo-reexec"),
        apiVersion: "1.0",
        restart: { initialBackoff: "5s", quarantineAfter: 1 },
      },
    ]);
    const p = await supervisor.waitForPlugin("reexec", (s) => s.state !== "starting");
    expect(p.state, p.reason).toBe("ready");
    expect(p.restarts).toBe(0);
    expect(supervisor.logs.some((l) => l.msg === "reexec: executing itself again (startMode=reexec)")).toBe(true);
  });

  it("says a dynamically linked plugin cannot start for want of its loader in the sandbox", async () => {
    const supervisor = await start([
      {
        name: "dynamic",
        binary: "/bin/true",
        apiVersion: "1.0",
        restart: { initialBackoff: "50ms", maxBackoff: "100ms", quarantineAfter: 2, quarantineWindow: "30s" },
      },
    ]);
    const p = await supervisor.waitForPlugin("dynamic", (s) => s.state === "quarantined");
    expect(p.reason).toMatch(
      /; last: sandbox setup failed at exec: start \/plugin: no such file or directory: it is dynamically linked, and its loader \/\S*ld-linux\S* is not in the sandbox: grant the loader and its libraries read-only \(readOnlyPaths; corral sandbox --ro\), or build the plugin statically \(for Go, CGO_ENABLED=0\)$/,
    );
  });

  it("says in its reason what a plugin that exited before it was ready said last on stderr: here go-shim's refusal", async () => {
    const supervisor = await start([
      {
        name: "sayer",
        binary: plugins.crasher,
        apiVersion: "1.0",
        env: { CRASH_AFTER_MS: "600000", CRASH_MODE: "health" },
        restart: { initialBackoff: "50ms", maxBackoff: "100ms", quarantineAfter: 2, quarantineWindow: "30s" },
      },
    ]);
    const p = await supervisor.waitForPlugin("sayer", (s) => s.state === "quarantined");
    expect(p.reason).toMatch(
      /; last: exited with status 1 before it was ready; it said: sayer: corral go-shim: the plugin registers grpc\.health\.v1\.Health, which go-shim serves itself/,
    );
  });

  it("refuses a plugin built for another Control protocol version, naming both", async () => {
    const supervisor = await start([{ name: "oldproto", binary: plugins.badproto, apiVersion: "1.0" }]);
    const p = await supervisor.waitForPlugin("oldproto", (s) => s.state === "quarantined");
    // Either side may refuse first; both name the two versions.
    expect(p.reason).toMatch(/version 2.*version 1|version 1.*version 2/);
    expect(p.reason).toMatch(/protocol/i);
  });

  it("refuses a plugin that claims another plugin's name or presents its certificate", async () => {
    // A certificate validly issued by the same CA, but for greeter.
    const supervisor = await TestSupervisor.create({ plugins: [] });
    running.push(supervisor);
    const { loadOrCreateCA, issuePluginLeaf } = await import("../supervisor/identity/index.ts");
    const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: "test.corral.local" });
    const stolen = await issuePluginLeaf(ca, { trustDomain: "test.corral.local", plugin: "greeter", ttlMs: 3600_000 });
    const { stringify, parse } = await import("yaml");
    const config = parse(await readFile(supervisor.configFile, "utf8")) as Record<string, unknown>;
    config.plugins = [
      { name: "liar", binary: plugins.impostor, apiVersion: "1.0" },
      {
        name: "thief",
        binary: plugins.impostor,
        apiVersion: "1.0",
        env: { IMPOSTOR_CERT_PEM: stolen.certPem, IMPOSTOR_KEY_PEM: stolen.keyPem },
      },
    ];
    const { writeFile } = await import("node:fs/promises");
    await writeFile(supervisor.configFile, stringify(config));
    await supervisor.start();
    const liar = await supervisor.waitForPlugin("liar", (s) => s.state === "quarantined");
    expect(liar.reason).toBe('plugin identifies itself as "greeter" but was configured as "liar"');
    const thief = await supervisor.waitForPlugin("thief", (s) => s.state === "quarantined");
    expect(thief.reason).toBe(
      'plugin presented a certificate that is not its own: identity rule plugin-id-mismatch: certificate names plugin "greeter", expected "thief"',
    );
    // Refusals are not retried: quarantined on the first attempt.
    expect(liar.restarts).toBe(0);
    expect(thief.restarts).toBe(0);
  });
});

/** A supervisor, not yet started, of the crasher plugin `name` in CRASH_MODE `mode` 200 ms after it starts, under 32MiB. */
async function crasherUnder32MiB(name: string, mode: string, extra: Record<string, unknown> = {}): Promise<TestSupervisor> {
  const supervisor = await TestSupervisor.create({
    plugins: [
      {
        name,
        binary: plugins.crasher,
        apiVersion: "1.0",
        env: { CRASH_AFTER_MS: "200", CRASH_MODE: mode },
        limits: { memory: "32MiB" },
        restart: { initialBackoff: "100ms", quarantineAfter: 10 },
        ...extra,
      },
    ],
    config: { metrics: { listen: "127.0.0.1:0" } },
  });
  running.push(supervisor);
  return supervisor;
}

describe("a plugin killed by the kernel", () => {
  it("is reported as an OOM kill from its cgroup's counters, counted as the memory breaker's trip, and restarted", async () => {
    const supervisor = await crasherUnder32MiB("hog", "oom");
    await supervisor.start();
    const crashed = await supervisor.waitForLog((l) => l.plugin === "hog" && l.to === "crashed");
    expect(crashed.reason).toBe("killed by the kernel's OOM killer (memory limit 32MiB)");
    const exited = supervisor.logs.find((l) => l.msg === "plugin killed by the kernel's OOM killer (memory limit 32MiB)");
    expect(exited).toMatchObject({ signal: "SIGKILL", oomKills: 1 });
    await supervisor.waitForPlugin("hog", (p) => p.restarts >= 1);
    const metrics = await (await fetch(await supervisor.metricsUrl())).text();
    expect(Number(/^corral_breaker_events_total\{plugin="hog",event="oom-kill"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});

describe("a plugin whose child the kernel's OOM killer kills", () => {
  it("is ended whole and restarted, reported as an OOM kill, though the plugin itself would have served on", async () => {
    const supervisor = await crasherUnder32MiB("parent", "oom-child", { sampleInterval: "200ms" });
    await supervisor.start();
    const crashed = await supervisor.waitForLog((l) => l.plugin === "parent" && l.to === "crashed", 20_000);
    // (On a slow host, such as the emulated one of test/vm/cgroup-v2.sh, the child may be killed before the plugin is ready.)
    expect(crashed.reason).toMatch(/^killed by the kernel's OOM killer \(memory limit 32MiB\)( before it was ready)?$/);
    expect(supervisor.logs.some((l) => l.plugin === "parent" && l.msg === "the kernel's OOM killer killed a process of the instance; ending the instance")).toBe(true);
    await supervisor.waitForPlugin("parent", (p) => p.restarts >= 1);
  });
});

describe("a plugin whose child the kernel's OOM killer kills, sampled rarely", () => {
  it.runIf(onCgroupV1)("is ended at once on cgroup v1, told by the kernel's OOM notice, not at its next sample", async () => {
    // Samples 30 s apart, the first taken before the child exists: only the
    // notice (oomwatch.go) can tell of the kill within the wait below.
    const supervisor = await crasherUnder32MiB("parent", "oom-child", { sampleInterval: "30s", env: { CRASH_AFTER_MS: "1500", CRASH_MODE: "oom-child" } });
    await supervisor.start();
    const ready = Date.now();
    const crashed = await supervisor.waitForLog((l) => l.plugin === "parent" && l.to === "crashed", 10_000);
    expect(crashed.reason).toBe("killed by the kernel's OOM killer (memory limit 32MiB)");
    expect(supervisor.logs.some((l) => l.plugin === "parent" && l.msg === "the kernel's OOM killer killed a process of the instance; ending the instance")).toBe(true);
    expect(Date.now() - ready).toBeLessThan(10_000);
  });
});

describe("a hot update whose serving instance dies during the warm-up", () => {
  it("refuses calls with the reason, not with the dead socket's refusal, until the new instance serves", async () => {
    const supervisor = await start([
      {
        name: "echo",
        binary: path.join(repoRoot, "build/test-plugins/echo"),
        apiVersion: "1.0",
        startTimeout: "10s",
        // Every instance takes 2 s before it serves: the restart's warm-up.
        env: { ECHO_START_DELAY_MS: "2000" },
      },
    ]);
    const serving = (await supervisor.plugin("echo")).instance!;
    const client = echoClient((await supervisor.plugin("echo")).address, pluginCredentials("echo", await supervisor.clientPems("warmup-test", ["echo"])), channelOptions({ retry: false }));
    try {
      const restart = corralctl(["--config", supervisor.configFile, "restart", "echo"]);
      await supervisor.waitForPlugin("echo", (p) => p.state === "updating");
      process.kill(serving.pid, "SIGKILL");
      await supervisor.waitForLog((l) => l.msg === "plugin killed by SIGKILL" && l.instance === serving.id);
      const refused = await client.unary({ message: "x", sleepMs: 0, replySize: 0 }, { deadlineMs: 2000 }).then(
        () => "answered",
        (err: ServiceError) => `${err.code} ${err.details}`,
      );
      expect(refused).toBe(`${status.UNAVAILABLE} plugin echo is restarting after a failure: killed by SIGKILL`);
      expect((await restart).code).toBe(0);
      const after = await supervisor.plugin("echo");
      expect(after.state).toBe("ready");
      const { reply } = await client.unary({ message: "x", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 });
      expect(reply.instance).toBe(after.instance!.id);
    } finally {
      client.close();
    }
  }, 60_000);
});

describe("an instance whose cgroup cannot be removed", () => {
  it("is logged and its uid kept out of use; the supervisor lives on and restarts the plugin", async () => {
    const supervisor = await start([greeter]);
    const before = (await supervisor.plugin("greeter")).instance!;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${before.pid}/status`, "utf8"))![1]);
    const memoryPath = /:memory:(.*)$/m.exec(await readFile(`/proc/${before.pid}/cgroup`, "utf8"))![1]!;
    // A child cgroup makes the kernel refuse the instance's rmdir (EBUSY), as
    // a process stuck in uninterruptible sleep would.
    const stuck = path.join("/sys/fs/cgroup/memory", memoryPath, "stuck");
    await mkdir(stuck);
    try {
      process.kill(before.pid, "SIGKILL");
      const failed = await supervisor.waitForLog((l) => l.msg === "instance cgroup not removed; its uid stays out of use" && l.instance === before.id, 20_000);
      expect(failed).toMatchObject({ level: "error", uid });
      expect(String(failed.err)).toContain("EBUSY");
      const after = await supervisor.waitForPlugin("greeter", (p) => p.state === "ready" && p.instance?.id !== before.id);
      expect(after.restarts).toBe(1);
      expect(processAlive(supervisor.pid!)).toBe(true);
      // Its files (the instance's private key among them) went all the same.
      expect(existsSync(path.join(supervisor.runtimeDir, "instances", before.id))).toBe(false);
      // The uid may still own a process or file: no new instance gets it.
      const afterUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${after.instance!.pid}/status`, "utf8"))![1]);
      expect(afterUid).not.toBe(uid);

      // A stop leaves that cgroup, and says so; the next start too, and serves.
      expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
      expect(supervisor.logs.some((l) => l.msg === "an instance cgroup cannot be removed; it is left for the next start")).toBe(true);
      await supervisor.start();
      expect(supervisor.logs.some((l) => l.msg === "a cgroup left by a previous supervisor cannot be removed; its uids stay out of use")).toBe(true);
      expect((await supervisor.plugin("greeter")).state).toBe("ready");
    } finally {
      await rmdir(stuck).catch(() => undefined);
    }
  });
});

describe("sampling", () => {
  it("samples CPU, memory and fds from the host and goroutines and heap from go-shim, shown by status", async () => {
    const supervisor = await start([{ ...greeter, sampleInterval: "200ms" }]);
    const p = await supervisor.waitForPlugin("greeter", (s) => (s.instance?.usage?.goroutines ?? 0) > 0, 5000);
    const usage = p.instance!.usage!;
    expect(usage.memoryBytes).toBeGreaterThan(1024 * 1024); // a Go program's RSS, charged to its cgroup
    expect(usage.memoryBytes).toBeLessThan(48 * 1024 * 1024);
    expect(usage.openFds).toBeGreaterThanOrEqual(4); // 0-2, the listening socket, the supervisor's connection
    expect(usage.goroutines).toBeGreaterThan(1);
    expect(usage.heapInuse).toBeGreaterThan(0);
    expect(usage.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(Date.now() - Number(usage.atUnixMs)).toBeLessThan(2000);

    const json = JSON.parse((await corralctl(["--config", supervisor.configFile, "status", "--json"])).stdout) as {
      plugins: Array<{ usage?: { goroutines: number; memoryBytes: number } }>;
    };
    expect(json.plugins[0]?.usage?.goroutines).toBeGreaterThan(1);
  });
});
