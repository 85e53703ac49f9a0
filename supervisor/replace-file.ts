// Replacing a file whole, for files read while they change (an instance's
// certificates and CRL, which go-shim re-reads; diagnostics being listed):
// a reader sees the old content or the new, never part of either. Not
// durable: these files live as long as what reads them. (The CA's state,
// which must survive a crash, is written by identity/files.ts.)
//
// An instance's directory belongs to the sandbox's uid, and the plugin can
// put anything in it, a symlink in particular. So the temporary file gets a
// name no one can guess, and is created (O_EXCL, O_NOFOLLOW: never through
// a link, never an existing file) and chowned by its descriptor; rename(2)
// then replaces whatever entry `file` names, a link included, without
// following it. Root never writes, or chowns, where a plugin points it.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, rm } from "node:fs/promises";

/** Writes `file` as a new temporary file beside it, owned by `owner` if given, and renames it over `file`. */
export async function replaceFile(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
