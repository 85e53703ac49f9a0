// Small helpers shared by the v1 and v2 drivers.
import { setTimeout as sleep } from "node:timers/promises";

export const POLL_MS = 10;

export function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A rejection handler that turns ENOENT into fallback and rethrows the rest. */
export function ignoreMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === "ENOENT") return fallback;
    throw err;
  };
}

/** Like Promise.all, but waits for every promise before rejecting with the first error. */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * A number as cgroupfs writes it: "max" is Infinity, and so is anything
 * beyond 2^53 (v1 reports "unlimited" memory as a huge page-aligned number).
 */
export function parseCgroupNumber(text: string, file: string): number {
  const value = text.trim();
  if (value === "max") return Infinity;
  if (!/^-?\d+$/.test(value)) throw new Error(`unexpected value ${JSON.stringify(value)} in ${file}`);
  const big = BigInt(value);
  return big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
}

/**
 * A counter as cgroupfs writes it, divided by `per` (nanoseconds into
 * microseconds, say) before it becomes a Number: v1's cpuacct.usage passes
 * 2^53 nanoseconds after 104 CPU-days, where parseCgroupNumber would say
 * Infinity; in microseconds it fits for 285 years.
 */
export function parseCgroupCounter(text: string, file: string, per = 1n): number {
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new Error(`unexpected value ${JSON.stringify(value)} in ${file}`);
  return Number(BigInt(value) / per);
}

/**
 * A flat-keyed file ("key value" per line: memory.events, pids.events,
 * cpu.stat, memory.oom_control). Lines that are not "word integer" are skipped.
 */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** The pids listed in a cgroup.procs text. */
export function parseProcs(text: string): number[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(Number);
}

/** Retries rmdir while the kernel says EBUSY (killed processes still on their way out); ENOENT is done. */
export async function rmdirWhileBusy(rmdir: (dir: string) => Promise<void>, dir: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() > deadline) throw err;
      await sleep(POLL_MS);
    }
  }
}

/**
 * Removes a cgroup directory if no process is in it: true once it is gone,
 * false if the kernel refused because it is busy (it is then left as it was).
 */
export async function removedIfEmpty(fs: { rmdir(dir: string): Promise<void> }, dir: string): Promise<boolean> {
  try {
    await fs.rmdir(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true;
    if (code === "EBUSY") return false;
    throw err;
  }
}

/** An instance cgroup a sweep could not remove (a process in it the kernel cannot end), with its processes. */
export type StuckCgroup = (name: string, pids: number[], err: Error) => void;

/**
 * Kills and removes every instance cgroup a driver lists; returns the names
 * removed. One that cannot be removed does not stop the others: it is
 * told to `onStuck` and left; without onStuck, the sweep throws at its end.
 */
export async function sweepInstances(
  driver: { list(): Promise<string[]>; open(name: string): { remove(): Promise<void>; pids(): Promise<number[]> } },
  onStuck?: StuckCgroup,
): Promise<string[]> {
  const removed: string[] = [];
  const failed: Error[] = [];
  for (const name of await driver.list()) {
    const cgroup = driver.open(name);
    try {
      await cgroup.remove();
      removed.push(name);
    } catch (err) {
      failed.push(err as Error);
      onStuck?.(name, await cgroup.pids().catch(() => []), err as Error);
    }
  }
  if (failed.length > 0 && !onStuck) throw failed[0];
  return removed;
}

/** rmdir of a parent cgroup; one still holding a stuck instance's is left when `leaveBusy`. */
export async function rmdirParent(rmdir: (dir: string) => Promise<void>, dir: string, leaveBusy: boolean): Promise<void> {
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || (leaveBusy && err.code === "EBUSY")) return;
    throw err;
  });
}
