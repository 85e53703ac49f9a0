// Calls to a plugin the CPU breaker has stopped fail fast (issues 5 and 6):
// before the SIGSTOP the stable address is pointed at the refusal and the
// instance's data connections are sent away, so neither a new client nor
// one with a connection already open waits on a stopped process. After the
// cool-down the instance serves again through the same address.
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthClient } from "../proto/gen/ts/grpc/health/v1/Health.ts";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { protos } from "../supervisor/rpc/protos.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
let health: (fresh?: boolean) => Promise<{ ok: boolean; code?: number; details?: string; ms: number }>;
const clients: HealthClient[] = [];

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    plugins: [
      {
        name: "spinner",
        binary: plugins.crasher,
        apiVersion: "1.0",
        // It spins until the breaker stops and continues it: then it serves
        // again at once, however busy the machine (a plugin that still spun
        // would trip again a second later, and a call could miss the gap).
        env: { CRASH_AFTER_MS: "1500", CRASH_MODE: "spin", SPIN_UNTIL_CONTINUED: "1" },
        limits: { cpu: 0.5 },
        sampleInterval: "200ms",
        breakers: { cpu: { threshold: 60, window: "1s", coolDown: "2s", probation: "10s", restartAfter: 5, quarantineAfter: 6 } },
      },
    ],
  });
  const creds = pluginCredentials("spinner", await supervisor.clientPems("paused-test", ["spinner"]));
  const target = `unix://${(await supervisor.plugin("spinner")).address}`;
  const Health = protos().health.grpc.health.v1.Health;
  const open = new Health(target, creds, channelOptions({ retry: false }));
  clients.push(open);
  // The plugin registers no service of its own; go-shim serves health to its clients on the data socket.
  health = (fresh = false) => {
    const client = fresh ? new Health(target, creds, channelOptions({ retry: false })) : open;
    if (fresh) clients.push(client);
    const started = Date.now();
    return new Promise((resolve) =>
      client.Check({ service: "" }, { deadline: new Date(Date.now() + 5000) }, (err: ServiceError | null) =>
        resolve(err ? { ok: false, code: err.code, details: err.details, ms: Date.now() - started } : { ok: true, ms: Date.now() - started }),
      ),
    );
  };
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await supervisor?.cleanup();
});

describe("a plugin paused by the CPU breaker", () => {
  it("refuses calls at once with UNAVAILABLE and the reason, on open connections and new ones, and serves again after the cool-down", async () => {
    expect((await health()).ok).toBe(true); // the channel is open to the instance before it spins

    await supervisor.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("cpu breaker open:"), 20_000);
    const onOpen = await health();
    const onNew = await health(true);
    for (const r of [onOpen, onNew]) {
      expect(r.ok).toBe(false);
      expect(r.code).toBe(status.UNAVAILABLE);
      expect(r.details).toMatch(/^plugin paused by the CPU breaker until \S+: cpu above 60 % of its allowance for 1 s/);
      expect(r.ms).toBeLessThan(1000); // not a wait for the 5 s deadline on a stopped process
    }

    await supervisor.waitForLog((l) => l.msg === "cpu breaker half-open: resumed on probation", 10_000);
    await supervisor.waitForLog((l) => l.msg === "crasher: continued; spinning no more", 5_000);
    // Back through the same address, on the same channel (the refusal server sent it away).
    let back = await health();
    for (let i = 0; i < 20 && !back.ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await health();
    }
    expect(back.ok).toBe(true);

    // The trip and the resume are events (corralctl events; describe shows the recent ones).
    const described = await corralctl(["--config", supervisor.configFile, "describe", "spinner", "--json"]);
    const events = (JSON.parse(described.stdout) as { events: Array<{ kind: string; to: string; message: string }> }).events.filter((e) => e.kind === "breaker");
    expect(events.map((e) => e.to).slice(0, 2)).toEqual(["open", "half-open"]);
    expect(events[0]!.message).toMatch(/^cpu breaker open \(trip 1, stopped until \S+\): cpu above 60 %/);
  }, 60_000);
});
