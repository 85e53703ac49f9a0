// The controller's logic against fake instances: which transitions happen,
// when it retries, when it quarantines, how it stops. Real instances are
// exercised in test/supervisor.*.test.ts.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../supervisor/config/load.ts";
import { PluginController, type Instance, type Transition } from "../../supervisor/plugin/controller.ts";
import { IncompatiblePlugin } from "../../supervisor/plugin/compatibility.ts";

const plugin = parseConfig(
  `plugins:
  - name: fake
    binary: /bin/true
    apiVersion: "1"
    startTimeout: 200ms
    restart: { initialBackoff: 10ms, maxBackoff: 40ms, quarantineAfter: 3, quarantineWindow: 10s }
`,
  "/tmp/c.yaml",
).plugins[0]!;

class FakeInstance implements Instance {
  static count = 0;
  readonly id = `fake-${++FakeInstance.count}`;
  readonly release = "abc";
  pid: number | undefined = 42;
  pluginVersion = "1.0.0";
  apiVersion = "1.0";
  destroyed = false;
  stoppedWith: number | undefined;
  #exit!: (how: string) => void;
  readonly exited = new Promise<string>((resolve) => (this.#exit = resolve));
  readonly behaviour: "ready" | "fail" | "incompatible" | "hang";
  constructor(behaviour: FakeInstance["behaviour"]) {
    this.behaviour = behaviour;
  }
  ready(signal: AbortSignal): Promise<void> {
    if (this.behaviour === "ready") return Promise.resolve();
    if (this.behaviour === "fail") return Promise.reject(new Error("exited with status 3 before it was ready"));
    if (this.behaviour === "incompatible") return Promise.reject(new IncompatiblePlugin("protocol 2 vs 1"));
    return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  }
  crash(how: string) {
    this.#exit(how);
  }
  async stop(graceMs: number) {
    this.stoppedWith = graceMs;
    this.#exit("drained");
  }
  async destroy() {
    this.destroyed = true;
    this.#exit("killed");
  }
  async rotateCertificate() {}
}

function harness(behaviours: FakeInstance["behaviour"][]) {
  const instances: FakeInstance[] = [];
  const transitions: Transition[] = [];
  const controller = new PluginController(plugin, {
    createInstance: async () => {
      const instance = new FakeInstance(behaviours[Math.min(instances.length, behaviours.length - 1)]!);
      instances.push(instance);
      return instance;
    },
    onTransition: (t) => transitions.push(t),
  });
  const path = () => transitions.map((t) => t.to);
  return { controller, instances, transitions, path };
}

describe("plugin controller", () => {
  it("starts, becomes ready, and drains on stop", async () => {
    const { controller, instances, path } = harness(["ready"]);
    await controller.start();
    expect(controller.state).toBe("ready");
    expect(controller.instance?.id).toBe(instances[0]?.id);
    await controller.stop();
    expect(path()).toEqual(["starting", "ready", "draining", "stopped"]);
    expect(instances[0]?.stoppedWith).toBe(plugin.stopTimeout);
    expect(controller.instance).toBeUndefined();
  });

  it("restarts a crashed instance after a backoff and counts the restart", async () => {
    const { controller, instances, path } = harness(["ready"]);
    await controller.start();
    const crashedAt = Date.now();
    instances[0]!.crash("killed by SIGKILL");
    await waitFor(() => controller.state === "ready" && instances.length === 2);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(8);
    expect(path()).toEqual(["starting", "ready", "crashed", "backoff", "starting", "ready"]);
    expect(controller.restarts).toBe(1);
    expect(instances[0]!.destroyed).toBe(true);
    await controller.stop();
  });

  it("quarantines a crash loop with the reason", async () => {
    const { controller, instances, path } = harness(["fail"]);
    await controller.start();
    expect(await controller.whenSettled()).toBe("quarantined");
    expect(instances).toHaveLength(3);
    expect(instances.every((i) => i.destroyed)).toBe(true);
    expect(path().filter((s) => s === "crashed")).toHaveLength(3);
    expect(controller.reason).toMatch(/crashed 3 times within 10000 ms.*exited with status 3/);
    await controller.stop();
    expect(controller.state).toBe("stopped");
  });

  it("quarantines an incompatible plugin at once", async () => {
    const { controller, instances, path } = harness(["incompatible"]);
    await controller.start();
    expect(path()).toEqual(["starting", "quarantined"]);
    expect(controller.reason).toBe("protocol 2 vs 1");
    expect(instances[0]?.destroyed).toBe(true);
  });

  it("fails a start that exceeds startTimeout and kills it", async () => {
    const { controller, instances } = harness(["hang", "ready"]);
    await controller.start();
    expect(controller.state).toBe("backoff");
    expect(controller.reason).toContain("not ready within startTimeout (200 ms)");
    expect(instances[0]?.destroyed).toBe(true);
    await waitFor(() => controller.state === "ready");
    await controller.stop();
  });

  it("stop during a start aborts and cleans up the starting instance", async () => {
    const { controller, instances, path } = harness(["hang"]);
    const starting = controller.start();
    await waitFor(() => instances.length === 1);
    await controller.stop();
    await starting;
    expect(controller.state).toBe("stopped");
    expect(instances[0]?.destroyed).toBe(true);
    expect(path()).toEqual(["starting", "draining", "stopped"]);
  });

  it("stop during backoff cancels the retry", async () => {
    const { controller, instances } = harness(["fail", "ready"]);
    await controller.start();
    expect(controller.state).toBe("backoff");
    await controller.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(controller.state).toBe("stopped");
    expect(instances).toHaveLength(1);
  });
});

async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
