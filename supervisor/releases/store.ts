// The release store (DESIGN.md §7): every binary a plugin ever ran, named by
// its content hash, and a `current` symlink replaced atomically.
//
//   <state>/plugins/<name>/releases/<sha256>/plugin
//   <state>/plugins/<name>/current -> releases/<sha256>
//
// A release directory is written under a temporary name and renamed into
// place, so a release that exists is complete.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";

export interface Release {
  /** Hex sha256 of the binary: the release's name. */
  sha256: string;
  /** Absolute path of the binary inside the store. */
  binary: string;
}

export class ReleaseStore {
  readonly #pluginDir: string;

  constructor(stateDir: string, plugin: string) {
    this.#pluginDir = path.join(stateDir, "plugins", plugin);
  }

  get currentLink(): string {
    return path.join(this.#pluginDir, "current");
  }

  /** Copies `binary` into the store (if not there yet) and returns the release. */
  async import(binary: string): Promise<Release> {
    const sha256 = await hashFile(binary);
    const dir = path.join(this.#pluginDir, "releases", sha256);
    const release = { sha256, binary: path.join(dir, "plugin") };
    if (await exists(release.binary)) return release;
    const staging = `${dir}.tmp-${randomBytes(4).toString("hex")}`;
    await mkdir(staging, { recursive: true, mode: 0o755 });
    try {
      await copyFile(binary, path.join(staging, "plugin"));
      await chmod(path.join(staging, "plugin"), 0o555);
      if ((await hashFile(path.join(staging, "plugin"))) !== sha256) {
        throw new Error(`${binary} changed while it was being imported`);
      }
      await rename(staging, dir);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (await exists(release.binary)) return release; // imported concurrently
      throw err;
    }
    return release;
  }

  /** The release `current` points to, or undefined when there is none. */
  async current(): Promise<Release | undefined> {
    let target: string;
    try {
      target = await readlink(this.currentLink);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    const sha256 = path.basename(target);
    return { sha256, binary: path.join(this.#pluginDir, "releases", sha256, "plugin") };
  }

  /** Points `current` at `release`: a new symlink renamed over the old one, never a window without it. */
  async activate(release: Release): Promise<void> {
    const temp = `${this.currentLink}.tmp-${randomBytes(4).toString("hex")}`;
    await symlink(path.join("releases", release.sha256), temp);
    try {
      await rename(temp, this.currentLink);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Makes the configured binary the current release when it differs from the
   * one configured last time. A release deployed since (hot update) is kept
   * across supervisor restarts as long as the configured binary is unchanged.
   */
  async seed(binary: string): Promise<Release> {
    const release = await this.import(binary);
    const seedFile = path.join(this.#pluginDir, "seed");
    const lastSeed = await readFile(seedFile, "utf8").catch(() => "");
    const current = await this.current();
    if (lastSeed.trim() !== release.sha256 || current === undefined) {
      await this.activate(release);
      await writeFile(seedFile, `${release.sha256}\n`);
      return release;
    }
    return current;
  }
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
