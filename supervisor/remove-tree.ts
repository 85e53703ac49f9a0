// Removes a directory tree a plugin had the run of: an instance directory.
import { execFile } from "node:child_process";
import { opendir, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Removes `dir` and everything in it, following no symlink, however large
 * or deep the plugin made it.
 *
 * One entry at a time, as a directory is read: the plugin decides how many
 * there are (some 400 000 hard links in 128 MiB), and Node's rm read them
 * all and queued an unlink of each at once, so that every other file
 * operation of the supervisor (sampling, state, the admin's) waited behind
 * them (a Status call 2.5 s, RSS +800 MiB). Node works on whole paths, and
 * fails with ENAMETOOLONG once a path in the tree passes PATH_MAX (20
 * nested names of 250 bytes do it), which would leave the tree, and the uid
 * whose files it holds, behind for good: GNU rm, which walks relative to
 * directory fds (openat/unlinkat), is the fallback, and stays on the tree's
 * file system.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await removeEntries(dir);
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && (err as NodeJS.ErrnoException).path === dir) return;
    // EMFILE: a directory fd is held per level of the tree, and a plugin may
    // nest some 2000 before PATH_MAX.
    if (code !== "ENAMETOOLONG" && code !== "EMFILE" && code !== "ENFILE") throw err;
    try {
      await execFileAsync("rm", ["-rf", "--one-file-system", "--", dir]);
    } catch (rmErr) {
      const stderr = (rmErr as { stderr?: string }).stderr?.trim();
      throw new Error(`rm -rf ${dir}: ${stderr || (rmErr as Error).message}`, { cause: rmErr });
    }
  }
}

/** How many trees removeTrees removes at once: each holds a directory fd per level it is in. */
export const REMOVALS_AT_ONCE = 8;

/**
 * Removes each of `dirs` (removeTree), at most REMOVALS_AT_ONCE at a time:
 * 20 000 instance directories a dead supervisor left, removed all at once,
 * ran out of fds, and then of processes to spawn GNU rm with, and the start
 * did not end. Settles with the failures, one per tree not removed.
 */
export async function removeTrees(dirs: readonly string[]): Promise<Array<{ dir: string; err: Error }>> {
  const failures: Array<{ dir: string; err: Error }> = [];
  let next = 0;
  const worker = async () => {
    while (next < dirs.length) {
      const dir = dirs[next++]!;
      await removeTree(dir).catch((err: Error) => failures.push({ dir, err }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(REMOVALS_AT_ONCE, dirs.length) }, worker));
  return failures;
}

/** Empties `dir`: each entry as it is read, a directory's own entries first; a link is removed, never followed. */
async function removeEntries(dir: string): Promise<void> {
  // Read again until a pass finds nothing: entries removed while the
  // directory is read may make it skip some.
  for (let found = true; found; ) {
    found = false;
    for await (const entry of await opendir(dir, { bufferSize: 64 })) {
      found = true;
      const entryPath = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await removeEntries(entryPath);
        await rmdir(entryPath);
      } else {
        await unlink(entryPath).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT") return;
          if (err.code !== "EISDIR") throw err;
          await removeEntries(entryPath); // a file system that did not say its type
          await rmdir(entryPath);
        });
      }
    }
  }
}
