// Signals every process of an instance: the pids come from its cgroup, so a
// process the plugin forked is not missed, and nothing outside it is hit.
import type { InstanceCgroup } from "../../sandbox/cgroups/driver.ts";
import { readProcStat } from "../proc-stat.ts";

/** Sends `signal` to every process in `cgroup`; resolves with the pids signalled. */
export async function signalAll(cgroup: InstanceCgroup, signal: "SIGSTOP" | "SIGCONT"): Promise<number[]> {
  const pids = await cgroup.pids().catch(() => [] as number[]);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** How long stopAll looks for every process of the cgroup stopped, and how often. */
const STOP_CHECK_MS = 200;
const STOP_CHECK_EVERY_MS = 2;

/**
 * SIGSTOPs every process in `cgroup` until a fresh read of its list finds
 * each one stopped (T in /proc; SIGSTOP acts when a process next runs). One
 * pass over the list read once missed a child forked after the read: a
 * plugin forking in a loop kept a process running, and that one could
 * SIGCONT the rest, so each pass signals every one found running. Resolves
 * with the pids signalled, and whether all were found stopped within
 * STOP_CHECK_MS.
 */
export async function stopAll(cgroup: InstanceCgroup): Promise<{ pids: number[]; verified: boolean }> {
  const signalled = new Set<number>();
  const deadline = performance.now() + STOP_CHECK_MS;
  for (;;) {
    const pids = await cgroup.pids().catch(() => undefined);
    if (pids === undefined) return { pids: [...signalled], verified: false };
    const running = pids.filter((pid) => !isStopped(pid));
    if (running.length === 0) return { pids: [...signalled], verified: true };
    if (performance.now() > deadline) return { pids: [...signalled], verified: false };
    // Every one found running, each pass: one stopped already may have been
    // continued since by another not yet stopped (kill(0, SIGCONT)).
    for (const pid of running) {
      signalled.add(pid);
      try {
        process.kill(pid, "SIGSTOP");
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, STOP_CHECK_EVERY_MS));
  }
}

/** Whether `pid` cannot run: stopped (T, or t when traced), or gone (a zombie, or no longer there). */
function isStopped(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state === undefined || state === "T" || state === "t" || state === "Z" || state === "X";
}
