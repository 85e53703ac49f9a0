// Removes a directory tree a plugin had the run of: an instance directory.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Removes `dir` and everything in it, following no symlink, however deep
 * the plugin made it. Node's rm works on whole paths, and fails with
 * ENAMETOOLONG once a path in the tree passes PATH_MAX (20 nested names of
 * 250 bytes do it), which would leave the tree, and the uid whose files it
 * holds, behind for good. GNU rm walks the tree relative to directory fds
 * (openat/unlinkat): it is the fallback, and stays on the tree's file system.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENAMETOOLONG") throw err;
    try {
      await execFileAsync("rm", ["-rf", "--one-file-system", "--", dir]);
    } catch (rmErr) {
      const stderr = (rmErr as { stderr?: string }).stderr?.trim();
      throw new Error(`rm -rf ${dir}: ${stderr || (rmErr as Error).message}`, { cause: rmErr });
    }
  }
}
