// What the supervisor needs of cgroups, whichever version the host runs.
// v1.ts implements it for cgroup v1 (and hybrid hosts), v2.ts for cgroup v2.
import type { StuckCgroup } from "./util.ts";

/** Limits of one instance. Infinity means unlimited. */
export interface CgroupLimits {
  memoryBytes: number;
  /** Swap on top of memoryBytes; 0 forbids swapping. */
  swapBytes: number;
  /** Tasks (threads count too). */
  pids: number;
  /** CPU cores, fractional: 0.5 is half of one core's time. */
  cpu: number;
}

/** Limits as the kernel reports them back. */
export interface AppliedLimits extends Omit<CgroupLimits, "swapBytes"> {
  /** null when the host cannot limit swap (v1 without swap accounting). */
  swapBytes: number | null;
}

export interface CgroupUsage {
  memoryBytes: number;
  /** CPU time used so far by all processes of the cgroup. */
  cpuMicros: number;
  /**
   * Processes of the cgroup the kernel's OOM killer killed so far. Sampled,
   * so that a kill that leaves the plugin running (a child of it, on cgroup
   * v1, which has no memory.oom.group) still ends the instance.
   */
  oomKills: number;
}

/**
 * What the kernel did to an instance, counted since its cgroup was created.
 * Read when an instance exits, so that "killed by the OOM killer" comes from
 * the cgroup rather than being guessed from a SIGKILL.
 */
export interface CgroupEvents {
  /** Processes of the cgroup killed by the kernel's OOM killer. */
  oomKills: number;
  /** Forks refused because the cgroup was at its pids limit. */
  pidsLimitHits: number;
}

/** One instance's cgroup (one directory per v1 hierarchy, one v2 directory). */
export interface InstanceCgroup {
  readonly name: string;
  /** The cgroup.procs files a process is written to to join: spec.cgroupProcs. */
  readonly procsFiles: string[];
  /** Sets the limits (of a cgroup made for a warm launcher, once its plugin is known). */
  setLimits(limits: CgroupLimits): Promise<void>;
  readLimits(): Promise<AppliedLimits>;
  /** Sets the CPU limit alone, in cores (Infinity: none); a throttled cgroup runs again at once if it is raised. */
  setCpu(cores: number): Promise<void>;
  /** Host pids of the processes in the cgroup. */
  pids(): Promise<number[]>;
  usage(): Promise<CgroupUsage>;
  events(): Promise<CgroupEvents>;
  /** SIGKILLs every process in the cgroup until it is empty. */
  killAll(): Promise<void>;
  /** Removes the cgroup; it must be empty (see killAll). Idempotent. */
  destroy(): Promise<void>;
  /**
   * Kills what still runs in the cgroup and removes it. One rmdir when it
   * is empty already, as it is once its sandbox has ended (the kernel
   * refuses to remove a cgroup with a process in it); else killAll, then
   * destroy. Idempotent.
   */
  remove(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: "v1" | "v2";
  /** A path that names the parent on this host (v2: its directory; v1: its directory in the memory hierarchy). */
  readonly parentPath: string;
  /**
   * Every directory of the parent: v2's one; on v1 one per hierarchy, which
   * may lie in different cgroups (this host's memory hierarchy puts each
   * process in a cgroup of its own, the others at their root), so that two
   * supervisors may share some of their parent's directories and not others.
   */
  readonly parentPaths: readonly string[];
  /** Creates the cgroup `name` beneath the parent, with limits. */
  create(name: string, limits: CgroupLimits): Promise<InstanceCgroup>;
  /** An existing instance cgroup, e.g. one left by a previous supervisor. */
  open(name: string): InstanceCgroup;
  /** Names of the instance cgroups beneath the parent. */
  list(): Promise<string[]>;
  /**
   * Kills and removes every instance cgroup beneath the parent; returns the
   * names removed. Those it cannot remove are told to `onStuck` and left
   * (without it, it throws once it has tried them all).
   */
  sweep(onStuck?: StuckCgroup): Promise<string[]>;
  /** Sweeps, then removes the parent itself (left, with onStuck, while a stuck instance's cgroup is in it). */
  removeParent(onStuck?: StuckCgroup): Promise<void>;
  /**
   * Whether the kernel accounts swap in cgroups, so that a limit holds
   * memory and swap together (swapBytes); without, an instance may swap
   * out beyond its memory limit. (Makes the parent if missing.)
   */
  limitsSwap(): Promise<boolean>;
}

/** A cgroup or instance name: one path component, nothing that walks the tree. */
export function checkCgroupName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new Error(`invalid cgroup name ${JSON.stringify(name)}`);
  }
  return name;
}

export function checkLimits(limits: CgroupLimits): void {
  const positive = (v: number) => v === Infinity || (Number.isSafeInteger(v) && v > 0);
  if (!positive(limits.memoryBytes)) throw new Error(`invalid memory limit ${limits.memoryBytes}`);
  if (!(limits.swapBytes === Infinity || (Number.isSafeInteger(limits.swapBytes) && limits.swapBytes >= 0))) {
    throw new Error(`invalid swap limit ${limits.swapBytes}`);
  }
  if (!positive(limits.pids)) throw new Error(`invalid pids limit ${limits.pids}`);
  checkCpuLimit(limits.cpu);
}

export function checkCpuLimit(cores: number): void {
  if (!(cores > 0)) throw new Error(`invalid cpu limit ${cores}`);
}
