// The cgroup v1 driver's events against the real hierarchy: a process in a
// real instance cgroup is OOM-killed under a small memory limit, and a fork
// loop runs into pids.max; events() must count both, from the kernel's own
// counters. Needs root on a v1 or hybrid host (skipped elsewhere). Each
// process is started here and moved into a cgroup created here; everything
// is killed and removed after each test, also when it fails.
import { execa, type ResultPromise } from "execa";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { detectCgroups } from "../sandbox/cgroups/detect.ts";
import type { CgroupDriver, InstanceCgroup } from "../sandbox/cgroups/driver.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { killStarted } from "./helpers/processes.ts";
import { nodeBin } from "./helpers/supervisor.ts";

const MiB = 1024 * 1024;
const layout = await detectCgroups().catch(() => undefined);
const usable = process.getuid?.() === 0 && layout !== undefined && layout.mode !== "v2";

let driver: CgroupDriver | undefined;
let started: ResultPromise[] = [];

beforeAll(async () => {
  if (!usable) return;
  driver = await openCgroupDriver({ parent: `corral-test-${process.pid}-${randomBytes(3).toString("hex")}` });
});

afterEach(async () => {
  // Only the processes started here, by pid; then the cgroups (their
  // children die with them: killAll in removeParent).
  await killStarted(started);
  started = [];
  await driver?.removeParent();
});

/**
 * Starts `sh -c script` waiting on its stdin, moves it into the cgroup, then
 * lets it go: so all it does, and every child it forks, is in the cgroup.
 */
async function runIn(cgroup: InstanceCgroup, script: string): Promise<{ child: ResultPromise; pid: number }> {
  const child = execa("sh", ["-c", `read _ && ${script}`], { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false });
  started.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error("sh did not start");
  for (const file of cgroup.procsFiles) await writeFile(file, String(pid));
  expect(await cgroup.pids()).toEqual([pid]);
  child.stdin.end("go\n");
  return { child, pid }; // wrapped: returning the child itself would wait for its exit
}

describe.runIf(usable)("cgroup v1 events on the real hierarchy", () => {
  it("counts an OOM kill under a small memory limit", async () => {
    const cgroup = await driver!.create("oom", { memoryBytes: 8 * MiB, swapBytes: 0, pids: 64, cpu: Infinity });
    expect(await cgroup.events()).toEqual({ oomKills: 0, pidsLimitHits: 0 });

    // The shell holds the 64 MiB it reads in memory: far over the limit.
    const result = await (await runIn(cgroup, `x=$(head -c ${64 * MiB} /dev/zero | tr '\\0' a); echo survived`)).child;
    expect(result.stdout).not.toContain("survived");
    expect(result.signal).toBe("SIGKILL");

    const events = await cgroup.events();
    expect(events.oomKills).toBeGreaterThanOrEqual(1);
    expect(events.pidsLimitHits).toBe(0);
  });

  it("holds TCP buffers to the memory limit: v1 charges them to no cgroup without a limit of their own", async () => {
    const cgroup = await driver!.create("tcp", { memoryBytes: 128 * MiB, swapBytes: 0, pids: 64, cpu: Infinity });
    const memoryDir = path.dirname(cgroup.procsFiles[0]!);
    const tcp = (file: string) => readFile(path.join(memoryDir, `memory.kmem.tcp.${file}`), "utf8").then(Number);
    expect(await tcp("limit_in_bytes")).toBe(128 * MiB);
    // 100 loopback connections whose reader never reads, each sent 8 MiB:
    // unbounded, the kernel takes several hundred MiB of them into socket
    // buffers. It prints how much TCP memory the host's kernel gained.
    const script = `
      const net = require("node:net");
      const fs = require("node:fs");
      const tcpMem = () => Number(/TCP: .* mem (\\d+)/.exec(fs.readFileSync("/proc/net/sockstat", "utf8"))[1]) * 4096;
      const before = tcpMem();
      const server = net.createServer((s) => s.pause()).listen(0, "127.0.0.1", () => {
        for (let i = 0; i < 100; i++) net.connect(server.address().port, "127.0.0.1", function () { this.write(Buffer.alloc(8 << 20)); });
        setTimeout(() => {
          console.log(tcpMem() - before);
          process.exit(0);
        }, 3000);
      });`;
    const { child } = await runIn(cgroup, `exec ${nodeBin} -e '${script}'`);
    const result = await child;
    expect(result.exitCode).toBe(0);
    const taken = Number(result.stdout);
    // Charged to the cgroup, and held near its limit (the kernel lets a
    // socket past it by a little rather than stall it).
    expect(await tcp("max_usage_in_bytes")).toBeGreaterThan(32 * MiB);
    expect(await tcp("max_usage_in_bytes")).toBeLessThan(160 * MiB);
    expect(taken).toBeGreaterThan(32 * MiB);
    expect(taken).toBeLessThan(200 * MiB);
  });

  it("does not count a SIGKILL that was not the OOM killer's", async () => {
    const cgroup = await driver!.create("killed", { memoryBytes: 64 * MiB, swapBytes: 0, pids: 64, cpu: Infinity });
    const { child, pid } = await runIn(cgroup, "exec sleep 30");
    process.kill(pid, "SIGKILL");
    expect((await child).signal).toBe("SIGKILL");
    expect(await cgroup.events()).toEqual({ oomKills: 0, pidsLimitHits: 0 });
  });

  it("counts forks refused at pids.max", async () => {
    const cgroup = await driver!.create("forks", { memoryBytes: 64 * MiB, swapBytes: 0, pids: 4, cpu: Infinity });
    // sh and three sleeps fill the cgroup; the fourth fork fails.
    const result = await (await runIn(cgroup, "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait")).child;
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/fork/i);

    const events = await cgroup.events();
    expect(events.pidsLimitHits).toBeGreaterThanOrEqual(1);
    expect(events.oomKills).toBe(0);
    await cgroup.killAll(); // the sleeps that did start
    await cgroup.destroy();
  });
});
