import { describe, expect, it } from "vitest";
import { apiSatisfies, checkHandshake, IncompatiblePlugin, quoted } from "../../supervisor/plugin/compatibility.ts";
import { CrashPolicy } from "../../supervisor/plugin/crash-policy.ts";
import { InvalidTransition, nextState } from "../../supervisor/plugin/lifecycle.ts";

const policy = {
  initialBackoff: 100,
  maxBackoff: 1000,
  multiplier: 2,
  quarantineAfter: 4,
  quarantineWindow: 10_000,
  resetAfter: 5000,
};

describe("plugin lifecycle", () => {
  it("follows the happy path and the crash loop", () => {
    expect(nextState("stopped", { type: "start" })).toBe("starting");
    expect(nextState("starting", { type: "ready" })).toBe("ready");
    expect(nextState("ready", { type: "stop" })).toBe("draining");
    expect(nextState("draining", { type: "stopped" })).toBe("stopped");
    expect(nextState("ready", { type: "exited", reason: "SIGKILL" })).toBe("crashed");
    expect(nextState("crashed", { type: "retry" })).toBe("backoff");
    expect(nextState("backoff", { type: "start" })).toBe("starting");
    expect(nextState("starting", { type: "failed", reason: "x" })).toBe("crashed");
    expect(nextState("crashed", { type: "quarantine", reason: "x" })).toBe("quarantined");
    expect(nextState("quarantined", { type: "start" })).toBe("starting");
  });

  it("refuses transitions that are not in the table", () => {
    expect(() => nextState("stopped", { type: "ready" })).toThrow(InvalidTransition);
    expect(() => nextState("ready", { type: "start" })).toThrow("no transition from ready on start");
    expect(() => nextState("backoff", { type: "ready" })).toThrow(InvalidTransition);
  });
});

describe("crash policy", () => {
  it("backs off exponentially within ±20 % and the cap", () => {
    const low = new CrashPolicy(policy, () => 0);
    const high = new CrashPolicy(policy, () => 1);
    expect([0, 1, 2, 3, 4, 5].map((n) => low.backoff(n))).toEqual([100, 160, 320, 640, 800, 800]);
    expect([0, 1, 2, 3, 4].map((n) => high.backoff(n))).toEqual([120, 240, 480, 960, 1000]);
  });

  it("waits the initial backoff at least, under a cap below it too: a cap of 0 is no tight loop", () => {
    const capped = new CrashPolicy({ ...policy, initialBackoff: 1000, maxBackoff: 0 }, () => 0);
    expect([0, 1, 5].map((n) => capped.backoff(n))).toEqual([1000, 1000, 1000]);
  });

  it("quarantines after N crashes within the window, and forgets old ones", () => {
    const p = new CrashPolicy(policy, () => 0.5);
    expect(p.onCrash(0)).toEqual({ action: "retry", delayMs: 100 });
    expect(p.onCrash(1000)).toEqual({ action: "retry", delayMs: 200 });
    expect(p.onCrash(2000)).toEqual({ action: "retry", delayMs: 400 });
    expect(p.onCrash(3000)).toMatchObject({ action: "quarantine" });

    const spaced = new CrashPolicy(policy, () => 0.5);
    for (const t of [0, 11_000, 22_000, 33_000, 44_000]) expect(spaced.onCrash(t).action).toBe("retry");
  });

  it("starts the backoff over after a stable run", () => {
    const p = new CrashPolicy(policy, () => 0.5);
    p.onCrash(0);
    p.onCrash(100);
    p.onStable(4999);
    expect(p.onCrash(200)).toEqual({ action: "retry", delayMs: 400 });
    p.onStable(5000);
    expect(p.onCrash(20_000)).toEqual({ action: "retry", delayMs: 100 });
  });
});

describe("handshake compatibility", () => {
  const expected = { pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "1.2" };
  it("accepts the same major and a newer minor", () => {
    expect(apiSatisfies("1.2", "1.2")).toBe(true);
    expect(apiSatisfies("1.5", "1")).toBe(true);
    expect(apiSatisfies("1.1", "1.2")).toBe(false);
    expect(apiSatisfies("2.0", "1")).toBe(false);
    expect(apiSatisfies("", "1")).toBe(false);
    expect(() => checkHandshake({ protocolVersion: 1, pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "1.3", methods: ["/greeter.v1.Greeter/SayHello"] }, expected)).not.toThrow();
  });

  it("names both versions when refusing", () => {
    expect(() => checkHandshake({ protocolVersion: 2, pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "1.2", methods: ["/greeter.v1.Greeter/SayHello"] }, expected)).toThrow(
      "incompatible Control protocol: plugin speaks version 2, supervisor speaks version 1",
    );
    expect(() => checkHandshake({ protocolVersion: 1, pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "2.0", methods: ["/greeter.v1.Greeter/SayHello"] }, expected)).toThrow(
      'plugin implements version "2.0", config requires 1.2',
    );
    expect(() => checkHandshake({ protocolVersion: 1, pluginName: "kv", pluginVersion: "1.0.0", apiVersion: "1.2", methods: ["/greeter.v1.Greeter/SayHello"] }, expected)).toThrow(
      IncompatiblePlugin,
    );
  });

  it("refuses a plugin that says it serves methods no gRPC plugin has: too many, or oddly named (they become metric labels)", () => {
    const facts = { protocolVersion: 1, pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "1.2" };
    expect(() => checkHandshake({ ...facts, methods: [`/big.Svc/${"A".repeat(1_000_000)}`] }, expected)).toThrow(
      /^the plugin says it serves a method named "\/big\.Svc\/A{91}"\.\.\., not \/package\.Service\/Method$/,
    );
    expect(() => checkHandshake({ ...facts, methods: ["/a.B/C\nforged"] }, expected)).toThrow(IncompatiblePlugin);
    expect(() => checkHandshake({ ...facts, methods: Array.from({ length: 10_001 }, (_, i) => `/a.B/M${i}`) }, expected)).toThrow(
      "the plugin says it serves 10001 methods, more than the 10000 a plugin may",
    );
  });

  it("quotes what the plugin said escaped, and refuses a version with control characters or too long (status shows it)", () => {
    const facts = { protocolVersion: 1, pluginName: "greeter", pluginVersion: "1.0.0", apiVersion: "1.2", methods: ["/greeter.v1.Greeter/SayHello"] };
    const osc = "\u001b]0;owned\u0007\r\u001b[2K";
    expect(() => checkHandshake({ ...facts, pluginVersion: `1.0.0${osc}` }, expected)).toThrow(
      'the plugin\'s version "1.0.0\\u001b]0;owned\\u0007\\r\\u001b[2K" is not 128 characters or fewer without control characters',
    );
    expect(() => checkHandshake({ ...facts, pluginVersion: "1".repeat(129) }, expected)).toThrow(IncompatiblePlugin);
    expect(() => checkHandshake({ ...facts, pluginVersion: "1.0.0+build.7 ünïcode" }, expected)).not.toThrow();
    expect(() => checkHandshake({ ...facts, apiVersion: `9.9${osc}` }, expected)).toThrow('plugin implements version "9.9\\u001b]0;owned\\u0007\\r\\u001b[2K", config requires 1.2');
    expect(quoted("csi\u009b2J nel\u0085 sep\u2028 del\u007f")).toBe('"csi\\u009b2J nel\\u0085 sep\\u2028 del\\u007f"');
    expect(() => checkHandshake({ ...facts, pluginName: `kv${osc}` }, expected)).toThrow('plugin identifies itself as "kv\\u001b]0;owned\\u0007\\r\\u001b[2K" but was configured as "greeter"');
  });
});
