// The process table, read from /proc: what a supervisor's sandboxes left
// alive is found by walking it from the supervisor's pid. And the ending of
// the processes a test started, by pid.
import type { ResultPromise } from "execa";
import { readdir } from "node:fs/promises";
import { readProcStat } from "../../supervisor/proc-stat.ts";

/** ppid -> children, from one pass over /proc. */
export async function processTable(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(entry);
    if (!stat) continue; // gone meanwhile
    const list = children.get(stat.ppid);
    if (list) list.push(Number(entry));
    else children.set(stat.ppid, [Number(entry)]);
  }
  return children;
}

/** Every descendant of `pid` (not pid itself): launchers, sandbox inits and plugins of a supervisor. */
export async function descendants(pid: number, table?: Map<number, number[]>): Promise<number[]> {
  const children = table ?? (await processTable());
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Whether `pid` still runs: it exists and is not a zombie waiting to be reaped. */
export function running(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z";
}

/** Ends each child a test started, by its pid (SIGKILL), if it still runs, and waits for it. */
export async function killStarted(children: Iterable<ResultPromise>): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await child.catch(() => {});
  }
}
