// Staging another admin's binary: the bounds that keep a deploy from
// filling the release store's disk, and the reader's descriptors.
import { execa } from "execa";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLOSE_INHERITED_FDS, stageBinary } from "../../supervisor/releases/stage.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-stage-"));
  await chmod(dir, 0o755);
});
afterEach(async () => {
  await execa("umount", [path.join(dir, "small")], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

/** A uid that owns nothing here, as a sandbox uid not in use. */
const READER = { uid: 2_990_100 };

async function elf(): Promise<string> {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header.writeUInt16LE(2, 16);
  header.writeUInt16LE(({ x64: 62, arm64: 183 } as Record<string, number>)[process.arch] ?? 62, 18);
  const file = path.join(dir, "plugin");
  await writeFile(file, header, { mode: 0o755 });
  return file;
}

describe("stageBinary for an admin who is not root", () => {
  it("copies a binary every user may read", async () => {
    const staged = await stageBinary(await elf(), path.join(dir, "store"), { reader: READER });
    expect(path.dirname(staged.path)).toBe(path.join(dir, "store"));
    await staged.discard();
  });

  it("refuses while the store's filesystem has less than 2 GiB free, and leaves nothing", async () => {
    const small = path.join(dir, "small");
    await mkdir(small);
    await execa("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", small]);
    const file = await elf();
    await expect(stageBinary(file, path.join(small, "store"), { reader: READER })).rejects.toThrow(
      `${file}: not deployed: less than 2 GiB free for the release store`,
    );
    expect(await readdir(path.join(small, "store"))).toEqual([]);
  });
});

describe("the reader's shell", () => {
  it("closes every descriptor it inherited but 0, 1 and 2", async () => {
    // Descriptors 3 and 4 inherited, as one lacking close-on-exec would be.
    const script = `${CLOSE_INHERITED_FDS}\nexec ls /proc/self/fd`;
    const open = await execa("bash", ["-c", "ls /proc/self/fd"], { stdio: ["ignore", "pipe", "ignore", "pipe", "pipe"] });
    expect(open.stdout.split("\n")).toEqual(expect.arrayContaining(["3", "4"]));
    const closed = await execa("bash", ["-c", script], { stdio: ["ignore", "pipe", "ignore", "pipe", "pipe"] });
    // ls's own descriptor of the directory it lists is the only other.
    expect(closed.stdout.split("\n").filter((fd) => Number(fd) > 2).length).toBeLessThanOrEqual(1);
    expect(closed.stdout.split("\n")).not.toEqual(expect.arrayContaining(["4"]));
  });
});
