// What one supervisor alone may use: its state directory (the CA, registry
// and CRL are written by one process only) and its cgroup parent (whose
// instances its start sweeps and its stop removes). A second supervisor on
// either must stop before it touches anything: on the state, it appended
// its own leaf to the registry and moved the CRL number on disk, and only
// then found the admin socket taken; on the cgroup parent (another checkout
// running the same example config), it swept the first one's live cgroups
// and killed its plugins.
//
// A lock is a kernel lock: SQLite's exclusive lock on a file, which is a
// POSIX record lock (Node has no flock). The kernel drops it when its
// process ends, however it ends, so there is no stale lock to judge and no
// reused pid to mistake for its owner, and two starts at once cannot both
// take it. The lock file stays after a release: removing it would let a
// start that had just opened it lock a file no longer named. The owner's
// pid is written beside it, for the message a second supervisor gets.
//
// A POSIX record lock belongs to the process, and any close of any
// descriptor of the file in this process drops it: nothing but the one
// connection here may open a lock file. (The rollback journal is kept in
// memory: no *-journal file beside the lock, left by a supervisor killed.)
import { createHash } from "node:crypto";
import { chmod, mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { replaceFile } from "./replace-file.ts";

export const STATE_LOCK_NAME = "supervisor.lock";
/** Beside the lock: who holds it. */
export const STATE_OWNER_NAME = "supervisor.pid";

/** SQLite's result code when another process holds the lock. */
const SQLITE_BUSY = 5;

/** Takes the state directory's lock; resolves with its release. Throws, naming the owner, when a live supervisor holds it. */
export function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  return lockFile(path.join(stateDir, STATE_LOCK_NAME), path.join(stateDir, STATE_OWNER_NAME), `the state directory ${stateDir}`);
}

/**
 * Takes the locks of the cgroup parent's directories (one per v1 hierarchy:
 * two supervisors whose memory cgroups differ may still share the others,
 * and each one's sweep would take the other's cgroups there), kept in
 * /run/lock/corral; resolves with their release. Taken in order, and none
 * kept when one is refused.
 */
export async function lockCgroupParent(parentPaths: readonly string[], configured: string, lockDir = "/run/lock/corral"): Promise<() => Promise<void>> {
  await mkdir(lockDir, { recursive: true, mode: 0o755 });
  const releases: (() => Promise<void>)[] = [];
  const releaseAll = async () => {
    for (const release of releases.splice(0).reverse()) await release();
  };
  try {
    for (const parentPath of [...new Set(parentPaths)].sort()) {
      const name = `cgroup-${configured}-${createHash("sha256").update(parentPath).digest("hex").slice(0, 16)}`;
      releases.push(await lockFile(path.join(lockDir, `${name}.lock`), path.join(lockDir, `${name}.pid`), `the cgroup parent ${parentPath} (sandbox.cgroupParent: ${configured})`));
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return releaseAll;
}

async function lockFile(file: string, ownerFile: string, what: string): Promise<() => Promise<void>> {
  // Root's alone: a record lock needs only an open file, and another user
  // who could open it could hold a read lock on it and keep Corral from starting.
  await (await open(file, "a", 0o600)).close();
  await chmod(file, 0o600);
  const db = new DatabaseSync(file, { timeout: 0 });
  try {
    db.exec("PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
  } catch (err) {
    db.close();
    if ((err as { errcode?: number }).errcode !== SQLITE_BUSY) throw new Error(`locking ${file}: ${(err as Error).message}`);
    const owner = Number((await readFile(ownerFile, "utf8").catch(() => "")).trim());
    throw new Error(`another Corral supervisor${owner > 0 ? ` (pid ${owner})` : ""} uses ${what}; stop it first`);
  }
  await replaceFile(ownerFile, `${process.pid}\n`, 0o644);
  return async () => {
    await rm(ownerFile, { force: true });
    db.close(); // the kernel drops the lock with the file's last descriptor
  };
}
