// The controller's logic against fake instances: which transitions happen,
// when it retries, when it quarantines, how it stops. Real instances are
// exercised in test/supervisor.*.test.ts.
import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../supervisor/config/load.ts";
import { PluginController, refusalReason, UpdateFailed, type Instance, type Transition } from "../../supervisor/plugin/controller.ts";
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
  release = "abc";
  publishDataSocket() {
    return `/run/${this.id}.data.sock`;
  }
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
  /** How long a drain takes (calls in flight finishing). */
  stopDelayMs = 0;
  drained = false;
  async stop(graceMs: number) {
    this.stoppedWith = graceMs;
    if (this.stopDelayMs) await new Promise((r) => setTimeout(r, this.stopDelayMs));
    this.drained = true;
    this.#exit("drained");
  }
  /** A breaker's verdict, when a test gives one; and how long destroy takes (a cgroup's removal, say). */
  verdict: Instance["verdict"];
  destroyDelayMs = 0;
  async destroy() {
    this.destroyed = true;
    this.#exit("killed");
    if (this.destroyDelayMs) await new Promise((r) => setTimeout(r, this.destroyDelayMs));
  }
  async rotateCertificate() {}
  paused = false;
  async pause() {
    this.paused = true;
  }
  async resume() {
    this.paused = false;
  }
}

function harness(behaviours: FakeInstance["behaviour"][], config = plugin) {
  const instances: FakeInstance[] = [];
  const transitions: Transition[] = [];
  /** Where the stable address pointed, in order: an instance id, or "refused: reason". */
  const routes: string[] = [];
  let current = "abc";
  let lifted = 0;
  const controller = new PluginController(config, {
    createInstance: async (_config, release) => {
      const instance = new FakeInstance(behaviours[Math.min(instances.length, behaviours.length - 1)]!);
      instance.release = release ?? current;
      instances.push(instance);
      return instance;
    },
    onTransition: (t) => transitions.push(t),
    onQuarantineLifted: () => (lifted += 1),
    address: {
      serve: (i) => routes.at(-1) !== i.id && routes.push(i.id),
      refuse: (reason) => routes.at(-1) !== `refused: ${reason}` && routes.push(`refused: ${reason}`),
    },
  });
  const path = () => transitions.map((t) => t.to);
  const setCurrent = (release: string) => (current = release);
  return { controller, instances, transitions, path, routes, setCurrent, lifted: () => lifted };
}

describe("plugin controller", () => {
  it("runs the release that served, not one on trial, for a restart queued behind a failed update and for a crash retry", async () => {
    const { controller, instances, setCurrent } = harness(["ready", "hang", "ready", "ready"]);
    await controller.start(); // abc serves
    setCurrent("def"); // a deploy's trial: def is current until the deployer puts abc back
    const updating = controller.update("def");
    const restarting = controller.restart(); // queued behind the update
    await expect(updating).rejects.toThrow(/release def did not become ready/);
    await restarting; // `current` still names def here
    expect(instances.map((i) => i.release)).toEqual(["abc", "def", "abc"]);
    instances[2]!.crash("killed by SIGKILL");
    await waitFor(() => controller.state === "ready" && instances.length === 4);
    expect(instances[3]!.release).toBe("abc");
    // A start from stopped runs what is current: the deployer's to decide.
    await controller.stop();
    await controller.start();
    expect(instances[4]!.release).toBe("def");
  });

  it("retries what is current after a start from stopped fails, not the release that served before the stop (a reload may have changed it)", async () => {
    const { controller, instances, setCurrent } = harness(["ready", "fail", "ready"]);
    await controller.start(); // abc serves
    await controller.stop();
    setCurrent("def"); // a reload of the stopped plugin made its new binary current
    await controller.start();
    await waitFor(() => controller.state === "ready");
    expect(instances.map((i) => i.release)).toEqual(["abc", "def", "def"]);
    await controller.stop();
  });

  it("refuses start, update, restart and reload once retired (being removed), and still stops", async () => {
    const { controller, instances } = harness(["ready"]);
    await controller.start();
    controller.retire();
    const refused = "plugin fake is being removed from the config";
    await expect(controller.restart()).rejects.toThrow(refused);
    await expect(controller.applyConfig()).rejects.toThrow(refused);
    await expect(controller.update("def")).rejects.toThrow(refused);
    await controller.stop();
    await expect(controller.start()).rejects.toThrow(refused);
    expect(controller.state).toBe("stopped");
    expect(instances).toHaveLength(1);
  });

  it("counts the time an instance served before a hot update towards resetting the backoff", async () => {
    const calm = parseConfig(
      `plugins:
  - name: fake
    binary: /bin/true
    apiVersion: "1"
    startTimeout: 200ms
    restart: { initialBackoff: 50ms, maxBackoff: 10s, quarantineAfter: 20, quarantineWindow: 10s, resetAfter: 300ms }
`,
      "/tmp/c.yaml",
    ).plugins[0]!;
    const { controller, instances } = harness(["ready"], calm);
    await controller.start();
    for (let i = 1; i <= 4; i++) {
      instances.at(-1)!.crash("killed by SIGKILL"); // backoffs 50, 100, 200, 400 ms
      await waitFor(() => controller.state === "ready" && instances.length === i + 1, 5000);
    }
    await new Promise((r) => setTimeout(r, 400)); // longer than resetAfter in service...
    await controller.restart(); // ...then replaced by a hot update
    const crashedAt = performance.now();
    instances.at(-1)!.crash("killed by SIGKILL");
    await waitFor(() => controller.state === "ready" && instances.length === 7, 5000);
    // The first backoff again (50 ms), not the fifth (800 ms).
    expect(performance.now() - crashedAt).toBeLessThan(600);
  });

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
    await waitFor(() => controller.state === "quarantined");
    expect(instances).toHaveLength(3);
    expect(instances.every((i) => i.destroyed)).toBe(true);
    expect(path().filter((s) => s === "crashed")).toHaveLength(3);
    expect(controller.reason).toMatch(/crashed 3 times within 10000 ms.*exited with status 3/);
    await controller.stop();
    expect(controller.state).toBe("stopped");
  });

  it("answers an update that comes while an attempt of a crash loop runs, once that attempt ends: a loop with no quarantine in sight is not waited for", async () => {
    const endless = { ...plugin, restart: { ...plugin.restart, quarantineAfter: 1_000_000 } };
    const { controller } = harness(["hang"], endless);
    await controller.start();
    await waitFor(() => controller.state === "starting");
    await expect(controller.update("def")).rejects.toThrow(/did not become ready: not ready within startTimeout/);
    await controller.stop();
    expect(controller.state).toBe("stopped");
  });

  it("takes a stop that comes while a breaker's quarantine verdict is carried out, and stays stopped", async () => {
    const { controller, instances, path } = harness(["ready"]);
    await controller.start();
    const instance = instances[0]!;
    instance.verdict = { action: "quarantine", reason: "cpu breaker: trip 5" };
    instance.destroyDelayMs = 50;
    instance.crash("killed by SIGKILL");
    await new Promise((r) => setTimeout(r, 10)); // crashed, its clean-up under way
    await controller.stop();
    await new Promise((r) => setTimeout(r, 100)); // the clean-up over: no quarantine of a stopped plugin
    expect(controller.state).toBe("stopped");
    expect(path()).toEqual(["starting", "ready", "crashed", "stopped"]);
  });

  it("keeps a quarantined plugin quarantined when a deploy into it fails: its reason kept, no restart, nothing lifted", async () => {
    const { controller, instances, lifted, setCurrent } = harness(["fail"]);
    await controller.start();
    await waitFor(() => controller.state === "quarantined");
    const reason = controller.reason;
    setCurrent("def");
    await expect(controller.update("def")).rejects.toThrow("release def did not become ready: exited with status 3 before it was ready");
    expect({ state: controller.state, reason: controller.reason }).toEqual({ state: "quarantined", reason });
    await new Promise((r) => setTimeout(r, 150)); // several backoffs: no restart of the crash loop
    expect(instances).toHaveLength(4);
    expect(lifted()).toBe(0);
  });

  it("refuses a deploy to a stopped plugin, starting nothing; a restart of it changes nothing", async () => {
    const { controller, instances } = harness(["ready"]);
    await expect(controller.update("def")).rejects.toThrow("plugin fake is stopped; start it, then deploy: a release stays current only once it serves");
    await expect(controller.restart()).resolves.toMatchObject({ changed: false });
    expect({ state: controller.state, instances: instances.length }).toEqual({ state: "stopped", instances: 0 });
  });

  it("lifts a quarantine when a deploy into it comes into service", async () => {
    const { controller, lifted, setCurrent } = harness(["fail", "fail", "fail", "ready"]);
    await controller.start();
    await waitFor(() => controller.state === "quarantined");
    setCurrent("def");
    await expect(controller.update("def")).resolves.toMatchObject({ changed: true, release: "def" });
    expect(controller.state).toBe("ready");
    expect(lifted()).toBe(1);
    await controller.stop();
  });

  it("counts crashes on a clock the wall clock's steps do not move: a step back crowds nothing into the quarantine window", async () => {
    const windowed = { ...plugin, restart: { ...plugin.restart, quarantineAfter: 2, quarantineWindow: 300 } };
    vi.useFakeTimers({ toFake: ["Date"] }); // the wall clock only; before the controller reads it
    const { controller, instances } = harness(["ready"], windowed);
    try {
      await controller.start();
      instances[0]!.crash("killed by SIGKILL");
      await waitFor(() => controller.state === "ready" && instances.length === 2);
      vi.setSystemTime(Date.now() - 60_000); // NTP's makestep, say
      await new Promise((r) => setTimeout(r, 400)); // past the window, on any clock that does not step
      instances[1]!.crash("killed by SIGKILL");
      await waitFor(() => controller.state === "ready" && instances.length === 3);
      expect(controller.state).toBe("ready"); // on the wall clock: "crashed 2 times within 300 ms", quarantined
    } finally {
      vi.useRealTimers();
      await controller.stop();
    }
  });

  it("clears away a serving instance that dies during a hot update at once, not at the update's end", async () => {
    const { controller, instances, setCurrent } = harness(["ready", "hang"]);
    await controller.start();
    setCurrent("def");
    const updating = controller.update("def");
    updating.catch(() => {});
    await waitFor(() => instances.length === 2);
    instances[0]!.crash("killed by SIGKILL");
    await new Promise((r) => setTimeout(r, 20));
    // Still updating (the new instance hangs until startTimeout), and the dead one's remains are gone:
    // a Node client's connections to it close when its directory does.
    expect({ state: controller.state, destroyed: instances[0]!.destroyed }).toEqual({ state: "updating", destroyed: true });
    await expect(updating).rejects.toThrow(UpdateFailed);
    await controller.stop();
  });

  it("returns a backing-off plugin to its release that served when a deploy into it proves incompatible, rather than quarantining it", async () => {
    const slowBackoff = { ...plugin, restart: { ...plugin.restart, initialBackoff: 300 } };
    const { controller, instances, path, setCurrent } = harness(["ready", "incompatible", "ready"], slowBackoff);
    await controller.start(); // abc serves
    instances[0]!.crash("killed by SIGKILL");
    await waitFor(() => controller.state === "backoff");
    setCurrent("def"); // the deploy's trial, put back by the deployer when it fails
    await expect(controller.update("def")).rejects.toThrow("release def did not become ready: protocol 2 vs 1");
    expect(controller.state).toBe("backoff");
    await waitFor(() => controller.state === "ready", 3000);
    expect(instances.map((i) => i.release)).toEqual(["abc", "def", "abc"]);
    expect(path()).not.toContain("quarantined");
    await controller.stop();
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

  describe("hot update", () => {
    it("starts the new release beside the old, moves the address, then drains the old", async () => {
      const { controller, instances, path, routes, setCurrent } = harness(["ready"]);
      await controller.start();
      setCurrent("def");
      const result = await controller.update("def");
      expect(result).toEqual({ changed: true, release: "def", previous: "abc", instance: instances[1]!.id });
      expect(path()).toEqual(["starting", "ready", "updating", "ready"]);
      expect(routes).toEqual(["refused: plugin fake is starting", instances[0]!.id, instances[1]!.id]);
      expect(instances[0]!.stoppedWith).toBe(plugin.stopTimeout);
      expect(instances[1]!.destroyed).toBe(false);
      expect(controller.instance).toBe(instances[1]);
      await controller.stop();
      expect(routes.at(-1)).toBe("refused: plugin fake is stopped");
    });

    it("a stop during the old instance's drain waits for that drain too", async () => {
      const { controller, instances, setCurrent } = harness(["ready"]);
      await controller.start();
      instances[0]!.stopDelayMs = 300;
      setCurrent("def");
      let oldDrainedWhenStopped: Promise<boolean> | undefined;
      await controller.update("def", async () => {
        // The supervisor's stop, once the new instance serves.
        oldDrainedWhenStopped = controller.stop().then(() => instances[0]!.drained);
      });
      expect(await oldDrainedWhenStopped).toBe(true);
      expect(instances[1]!.drained).toBe(true);
      expect(controller.state).toBe("stopped");
    });

    it("keeps the old instance serving when the new one does not become ready", async () => {
      const { controller, instances, path, routes, setCurrent } = harness(["ready", "fail"]);
      await controller.start();
      setCurrent("bad");
      await expect(controller.update("bad")).rejects.toThrow(UpdateFailed);
      await expect(controller.update("bad")).rejects.toThrow(/release bad did not become ready: exited with status 3/);
      expect(path()).toEqual(["starting", "ready", "updating", "ready", "updating", "ready"]);
      expect(routes).toEqual(["refused: plugin fake is starting", instances[0]!.id]);
      expect(instances[0]!.stoppedWith).toBeUndefined();
      expect(instances[1]!.destroyed).toBe(true);
      expect(controller.state).toBe("ready");
      expect(controller.reason).toMatch(/did not become ready/);
      await controller.stop();
    });

    it("does nothing when the release already serves", async () => {
      const { controller, instances, path } = harness(["ready"]);
      await controller.start();
      expect(await controller.update("abc")).toEqual({ changed: false, release: "abc", previous: "abc", instance: instances[0]!.id });
      expect(path()).toEqual(["starting", "ready"]);
      await controller.stop();
    });

    it("serializes updates: the second starts after the first has finished", async () => {
      const { controller, instances, path, setCurrent } = harness(["ready"]);
      await controller.start();
      setCurrent("def");
      const first = controller.update("def");
      const second = controller.update("def"); // the watcher seeing the same change
      expect((await first).changed).toBe(true);
      expect((await second).changed).toBe(false);
      expect(instances).toHaveLength(2);
      expect(path()).toEqual(["starting", "ready", "updating", "ready"]);
      await controller.stop();
    });

    it("starts a plugin backing off after a crash on the new release at once", async () => {
      const { controller, instances, routes, setCurrent } = harness(["ready"]);
      await controller.start();
      instances[0]!.crash("exited with status 3");
      await waitFor(() => controller.state === "backoff");
      expect(routes.at(-1)).toBe("refused: plugin fake is restarting after a failure: exited with status 3");
      setCurrent("def");
      const result = await controller.update("def");
      expect(result.changed).toBe(true);
      expect(controller.state).toBe("ready");
      expect(controller.instance?.release).toBe("def");
      expect(routes.at(-1)).toBe(instances[1]!.id);
      await controller.stop();
    });

    it("handles an old instance that exits during a failed update as a crash", async () => {
      const { controller, instances, setCurrent } = harness(["ready", "hang"]);
      await controller.start();
      setCurrent("slow");
      const update = controller.update("slow");
      await waitFor(() => instances.length === 2);
      instances[0]!.crash("killed by SIGKILL");
      await expect(update).rejects.toThrow(/not ready within startTimeout/);
      await waitFor(() => controller.state === "backoff");
      await controller.stop();
    });

    it("aborts the new instance and drains the old on a stop during an update", async () => {
      const { controller, instances, setCurrent } = harness(["ready", "hang"]);
      await controller.start();
      setCurrent("slow");
      const update = controller.update("slow");
      await waitFor(() => instances.length === 2);
      await controller.stop();
      await expect(update).rejects.toThrow(/stopped during the update/);
      expect(controller.state).toBe("stopped");
      expect(instances[0]!.stoppedWith).toBe(plugin.stopTimeout);
      expect(instances[1]!.destroyed).toBe(true);
    });
  });
});

async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms; // not Date.now(): a test fakes it
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("refusalReason", () => {
  it("tells a start after a failure from a first start: the reason is the failure's, not the start's", () => {
    expect(refusalReason("echo", "starting", "")).toBe("plugin echo is starting");
    expect(refusalReason("echo", "starting", "killed by SIGKILL")).toBe("plugin echo is starting again after a failure: killed by SIGKILL");
  });

  it("leaves out what the plugin said on stderr: its operators' to read, not its callers'", () => {
    const reason = "crashed 2 times within 30000 ms (quarantineAfter: 2); last: exited with status 2; it said: panic: token abc123 of alice is invalid";
    expect(refusalReason("echo", "quarantined", reason)).toBe("plugin echo is quarantined: crashed 2 times within 30000 ms (quarantineAfter: 2); last: exited with status 2");
    expect(refusalReason("echo", "backoff", "exited with status 1; it said: x")).toBe("plugin echo is restarting after a failure: exited with status 1");
    expect(refusalReason("echo", "starting", "exited with status 1; it said: x")).toBe("plugin echo is starting again after a failure: exited with status 1");
  });
});
