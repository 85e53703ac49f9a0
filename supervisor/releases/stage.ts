// A binary coming into the release store from outside (a deploy): copied
// once, from what the path named when it was opened, into a file of the
// store's own, and checked, before anything hashes or imports it; read by
// root for root's own deploy, by a process of no account for any other
// admin's (see stageBinary).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { constants } from "node:fs";
import { chmod, copyFile, mkdir, open, rm, statfs } from "node:fs/promises";
import path from "node:path";
import { ReleaseError } from "./store.ts";

/**
 * Copies what `file` names into a file of the store's own (0600), once,
 * and checks that it can be a plugin: a regular, executable ELF file for
 * this machine. Everything after (the hash, the import) reads that copy:
 * what `file` names when opened again (a link swapped meanwhile) plays no
 * part. Throws ReleaseError naming `file` and what is wrong. The caller
 * removes the copy (`discard`).
 *
 * With a `reader` (an admin other than root asks), the file is read by a
 * process of no account (the reader's uid, no groups): a release is
 * published readable to every sandbox uid, and root must not publish, nor
 * say anything of, what that admin may not read. The kernel decides,
 * whatever the path goes through (another mount namespace's root under
 * /proc, say), and a refusal says no more than that. Without one (root's
 * own deploy), root reads it.
 */
export async function stageBinary(file: string, dir: string, { reader }: { reader?: Reader } = {}): Promise<{ path: string; discard(): Promise<void> }> {
  const staged = path.join(dir, `.staging-${randomBytes(6).toString("hex")}`);
  const discard = () => rm(staged, { force: true });
  try {
    await mkdir(dir, { recursive: true, mode: 0o711 });
    if (reader) await copyAsReader(file, staged, reader);
    else await copyAsRoot(file, staged);
    const header = Buffer.alloc(20);
    const copy = await open(staged, constants.O_RDONLY);
    try {
      await copy.read(header, 0, 20, 0);
    } finally {
      await copy.close();
    }
    checkElfHeader(header, file);
    return { path: staged, discard };
  } catch (err) {
    await discard();
    throw err;
  }
}

/** open(2)'s O_PATH on Linux, which Node's fs.constants does not name. */
const O_PATH = 0o10000000;

/**
 * Root's own deploy: `file` opened O_PATH first (nothing opened for
 * reading, no FIFO's writer let go, no device's open acted on, before it
 * is known to be a regular file), then copied through that descriptor.
 */
async function copyAsRoot(file: string, staged: string): Promise<void> {
  const found = await open(file, O_PATH).catch((err: NodeJS.ErrnoException) => {
    throw new ReleaseError(`${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  });
  try {
    const st = await found.stat();
    if (!st.isFile()) throw new ReleaseError(`${file}: not a regular file`);
    if ((st.mode & 0o111) === 0) throw new ReleaseError(`${file}: not executable (mode ${(st.mode & 0o777).toString(8)})`);
    await copyFile(`/proc/self/fd/${found.fd}`, staged, constants.COPYFILE_EXCL);
    await chmod(staged, 0o600);
  } finally {
    await found.close();
  }
}

/** The largest binary a deploy takes. */
const MAX_BINARY_BYTES = 1024 ** 3;
/** How long reading it may take. */
const READ_TIMEOUT_MS = 60_000;

/** Who reads another admin's binary: an id that owns nothing and no ACL names (a sandbox uid not in use; gid = uid). */
export interface Reader {
  uid: number;
}

/**
 * Bash closing every descriptor but 0, 1 and 2 that it inherited: whatever
 * of the supervisor's lacks close-on-exec (Node's own all have it; an
 * addon's or an inherited one may not) is not the reader's to use.
 */
export const CLOSE_INHERITED_FDS = 'for fd in /proc/self/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done 2>/dev/null';

/** Another admin's copies, one at a time across the supervisor: each may take MAX_BINARY_BYTES of disk. */
let copying: Promise<unknown> = Promise.resolve();

/**
 * Another admin's deploy: the copy is made by `head`, run as `reader`
 * with no supplementary groups and no descriptor but its stdout (bash
 * closes every other it inherits), writing to a descriptor root opened. It
 * reads only a regular executable file every user may read, at most
 * MAX_BINARY_BYTES, within READ_TIMEOUT_MS (a FIFO swapped in after the
 * test waits for nothing longer than that), and only while the store's
 * filesystem has room for it.
 */
function copyAsReader(file: string, staged: string, reader: Reader): Promise<void> {
  const run = copying.then(async () => {
    const refused = new ReleaseError(`${file}: not found, or not a regular executable file every user may read (a release is published readable to every sandbox; deploy a copy anyone may read)`);
    const room = await statfs(path.dirname(staged));
    if (room.bavail * room.bsize < 2 * MAX_BINARY_BYTES) throw new ReleaseError(`${file}: not deployed: less than ${(2 * MAX_BINARY_BYTES) / 1024 ** 3} GiB free for the release store`);
    const out = await open(staged, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const script = [
        CLOSE_INHERITED_FDS,
        '[ -f "$1" ] && [ -r "$1" ] && [ -x "$1" ] || exit 3',
        `exec head -c ${MAX_BINARY_BYTES + 1} -- "$1"`,
      ].join("\n");
      const child = spawn("bash", ["-c", script, "bash", file], {
        uid: reader.uid,
        gid: reader.uid,
        cwd: "/",
        env: { PATH: "/usr/bin:/bin" },
        stdio: ["ignore", out.fd, "ignore"],
        timeout: READ_TIMEOUT_MS,
        killSignal: "SIGKILL",
      });
      const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
      if (signal === "SIGKILL") throw new ReleaseError(`${file}: not read within ${READ_TIMEOUT_MS / 1000} s`);
      if (code !== 0) throw refused;
      if ((await out.stat()).size > MAX_BINARY_BYTES) throw new ReleaseError(`${file}: larger than ${MAX_BINARY_BYTES} bytes`);
    } finally {
      await out.close();
    }
  });
  copying = run.catch(() => {});
  return run;
}

/** Checks an ELF header: a 64-bit executable for this machine. Throws ReleaseError naming `file`. */
function checkElfHeader(header: Buffer, file: string): void {
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new ReleaseError(`${file}: not an ELF executable (a plugin is a static Go binary)`);
  if (header[4] !== 2) throw new ReleaseError(`${file}: not a 64-bit ELF file`);
  const type = header.readUInt16LE(16);
  if (type !== 2 && type !== 3) throw new ReleaseError(`${file}: ELF type ${type} is not an executable`);
  const machine = header.readUInt16LE(18);
  const expected = ({ x64: 62, arm64: 183, riscv64: 243, ppc64: 21, s390x: 22 } as Record<string, number>)[process.arch];
  if (expected !== undefined && machine !== expected) throw new ReleaseError(`${file}: built for ELF machine ${machine}, this host (${process.arch}) needs ${expected}`);
}
