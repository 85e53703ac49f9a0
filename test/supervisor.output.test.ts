// A plugin that floods its stdout cannot flood the journal, grow the
// supervisor's memory or take its CPU: its output is read no faster than
// output.maxBytesPerSecond (its writes wait), its lines are rate-limited and
// cut to length, what is dropped or waited is said in notes, and `corralctl
// logs` keeps a bounded ring.
import { spawn } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status, type ServiceError } from "@grpc/grpc-js";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { FOLLOW_BACKLOG } from "../supervisor/admin/server.ts";
import { execa } from "execa";
import { corralctl, corralctlBin, nodeBin, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
/** Before the supervisor, and so the plugin, started. */
let startedAt: number;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** The supervisor's JS heap in use, from its own metrics endpoint. */
async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return Number(/^corral_supervisor_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)![1]);
}

beforeAll(async () => {
  startedAt = Date.now();
  supervisor = await TestSupervisor.start({
    config: { metrics: { listen: "127.0.0.1:0" } },
    plugins: [
      {
        name: "flood",
        binary: path.join(repoRoot, "build/test-plugins/flood"),
        apiVersion: "1.0",
        output: { rate: 100, burst: 200, maxLineLength: "4KiB", maxBytesPerSecond: "1MiB" },
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await supervisor?.cleanup();
});

describe("a flooding plugin", () => {
  it("is rate-limited and cut, and the supervisor's memory stays bounded", async () => {
    const pid = supervisor.pid!;
    const metrics = await supervisor.metricsUrl();
    const logsBefore = supervisor.logs.length;
    // Tens of megabytes per second of output for 8 s: what the supervisor
    // keeps of it (its JS heap) stays small and does not grow with what was
    // written; its RSS stays far from what was written.
    const heap: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      heap.push(await heapUsed(metrics));
      rss.push(await rssBytes(pid));
    }
    const mib = (xs: number[]) => xs.map((b) => (b / 2 ** 20).toFixed(0)).join(" ");
    console.log(`supervisor while flooded (MiB): heap ${mib(heap)}; rss ${mib(rss)}`);
    // Hundreds of megabytes were written; the heap (which swings with
    // collection) stays under a bound far below that.
    expect(Math.max(...heap)).toBeLessThan(128 * 1024 * 1024);
    expect(Math.max(...rss)).toBeLessThan(512 * 1024 * 1024);

    const lines = supervisor.logs.slice(logsBefore).filter((l) => l.plugin === "flood" && l.stream === "stdout");
    expect(lines.length).toBeGreaterThan(100);
    expect(lines.length).toBeLessThan(100 * 8 + 200 + 100); // the rate and the burst, with slack for timing
    expect(Math.max(...lines.map((l) => String(l.msg).length))).toBeLessThan(4 * 1024 + 64);
    // (The notes of waits, every 10 s, are the next test's.)
    const notes = supervisor.logs.slice(logsBefore).filter((l) => l.plugin === "flood" && l.stream === "corral" && String(l.msg).startsWith("dropped "));
    expect(notes.length).toBeGreaterThanOrEqual(4);
    expect(String(notes[0]!.msg)).toMatch(/^dropped \d+ lines of output in \d+ ms \(limit 100 lines\/s\)$/);

    const logs = await corralctl(["--config", supervisor.configFile, "logs", "flood", "--tail", "0", "--json"]);
    expect(logs.code, logs.stderr).toBe(0);
    const ring = logs.stdout.trim().split("\n");
    expect(ring.length).toBeLessThanOrEqual(2000);
    expect(logs.stdout.length).toBeLessThan(2 * 1024 * 1024);
    expect(ring.some((l) => /"stream":"corral".*dropped/.test(l))).toBe(true);
  }, 30_000);

  it("is read no faster than output.maxBytesPerSecond: its writes wait, and a note says so", async () => {
    // The plugin numbers its lines, every hundredth 100 KiB long: n lines
    // take more than n KiB. Read at 1 MiB/s (a second's worth at once, and
    // what the pipe holds), it cannot have written many more lines than
    // 1024 per second since it started; unpaced it wrote hundreds of MB/s.
    const lines = supervisor.logs.filter((l) => l.plugin === "flood" && l.stream === "stdout");
    const last = lines.at(-1)!;
    // (The rest of a 100 KiB line, cut at 64 KiB as it is read, has no number.)
    const numbered = lines.flatMap((l) => /^flood line (\d+)/.exec(String(l.msg))?.[1] ?? []).map(Number);
    expect(numbered.length).toBeGreaterThan(100);
    const seconds = (Date.parse(String(last.time)) - startedAt) / 1000;
    expect(Math.max(...numbered)).toBeLessThan((seconds + 3) * 1024);

    const waits = supervisor.logs.filter((l) => l.plugin === "flood" && l.stream === "corral" && String(l.msg).startsWith("output over"));
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(String(waits[0]!.msg)).toMatch(/^output over 1MiB\/s \(each line counted 64 bytes more\): reading it waited \d+ ms, and the plugin's writes with it$/);

    // The metrics count the lines and the waits.
    const metrics = await supervisor.metricsUrl();
    const text = await (await fetch(metrics)).text();
    const sample = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    const logged = sample('corral_output_lines_total{plugin="flood",outcome="logged"}');
    expect(logged).toBeGreaterThanOrEqual(lines.length);
    expect(logged).toBeLessThan(lines.length + 200); // lines logged since, at 100/s
    expect(sample('corral_output_lines_total{plugin="flood",outcome="dropped"}')).toBeGreaterThan(Math.max(...numbered) - logged);
    expect(sample('corral_output_wait_seconds_total{plugin="flood"}')).toBeGreaterThan(1);
  });
});

describe("a plugin that writes nothing but newlines", () => {
  it("is paced by its lines too, not by its bytes alone: the supervisor handles some thousand lines a second, not millions", async () => {
    const empty = await TestSupervisor.start({
      config: { metrics: { listen: "127.0.0.1:0" } },
      plugins: [
        {
          name: "empty",
          binary: path.join(repoRoot, "build/test-plugins/flood"),
          apiVersion: "1.0",
          env: { FLOOD_MODE: "empty" },
          output: { rate: 100, burst: 200, maxBytesPerSecond: "256KiB" },
        },
      ],
    });
    try {
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 3000));
      const text = await (await fetch(await empty.metricsUrl())).text();
      const seconds = (Date.now() - started) / 1000;
      const lines = ["logged", "dropped"]
        .map((outcome) => Number(new RegExp(`^corral_output_lines_total\\{plugin="empty",outcome="${outcome}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0))
        .reduce((a, b) => a + b);
      // 256 KiB/s at 1 + 64 bytes a line: ~4000 lines a second. A chunk read (64 KiB of
      // newlines, 65 536 lines) is handled whole before the pace waits for it, so two at most
      // in these seconds. Paced by bytes alone it read 262 144 a second, a million in all.
      expect(lines).toBeGreaterThan(4000);
      expect(lines).toBeLessThan(2 * 65_536 + seconds * 4096);
    } finally {
      await empty.cleanup();
    }
  }, 40_000);
});

/** A supervisor whose plugin "flood" logs some 20 000 lines a second. */
function fastFlood(): Promise<TestSupervisor> {
  return TestSupervisor.start({
    plugins: [
      {
        name: "flood",
        binary: path.join(repoRoot, "build/test-plugins/flood"),
        apiVersion: "1.0",
        output: { rate: 20_000, burst: 20_000, maxLineLength: "256B", maxBytesPerSecond: "4MiB" },
      },
    ],
  });
}

describe("a follower of a plugin's output that stops reading", () => {
  it("reaches a reader slower than corralctl whole: corralctl waits for its output before it exits", async () => {
    const lines = async (run: { stdout: string }) => run.stdout.split("\n").filter(Boolean).length;
    const args = ["--config", supervisor.configFile, "logs", "flood", "-n", "1500", "--json"];
    for (let tries = 0; (await lines(await corralctl(args))) < 1500; tries++) {
      if (tries > 60) throw new Error("the flood plugin's ring never held 1500 lines");
      await new Promise((r) => setTimeout(r, 500));
    }
    // Hundreds of KiB into a pipe whose reader starts later than --timeout: more than the pipe holds.
    const slow = await execa("bash", ["-c", 'set -o pipefail; "$@" | (sleep 2.5; cat)', "bash", nodeBin, corralctlBin, "--timeout", "1500", ...args], { reject: false });
    expect(slow.exitCode, slow.stderr).toBe(0);
    expect(Buffer.byteLength(slow.stdout)).toBeGreaterThan(256 * 1024);
    expect(await lines(slow)).toBe(1500);
    for (const line of slow.stdout.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("is not buffered for without bound: its stream ends, saying why, once a bounded backlog waits", async () => {
    const fast = await fastFlood();
    const admin = await connectAdmin(await resolveEndpoint({ config: fast.configFile }));
    try {
      const stream = admin.Logs({ plugin: "flood", tail: 0, follow: true });
      let received = 0;
      const ended = new Promise<ServiceError>((resolve) => stream.on("error", resolve));
      stream.on("data", () => {
        received += 1;
        if (received === 1) stream.pause(); // a pager that stops reading
      });
      await new Promise((r) => setTimeout(r, 3000));
      stream.resume();
      const err = await Promise.race([ended, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err?.details).toBe(`the client read nothing while ${FOLLOW_BACKLOG} messages waited for it; follow again`);
      // What waited was bounded: far fewer lines than 3 s of the plugin's output.
      expect(received).toBeLessThan(20_000);
    } finally {
      admin.close();
      await fast.cleanup();
    }
  }, 40_000);
});

describe("corralctl logs -f into a pipe that no one reads", () => {
  it("pauses the follow: its memory stays flat while the plugin floods on (the daemon bounds what waits for it)", async () => {
    const fast = await fastFlood();
    const dir = await mkdtemp(path.join(tmpdir(), "corral-follow-"));
    const fifo = path.join(dir, "stdout");
    await execa("mkfifo", [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK); // held open, never read
    const writer = openSync(fifo, constants.O_WRONLY);
    const follow = spawn(nodeBin, [corralctlBin, "--config", fast.configFile, "logs", "-f", "flood", "--tail", "0"], { stdio: ["ignore", writer, "pipe"] });
    closeSync(writer);
    try {
      let stderr = "";
      follow.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const rssMiB = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${follow.pid}/status`, "utf8"))![1]) / 1024;
      await new Promise((r) => setTimeout(r, 2000)); // stdout's pipe full, the stream paused
      const before = await rssMiB();
      await new Promise((r) => setTimeout(r, 8000));
      const after = await rssMiB();
      // Reading on, corralctl held all that stdout could not take: 27-35 MiB
      // more in these 8 s (it was 0.1 MiB with the stream paused).
      expect(after - before).toBeLessThan(8);
      expect(follow.exitCode, stderr).toBeNull(); // still following: what it wrote waits for the reader, as `cat big | sleep 1000` would
    } finally {
      if (follow.exitCode === null && follow.signalCode === null) follow.kill("SIGKILL");
      closeSync(reader);
      await rm(dir, { recursive: true, force: true });
      await fast.cleanup();
    }
  }, 60_000);
});

describe("output that the limits hold back and then stops", () => {
  it("tells of lines dropped in a burst that no line follows, and keeps a long line one line, cut to output.maxLineLength", async () => {
    const flood = (name: string, env: Record<string, string>, maxLineLength: string) => ({
      name,
      binary: path.join(repoRoot, "build/test-plugins/flood"),
      apiVersion: "1.0",
      env,
      output: { rate: 100, burst: 200, maxLineLength, maxBytesPerSecond: "4MiB" },
    });
    const quiet = await TestSupervisor.start({
      plugins: [
        flood("burst", { FLOOD_MODE: "burst", FLOOD_LINES: "3000" }, "16KiB"),
        // Longer than the 64 Ki the launcher keeps of a line by default, within the plugin's limit.
        flood("long", { FLOOD_MODE: "long", FLOOD_LONG_BYTES: "200000" }, "1MiB"),
        flood("cut", { FLOOD_MODE: "long", FLOOD_LONG_BYTES: "300000" }, "16KiB"),
      ],
    });
    try {
      const of = (plugin: string, stream: string) => quiet.logs.filter((l) => l.plugin === plugin && l.stream === stream).map((l) => String(l.msg));
      // The burst's lines beyond the bucket are dropped, and nothing follows them: the note comes anyway, within a second or so.
      const deadline = Date.now() + 10_000;
      while (of("burst", "corral").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const notes = of("burst", "corral");
      expect(notes).toHaveLength(1);
      const dropped = Number(/^dropped (\d+) lines of output in \d+ ms \(limit 100 lines\/s\)$/.exec(notes[0]!)?.[1]);
      const logged = of("burst", "stdout").filter((l) => l.startsWith("burst line "));
      expect(logged.length).toBeGreaterThanOrEqual(200);
      expect(logged.length + dropped).toBe(3000);

      const long = of("long", "stdout");
      expect(long).toHaveLength(1);
      expect(long[0]).toBe(`BEGIN${"a".repeat(200_000)}END`);
      const cut = of("cut", "stdout");
      expect(cut).toHaveLength(1);
      expect(cut[0]).toBe(`BEGIN${"a".repeat(16 * 1024 - 5)}…[truncated ${300_008 - 16 * 1024} bytes]`);
    } finally {
      await quiet.cleanup();
    }
  }, 60_000);
});
