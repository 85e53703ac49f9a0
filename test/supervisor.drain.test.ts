// Graceful stop: the supervisor asks a plugin to drain, in-flight calls
// finish, and the drain is bounded by the plugin's stopTimeout.
import { loadPackageDefinition, status, type ChannelCredentials, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Greeter, scopedCredentials } from "./helpers/greeter.ts";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

interface SlowDrainClient extends Client {
  Sleep(req: { seconds: number; nanos: number }, cb: (err: ServiceError | null) => void): void;
}
const SlowDrain = (
  loadPackageDefinition(loadSync(path.join(repoRoot, "test/plugins/slowdrain/slowdrain.proto"))) as unknown as {
    corral: { test: { v1: { SlowDrain: new (target: string, creds: ChannelCredentials) => SlowDrainClient } } };
  }
).corral.test.v1.SlowDrain;

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

async function startSlowDrain(stopTimeout: string) {
  const supervisor = await TestSupervisor.start({
    plugins: [{ name: "slow", binary: plugins.slowdrain, apiVersion: "1.0", stopTimeout }],
  });
  running.push(supervisor);
  const instance = (await supervisor.plugin("slow")).instance!;
  const socket = path.join(supervisor.runtimeDir, "instances", instance.id, "plugin.sock");
  const creds = await scopedCredentials(supervisor.stateDir, "test.corral.local", "slow");
  const client = new SlowDrain(`unix://${socket}`, creds);
  const sleep = (seconds: number) =>
    new Promise<string>((resolve) => {
      const started = Date.now();
      client.Sleep({ seconds, nanos: 0 }, (err) => resolve(err ? `failed after ${Date.now() - started} ms: ${err.details}` : "ok"));
    });
  return { supervisor, client, sleep };
}

describe("graceful stop", () => {
  it("lets an in-flight call finish before the plugin exits", async () => {
    const { supervisor, client, sleep } = await startSlowDrain("5s");
    try {
      expect(await sleep(0)).toBe("ok"); // the connection is up: the next call goes out at once
      const call = sleep(1);
      await new Promise((r) => setTimeout(r, 200)); // the call is in flight
      const exit = supervisor.stop("SIGTERM");
      expect(await call).toBe("ok");
      expect(await exit).toEqual({ code: 0, signal: undefined });
      expect(supervisor.logs.some((l) => l.msg === "plugin exited with status 0")).toBe(true);
      expect(supervisor.logs.some((l) => l.msg === "plugin did not exit after draining; sending SIGTERM")).toBe(false);
    } finally {
      client.close();
    }
  });

  it("cuts calls that outlast stopTimeout, and the plugin still exits", async () => {
    const { supervisor, client, sleep } = await startSlowDrain("500ms");
    try {
      const call = sleep(30);
      await new Promise((r) => setTimeout(r, 200));
      const stoppedAt = Date.now();
      const exit = await supervisor.stop("SIGTERM");
      expect(exit.code).toBe(0);
      expect(await call).toMatch(/^failed after \d+ ms/);
      // Bounded by the drain deadline, not by the 30 s call.
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expect(await supervisor.leftovers()).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("has the example greeter's Countdown stream end on the drain of a restart, saying where to count on from, not cut at stopTimeout", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0", stopTimeout: "3s" }],
    });
    running.push(supervisor);
    const creds = await scopedCredentials(supervisor.stateDir, "test.corral.local", "greeter");
    const client = new Greeter(`unix://${(await supervisor.plugin("greeter")).address}`, creds);
    try {
      const seen: number[] = [];
      const stream = client.Countdown({ from: 100_000, intervalMs: 20 });
      const ended = new Promise<ServiceError | undefined>((resolve) => {
        stream.on("data", (reply: { n: number }) => seen.push(reply.n));
        stream.on("error", (err: ServiceError) => resolve(err));
        stream.on("end", () => resolve(undefined));
      });
      while (seen.length < 3) await new Promise((r) => setTimeout(r, 20));
      const restart = await corralctl(["--config", supervisor.configFile, "restart", "greeter"]);
      expect(restart.code, restart.stderr).toBe(0);
      const err = await ended;
      expect(err?.code).toBe(status.UNAVAILABLE);
      expect(err?.details).toBe(`this instance is going away at ${seen.at(-1)! - 1}; call again to count down from there`);
      // It ended as the drain began: the drain did not wait for stopTimeout.
      expect(supervisor.logs.some((l) => l.msg === "plugin did not exit after draining; sending SIGTERM")).toBe(false);
    } finally {
      client.close();
    }
  });
});
