// A plugin that will not stop (test/plugins/stubborn: SIGTERM ignored, calls
// that ignore the drain, no exit after it, a forked child that ignores
// SIGTERM too) still ends within the bound: stopTimeout for the drain, the
// SIGTERM grace, then the kill; and nothing is left behind. Both ways a
// plugin is stopped: the supervisor stopping it (corralctl stop), and the
// supervisor itself told to stop by SIGTERM, no corralctl involved.
import { loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scopedCredentials } from "./helpers/greeter.ts";
import { corralctl, processAlive, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

interface SlowDrainClient extends Client {
  Sleep(req: { seconds: number; nanos: number }, cb: (err: ServiceError | null) => void): void;
}
const SlowDrain = (
  loadPackageDefinition(loadSync(path.join(repoRoot, "test/plugins/slowdrain/slowdrain.proto"))) as unknown as {
    corral: { test: { v1: { SlowDrain: new (target: string, creds: ChannelCredentials) => SlowDrainClient } } };
  }
).corral.test.v1.SlowDrain;

const stubborn = path.join(repoRoot, "build/test-plugins/stubborn");

/** stopTimeout (the drain), then the wait for an exit after it and the SIGTERM grace (PluginInstance.stop). */
const STOP_TIMEOUT_MS = 1000;
const AFTER_DRAIN_MS = 500;
const SIGTERM_GRACE_MS = 2000;
/** Room for the kill and the cleanup after it, on a machine busy with other test files. */
const KILL_MS = 5000;

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

/** Host pids of every process in the cgroup `dir` (e.g. "parent/instance") or beneath it. */
async function pidsIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cgroup = await readFile(`/proc/${entry}/cgroup`, "utf8").catch(() => "");
    if (cgroup.split("\n").some((line) => line.endsWith(`/${dir}`) || line.includes(`/${dir}/`))) pids.push(Number(entry));
  }
  return pids;
}

/** The directories of the cgroup `dir` (relative to this process's cgroups) that exist, v1 or v2. */
async function cgroupDirs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const line of (await readFile("/proc/self/cgroup", "utf8")).split("\n").filter(Boolean)) {
    const [, controllers, own] = line.split(":");
    const roots = controllers === "" ? ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] : controllers!.split(",").map((c) => path.join("/sys/fs/cgroup", c));
    for (const root of roots) {
      const candidate = path.join(root, own!, dir);
      if (existsSync(candidate)) found.push(candidate);
    }
  }
  return found;
}

async function startStubborn() {
  const supervisor = await TestSupervisor.start({
    plugins: [{ name: "stubborn", binary: stubborn, apiVersion: "1.0", stopTimeout: `${STOP_TIMEOUT_MS}ms`, env: { STUBBORN_CHILD: "1" } }],
  });
  running.push(supervisor);
  const instance = (await supervisor.plugin("stubborn")).instance!;
  await supervisor.waitForLog((l) => l.instance === instance.id && typeof l.msg === "string" && l.msg.startsWith("stubborn: started child"));
  // The sandbox's init, the plugin and its child.
  const started = supervisor.logs.find((l) => l.instance === instance.id && l.msg === "plugin process started");
  const cgroup = `${supervisor.cgroupParent}/${started!.cgroup as string}`;
  const pids = await pidsIn(cgroup);
  expect(await cgroupDirs(cgroup)).not.toEqual([]);
  expect(pids).toContain(instance.pid);
  expect(pids.length).toBeGreaterThanOrEqual(3);

  // Calls in flight, which the plugin will not cut short.
  const socket = path.join(supervisor.runtimeDir, "instances", instance.id, "plugin.sock");
  const client = new SlowDrain(`unix://${socket}`, await scopedCredentials(supervisor.stateDir, "test.corral.local", "stubborn"));
  // The connection up first (a TLS handshake on a loaded machine is not in the pause below).
  await new Promise<void>((resolve, reject) => client.Sleep({ seconds: 0, nanos: 0 }, (err) => (err ? reject(err) : resolve())));
  const calls = [1, 2, 3].map(
    () =>
      new Promise<string>((resolve) => {
        client.Sleep({ seconds: 60, nanos: 0 }, (err) => resolve(err ? `failed: ${err.details}` : "ok"));
      }),
  );
  await new Promise((r) => setTimeout(r, 300)); // in flight
  return { supervisor, instance, cgroup, pids, client, calls };
}

/** The stop went the whole way: drain, SIGTERM (ignored), kill. */
function expectEscalated(supervisor: TestSupervisor, instanceId: string): void {
  const lines = supervisor.logs.filter((l) => l.instance === instanceId).map((l) => l.msg);
  expect(lines).toContain("plugin did not exit after draining; sending SIGTERM");
  expect(lines).toContain("plugin ignored SIGTERM; killing it");
  // go-shim gave up on the calls at the drain deadline; the plugin stayed anyway.
  expect(lines).toContain(`corral go-shim: drain deadline of ${STOP_TIMEOUT_MS / 1000}s passed with 3 calls in flight; stopping them`);
  expect(supervisor.logs.find((l) => l.instance === instanceId && l.msg === "plugin killed by SIGKILL")).toBeDefined();
}

async function allGone(pids: number[]): Promise<number[]> {
  // A killed sandbox's init is reaped by the host's PID 1 once its launcher is gone: give it a moment.
  const deadline = Date.now() + 3000;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return pids.filter(processAlive);
}

describe("a plugin that blocks SIGTERM", () => {
  it("is stopped by the supervisor within stopTimeout + SIGTERM grace + the kill, calls in flight and all", async () => {
    const { supervisor, instance, cgroup, pids, client, calls } = await startStubborn();
    try {
      const started = Date.now();
      const stop = await corralctl(["--config", supervisor.configFile, "stop", "stubborn", "--json"]);
      const took = Date.now() - started;
      expect(stop.code).toBe(0);
      expect(JSON.parse(stop.stdout)).toMatchObject({ name: "stubborn", state: "stopped" });
      // It waited for the whole chain (the plugin gave it no way out), and no longer.
      expect(took).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS + AFTER_DRAIN_MS + SIGTERM_GRACE_MS);
      expect(took).toBeLessThan(STOP_TIMEOUT_MS + AFTER_DRAIN_MS + SIGTERM_GRACE_MS + KILL_MS);
      expectEscalated(supervisor, instance.id);
      for (const call of await Promise.all(calls)) expect(call).toMatch(/^failed: /);

      // Plugin, child and init gone; the instance's cgroup and directory too.
      expect(await allGone(pids)).toEqual([]);
      expect(await pidsIn(cgroup)).toEqual([]);
      expect(await cgroupDirs(cgroup)).toEqual([]);
      expect(existsSync(path.join(supervisor.runtimeDir, "instances", instance.id))).toBe(false);
      expect((await supervisor.plugin("stubborn")).instance).toBeFalsy();

      expect(await supervisor.stop("SIGTERM")).toEqual({ code: 0, signal: undefined });
      expect(await supervisor.leftovers()).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("is ended within the same bound when the supervisor itself gets SIGTERM, and nothing is left", async () => {
    const { supervisor, instance, pids, client, calls } = await startStubborn();
    try {
      const started = Date.now();
      const exit = await supervisor.stop("SIGTERM");
      const took = Date.now() - started;
      expect(exit).toEqual({ code: 0, signal: undefined });
      expect(took).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS + AFTER_DRAIN_MS + SIGTERM_GRACE_MS);
      expect(took).toBeLessThan(STOP_TIMEOUT_MS + AFTER_DRAIN_MS + SIGTERM_GRACE_MS + KILL_MS);
      expectEscalated(supervisor, instance.id);
      for (const call of await Promise.all(calls)) expect(call).toMatch(/^failed: /);
      expect(await allGone(pids)).toEqual([]);
      expect(await supervisor.leftovers()).toEqual([]);
    } finally {
      client.close();
    }
  });
});
