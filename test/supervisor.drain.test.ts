// Graceful stop: the supervisor asks a plugin to drain, in-flight calls
// finish, and the drain is bounded by the plugin's stopTimeout.
import { loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scopedCredentials } from "./helpers/greeter.ts";
import { plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

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
});
