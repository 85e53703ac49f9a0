// Keeps one sandbox launcher warm: spawned, its init already cloned into
// fresh namespaces, both Go runtimes up, waiting for a spec. Taking it moves
// the launcher's own start-up (a fork of the large supervisor process and two
// runtime starts) off an instance's start path. A spare runs nothing: until
// it gets a spec its init is blocked, owns no cgroup and has no root.
import { launchSandbox, type SandboxProcess } from "./launcher.ts";
import type { SandboxSpec } from "./spec.ts";

export interface SandboxIds {
  uid: number;
  gid: number;
}

/** A launcher for one instance, with the ids its sandbox maps root to. */
export interface LaunchSlot {
  readonly ids: SandboxIds;
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
}

interface Spare {
  ids: SandboxIds;
  process: SandboxProcess;
  provide: (spec: Promise<SandboxSpec>) => void;
}

export class LauncherPool {
  readonly #options: LauncherPoolOptions;
  #spare: Spare | undefined;
  #refill: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LauncherPoolOptions) {
    this.#options = options;
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
        launch: (spec) => {
          spare.provide(spec);
          return spare.process;
        },
      };
    }
    const ids = this.#options.allocateIds();
    return { ids, launch: (spec) => launchSandbox(spec, { launcherPath: this.#options.launcherPath, ids }) };
  }

  /** Kills the spare and stops refilling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refill);
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare) {
      spare.process.kill();
      await spare.process.exited;
      this.#options.releaseIds(spare.ids);
    }
  }

  #scheduleRefill(delayMs: number): void {
    if (this.#closed || this.#refill || this.#options.warm === false) return;
    this.#refill = setTimeout(() => {
      this.#refill = undefined;
      if (!this.#closed && !this.#spare) this.#makeSpare();
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
    const { promise, resolve } = Promise.withResolvers<SandboxSpec>();
    const process = launchSandbox(promise, { launcherPath: this.#options.launcherPath, ids });
    const spare: Spare = { ids, process, provide: (spec) => resolve(spec) };
    this.#spare = spare;
    // A spare that dies unused (killed from outside, broken launcher) is
    // replaced, but not in a tight loop.
    void process.exited.then(() => {
      if (this.#spare !== spare) return;
      this.#spare = undefined;
      this.#options.releaseIds(ids);
      this.#scheduleRefill(1000);
    });
  }
}
