// The release store's content-addressed objects, against a temp state
// directory: plugins that run the same binary share one file, which goes
// when the last release that links it is pruned, and a changed file is
// hashed again however it was changed.
import { createHash } from "node:crypto";
import { execa } from "execa";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { contentHash } from "../../supervisor/releases/objects.ts";
import { ReleaseStore } from "../../supervisor/releases/store.ts";

let dir: string;
let stateDir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-release-store-"));
  stateDir = path.join(dir, "state");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");

/** A file standing for a plugin binary (the store does not look inside). */
async function binary(name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content, { mode: 0o755 });
  return file;
}

describe("release store objects", () => {
  it("gives plugins with the same binary one shared, read-only file", async () => {
    const source = await binary("plugin-v1", "v1 code");
    const a = await new ReleaseStore(stateDir, "a").import(source);
    const b = await new ReleaseStore(stateDir, "b").import(source);
    expect(a.sha256).toBe(sha256("v1 code"));
    expect(b.sha256).toBe(a.sha256);
    const [sa, sb, object] = await Promise.all([stat(a.binary), stat(b.binary), stat(path.join(stateDir, "objects", a.sha256))]);
    expect(sb.ino).toBe(sa.ino);
    expect(object.ino).toBe(sa.ino);
    expect(object.nlink).toBe(3);
    expect(object.mode & 0o777).toBe(0o555);
    expect(await readFile(b.binary, "utf8")).toBe("v1 code");
    // Again: the same release, no new link.
    expect(await new ReleaseStore(stateDir, "a").import(source)).toEqual(a);
    expect((await stat(a.binary)).nlink).toBe(3);
  });

  it("removes an object with the last release that links to it", async () => {
    const v1 = await binary("plugin-v1", "v1 code");
    const v2 = await binary("plugin-v2", "v2 code");
    const a = new ReleaseStore(stateDir, "a");
    const b = new ReleaseStore(stateDir, "b");
    const old = await a.import(v1);
    await b.import(v1);
    await a.activate(await a.import(v2));
    expect(await a.prune(0, [])).toEqual([old.sha256]);
    // b still runs v1: its object stays.
    expect((await stat(path.join(stateDir, "objects", old.sha256))).nlink).toBe(2);
    await b.activate(await b.import(v2));
    expect(await b.prune(0, [])).toEqual([old.sha256]);
    await expect(stat(path.join(stateDir, "objects", old.sha256))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a release whose shared file was changed, for every plugin that links it", async () => {
    const source = await binary("plugin-v1", "v1 code");
    const a = new ReleaseStore(stateDir, "a");
    const b = new ReleaseStore(stateDir, "b");
    const release = await a.import(source);
    await b.import(source);
    await a.verify(release);
    await chmod(release.binary, 0o755);
    await writeFile(release.binary, "v1 CODE"); // same size, other content
    await expect(a.verify(release)).rejects.toThrow(`release ${release.sha256} of plugin a is corrupt`);
    await expect(b.verify(release)).rejects.toThrow(`of plugin b is corrupt: `);
    // A new import does not link the bad file: it is of another size, or verify catches it.
    await writeFile(release.binary, "tampered, longer");
    const c = await new ReleaseStore(stateDir, "c").import(source);
    expect(await readFile(c.binary, "utf8")).toBe("v1 code");
  });

  it("hashes a file again after any change, though its size and mtime stay", async () => {
    const file = await binary("f", "aaaa");
    expect(await contentHash(file)).toBe(sha256("aaaa"));
    const before = await stat(file);
    await writeFile(file, "bbbb");
    await utimes(file, before.atime, before.mtime); // mtime put back: ctime cannot be
    expect(await contentHash(file)).toBe(sha256("bbbb"));
  });
});

describe("release store history", () => {
  it("rolls back from a release that never served (made current by another tool) to the last one that did", async () => {
    const store = new ReleaseStore(stateDir, "p");
    const [v1, v2, v3] = await Promise.all(["v1", "v2", "v3"].map(async (v) => store.import(await binary(`plugin-${v}`, `${v} code`))));
    await store.recordActivation(v1!.sha256, 1);
    await store.recordActivation(v2!.sha256, 2);
    expect((await store.previous(v2!.sha256))?.sha256).toBe(v1!.sha256);
    // v3 is not in the history: the newest release that served and is not it.
    expect((await store.previous(v3!.sha256))?.sha256).toBe(v2!.sha256);
  });

  it("keeps the last activation of each release still in the store when it prunes: rollbacks find the same release, the file stays short", async () => {
    const store = new ReleaseStore(stateDir, "p");
    const [v1, v2, v3] = await Promise.all(["v1", "v2", "v3"].map(async (v) => store.import(await binary(`plugin-${v}`, `${v} code`))));
    let at = 0;
    for (let i = 0; i < 50; i++) for (const v of [v1!, v2!]) await store.recordActivation(v.sha256, ++at); // deploy, roll back, again and again
    await store.recordActivation(v3!.sha256, ++at);
    await store.activate(v3!);
    expect(await store.history()).toHaveLength(101);
    expect(await store.prune(1, [v3!.sha256])).toEqual([v1!.sha256]); // v2 is the one kept beside the current v3
    expect(await store.history()).toEqual([
      { sha256: v2!.sha256, at: 100 },
      { sha256: v3!.sha256, at: 101 },
    ]);
    expect((await store.previous(v3!.sha256))?.sha256).toBe(v2!.sha256);
    expect((await store.lastServed())?.sha256).toBe(v3!.sha256);
  });

  it("puts current back from a release on trial when the supervisor died before it served, and leaves a later swap alone", async () => {
    const store = new ReleaseStore(stateDir, "p");
    const [v1, v2, v3] = await Promise.all(["v1", "v2", "v3"].map(async (v) => store.import(await binary(`plugin-${v}`, `${v} code`))));
    await store.activate(v1!);
    await store.beginTrial(v2!.sha256, v1!.sha256);
    await store.activate(v2!);
    expect(await store.recoverTrial()).toEqual({ release: v2!.sha256, restored: v1!.sha256 });
    expect((await store.current())?.sha256).toBe(v1!.sha256);
    expect(await store.recoverTrial()).toBeUndefined(); // ended

    // Another tool made v3 current after the trial began: its swap stands.
    await store.beginTrial(v2!.sha256, v1!.sha256);
    await store.activate(v3!);
    expect(await store.recoverTrial()).toEqual({ release: v2!.sha256, restored: undefined });
    expect((await store.current())?.sha256).toBe(v3!.sha256);

    // The supervisor died after v2 was recorded as serving, before the trial ended: v2 stays.
    await store.activate(v1!);
    await store.recordActivation(v1!.sha256);
    await store.beginTrial(v2!.sha256, v1!.sha256);
    await store.activate(v2!);
    await store.recordActivation(v2!.sha256);
    expect(await store.recoverTrial()).toEqual({ release: v2!.sha256, restored: undefined });
    expect((await store.current())?.sha256).toBe(v2!.sha256);
    expect((await store.previous(v2!.sha256))?.sha256).toBe(v1!.sha256); // a rollback still finds v1
  });

  it("removes a release a deploy imported when the supervisor died before it served, as the deploy would have; one already there stays", async () => {
    const store = new ReleaseStore(stateDir, "p");
    const v1 = await store.import(await binary("plugin-v1", "v1 code"));
    const v2 = await store.import(await binary("plugin-v2", "v2 code"));
    await store.activate(v1);
    await store.beginTrial(v2.sha256, v1.sha256, { imported: true });
    await store.activate(v2);
    expect(await store.recoverTrial()).toEqual({ release: v2.sha256, restored: v1.sha256 });
    expect(await store.get(v2.sha256)).toBeUndefined();
    expect(existsSync(path.join(stateDir, "objects", v2.sha256))).toBe(false);
    // Cut before the swap: the link never named it, and it goes all the same.
    const v4 = await store.import(await binary("plugin-v4", "v4 code"));
    await store.beginTrial(v4.sha256, v1.sha256, { imported: true });
    expect(await store.recoverTrial()).toEqual({ release: v4.sha256, restored: undefined });
    expect(await store.get(v4.sha256)).toBeUndefined();
    expect((await store.current())?.sha256).toBe(v1.sha256);
    // Rolled back to (not imported by the trial): kept.
    const v3 = await store.import(await binary("plugin-v3", "v3 code"));
    await store.beginTrial(v3.sha256, v1.sha256);
    await store.activate(v3);
    expect(await store.recoverTrial()).toEqual({ release: v3.sha256, restored: v1.sha256 });
    expect(await store.get(v3.sha256)).toBeDefined();
  });
});

describe("release store bookkeeping", () => {
  it("keeps a plugin's seed whole when recording a new one fails (a full disk): the next start does not take a deployed release for a changed binary", async () => {
    // A file system of its own, small enough to fill.
    const small = path.join(dir, "small");
    await mkdir(small);
    await execa("mount", ["-t", "tmpfs", "-o", "size=64k,nr_inodes=64", "corral-test", small]);
    try {
      const store = new ReleaseStore(path.join(small, "state"), "p");
      const v1 = await store.import(await binary("v1", "one"));
      await store.recordSeed(v1);
      await writeFile(path.join(small, "filler"), Buffer.alloc(256 * 1024)).catch(() => {}); // ENOSPC once full
      const v2 = { ...v1, sha256: sha256("two") };
      await expect(store.recordSeed(v2)).rejects.toThrow(/ENOSPC/);
      expect(await store.lastSeed()).toBe(v1.sha256);
      expect((await readdir(path.join(small, "state/plugins/p"))).filter((n) => n.includes(".tmp-"))).toEqual([]);
    } finally {
      await execa("umount", [small]);
    }
  });
});
