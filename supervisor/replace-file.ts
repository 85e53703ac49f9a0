// Replacing a file whole, for files read while they change (an instance's
// certificates and CRL, which go-shim re-reads; diagnostics being listed):
// a reader sees the old content or the new, never part of either. Not
// durable: these files live as long as what reads them. (The CA's state,
// which must survive a crash, is written by identity/files.ts.)
import { chown, rename, writeFile } from "node:fs/promises";

/** Writes `file` as a temporary file beside it, owned by `owner` if given, and renames it over `file`. */
export async function replaceFile(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const temp = `${file}.tmp`;
  await writeFile(temp, data, { mode });
  if (owner) await chown(temp, owner.uid, owner.gid);
  await rename(temp, file);
}
