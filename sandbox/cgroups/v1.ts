// The cgroup driver for cgroup v1 (and hybrid hosts): one directory per
// hierarchy for each instance, beneath <own cgroup>/<parent>/ in each.
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import type { V1Hierarchy } from "./detect.ts";
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
import { POLL_MS, ignoreMissing, parseCgroupCounter, parseCgroupNumber, parseFlatKeyed, parseProcs, removedIfEmpty, rmdirParent, rmdirWhileBusy, settleAll, sweepInstances, unique, type StuckCgroup } from "./util.ts";

export interface V1DriverOptions {
  /** The hierarchies by controller, as detectCgroups finds them. */
  controllers: Partial<Record<string, V1Hierarchy>>;
  /** The cgroup beneath the supervisor's own that holds the instances. */
  parent: string;
  fs?: CgroupFs;
  /** How long killAll and destroy keep at it before giving up. */
  timeoutMs?: number;
}

/** The controllers an instance needs; freezer is used when mounted. */
const REQUIRED = ["memory", "cpu", "cpuacct", "pids"] as const;
const OPTIONAL = ["freezer"] as const;

const CFS_PERIOD_US = 100_000;
/** The kernel refuses quotas below 1ms. */
const CFS_MIN_QUOTA_US = 1_000;

export class V1CgroupDriver implements CgroupDriver {
  readonly version = "v1";
  readonly #controllers: Map<string, V1Hierarchy>;
  readonly #parent: string;
  readonly #fs: CgroupFs;
  readonly #timeoutMs: number;

  constructor(options: V1DriverOptions) {
    this.#parent = checkCgroupName(options.parent);
    this.#fs = options.fs ?? nodeCgroupFs;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#controllers = new Map();
    for (const name of [...REQUIRED, ...OPTIONAL]) {
      const hierarchy = options.controllers[name];
      if (hierarchy) this.#controllers.set(name, hierarchy);
    }
    const missing = REQUIRED.filter((name) => !this.#controllers.has(name));
    if (missing.length > 0) throw new Error(`cgroup v1 controllers not mounted: ${missing.join(", ")}`);
  }

  async create(name: string, limits: CgroupLimits): Promise<V1InstanceCgroup> {
    checkLimits(limits);
    const cgroup = this.open(name);
    // Instance cgroups are made on every plugin start: the hierarchies are
    // independent, so their directories and limits are written concurrently.
    await Promise.all(this.#parentDirs().map((dir) => this.#ensureDir(dir)));
    const created: string[] = [];
    try {
      await settleAll(
        cgroup.dirs.map(async (dir) => {
          await this.#fs.mkdir(dir);
          created.push(dir);
        }),
      );
      await cgroup.setLimits(limits);
    } catch (err) {
      await Promise.all(created.map((dir) => this.#fs.rmdir(dir).catch(() => {})));
      throw err;
    }
    return cgroup;
  }

  open(name: string): V1InstanceCgroup {
    checkCgroupName(name);
    const dirs = new Map<string, string>();
    for (const [controller, hierarchy] of this.#controllers) {
      dirs.set(controller, path.join(hierarchy.own, this.#parent, name));
    }
    return new V1InstanceCgroup(name, dirs, this.#fs, this.#timeoutMs);
  }

  async list(): Promise<string[]> {
    const names = new Set<string>();
    for (const dir of this.#parentDirs()) {
      for (const name of await this.#fs.subdirs(dir).catch(ignoreMissing([]))) names.add(name);
    }
    return [...names].sort();
  }

  sweep(onStuck?: StuckCgroup): Promise<string[]> {
    return sweepInstances(this, onStuck);
  }

  async removeParent(onStuck?: StuckCgroup): Promise<void> {
    await this.sweep(onStuck);
    for (const dir of this.#parentDirs()) await rmdirParent((d) => this.#fs.rmdir(d), dir, onStuck !== undefined);
  }

  get parentPath(): string {
    return path.join(this.#controllers.get("memory")!.own, this.#parent);
  }

  get parentPaths(): readonly string[] {
    return this.#parentDirs();
  }

  async limitsSwap(): Promise<boolean> {
    await this.#ensureDir(this.parentPath);
    return this.#fs.exists(path.join(this.parentPath, "memory.memsw.limit_in_bytes"));
  }

  /** cpu and cpuacct may share a hierarchy: each directory once. */
  #parentDirs(): string[] {
    return unique([...this.#controllers.values()].map((h) => path.join(h.own, this.#parent)));
  }

  async #ensureDir(dir: string): Promise<void> {
    // Made if missing: one call either way (a start may wait on it).
    await this.#fs.mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
}

export class V1InstanceCgroup implements InstanceCgroup {
  readonly name: string;
  readonly procsFiles: string[];
  /** The instance's directory in each controller's hierarchy. */
  readonly #dirs: Map<string, string>;
  #usageFiles: { memory: string; cpu: string; oom: string } | undefined;
  readonly #fs: CgroupFs;
  readonly #sampled: SampledFiles;
  readonly #timeoutMs: number;

  constructor(name: string, dirs: Map<string, string>, fs: CgroupFs, timeoutMs: number) {
    this.name = name;
    this.#dirs = dirs;
    this.#fs = fs;
    this.#sampled = new SampledFiles(fs);
    this.#timeoutMs = timeoutMs;
    this.procsFiles = this.dirs.map((dir) => path.join(dir, "cgroup.procs"));
  }

  /** Each directory once, memory's first. */
  get dirs(): string[] {
    return unique([...this.#dirs.values()]);
  }

  /** Writes the limits: each hierarchy's files in order, the hierarchies concurrently. */
  async setLimits(limits: CgroupLimits): Promise<void> {
    checkLimits(limits);
    const memory = async () => {
      await userMemory();
      // v1 charges TCP buffers to no cgroup unless given a limit of their
      // own (v2 charges them to memory): a plugin with no network at all
      // pinned 747 MiB of them over loopback under a 64 MiB limit. They
      // get the memory limit again.
      const tcp = this.#file("memory", "memory.kmem.tcp.limit_in_bytes");
      if (await this.#fs.exists(tcp)) await this.#fs.writeFile(tcp, bytesValue(limits.memoryBytes));
    };
    const userMemory = async () => {
      const memoryFile = this.#file("memory", "memory.limit_in_bytes");
      const memsw = this.#file("memory", "memory.memsw.limit_in_bytes");
      const writeMemory = () => this.#fs.writeFile(memoryFile, bytesValue(limits.memoryBytes));
      if (!(await this.#fs.exists(memsw))) return writeMemory();
      const writeMemsw = () => this.#fs.writeFile(memsw, bytesValue(limits.memoryBytes + limits.swapBytes));
      // The kernel refuses memsw (memory + swap) below memory at every
      // step: raise memsw first, lower memory first. A new cgroup starts
      // unlimited, so there memory comes first.
      const current = await this.#readNumber("memory", "memory.limit_in_bytes");
      if (limits.memoryBytes > current) {
        await writeMemsw();
        await writeMemory();
      } else {
        await writeMemory();
        await writeMemsw();
      }
    };
    const pids = () => this.#fs.writeFile(this.#file("pids", "pids.max"), limits.pids === Infinity ? "max" : String(limits.pids));
    await settleAll([memory(), pids(), this.setCpu(limits.cpu)]);
  }

  async setCpu(cores: number): Promise<void> {
    checkCpuLimit(cores);
    await this.#fs.writeFile(this.#file("cpu", "cpu.cfs_period_us"), String(CFS_PERIOD_US));
    const quota = cores === Infinity ? -1 : Math.max(CFS_MIN_QUOTA_US, Math.round(cores * CFS_PERIOD_US));
    await this.#fs.writeFile(this.#file("cpu", "cpu.cfs_quota_us"), String(quota));
  }

  async readLimits(): Promise<AppliedLimits> {
    const memoryBytes = await this.#readNumber("memory", "memory.limit_in_bytes");
    const memsw = this.#file("memory", "memory.memsw.limit_in_bytes");
    const swapBytes = (await this.#fs.exists(memsw)) ? (await this.#readNumber("memory", "memory.memsw.limit_in_bytes")) - memoryBytes : null;
    const quota = await this.#readNumber("cpu", "cpu.cfs_quota_us");
    const period = await this.#readNumber("cpu", "cpu.cfs_period_us");
    return {
      memoryBytes,
      swapBytes: Number.isNaN(swapBytes) ? Infinity : swapBytes, // Infinity - Infinity
      pids: await this.#readNumber("pids", "pids.max"),
      cpu: quota < 0 ? Infinity : quota / period,
    };
  }

  async pids(): Promise<number[]> {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      const text = await this.#fs.readFile(file).catch(ignoreMissing(""));
      for (const pid of parseProcs(text)) pids.add(pid);
    }
    return [...pids].sort((a, b) => a - b);
  }

  async usage(): Promise<CgroupUsage> {
    // Named once: sampling calls this every second for every instance.
    const { memory, cpu, oom } = (this.#usageFiles ??= {
      memory: this.#file("memory", "memory.usage_in_bytes"),
      cpu: this.#file("cpuacct", "cpuacct.usage"),
      oom: this.#file("memory", "memory.oom_control"),
    });
    return {
      memoryBytes: parseCgroupNumber(this.#sampled.read(memory), memory),
      cpuMicros: parseCgroupCounter(this.#sampled.read(cpu), cpu, 1000n),
      oomKills: parseFlatKeyed(this.#sampled.read(oom)).get("oom_kill") ?? 0,
    };
  }

  async events(): Promise<CgroupEvents> {
    // memory.failcnt is no stand-in for the kill count: it counts failed
    // charges (against memsw first when swap is accounted), which reclaim
    // usually survives; on the 6.18 test host it stayed 0 through an OOM kill.
    const [oomControl, pidsEvents] = await Promise.all([
      this.#fs.readFile(this.#file("memory", "memory.oom_control")),
      // pids.events exists from Linux 4.4 on.
      this.#fs.readFile(this.#file("pids", "pids.events")).catch(ignoreMissing("")),
    ]);
    return {
      // "oom_kill N" exists from Linux 4.13 on; before, kills were not counted.
      oomKills: parseFlatKeyed(oomControl).get("oom_kill") ?? 0,
      pidsLimitHits: parseFlatKeyed(pidsEvents).get("max") ?? 0,
    };
  }

  async killAll(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    const freezer = this.#dirs.get("freezer");
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`cgroup ${this.name} still has processes ${pids.join(" ")} after ${this.#timeoutMs}ms`);
      }
      // Frozen, no process can fork or exit between reading its pid and
      // killing it, so the pid cannot have been reused by someone else.
      const frozen = freezer !== undefined && (await this.#freeze(freezer, deadline));
      try {
        for (const pid of frozen ? await this.pids() : pids) this.#fs.kill(pid, "SIGKILL");
      } finally {
        if (frozen) await this.#fs.writeFile(path.join(freezer, "freezer.state"), "THAWED");
      }
      await sleep(POLL_MS);
    }
  }

  async destroy(): Promise<void> {
    this.#sampled.close();
    const deadline = Date.now() + this.#timeoutMs;
    // The hierarchies are independent: their directories go concurrently.
    await settleAll(this.dirs.map((dir) => rmdirWhileBusy((d) => this.#fs.rmdir(d), dir, deadline)));
  }

  async remove(): Promise<void> {
    // A process is in every hierarchy's directory or in none: the first
    // one's rmdir tells, and leaves the others for killAll to read.
    const [first] = this.dirs;
    if (first !== undefined && (await removedIfEmpty(this.#fs, first))) return this.destroy();
    await this.killAll();
    await this.destroy();
  }

  /** Freezes the cgroup; false if it did not settle frozen in time. */
  async #freeze(dir: string, deadline: number): Promise<boolean> {
    const state = path.join(dir, "freezer.state");
    await this.#fs.writeFile(state, "FROZEN");
    while ((await this.#fs.readFile(state)).trim() !== "FROZEN") {
      if (Date.now() > deadline) {
        await this.#fs.writeFile(state, "THAWED");
        return false;
      }
      await sleep(1);
    }
    return true;
  }

  #file(controller: string, file: string): string {
    const dir = this.#dirs.get(controller);
    if (dir === undefined) throw new Error(`cgroup v1 controller ${controller} is not mounted`);
    return path.join(dir, file);
  }

  async #readNumber(controller: string, file: string): Promise<number> {
    const name = this.#file(controller, file);
    return parseCgroupNumber(await this.#fs.readFile(name), name);
  }
}

/** v1 takes -1 for "no memory limit". */
function bytesValue(bytes: number): string {
  return bytes === Infinity ? "-1" : String(bytes);
}

