// Durable writes for the CA's state: a crash leaves either the old or the new
// content of a file, never a mix, and what a call reported written is on disk.

import { constants as fsConstants } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** Creates `path` (which must not exist) with exactly `mode`, and syncs it. */
export async function writeDurably(path: string, data: string, mode: number): Promise<void> {
  const handle = await open(path, "wx", mode);
  try {
    await handle.chmod(mode); // the umask must not decide
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically: a synced temporary file beside it, renamed over it, and the directory synced. */
export async function replaceAtomically(path: string, data: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeDurably(temp, data, mode);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDir(dirname(path));
}

/**
 * Appends one line with a single write (O_APPEND), then syncs it, creating the
 * file with `mode` if needed. Returns whether the file was created.
 */
export async function appendLineDurably(path: string, line: string, mode: number): Promise<boolean> {
  if (line.includes("\n")) throw new Error("a line must not contain a newline");
  let created = true;
  let handle;
  try {
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    created = false;
    handle = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW);
  }
  try {
    if (created) await handle.chmod(mode);
    await handle.write(`${line}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (created) await syncDir(dirname(path));
  return created;
}

export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
