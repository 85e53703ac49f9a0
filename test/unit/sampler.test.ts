import { EventEmitter } from "node:events";
import { closeSync, openSync, readdirSync } from "node:fs";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeStats__Output } from "../../proto/gen/ts/corral/plugin/v1/RuntimeStats.ts";
import { FDS_EVERY, InstanceSampler, MESSAGES_PER_INTERVAL } from "../../supervisor/plugin/sampler.ts";
import { Readable } from "node:stream";

function fakeStream() {
  const stream = Object.assign(new EventEmitter(), { cancelled: false, cancel() { this.cancelled = true; }, pause() {}, resume() {} });
  return stream as typeof stream & ClientReadableStream<RuntimeStats__Output>;
}

describe("instance sampler", () => {
  it("counts the open fds of the process from /proc, every FDS_EVERY samples", async () => {
    const held = [openSync("/dev/null", "r"), openSync("/dev/null", "r"), openSync("/dev/null", "r")];
    const sampler = new InstanceSampler({
      usage: async () => ({ memoryBytes: 0, cpuMicros: 0, oomKills: 0 }),
      pid: () => process.pid,
      stats: () => fakeStream(),
      cpuCores: 1,
      intervalMs: 60_000,
    });
    try {
      // The listing holds one fd of its own while it lists.
      const listed = readdirSync("/proc/self/fd").length - 1;
      expect((await sampler.sample())?.openFds).toBe(listed);
      for (const fd of held.splice(0)) closeSync(fd);
      // The count stands until the next one is due.
      for (let i = 1; i < FDS_EVERY; i++) expect((await sampler.sample())?.openFds).toBe(listed);
      expect((await sampler.sample())?.openFds).toBe(listed - 3);
    } finally {
      for (const fd of held) closeSync(fd);
    }
  });

  it("reports CPU as a share of the instance's allowance between samples, and the runtime's latest numbers", async () => {
    let now = 1_000;
    let cpuMicros = 0;
    const stream = fakeStream();
    const sampler = new InstanceSampler({
      usage: async () => ({ memoryBytes: 5_000_000, cpuMicros, oomKills: 0 }),
      pid: () => undefined,
      stats: () => stream,
      cpuCores: 0.5,
      intervalMs: 60_000,
      now: () => now,
    });
    sampler.start();
    try {
      await new Promise((r) => setImmediate(r));
      expect(sampler.latest).toMatchObject({ cpuPercent: 0, memoryBytes: 5_000_000, openFds: 0 });
      stream.emit("data", { unixMs: 1, goroutines: 12, heapSys: 9, heapInuse: 7, heapAlloc: 6, numGc: 2, openFds: 5 });
      now += 100;
      cpuMicros += 25_000; // 25 ms of CPU in 100 ms, with half a core allowed: half the allowance
      expect(await sampler.sample()).toMatchObject({ at: 1_100, cpuPercent: 50, runtime: { goroutines: 12 } });
      now += 100;
      cpuMicros += 50_000;
      expect((await sampler.sample())?.cpuPercent).toBe(100);
    } finally {
      sampler.stop();
    }
    expect(stream.cancelled).toBe(true);
  });

  it("measures on a clock the wall clock's steps do not move: after a step back, samples go on forward and CPU is still measured", async () => {
    let cpuMicros = 0;
    const sampler = new InstanceSampler({
      usage: async () => ({ memoryBytes: 1, cpuMicros, oomKills: 0 }),
      pid: () => undefined,
      stats: () => fakeStream(),
      cpuCores: 1,
      intervalMs: 60_000,
    });
    vi.useFakeTimers({ toFake: ["Date"] }); // the wall clock only; timers and performance.now() stay real
    try {
      const first = (await sampler.sample())!;
      vi.setSystemTime(Date.now() - 60_000); // NTP's makestep, say
      await new Promise((r) => setTimeout(r, 100));
      cpuMicros += 50_000; // 50 ms of CPU in about 100 ms
      const second = (await sampler.sample())!;
      expect(second.at).toBeGreaterThan(first.at); // a breaker drops a sample not later than the last
      expect(second.cpuPercent).toBeGreaterThan(20);
    } finally {
      vi.useRealTimers();
      sampler.stop();
    }
  });

  it("samples at once, then on the clock's beat, at least half an interval on: all samplers of an interval wake together", async () => {
    vi.useFakeTimers();
    try {
      const at = async (start: number) => {
        vi.setSystemTime(start);
        const ticks: number[] = [];
        const sampler = new InstanceSampler({
          usage: async () => ({ memoryBytes: 1, cpuMicros: 0, oomKills: 0 }),
          pid: () => undefined,
          stats: () => fakeStream(),
          cpuCores: 1,
          intervalMs: 1000,
          now: () => Date.now(), // the faked clock, whose beat this is about
          onSample: (sample) => ticks.push(sample.at),
        });
        sampler.start();
        await vi.advanceTimersByTimeAsync(3_500 - (start % 1000));
        sampler.stop();
        return ticks;
      };
      expect(await at(101_234)).toEqual([101_234, 102_000, 103_000, 104_000]);
      // 200 ms to the beat is too short an interval to measure: the next beat.
      expect(await at(201_800)).toEqual([201_800, 203_000, 204_000]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands on each Stats message as it arrives, between ticks, and keeps the latest for the next sample", async () => {
    const stream = fakeStream();
    const received: number[] = [];
    const ticks: number[] = [];
    let now = 1_000;
    const sampler = new InstanceSampler({
      usage: async () => ({ memoryBytes: 1, cpuMicros: 0, oomKills: 0 }),
      pid: () => undefined,
      stats: () => stream,
      cpuCores: 1,
      intervalMs: 60_000,
      now: () => now,
      onSample: (sample) => ticks.push(sample.at),
      onRuntime: (stats) => received.push(stats.goroutines),
    });
    sampler.start();
    try {
      await new Promise((r) => setImmediate(r));
      expect(ticks).toEqual([1_000]);
      // go-shim sends only what changed: two messages between ticks, each handed on at once.
      stream.emit("data", { unixMs: 1_100, goroutines: 12, heapSys: 9, heapInuse: 7, heapAlloc: 6, numGc: 2, openFds: 5 });
      stream.emit("data", { unixMs: 1_200, goroutines: 3000, heapSys: 9, heapInuse: 7, heapAlloc: 6, numGc: 2, openFds: 5 });
      expect(received).toEqual([12, 3000]);
      expect(ticks).toEqual([1_000]);
      now += 60_000;
      expect((await sampler.sample())?.runtime?.goroutines).toBe(3000);
    } finally {
      sampler.stop();
    }
  });

  it("reads a plugin's Stats stream no faster than a few messages an interval: a flood waits in the stream", async () => {
    // A plugin that sends as fast as it can, not go-shim's pace.
    const readable = new Readable({ objectMode: true, read() {} });
    const flood = Object.assign(readable, { cancel: () => readable.destroy() });
    for (let i = 0; i < 1000; i++) flood.push({ unixMs: i, goroutines: i, heapSys: 9, heapInuse: 7, heapAlloc: 6, numGc: 2, openFds: 5 });
    const received: number[] = [];
    const intervalMs = 400;
    const sampler = new InstanceSampler({
      usage: async () => ({ memoryBytes: 1, cpuMicros: 0, oomKills: 0 }),
      pid: () => undefined,
      stats: () => flood as unknown as ClientReadableStream<RuntimeStats__Output>,
      cpuCores: 1,
      intervalMs,
      onRuntime: (stats) => received.push(stats.goroutines),
    });
    sampler.start();
    try {
      await new Promise((r) => setTimeout(r, intervalMs));
      // One interval: a few messages read, the rest left waiting, in order.
      expect(received.length).toBeGreaterThanOrEqual(2);
      expect(received.length).toBeLessThanOrEqual(MESSAGES_PER_INTERVAL + 2);
      expect(received).toEqual(received.map((_, i) => i));
      expect(flood.isPaused()).toBe(true);
    } finally {
      sampler.stop();
    }
    expect(flood.destroyed).toBe(true);
  });
});
