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
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
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
    if (this.#tryCreate(file)) return true;
    if (ownerAlive(file)) return false;
    // Stale: its owner is gone. Taken over under the directory's takeover
    // lock, and judged again there: two that had both judged it stale both
    // unlinked and created, the second unlinking the first one's new lock,
    // and both took the uid (71 of 2000 rounds of three racers).
    return this.#exclusively(() => {
      if (ownerAlive(file)) return false; // taken over by another meanwhile
      unlinkIfPresent(file);
      return this.#tryCreate(file); // false: created by another between our unlink and create
    });
  }

  /** Gives the uid's lock back, if it is still this owner's. */
  give(uid: number): void {
    const file = this.#file(uid);
    if (readIfPresent(file)?.trim() === this.#owner) unlinkIfPresent(file);
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
    const stale = names.filter((name) => /^\d+$/.test(name) && !ownerAlive(path.join(this.dir, name)));
    if (stale.length === 0) return swept;
    // Judged again under the takeover lock, as take() does: one taken over meanwhile is its new owner's.
    return this.#exclusively(() => {
      for (const name of stale) {
        const file = path.join(this.dir, name);
        if (ownerAlive(file)) continue;
        unlinkIfPresent(file);
        swept.push(Number(name));
      }
      return swept;
    });
  }

  /**
   * Runs `fn` holding the directory's takeover lock: SQLite's exclusive lock
   * on <dir>/.takeover, a POSIX record lock the kernel drops with its
   * process (exclusive-lock.ts tells why that way). Held for microseconds;
   * waited for up to TAKEOVER_WAIT_MS.
   */
  #exclusively<T>(fn: () => T): T {
    const file = path.join(this.dir, TAKEOVER_LOCK);
    closeSync(openSync(file, "a", 0o600));
    for (const deadline = Date.now() + TAKEOVER_WAIT_MS; ; ) {
      const db = new DatabaseSync(file, { timeout: 0 });
      try {
        // Nothing is written, so no journal is made.
        db.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
      } catch (err) {
        db.close();
        // SQLite answers BUSY at once, without its busy handler, to a
        // reader that would upgrade past another: waited out here.
        if ((err as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() > deadline) throw new Error(`taking ${file}: ${(err as Error).message}`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      try {
        return fn();
      } finally {
        db.close(); // the kernel drops the lock with the file's last descriptor
      }
    }
  }

  /** Creates the lock file; false if it exists. */
  #tryCreate(file: string): boolean {
    try {
      this.#create(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return false;
    }
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

/** How long a takeover waits for another's (each holds it for microseconds). */
const TAKEOVER_WAIT_MS = 2000;
/** The takeover lock's file in the locks' directory. */
const TAKEOVER_LOCK = ".takeover";
/** SQLite's result code when another process holds the lock. */
const SQLITE_BUSY = 5;

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

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return undefined;
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
