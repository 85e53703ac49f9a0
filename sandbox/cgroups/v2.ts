// The cgroup driver for cgroup v2: one directory per instance beneath
// <base>/<parent>/, where base is the supervisor's delegated cgroup (see
// delegation.ts) and parent a node this driver creates and enables the
// controllers in.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  checkCgroupName,
  checkCpuLimit,
  checkLimits,
  type AppliedLimits,
  type CgroupDriver,
  type CgroupEvents,
  type CgroupLimits,
  type CgroupUsage,
  type InstanceCgroup,
} from "./driver.ts";
import { nodeCgroupFs, SampledFiles, type CgroupFs } from "./fs.ts";
import { POLL_MS, ignoreMissing, parseCgroupNumber, parseFlatKeyed, parseProcs, removedIfEmpty, rmdirParent, rmdirWhileBusy, settleAll, sweepInstances, type StuckCgroup } from "./util.ts";

/** The controllers an instance's limits need. */
export const V2_CONTROLLERS = ["memory", "pids", "cpu"] as const;

export interface V2DriverOptions {
  /**
   * The cgroup whose children the parent is made among: the supervisor's own
   * cgroup as detected at start (not the leaf it moved itself into).
   */
  base: string;
  /** The cgroup beneath base that holds the instances. */
  parent: string;
  fs?: CgroupFs;
  /** How long killAll and destroy keep at it before giving up. */
  timeoutMs?: number;
}

const CPU_PERIOD_US = 100_000;
/** The kernel refuses quotas below 1ms. */
const CPU_MIN_QUOTA_US = 1_000;

export class V2CgroupDriver implements CgroupDriver {
  readonly version = "v2";
  /** <base>/<parent>: created by this driver, controllers enabled for its children. */
  readonly parentDir: string;
  readonly #fs: CgroupFs;
  readonly #timeoutMs: number;
  /** Set once the parent exists with the controllers enabled; instances are made concurrently. */
  #parentReady: Promise<void> | undefined;

  constructor(options: V2DriverOptions) {
    this.parentDir = path.join(options.base, checkCgroupName(options.parent));
    this.#fs = options.fs ?? nodeCgroupFs;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  async create(name: string, limits: CgroupLimits): Promise<V2InstanceCgroup> {
    checkLimits(limits);
    const cgroup = this.open(name);
    await this.#ensureParent();
    await this.#fs.mkdir(cgroup.dir);
    try {
      await cgroup.setLimits(limits);
    } catch (err) {
      await this.#fs.rmdir(cgroup.dir).catch(() => {});
      throw err;
    }
    return cgroup;
  }

  open(name: string): V2InstanceCgroup {
    return new V2InstanceCgroup(checkCgroupName(name), path.join(this.parentDir, name), this.#fs, this.#timeoutMs);
  }

  async list(): Promise<string[]> {
    return (await this.#fs.subdirs(this.parentDir).catch(ignoreMissing([]))).sort();
  }

  sweep(onStuck?: StuckCgroup): Promise<string[]> {
    return sweepInstances(this, onStuck);
  }

  async removeParent(onStuck?: StuckCgroup): Promise<void> {
    await this.sweep(onStuck);
    await rmdirParent((d) => this.#fs.rmdir(d), this.parentDir, onStuck !== undefined);
    this.#parentReady = undefined;
  }

  get parentPath(): string {
    return this.parentDir;
  }

  get parentPaths(): readonly string[] {
    return [this.parentDir];
  }

  async limitsSwap(): Promise<boolean> {
    await this.#ensureParent();
    return this.#fs.exists(path.join(this.parentDir, "memory.swap.max"));
  }

  #ensureParent(): Promise<void> {
    // A failure is not remembered: the next create tries again.
    this.#parentReady ??= this.#makeParent().catch((err: unknown) => {
      this.#parentReady = undefined;
      throw err;
    });
    return this.#parentReady;
  }

  async #makeParent(): Promise<void> {
    const created = await this.#fs.mkdir(this.parentDir).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") return false; // left by a previous supervisor: swept, reused
        throw err;
      },
    );
    try {
      await enableControllers(this.#fs, this.parentDir);
    } catch (err) {
      if (created) await this.#fs.rmdir(this.parentDir).catch(() => {});
      throw err;
    }
  }
}

/** Throws unless the instance controllers are available in dir (enabled in its parent's subtree_control). */
export async function checkControllersAvailable(fs: CgroupFs, dir: string): Promise<void> {
  const available = words(await fs.readFile(path.join(dir, "cgroup.controllers")));
  const missing = V2_CONTROLLERS.filter((c) => !available.has(c));
  if (missing.length > 0) {
    throw new Error(
      `cgroup v2 controllers ${missing.join(", ")} are not available in ${dir} ` +
        `(it has: ${[...available].join(" ") || "none"}); they must be delegated to the supervisor's cgroup`,
    );
  }
}

/** Enables the instance controllers for dir's children (those not enabled yet). */
export async function enableControllers(fs: CgroupFs, dir: string): Promise<void> {
  await checkControllersAvailable(fs, dir);
  const file = path.join(dir, "cgroup.subtree_control");
  const enabled = words(await fs.readFile(file));
  const wanted = V2_CONTROLLERS.filter((c) => !enabled.has(c));
  if (wanted.length > 0) await fs.writeFile(file, wanted.map((c) => `+${c}`).join(" "));
}

/** Whether dir already enables every instance controller for its children. */
export async function controllersEnabled(fs: CgroupFs, dir: string): Promise<boolean> {
  const enabled = words(await fs.readFile(path.join(dir, "cgroup.subtree_control")).catch(ignoreMissing("")));
  return V2_CONTROLLERS.every((c) => enabled.has(c));
}

export class V2InstanceCgroup implements InstanceCgroup {
  readonly name: string;
  /** The instance's cgroup directory. */
  readonly dir: string;
  readonly procsFiles: string[];
  readonly #fs: CgroupFs;
  readonly #sampled: SampledFiles;
  readonly #timeoutMs: number;
  #usageFiles: { cpu: string; memory: string; events: string } | undefined;

  constructor(name: string, dir: string, fs: CgroupFs, timeoutMs: number) {
    this.name = name;
    this.dir = dir;
    this.#sampled = new SampledFiles(fs);
    this.procsFiles = [this.#file("cgroup.procs")];
    this.#fs = fs;
    this.#timeoutMs = timeoutMs;
  }

  async setLimits(limits: CgroupLimits): Promise<void> {
    checkLimits(limits);
    const swap = async () => {
      // Absent when the kernel does no swap accounting: nothing to limit then.
      const file = this.#file("memory.swap.max");
      if (await this.#fs.exists(file)) await this.#fs.writeFile(file, maxValue(limits.swapBytes));
    };
    // An OOM kill ends the whole instance, not just the process the kernel
    // picked (a child of the plugin, say, leaving the plugin running after
    // its own failure): "killed together or not at all" (Linux 4.19).
    const oomGroup = async () => {
      const file = this.#file("memory.oom.group");
      if (await this.#fs.exists(file)) await this.#fs.writeFile(file, "1");
    };
    // Unlike v1's memsw, memory.swap.max is swap alone: no order to keep.
    await settleAll([
      oomGroup(),
      this.#fs.writeFile(this.#file("memory.max"), maxValue(limits.memoryBytes)),
      swap(),
      this.#fs.writeFile(this.#file("pids.max"), maxValue(limits.pids)),
      this.setCpu(limits.cpu),
    ]);
  }

  async setCpu(cores: number): Promise<void> {
    checkCpuLimit(cores);
    const quota = cores === Infinity ? "max" : String(Math.max(CPU_MIN_QUOTA_US, Math.round(cores * CPU_PERIOD_US)));
    await this.#fs.writeFile(this.#file("cpu.max"), `${quota} ${CPU_PERIOD_US}`);
  }

  async readLimits(): Promise<AppliedLimits> {
    const swapFile = this.#file("memory.swap.max");
    const swap = await this.#fs.readFile(swapFile).catch(ignoreMissing(undefined));
    const [quota, period] = (await this.#read("cpu.max")).trim().split(/\s+/);
    return {
      memoryBytes: parseCgroupNumber(await this.#read("memory.max"), this.#file("memory.max")),
      swapBytes: swap === undefined ? null : parseCgroupNumber(swap, swapFile),
      pids: parseCgroupNumber(await this.#read("pids.max"), this.#file("pids.max")),
      cpu: quota === "max" ? Infinity : parseCgroupNumber(quota ?? "", this.#file("cpu.max")) / parseCgroupNumber(period ?? "", this.#file("cpu.max")),
    };
  }

  async pids(): Promise<number[]> {
    const text = await this.#fs.readFile(this.#file("cgroup.procs")).catch(ignoreMissing(""));
    return parseProcs(text).sort((a, b) => a - b);
  }

  async usage(): Promise<CgroupUsage> {
    // Named once: sampling calls this every second for every instance.
    const { cpu, memory, events } = (this.#usageFiles ??= {
      cpu: this.#file("cpu.stat"),
      memory: this.#file("memory.current"),
      events: this.#file("memory.events"),
    });
    const usec = parseFlatKeyed(this.#sampled.read(cpu)).get("usage_usec");
    if (usec === undefined) throw new Error(`no usage_usec in ${cpu}`);
    return {
      memoryBytes: parseCgroupNumber(this.#sampled.read(memory), memory),
      cpuMicros: usec,
      oomKills: parseFlatKeyed(this.#sampled.read(events)).get("oom_kill") ?? 0,
    };
  }

  async events(): Promise<CgroupEvents> {
    const [memory, pids] = await Promise.all([this.#read("memory.events"), this.#read("pids.events")]);
    return {
      oomKills: parseFlatKeyed(memory).get("oom_kill") ?? 0,
      pidsLimitHits: parseFlatKeyed(pids).get("max") ?? 0,
    };
  }

  async killAll(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    // cgroup.kill (Linux 5.14) kills every process of the cgroup at once, in
    // the kernel, racing no fork: one write, then wait for them to go.
    const kill = this.#file("cgroup.kill");
    const killFile = await this.#fs.exists(kill);
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`cgroup ${this.name} still has processes ${pids.join(" ")} after ${this.#timeoutMs}ms`);
      }
      if (killFile) await this.#fs.writeFile(kill, "1");
      else await this.#killFrozen(pids, deadline);
      await sleep(POLL_MS);
    }
  }

  async destroy(): Promise<void> {
    this.#sampled.close();
    await rmdirWhileBusy((d) => this.#fs.rmdir(d), this.dir, Date.now() + this.#timeoutMs);
  }

  async remove(): Promise<void> {
    if (await removedIfEmpty(this.#fs, this.dir)) return this.destroy();
    await this.killAll();
    await this.destroy();
  }

  /**
   * Without cgroup.kill: freeze (cgroup.freeze, Linux 5.2) so that no pid
   * read can exit and be reused before it is signalled, then SIGKILL each.
   * v2's freezer lets a frozen process die of SIGKILL.
   */
  async #killFrozen(pids: number[], deadline: number): Promise<void> {
    const freeze = this.#file("cgroup.freeze");
    const frozen = (await this.#fs.exists(freeze)) && (await this.#freeze(freeze, deadline));
    try {
      for (const pid of frozen ? await this.pids() : pids) this.#fs.kill(pid, "SIGKILL");
    } finally {
      if (frozen) await this.#fs.writeFile(freeze, "0");
    }
  }

  /** Freezes the cgroup; false if cgroup.events did not say frozen in time. */
  async #freeze(file: string, deadline: number): Promise<boolean> {
    await this.#fs.writeFile(file, "1");
    while (parseFlatKeyed(await this.#read("cgroup.events")).get("frozen") !== 1) {
      if (Date.now() > deadline) {
        await this.#fs.writeFile(file, "0");
        return false;
      }
      await sleep(1);
    }
    return true;
  }

  #file(name: string): string {
    return path.join(this.dir, name);
  }

  #read(name: string): Promise<string> {
    return this.#fs.readFile(this.#file(name));
  }
}

/** v2 takes "max" for "no limit". */
function maxValue(value: number): string {
  return value === Infinity ? "max" : String(value);
}

function words(text: string): Set<string> {
  return new Set(text.split(/\s+/).filter(Boolean));
}
