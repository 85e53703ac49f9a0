// What one supervisor alone may use: its state directory (the CA, registry
// and CRL are written by one process only) and its cgroup parent (whose
// instances its start sweeps and its stop removes). A second supervisor on
// either must stop before it touches anything: on the state, it appended
// its own leaf to the registry and moved the CRL number on disk, and only
// then found the admin socket taken; on the cgroup parent (another checkout
// running the same example config), it swept the first one's live cgroups
// and killed its plugins.
//
// A lock is a file naming the owner's pid, made with O_EXCL; one whose
// owner is gone (a supervisor that was killed) is taken over.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { processAlive } from "./process-alive.ts";

export const STATE_LOCK_NAME = "supervisor.pid";

/** Takes the state directory's lock; resolves with its release. Throws, naming the owner, when a live supervisor holds it. */
export function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  return lockFile(path.join(stateDir, STATE_LOCK_NAME), `the state directory ${stateDir}`);
}

/**
 * Takes the lock of the cgroup parent at `parentPath` (any path that names
 * it on this host), kept in /run/lock/corral; resolves with its release.
 */
export async function lockCgroupParent(parentPath: string, configured: string, lockDir = "/run/lock/corral"): Promise<() => Promise<void>> {
  await mkdir(lockDir, { recursive: true, mode: 0o755 });
  const name = `cgroup-${configured}-${createHash("sha256").update(parentPath).digest("hex").slice(0, 16)}.pid`;
  return lockFile(path.join(lockDir, name), `the cgroup parent ${parentPath} (sandbox.cgroupParent: ${configured})`);
}

async function lockFile(file: string, what: string): Promise<() => Promise<void>> {
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
      throw new Error(`another Corral supervisor (pid ${owner}) uses ${what}; stop it first`);
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
