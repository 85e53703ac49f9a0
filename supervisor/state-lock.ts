// One supervisor per state directory: its CA, registry and CRL are written
// by one process only. A second supervisor started on the same state
// (by accident, beside a running service) must stop before it writes
// anything there: before, it appended its own leaf to the registry and
// moved the CRL number on disk, and only then found the admin socket taken.
//
// The lock is a file naming the owner's pid, made with O_EXCL; one whose
// owner is gone (a supervisor that was killed) is taken over.
import { readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { processAlive } from "./process-alive.ts";

export const STATE_LOCK_NAME = "supervisor.pid";

/** Takes the state directory's lock; resolves with its release. Throws, naming the owner, when a live supervisor holds it. */
export async function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  const file = path.join(stateDir, STATE_LOCK_NAME);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: "wx", mode: 0o644 });
      return async () => {
        // Only our own: a lock taken over after we were thought gone is not ours to remove.
        if ((await readFile(file, "utf8").catch(() => "")).trim() === String(process.pid)) await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
    }
    const owner = Number((await readFile(file, "utf8").catch(() => "")).trim());
    if (owner > 0 && owner !== process.pid && isSupervisor(owner)) {
      throw new Error(`another Corral supervisor (pid ${owner}) uses the state directory ${stateDir}; stop it first`);
    }
    await rm(file, { force: true }); // its owner is gone
  }
}

/** Whether `pid` is alive and a Corral supervisor (not a process that reuses a dead one's pid). */
function isSupervisor(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return /corral/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return true; // alive, and not ours to look at: assume it is one
  }
}
