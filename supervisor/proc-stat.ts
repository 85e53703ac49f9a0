// A process's /proc/<pid>/stat (proc(5)), the fields Corral reads, and its
// real uid from /proc/<pid>/status. The
// command name is in parentheses and may hold anything, spaces and ")"
// included, so the fields are counted from the last ")".
import { readFileSync } from "node:fs";

export interface ProcStat {
  /** The command name, without its parentheses. */
  comm: string;
  /** R, S, D, T (stopped), t (traced), Z (zombie), X, I... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** The foreground process group of the process's terminal; -1 without one. */
  tpgid: number;
  /** CPU time in user and kernel mode, in clock ticks. */
  utime: number;
  stime: number;
  /** When the process started, in clock ticks after boot: with the pid, it names one process for good. */
  startTime: number;
}

export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open === -1 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // From field 3 (state) on; field n of proc(5) is fields[n - 3].
  const fields = text.slice(close + 2).split(" ");
  const number = (n: number) => Number(fields[n - 3]);
  return {
    comm: text.slice(open + 1, close),
    state: fields[0] ?? "",
    ppid: number(4),
    pgrp: number(5),
    session: number(6),
    tpgid: number(8),
    utime: number(14),
    stime: number(15),
    startTime: number(22),
  };
}

/**
 * The stat of a process; undefined once it is gone. Synchronous: the kernel
 * generates the file on read, in microseconds, and callers poll it.
 */
export function readProcStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** The real uids of `pids` (/proc/<pid>/status), of those still there. */
export function realUids(pids: number[]): number[] {
  const uids = new Set<number>();
  for (const pid of pids) {
    try {
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      if (uid !== undefined) uids.add(Number(uid));
    } catch {
      // gone meanwhile
    }
  }
  return [...uids];
}
