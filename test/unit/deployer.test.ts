// The deployer against a real release store in a temp directory and a
// controller that is a stand-in (the lifecycle is the controller's, tested
// on its own and end to end): what it leaves in `current` and the history
// when the plugin is stopped while a deploy is under way.
import { execa } from "execa";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readdir, readlink, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UpdateFailed, type UpdateResult } from "../../supervisor/plugin/controller.ts";
import { Deployer, type Updatable } from "../../supervisor/releases/deployer.ts";
import { UidPool } from "../../supervisor/plugin/uid-pool.ts";
import { ReleaseStore } from "../../supervisor/releases/store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-deployer-"));
  await chmod(dir, 0o755); // what an admin who is not root deploys, every user may read
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A 64-bit x86-64 ELF header is all stageBinary looks at; the store does not run it. */
async function binary(name: string): Promise<string> {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header.writeUInt16LE(2, 16);
  header.writeUInt16LE(({ x64: 62, arm64: 183 } as Record<string, number>)[process.arch] ?? 62, 18);
  const file = path.join(dir, name);
  await writeFile(file, Buffer.concat([header, Buffer.from(name)]), { mode: 0o755 });
  return file;
}

/** What an admin who is not root is told of any binary it may not deploy. */
const notReadable = "not found, or not a regular executable file every user may read (a release is published readable to every sandbox; deploy a copy anyone may read)";

/**
 * A controller stand-in: it serves `serving` (or nothing), and an update
 * changes nothing and starts nothing: that of a plugin stopped meanwhile,
 * or of one not running, which runs the release when started.
 */
function standIn(serving: string | undefined): Updatable {
  return {
    state: serving === undefined ? "starting" : "ready",
    servingRelease: serving,
    update: async (release): Promise<UpdateResult> => ({ changed: false, release, previous: "", instance: "" }),
    applyConfig: async () => ({ changed: false, release: "", previous: "", instance: "" }),
  };
}

/** A deployer of `store` for the stand-in. */
const deployerOf = (store: ReleaseStore, serving?: string) =>
  new Deployer({ store, plugin: standIn(serving), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4) });

/** Ids another admin's binary is read as here: owning nothing, as sandbox uids not in use. */
const READER_UIDS = 2_990_000;

describe("a deploy", () => {
  it("that the plugin's stop overtakes leaves the serving release current, and out of the history", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const serving = await store.seed(await binary("v1"));
    // Stopped between the link's swap and the update: the controller, now
    // stopped, says it will run the release when started.
    const deployer = deployerOf(store, serving.sha256);
    const deploy = deployer.deploy(await binary("v2"));
    await expect(deploy).rejects.toThrow(UpdateFailed);
    await expect(deploy).rejects.toThrow(/was not deployed: plugin echo was stopped before the release came into service; [0-9a-f]{12} keeps serving/);
    expect(await readlink(store.currentLink)).toBe(`releases/${serving.sha256}`);
    const history = (await readFile(path.join(dir, "state/plugins/echo/history.jsonl"), "utf8")).trim().split("\n");
    expect(history.map((l) => (JSON.parse(l) as { sha256: string }).sha256)).toEqual([serving.sha256]);
  });

  it("or rollback whose caller cancelled before it began is dropped, and said to be what it was", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const v1 = await store.seed(await binary("v1"));
    const deployer = deployerOf(store, v1.sha256);
    const cancelled = AbortSignal.abort();
    await expect(deployer.deploy(await binary("v2"), { cancelled })).rejects.toThrow("the deploy of plugin echo was cancelled by its caller before it began; nothing was changed");
    await expect(deployer.rollback(undefined, { cancelled })).rejects.toThrow("the rollback of plugin echo was cancelled by its caller before it began; nothing was changed");
    expect(await readlink(store.currentLink)).toBe(`releases/${v1.sha256}`);
  });

  it("queued when the deployer closes is refused and changes nothing; the one under way ends first", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const v1 = await store.seed(await binary("v1"));
    const { promise: ready, resolve: serve } = Promise.withResolvers<void>();
    const slow: Updatable = {
      state: "ready",
      servingRelease: v1.sha256,
      update: async (release, onServing) => {
        await ready;
        await onServing?.();
        return { changed: true, release, previous: v1.sha256, instance: "echo-new" };
      },
      applyConfig: async () => ({ changed: false, release: "", previous: "", instance: "" }),
    };
    const logged: Array<{ msg: string; binary?: string }> = [];
    const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) });
    const deployer = new Deployer({ store, plugin: slow, keep: 5, log, readers: new UidPool(READER_UIDS, 4) });
    const first = deployer.deploy(await binary("v2"));
    // The watch's echo of a swap waits behind the deploy as a matter of course: not said.
    const echo = deployer.onCurrentChange({ kind: "release", release: v1 });
    echo.catch(() => {});
    const v3 = await binary("v3");
    const queued = deployer.deploy(v3);
    queued.catch(() => {});
    expect(logged.filter((l) => l.msg === "the deploy of plugin echo waits behind another").map((l) => l.binary)).toEqual([v3]);
    await new Promise((r) => setTimeout(r, 50));
    let closed = false;
    const closing = deployer.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false); // the deploy under way is waited for
    serve();
    const { release: v2 } = await first;
    await closing;
    await expect(queued).rejects.toThrow("plugin echo is going away (the supervisor stops, or the plugin was removed); nothing was changed");
    expect(await readlink(store.currentLink)).toBe(`releases/${v2}`);
    expect((await store.history()).map((e) => e.sha256)).toEqual([v1.sha256, v2]);
    expect((await readdir(path.join(dir, "state/plugins/echo/releases"))).sort()).toEqual([v1.sha256, v2].sort());
  });

  it("that fails leaves no release of its own behind, nor the copy it read the binary into", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const serving = await store.seed(await binary("v1"));
    const deployer = deployerOf(store, serving.sha256);
    await expect(deployer.deploy(await binary("v2"))).rejects.toThrow(UpdateFailed);
    expect(await readdir(path.join(dir, "state/plugins/echo/releases"))).toEqual([serving.sha256]);
    expect(await readdir(path.join(dir, "state/objects"))).toEqual([serving.sha256]);
  });

  it("refuses what is not a regular file at once, a FIFO that no one writes included", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const deployer = deployerOf(store);
    const fifo = path.join(dir, "fifo");
    await execa("mkfifo", ["-m", "0755", fifo]);
    // A writer waiting for a reader is not let go: the FIFO is never opened for reading.
    const writer = execa("sh", ["-c", `echo hello > ${fifo}`], { reject: false });
    await expect(deployer.deploy(fifo, { readableByAll: false })).rejects.toThrow(`${fifo}: not a regular file`);
    await expect(deployer.deploy(fifo)).rejects.toThrow(`${fifo}: ${notReadable}`);
    await new Promise((r) => setTimeout(r, 200));
    expect(writer.exitCode).toBeNull(); // still waiting
    writer.kill("SIGKILL");
    await writer;
    await expect(deployer.deploy(dir, { readableByAll: false })).rejects.toThrow(`${dir}: not a regular file`);
    await expect(deployer.deploy(path.join(dir, "none"), { readableByAll: false })).rejects.toThrow(`${path.join(dir, "none")}: no such file`);
    // To an admin who is not root, one answer whatever is there: no oracle of what root sees.
    await expect(deployer.deploy(dir)).rejects.toThrow(`${dir}: ${notReadable}`);
    await expect(deployer.deploy(path.join(dir, "none"))).rejects.toThrow(`${path.join(dir, "none")}: ${notReadable}`);
  });

  it("for an admin who is not root, takes only a binary every user may read: root publishes nothing it alone may read", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const deployer = deployerOf(store);
    const own = await binary("root-only");
    await chmod(own, 0o700);
    await expect(deployer.deploy(own)).rejects.toThrow(`${own}: ${notReadable}`);
    const hidden = path.join(dir, "private");
    await mkdir(hidden, { mode: 0o700 });
    const inside = path.join(hidden, "plugin");
    await writeFile(inside, await readFile(await binary("inside")), { mode: 0o755 });
    await expect(deployer.deploy(inside)).rejects.toThrow(`${inside}: ${notReadable}`);
    // Through a link that leads into it too.
    const link = path.join(dir, "link");
    await symlink(inside, link);
    await expect(deployer.deploy(link)).rejects.toThrow(`${link}: ${notReadable}`);
    // Nor one only nobody (or nogroup) may read: every user is not nobody.
    const nobodys = path.join(dir, "nobodys");
    await mkdir(nobodys, { mode: 0o700 });
    const theirs = path.join(nobodys, "plugin");
    await writeFile(theirs, await readFile(await binary("theirs")), { mode: 0o700 });
    await chown(nobodys, 65534, 65534);
    await chown(theirs, 65534, 65534);
    await expect(deployer.deploy(theirs)).rejects.toThrow(`${theirs}: ${notReadable}`);
    // Nor through a path root resolves differently (another process's root under /proc).
    await expect(deployer.deploy(`/proc/${process.pid}/root${inside}`)).rejects.toThrow(notReadable);
    // Root itself may deploy it.
    const outcome = await deployer.deploy(inside, { readableByAll: false });
    expect(await readlink(store.currentLink)).toBe(`releases/${outcome.release}`);
  });
});

/**
 * A plugin with nothing serving (starting again, backing off, crashed):
 * an update starts the release at once and it fails, or it comes into
 * service and calls onServing.
 */
function notServing(outcome: "fails" | "serves"): Updatable {
  return {
    state: "backoff",
    servingRelease: undefined,
    update: async (release, onServing): Promise<UpdateResult> => {
      if (outcome === "fails") throw new UpdateFailed(`release ${release.slice(0, 12)} did not become ready: exited with status 3`);
      await onServing?.();
      return { changed: true, release, previous: "", instance: "echo-new" };
    },
    applyConfig: async () => ({ changed: false, release: "", previous: "", instance: "" }),
  };
}

const history = async (store: ReleaseStore) => (await store.history()).map((e) => e.sha256);

describe("a release that does not come into service while nothing serves", () => {
  it("by a deploy: current is put back to the release it named, which the plugin runs next", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const good = await store.seed(await binary("v1"));
    const failures: string[] = [];
    const deployer = new Deployer({ store, plugin: notServing("fails"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), onFailure: (m) => failures.push(m) });
    await expect(deployer.deploy(await binary("v2"))).rejects.toThrow(/was not deployed: release [0-9a-f]{12} did not become ready: exited with status 3; current is [0-9a-f]{12} again$/);
    expect(await readlink(store.currentLink)).toBe(`releases/${good.sha256}`);
    expect(await history(store)).toEqual([good.sha256]);
    expect(existsSync(path.join(store.directory, "trial.json"))).toBe(false);
    expect(failures).toHaveLength(1);
  });

  it("by another tool's swap of current: current is put back to the release it named before", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const before = await store.seed(await binary("v1"));
    // Another served since, and the operator went back to v1 (a rollback of a stopped plugin, say).
    const other = await store.import(await binary("v1b"));
    await store.recordActivation(other.sha256, Date.now() + 1);
    const bad = await store.import(await binary("v2"));
    const deployer = new Deployer({ store, plugin: notServing("fails"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), current: before.sha256 });
    await store.activate(bad);
    await deployer.onCurrentChange({ kind: "release", release: bad });
    expect(await readlink(store.currentLink)).toBe(`releases/${before.sha256}`);
  });

  it("and a `current` link removed meanwhile is put back to the release it named, so that the next start has one", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const v1 = await store.seed(await binary("v1"));
    await store.recordActivation(v1.sha256);
    const failures: string[] = [];
    const deployer = new Deployer({ store, plugin: notServing("fails"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), current: v1.sha256, onFailure: (m) => failures.push(m) });
    await rm(store.currentLink);
    await deployer.onCurrentChange({ kind: "invalid", target: undefined, reason: "the current link is missing" });
    expect(await readlink(store.currentLink)).toBe(`releases/${v1.sha256}`);
    expect(failures).toEqual([`the current link is missing; put back to release ${v1.sha256.slice(0, 12)}, which nothing serves now`]);
  });

  it("by a deploy of the release current already: it stays current (the one before it is not brought back)", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    await store.seed(await binary("v1"));
    const v2 = await binary("v2");
    const current = await store.import(v2);
    await store.activate(current);
    await store.recordActivation(current.sha256, Date.now() + 1);
    const deployer = new Deployer({ store, plugin: notServing("fails"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), current: current.sha256 });
    await expect(deployer.deploy(v2)).rejects.toThrow(/did not become ready: exited with status 3$/);
    expect(await readlink(store.currentLink)).toBe(`releases/${current.sha256}`);
  });

  it("by a reload: current stays, the binary is not recorded as configured but as refused, and the next reload tries it again", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const good = await store.seed(await binary("v1"));
    const deployer = new Deployer({ store, plugin: notServing("fails"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4) });
    const v2 = await binary("v2");
    await expect(deployer.reload(v2, false)).rejects.toThrow(UpdateFailed);
    const refused = await store.import(v2);
    expect(await readlink(store.currentLink)).toBe(`releases/${good.sha256}`);
    expect(await history(store)).toEqual([good.sha256]);
    expect(await store.isNewSeed(refused)).toBe(true);
    expect(await store.refusedSeed()).toBe(refused.sha256);
    // Tried again, and in service this time: configured, and no longer refused.
    const retried = new Deployer({ store, plugin: notServing("serves"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4) });
    expect((await retried.reload(v2, false)).release).toBe(refused.sha256);
    expect(await store.isNewSeed(refused)).toBe(false);
    expect(await store.refusedSeed()).toBeUndefined();
    expect(await history(store)).toEqual([good.sha256, refused.sha256]);
  });
});

describe("a reload of a stopped plugin", () => {
  it("makes a new configured binary current for its next start, with the rest of the entry, rather than refusing it", async () => {
    const store = new ReleaseStore(path.join(dir, "state"), "echo");
    const v1 = await store.seed(await binary("v1"));
    const updates: string[] = [];
    const stopped: Updatable = {
      state: "stopped",
      servingRelease: undefined,
      update: async (release) => {
        updates.push(release);
        throw new UpdateFailed("plugin echo is stopped; start it, then deploy: a release stays current only once it serves");
      },
      applyConfig: async () => ({ changed: false, release: "", previous: "", instance: "" }),
    };
    const deployer = new Deployer({ store, plugin: stopped, keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4) });
    const applied: string[] = [];
    const outcome = await deployer.reload(await binary("v2"), true, { apply: () => applied.push("apply"), revert: () => applied.push("revert") });
    const v2 = await store.import(await binary("v2"));
    expect(outcome).toMatchObject({ changed: true, release: v2.sha256, previous: v1.sha256, instance: "" });
    expect(applied).toEqual(["apply"]);
    expect(updates).toEqual([]);
    expect(await readlink(store.currentLink)).toBe(`releases/${v2.sha256}`);
    expect(await store.isNewSeed(v2)).toBe(false);
    expect(await store.refusedSeed()).toBeUndefined();
  });
});

/** The plugin's store, whose `step` fails as on a full disk. */
function fullDiskStore(step: "recordSeed" | "recordActivation"): ReleaseStore {
  const store = new ReleaseStore(path.join(dir, "state"), "echo");
  store[step] = async () => {
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
  return store;
}

describe("a reload whose binary comes into service", () => {
  it("keeps the new config and release when recording the seed fails (a full disk): reported, nothing reverted", async () => {
    const store = fullDiskStore("recordSeed");
    await new ReleaseStore(path.join(dir, "state"), "echo").seed(await binary("v1"));
    const failures: string[] = [];
    const deployer = new Deployer({ store, plugin: notServing("serves"), keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), onFailure: (m) => failures.push(m) });
    const applied: string[] = [];
    const outcome = await deployer.reload(await binary("v2"), false, { apply: () => applied.push("apply"), revert: () => applied.push("revert") });
    expect(outcome).toMatchObject({ changed: true, instance: "echo-new" });
    expect(applied).toEqual(["apply"]);
    expect(await readlink(store.currentLink)).toBe(`releases/${outcome.release}`);
    expect(failures).toEqual([
      `release ${outcome.release.slice(0, 12)} of plugin echo is in force, but recording it as the configured binary (its seed file) failed: ENOSPC: no space left on device, write`,
    ]);
  });
});

describe("a release in service", () => {
  it("stays current and kept when recording it fails (a full disk): the failure is reported, nothing undone", async () => {
    const store = fullDiskStore("recordActivation");
    const good = await new ReleaseStore(path.join(dir, "state"), "echo").seed(await binary("v1"));
    const failures: string[] = [];
    const plugin: Updatable = {
      state: "ready",
      servingRelease: good.sha256,
      update: async (release, onServing) => {
        await onServing?.();
        return { changed: true, release, previous: good.sha256, instance: "echo-new" };
      },
      applyConfig: async () => ({ changed: false, release: "", previous: "", instance: "" }),
    };
    const deployer = new Deployer({ store, plugin, keep: 5, log: pino({ level: "silent" }), readers: new UidPool(READER_UIDS, 4), onFailure: (m) => failures.push(m) });
    const outcome = await deployer.deploy(await binary("v2"));
    expect(outcome).toMatchObject({ changed: true, instance: "echo-new" });
    expect(await readlink(store.currentLink)).toBe(`releases/${outcome.release}`);
    expect((await readdir(path.join(dir, "state/plugins/echo/releases"))).sort()).toEqual([good.sha256, outcome.release].sort());
    expect(failures).toEqual([`release ${outcome.release.slice(0, 12)} of plugin echo is current, but recording it failed: ENOSPC: no space left on device, write`]);
  });
});
