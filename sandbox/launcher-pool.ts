// Keeps one sandbox launcher warm: spawned, its init already cloned into
// fresh namespaces, the launcher's Go runtime up, waiting for a spec. Taking
// it moves the launcher's own start-up (a fork of the large supervisor
// process, a runtime start, the clone) off an instance's start path. A spare runs nothing: until
// it gets a spec its init is blocked, owns no cgroup and has no root.
import { randomBytes } from "node:crypto";
import type { CgroupDriver, CgroupLimits, InstanceCgroup } from "./cgroups/driver.ts";
import { launchSandbox, type SandboxProcess } from "./launcher.ts";
import type { SandboxSpec } from "./spec.ts";

export interface SandboxIds {
  uid: number;
  gid: number;
}

/** A launcher for one instance, with the ids its sandbox maps root to. */
export interface LaunchSlot {
  readonly ids: SandboxIds;
  /**
   * A warm launcher's cgroup, its init already in it: the taker sets its
   * limits, names its procsFiles in the spec, and owns it from now on.
   */
  readonly cgroup?: InstanceCgroup;
  /** Starts the sandbox; the spec must carry this slot's ids. */
  launch(spec: Promise<SandboxSpec>): SandboxProcess;
}

export interface LauncherPoolOptions {
  launcherPath: string;
  /** Host ids for a new sandbox, and their return when a spare is discarded unused. */
  allocateIds(): SandboxIds;
  releaseIds(ids: SandboxIds): void;
  /** Delay before a taken spare is replaced, so making it does not slow the start that took it. */
  refillDelayMs?: number;
  /** Keep a spare (default true); without, every launch starts its launcher cold. */
  warm?: boolean;
  /**
   * Make each spare a cgroup and put its init there at once, off any start's
   * path: placing a cloned init later is a whole-process migration, which
   * waits for a kernel RCU grace period (8-33 ms measured under load).
   */
  cgroups?: CgroupDriver;
}

/** A spare's cgroup holds only its blocked init until a plugin's limits replace these. */
const SPARE_LIMITS: CgroupLimits = { memoryBytes: 64 * 1024 * 1024, swapBytes: 0, pids: 32, cpu: 0.5 };

interface Spare {
  ids: SandboxIds;
  process: SandboxProcess;
  provide: (spec: Promise<SandboxSpec>) => void;
  cgroup?: InstanceCgroup;
}

export class LauncherPool {
  readonly #options: LauncherPoolOptions;
  #spare: Spare | undefined;
  #refill: NodeJS.Timeout | undefined;
  #closed = false;
  /** A spare being made (its cgroup is created first). */
  #making: Promise<void> | undefined;

  constructor(options: LauncherPoolOptions) {
    this.#options = options;
  }

  /**
   * Starts keeping a spare. Separate from construction so that a supervisor
   * sweeps what a previous one left beneath its cgroup parent first.
   */
  warm(): void {
    this.#scheduleRefill(0);
  }

  /** Host pid of the spare launcher, when one is waiting. */
  get sparePid(): number | undefined {
    return this.#spare?.process.pid;
  }

  /** A warm launcher if one is ready, else a cold one. The caller owns the slot's ids from now on. */
  acquire(): LaunchSlot {
    if (this.#closed) throw new Error("launcher pool is closed");
    const spare = this.#spare;
    this.#spare = undefined;
    this.#scheduleRefill(this.#options.refillDelayMs ?? 200);
    if (spare) {
      return {
        ids: spare.ids,
        ...(spare.cgroup && { cgroup: spare.cgroup }),
        launch: (spec) => {
          spare.provide(spec);
          return spare.process;
        },
      };
    }
    const ids = this.#options.allocateIds();
    // Cold: no --ids (but the owner), so the launcher clones its init at once with no ids
    // mapped, maps them once it has the spec, and the init moves itself into
    // its cgroups (cheap) rather than being migrated from outside (a kernel
    // RCU grace period).
    return { ids, launch: (spec) => launchSandbox(spec, { launcherPath: this.#options.launcherPath, owner: ids }) };
  }

  /** Kills the spare and stops refilling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refill);
    const spare = this.#spare;
    this.#spare = undefined;
    await this.#making;
    const made = this.#spare;
    this.#spare = undefined;
    for (const s of [spare, made]) if (s) await this.#discard(s);
  }

  #scheduleRefill(delayMs: number): void {
    if (this.#closed || this.#refill || this.#options.warm === false) return;
    this.#refill = setTimeout(() => {
      this.#refill = undefined;
      if (!this.#closed && !this.#spare && !this.#making) this.#makeSpare();
    }, delayMs);
    this.#refill.unref();
  }

  #makeSpare(): void {
    let ids: SandboxIds;
    try {
      ids = this.#options.allocateIds();
    } catch {
      return; // every uid is in use: instances go cold until one is freed
    }
    const making = (async () => {
      let cgroup: InstanceCgroup | undefined;
      try {
        cgroup = await this.#options.cgroups?.create(`spare-${randomBytes(4).toString("hex")}`, SPARE_LIMITS);
      } catch {
        // No cgroup ready: a spare all the same, placed when its spec comes.
      }
      const { promise, resolve } = Promise.withResolvers<SandboxSpec>();
      let process: SandboxProcess;
      try {
        process = launchSandbox(promise, {
          launcherPath: this.#options.launcherPath,
          ids,
          ...(cgroup && { cgroupProcs: cgroup.procsFiles }),
        });
      } catch {
        // No spare this time (the launch failed at once): what it held goes back.
        await cgroup?.remove().catch(() => {});
        this.#options.releaseIds(ids);
        this.#scheduleRefill(1000);
        return;
      }
      const spare: Spare = { ids, process, provide: (spec) => resolve(spec), ...(cgroup && { cgroup }) };
      if (this.#closed) return this.#discard(spare);
      this.#spare = spare;
      // A spare that dies unused (killed from outside, broken launcher) is
      // replaced, but not in a tight loop.
      void process.exited.then(async () => {
        if (this.#spare !== spare) return;
        this.#spare = undefined;
        await this.#discard(spare);
        this.#scheduleRefill(1000);
      });
    })();
    this.#making = making;
    void making.finally(() => {
      if (this.#making === making) this.#making = undefined;
    });
  }

  /** Ends an unused spare and gives back what it held. */
  async #discard(spare: Spare): Promise<void> {
    spare.process.kill();
    await spare.process.exited;
    await spare.cgroup?.remove().catch(() => {});
    this.#options.releaseIds(spare.ids);
  }
}
