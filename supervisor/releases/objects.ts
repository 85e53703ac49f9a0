// The content-addressed objects behind every plugin's releases:
//
//   <state>/objects/<sha256>        the binary, 0555
//   <state>/plugins/<name>/releases/<sha256>/plugin   a hard link to it
//
// Plugins that run the same binary share one file: it is copied and hashed
// once, not once per plugin, and its pages are in the page cache once, for
// every instance of every plugin that runs it.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, copyFile, link, mkdir, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";

export class ObjectStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "objects");
  }

  /** Where the object `sha256` is (whether or not it exists). */
  path(sha256: string): string {
    return path.join(this.dir, sha256);
  }

  /**
   * The object with `source`'s content, whose sha256 the caller has: the
   * existing one, else a copy of `source`, checked against `sha256` before
   * it takes the object's name. An existing object is not hashed again here
   * (every link made to it changes its ctime, so each import would hash it
   * anew): its content is checked where it counts, before every start
   * (ReleaseStore.verify). One of another size is replaced. With `adopt`,
   * `source` is a file of the store's own, beside the objects, whose hash
   * the caller has just taken: it is renamed into place, not copied.
   */
  async put(source: string, sha256: string, { adopt = false }: { adopt?: boolean } = {}): Promise<string> {
    const object = this.path(sha256);
    const [existing, wanted] = await Promise.all([stat(object).catch(() => undefined), stat(source)]);
    if (existing?.isFile() && existing.size === wanted.size) return object;
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    const temp = `${object}.tmp-${randomBytes(4).toString("hex")}`;
    if (adopt) {
      // A link, not a rename: the source stays for another try (ReleaseStore's #linkObject).
      await link(source, temp);
      await chmod(temp, 0o555);
      await rename(temp, object);
      return object;
    }
    try {
      await copyFile(source, temp);
      await chmod(temp, 0o555);
      if ((await contentHash(temp)) !== sha256) throw new Error(`${source} changed while it was being imported`);
      // Over a corrupt one, if there was one: its links keep the bad copy, which verify refuses.
      await rename(temp, object);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return object;
  }

  /** Removes the object if no release links to it any more. */
  async removeIfUnused(sha256: string): Promise<void> {
    const object = this.path(sha256);
    const st = await stat(object).catch(() => undefined);
    if (st && st.nlink <= 1) await unlink(object).catch(() => {});
  }
}

/**
 * Content hashes of files by inode, valid while the inode's size, mtime and
 * ctime are unchanged: no write leaves ctime unchanged (nor does a new link
 * to the inode, which costs a hash more than needed, never one less).
 */
const knownHashes = new Map<string, { stamp: string; sha256: string }>();

/** The sha256 of `file`'s content, hashed only if the file changed since it was last hashed. */
export async function contentHash(file: string): Promise<string> {
  const before = await stat(file, { bigint: true });
  const inode = `${before.dev}:${before.ino}`;
  const stamp = `${before.size}:${before.mtimeNs}:${before.ctimeNs}`;
  const known = knownHashes.get(inode);
  if (known?.stamp === stamp) return known.sha256;
  const sha256 = await hashFile(file);
  const after = await stat(file, { bigint: true });
  // Remembered only if nothing changed the file while it was read.
  if (`${after.dev}:${after.ino}` === inode && `${after.size}:${after.mtimeNs}:${after.ctimeNs}` === stamp) {
    knownHashes.set(inode, { stamp, sha256 });
  }
  return sha256;
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}
