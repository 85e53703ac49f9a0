// Which host uids of the sandbox range are taken, shared between a supervisor
// and the `corral sandbox` runs beside it: one lock file per uid taken,
// <runtimeDir>/uids/<uid>, made with O_EXCL and holding its owner's pid. Two
// sandboxes must never share a host identity, and the two kinds of owner
// pick uids independently (the supervisor from the bottom of the range up,
// round robin; a run from the top down).
//
// A lock whose owner is gone is stale and is taken over: an owner's
// sandboxes die with it (parent-death signals), so nothing still runs as
// the uid. The lock holds the owner's start time beside its pid, so that a
// pid used again is not taken for its owner: a supervisor restarted in a
// pid namespace of its own (a container) gets the pid its predecessor had,
// and took every lock left by it for its own, for good.
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { processAlive } from "../process-alive.ts";
import { readProcStat } from "../proc-stat.ts";

export class UidLocks {
  readonly dir: string;
  /** What a lock taken holds: the owner's pid and start time. */
  readonly #owner: string;

  /** `owner` is the pid written into the locks taken; default this process's. */
  constructor(dir: string, owner = process.pid) {
    this.dir = dir;
    const started = readProcStat(owner)?.startTime;
    this.#owner = started === undefined ? String(owner) : `${owner} ${started}`;
  }

  /** Takes the uid's lock; false if a live owner holds it. Synchronous: an O_EXCL create, tens of microseconds. */
  take(uid: number): boolean {
    const file = this.#file(uid);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        this.#create(file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      if (ownerAlive(file)) return false;
      unlinkIfPresent(file); // stale: its owner is gone
    }
    return false; // taken by another process between our unlink and create
  }

  /** Gives the uid's lock back. */
  give(uid: number): void {
    unlinkIfPresent(this.#file(uid));
  }

  /** Removes the locks of owners that are gone; returns their uids. */
  sweep(): number[] {
    const swept: number[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return swept;
      throw err;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const file = path.join(this.dir, name);
      if (ownerAlive(file)) continue;
      unlinkIfPresent(file);
      swept.push(Number(name));
    }
    return swept;
  }

  #file(uid: number): string {
    return path.join(this.dir, String(uid));
  }

  #create(file: string): void {
    const write = () => writeFileSync(file, `${this.#owner}\n`, { flag: "wx", mode: 0o600 });
    try {
      write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // The directory is made on first use.
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      write();
    }
  }
}

/** How long an empty lock (its owner between the create and the write) counts as held. */
const BEING_WRITTEN_MS = 10_000;

/**
 * Whether the owner of a lock is a live process. A lock just created and
 * still empty counts as held; one that stayed empty (its owner died between
 * the create and the write) or holds no pid, as stale.
 */
function ownerAlive(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
  if (text === "") {
    const info = statSync(file, { throwIfNoEntry: false });
    return info !== undefined && Date.now() - info.mtimeMs < BEING_WRITTEN_MS;
  }
  const [pidText, startedText] = text.split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return false;
  // A lock of a pid alone (an older Corral's) cannot tell a reused pid.
  return startedText === undefined || readProcStat(pid)?.startTime === Number(startedText);
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
