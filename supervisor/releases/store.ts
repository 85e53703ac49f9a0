// The release store (DESIGN.md §7): every binary a plugin ever ran, named by
// its content hash, and a `current` symlink replaced atomically.
//
//   <state>/plugins/<name>/releases/<sha256>/plugin   (a hard link to <state>/objects/<sha256>)
//   <state>/plugins/<name>/current -> releases/<sha256>
//
// The binaries themselves are content-addressed objects shared by all
// plugins (objects.ts): one file, however many plugins run it.
//
// A release directory is written under a temporary name and renamed into
// place, so a release that exists is complete. Every activation of a release
// that came into service is appended to `history.jsonl`, which orders
// rollbacks and retention.
import { randomBytes } from "node:crypto";
import { appendFile, chmod, copyFile, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { contentHash, ObjectStore } from "./objects.ts";

/** What a plugin's `current` link says (ReleaseStore.readCurrent). */
export type CurrentLink =
  | { kind: "release"; release: Release; target: string }
  | { kind: "missing" }
  | { kind: "invalid"; target?: string; reason: string };

export interface Release {
  /** Hex sha256 of the binary: the release's name. */
  sha256: string;
  /** Absolute path of the binary inside the store. */
  binary: string;
}

/** A release as `corralctl releases` lists it. */
export interface ReleaseInfo {
  sha256: string;
  sizeBytes: number;
  importedAt: number;
  /** Last time it was made current; 0 if never. */
  activatedAt: number;
  current: boolean;
}

/** A binary or release the store refuses, with the reason. */
export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Beside `current`: the release on trial (beginTrial). */
const TRIAL_FILE = "trial.json";
/** Beside `current`: a configured binary a reload could not bring into service (refuseSeed). */
const REFUSED_SEED_FILE = "refused-seed";

export class ReleaseStore {
  readonly plugin: string;
  readonly #pluginDir: string;
  readonly #objects: ObjectStore;

  constructor(stateDir: string, plugin: string) {
    this.plugin = plugin;
    this.#pluginDir = path.join(stateDir, "plugins", plugin);
    this.#objects = new ObjectStore(stateDir);
  }

  /** The plugin's directory in the store: `current` lives here. */
  get directory(): string {
    return this.#pluginDir;
  }

  get currentLink(): string {
    return path.join(this.#pluginDir, "current");
  }

  #releaseDir(sha256: string): string {
    return path.join(this.#pluginDir, "releases", sha256);
  }

  /** The release named `sha256`, if the store has it. */
  async get(sha256: string): Promise<Release | undefined> {
    if (!SHA256.test(sha256)) return undefined;
    const binary = path.join(this.#releaseDir(sha256), "plugin");
    return (await exists(binary)) ? { sha256, binary } : undefined;
  }

  /** The release whose hash is `sha256` or starts with it; throws ReleaseError when none or several match. */
  async resolve(prefix: string): Promise<Release> {
    if (!/^[0-9a-f]{4,64}$/.test(prefix)) throw new ReleaseError(`release "${prefix}": give its sha256 or a prefix of at least 4 hex digits`);
    const matches = (await this.#names()).filter((name) => name.startsWith(prefix));
    if (matches.length === 0) throw new ReleaseError(`plugin ${this.plugin} has no release ${prefix}`);
    if (matches.length > 1) throw new ReleaseError(`release prefix ${prefix} of plugin ${this.plugin} is ambiguous: ${matches.map((m) => m.slice(0, 12)).join(", ")}`);
    return { sha256: matches[0]!, binary: path.join(this.#releaseDir(matches[0]!), "plugin") };
  }

  async #names(): Promise<string[]> {
    const names = await readdir(path.join(this.#pluginDir, "releases")).catch(() => [] as string[]);
    return names.filter((name) => SHA256.test(name));
  }

  /** Every release in the store, the most recently activated first. */
  async list(): Promise<ReleaseInfo[]> {
    const [names, current, history] = await Promise.all([this.#names(), this.current().catch(() => undefined), this.history()]);
    const activated = new Map<string, number>();
    for (const entry of history) activated.set(entry.sha256, entry.at);
    const infos = await Promise.all(
      names.map(async (sha256): Promise<ReleaseInfo | undefined> => {
        const st = await stat(path.join(this.#releaseDir(sha256), "plugin")).catch(() => undefined);
        if (!st) return undefined;
        return { sha256, sizeBytes: st.size, importedAt: Math.round(st.mtimeMs), activatedAt: activated.get(sha256) ?? 0, current: current?.sha256 === sha256 };
      }),
    );
    return infos.filter((i): i is ReleaseInfo => i !== undefined).sort((a, b) => b.activatedAt - a.activatedAt || b.importedAt - a.importedAt);
  }

  /** Activations, oldest first. */
  async history(): Promise<Array<{ sha256: string; at: number }>> {
    const text = await readFile(path.join(this.#pluginDir, "history.jsonl"), "utf8").catch(() => "");
    const entries: Array<{ sha256: string; at: number }> = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { sha256?: unknown; at?: unknown };
        if (typeof entry.sha256 === "string" && typeof entry.at === "number") entries.push({ sha256: entry.sha256, at: entry.at });
      } catch {
        // a torn last line (crash mid-append) is skipped, not fatal
      }
    }
    return entries;
  }

  /** The release that came into service last and is still in the store. */
  async lastServed(): Promise<Release | undefined> {
    const history = await this.history();
    for (let i = history.length - 1; i >= 0; i--) {
      const release = await this.get(history[i]!.sha256);
      if (release) return release;
    }
    return undefined;
  }

  /**
   * The release that was current before `sha256` last became current, for a
   * rollback; for a release that never served (made current by another
   * tool), the last one that did.
   */
  async previous(sha256: string): Promise<Release | undefined> {
    const history = await this.history();
    let i = history.length - 1;
    while (i >= 0 && history[i]!.sha256 !== sha256) i--;
    if (i < 0) i = history.length;
    for (i -= 1; i >= 0; i--) {
      const candidate = history[i]!.sha256;
      if (candidate === sha256) continue;
      const release = await this.get(candidate);
      if (release) return release;
    }
    return undefined;
  }

  /**
   * Removes all but the `keep` most recently activated releases, never one
   * in `protect` (the current and serving ones). Returns the removed hashes.
   */
  async prune(keep: number, protect: Iterable<string>): Promise<string[]> {
    const kept = new Set(protect);
    const removed: string[] = [];
    let n = 0;
    for (const release of await this.list()) {
      if (kept.has(release.sha256) || release.current) continue;
      if (++n <= keep) continue;
      await rm(this.#releaseDir(release.sha256), { recursive: true, force: true });
      await this.#objects.removeIfUnused(release.sha256);
      removed.push(release.sha256);
    }
    await this.#compactHistory();
    return removed;
  }

  /**
   * Rewrites the history with the last activation of each release still in
   * the store, in order: what lastServed() and previous() read of it for
   * the current release comes out the same, and the file stays as long as
   * the store's releases are many (it grew by a line at every activation:
   * a deploy and a rollback, over and over, forever).
   */
  async #compactHistory(): Promise<void> {
    const history = await this.history();
    const last = new Map<string, number>();
    history.forEach((entry, i) => last.set(entry.sha256, i));
    const compact: typeof history = [];
    for (const [i, entry] of history.entries()) if (last.get(entry.sha256) === i && (await this.get(entry.sha256))) compact.push(entry);
    if (compact.length === history.length) return;
    await this.#replace("history.jsonl", compact.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
  }

  /** Where a binary coming in from outside is copied before its import (stage.ts): beside the objects, on their filesystem. */
  get stagingDir(): string {
    return this.#objects.dir;
  }

  /** Removes a release that never served (a failed deploy's), and its object if no other release links it. */
  async discard(sha256: string): Promise<void> {
    if (!SHA256.test(sha256) || (await this.current().catch(() => undefined))?.sha256 === sha256) return;
    await rm(this.#releaseDir(sha256), { recursive: true, force: true });
    await this.#objects.removeIfUnused(sha256);
  }

  /**
   * Checks the release's binary still has the content its name says: run
   * before every start. An unchanged file (same inode, size, mtime and
   * ctime) is not hashed again (contentHash), so neither is the one object
   * behind the releases of many plugins.
   */
  async verify(release: Release): Promise<void> {
    const actual = await contentHash(release.binary).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") throw new ReleaseError(`release ${release.sha256} of plugin ${this.plugin}: ${release.binary} is missing`);
      throw err;
    });
    if (actual !== release.sha256) {
      throw new ReleaseError(`release ${release.sha256} of plugin ${this.plugin} is corrupt: ${release.binary} now has sha256 ${actual}`);
    }
  }

  /**
   * Brings `binary` into the store (if not there yet) and returns the
   * release: a link to the object with its content, which is copied in
   * only if no plugin has it yet. With `staged` (a deploy's copy of its
   * own, stage.ts, hashed here already), the file itself becomes the object
   * rather than being copied and hashed a second time.
   */
  async import(binary: string, { staged = false }: { staged?: boolean } = {}): Promise<Release> {
    const sha256 = await contentHash(binary);
    const dir = path.join(this.#pluginDir, "releases", sha256);
    const release = { sha256, binary: path.join(dir, "plugin") };
    if (await exists(release.binary)) return release;
    const staging = `${dir}.tmp-${randomBytes(4).toString("hex")}`;
    // Traversable, not listable: a release is reached by its hash.
    await mkdir(staging, { recursive: true, mode: 0o711 });
    try {
      await this.#linkObject(binary, sha256, path.join(staging, "plugin"), staged);
      await rename(staging, dir);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (await exists(release.binary)) return release; // imported concurrently
      throw err;
    }
    return release;
  }

  /**
   * Links the object with `source`'s content (sha256) at `target`. Another
   * plugin's prune may remove an object between its put and the link: then
   * once more. Where the store cannot link (another filesystem), a copy.
   */
  async #linkObject(source: string, sha256: string, target: string, staged: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const object = await this.#objects.put(source, sha256, { adopt: staged });
      try {
        await link(object, target);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" && attempt === 0) continue;
        if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
      }
      await copyFile(object, target);
      await chmod(target, 0o555);
      return;
    }
  }

  /**
   * What the `current` link says: a release of this store, nothing, or
   * something else: a link elsewhere (even to a directory named like one of
   * its releases), to a release the store lacks, or no link at all but a
   * directory or a file put in its place.
   */
  async readCurrent(): Promise<CurrentLink> {
    let target: string;
    try {
      target = await readlink(this.currentLink);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { kind: "missing" };
      if (code !== "EINVAL") throw err;
      const st = await lstat(this.currentLink);
      return { kind: "invalid", reason: `${this.currentLink} is not a symlink but a ${st.isDirectory() ? "directory" : "file"}` };
    }
    const sha256 = path.basename(target);
    const release = await this.get(sha256);
    if (!release || path.resolve(this.#pluginDir, target) !== this.#releaseDir(sha256)) {
      return { kind: "invalid", target, reason: `${this.currentLink} -> ${target} is not a release of plugin ${this.plugin}` };
    }
    return { kind: "release", release, target };
  }

  /** The release `current` points to, or undefined when there is none; throws ReleaseError when it points elsewhere. */
  async current(): Promise<Release | undefined> {
    const state = await this.readCurrent();
    if (state.kind === "invalid") throw new ReleaseError(state.reason);
    return state.kind === "release" ? state.release : undefined;
  }

  /**
   * Points `current` at `release`: a new symlink renamed over the old one,
   * never a window without it. A directory someone put in the link's
   * place is moved aside (current.displaced-<hex>), not lost.
   */
  async activate(release: Release): Promise<void> {
    const temp = `${this.currentLink}.tmp-${randomBytes(4).toString("hex")}`;
    await symlink(path.join("releases", release.sha256), temp);
    try {
      await rename(temp, this.currentLink).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "EISDIR" && err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
        await rename(this.currentLink, `${this.currentLink}.displaced-${randomBytes(4).toString("hex")}`);
        await rename(temp, this.currentLink);
      });
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Records that `release` is about to be made current (or just was, by
   * another tool) and has not served yet, with the release that serves
   * meanwhile: if the supervisor dies before endTrial(), its next start
   * puts `current` back to that one (recoverTrial). A release that never
   * served never replaces one that did, not even across a crash.
   */
  async beginTrial(release: string, restore: string | undefined, { imported = false }: { imported?: boolean } = {}): Promise<void> {
    await mkdir(this.#pluginDir, { recursive: true });
    await this.#replace(TRIAL_FILE, `${JSON.stringify({ release, ...(restore !== undefined && { restore }), ...(imported && { imported }) })}\n`);
  }

  /**
   * Replaces the plugin's file `name` whole (a temporary file renamed over
   * it): a crash or a full disk leaves the old content, never an empty
   * file, which for `seed` would have the next start seed the configured
   * binary over a deployed release.
   */
  async #replace(name: string, text: string): Promise<void> {
    const file = path.join(this.#pluginDir, name);
    const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      await writeFile(temp, text);
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** The release on trial served, or was given up and `current` put back. */
  async endTrial(): Promise<void> {
    await rm(path.join(this.#pluginDir, TRIAL_FILE), { force: true });
  }

  /**
   * At start, before anything else: a trial the last supervisor did not end
   * (it died while a release was coming in). If `current` still names that
   * release, it is put back to the one that served before it, unless the
   * history says it served: the supervisor died between recording that and
   * ending the trial.
   */
  async recoverTrial(): Promise<{ release: string; restored: string | undefined } | undefined> {
    const file = path.join(this.#pluginDir, TRIAL_FILE);
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    let trial: { release?: unknown; restore?: unknown; imported?: unknown } = {};
    try {
      trial = JSON.parse(text) as typeof trial;
    } catch {
      // torn by a crash mid-write: the link was not swapped yet
    }
    let restored: string | undefined;
    const current = await this.readCurrent().catch(() => undefined);
    const restore = typeof trial.restore === "string" ? await this.get(trial.restore) : undefined;
    const served = (await this.history()).at(-1)?.sha256 === trial.release;
    if (current?.kind === "release" && current.release.sha256 === trial.release && restore && !served) {
      await this.activate(restore);
      restored = restore.sha256;
    }
    // A release the deploy brought into the store, and that never served,
    // goes (wherever the deploy was cut: before the swap, or after the link
    // was put back), as the deploy would have removed it had it lived to see
    // it fail. discard() leaves it if it is current.
    if (trial.imported === true && typeof trial.release === "string" && !served) await this.discard(trial.release);
    await rm(file, { force: true });
    return typeof trial.release === "string" ? { release: trial.release, restored } : undefined;
  }

  /** Appends to the history: `sha256` has come into service. Releases that never served stay out of it. */
  async recordActivation(sha256: string, at = Date.now()): Promise<void> {
    const history = await this.history();
    if (history.at(-1)?.sha256 === sha256) return;
    await appendFile(path.join(this.#pluginDir, "history.jsonl"), `${JSON.stringify({ sha256, at })}\n`);
  }

  /**
   * Makes the configured binary the current release when it differs from the
   * one configured last time: at start, before anything serves. A release
   * deployed since (hot update) is kept across supervisor restarts as long
   * as the configured binary is unchanged. (A reload, where a release
   * serves, brings a new configured binary in through the deployer, and
   * records it with recordSeed once it serves.)
   */
  async seed(binary: string): Promise<Release> {
    const release = await this.import(binary);
    if (!(await this.isNewSeed(release))) return (await this.current())!;
    await this.activate(release);
    await this.recordActivation(release.sha256);
    await this.recordSeed(release);
    return release;
  }

  /** Whether `release` is not the configured binary of last time (or `current` names no release). */
  async isNewSeed(release: Release): Promise<boolean> {
    return (await this.lastSeed()) !== release.sha256 || (await this.readCurrent()).kind !== "release";
  }

  /** The configured binary's release as recorded at the last start or reload (recordSeed). */
  async lastSeed(): Promise<string | undefined> {
    const text = await readFile(path.join(this.#pluginDir, "seed"), "utf8").catch(() => "");
    return SHA256.test(text.trim()) ? text.trim() : undefined;
  }

  /** Records `release` as the configured binary, which seed() and isNewSeed() compare with; it is no longer refused. */
  async recordSeed(release: Release): Promise<void> {
    await this.#replace("seed", `${release.sha256}\n`);
    await rm(path.join(this.#pluginDir, REFUSED_SEED_FILE), { force: true });
  }

  /**
   * Records that a reload could not bring the configured binary `release`
   * into service: the next start keeps `current` rather than seeding it
   * untried (PluginSet), and the next reload tries it again.
   */
  async refuseSeed(release: Release): Promise<void> {
    await this.#replace(REFUSED_SEED_FILE, `${release.sha256}\n`);
  }

  /** The configured binary a reload last could not bring into service, if no seed was recorded since. */
  async refusedSeed(): Promise<string | undefined> {
    const text = await readFile(path.join(this.#pluginDir, REFUSED_SEED_FILE), "utf8").catch(() => "");
    return SHA256.test(text.trim()) ? text.trim() : undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
