// Where trips leave their evidence: goroutine dumps and pprof profiles under
// <state>/diagnostics/<plugin>/, named by time, instance and kind, with
// retention by count and size per plugin, and by size over all of them
// (those of plugins no longer configured too), so evidence cannot fill the
// disk: 256 MiB a plugin alone came to 125 GiB at 500 plugins.
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { replaceFile } from "../replace-file.ts";
import path from "node:path";

export interface Diagnostic {
  plugin: string;
  file: string;
  bytes: number;
  at: Date;
}

export interface RetentionLimits {
  /** The newest this many files of a plugin are kept, */
  filesPerPlugin: number;
  /** within this many bytes; */
  bytesPerPlugin: number;
  /** and of all plugins' files, the newest within this many bytes. */
  bytes: number;
}

export const DEFAULT_RETENTION: RetentionLimits = { filesPerPlugin: 50, bytesPerPlugin: 256 * 1024 ** 2, bytes: 1024 ** 3 };

export class DiagnosticsStore {
  readonly #dir: string;
  readonly #limits: RetentionLimits;
  /** Saves, one after another: a prune must not remove what another save is listing (saves are rare: trips and captures). */
  #saves: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string, limits: RetentionLimits = DEFAULT_RETENTION) {
    this.#dir = path.join(stateDir, "diagnostics");
    this.#limits = limits;
  }

  /** Stores one piece of evidence; returns its path. Older ones beyond the limits go. */
  save(plugin: string, instance: string, what: string, data: Buffer): Promise<string> {
    const saved = this.#saves.then(async () => {
      const dir = path.join(this.#dir, plugin);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${new Date().toISOString().replaceAll(":", "")}-${instance}-${what}`);
      await replaceFile(file, data, 0o600);
      await this.#prune();
      return file;
    });
    this.#saves = saved.catch(() => {});
    return saved;
  }

  /** Newest first. */
  async list(plugin: string): Promise<Diagnostic[]> {
    const dir = path.join(this.#dir, plugin);
    const names = await readdir(dir).catch(() => [] as string[]);
    const entries = await Promise.all(
      names
        .filter((n) => !n.endsWith(".tmp"))
        .map(async (name) => {
          // Gone meanwhile (pruned by a save): not listed.
          const s = await stat(path.join(dir, name)).catch(() => undefined);
          return s?.isFile() ? { plugin, file: path.join(dir, name), bytes: s.size, at: s.mtime } : undefined;
        }),
    );
    return entries.filter((e) => e !== undefined).sort((a, b) => b.file.localeCompare(a.file));
  }

  /**
   * Keeps, of every plugin's directory, its newest files within the
   * per-plugin limits, and of what that keeps, the newest within the
   * overall bytes: one listing for both.
   */
  async #prune(): Promise<void> {
    const plugins = await readdir(this.#dir).catch(() => [] as string[]);
    const entries = (await Promise.all(plugins.map((p) => this.list(p)))).flat();
    // Newest first by the time in the name, whatever the plugin.
    entries.sort((a, b) => path.basename(b.file).localeCompare(path.basename(a.file)));
    const perPlugin = new Map<string, { files: number; bytes: number }>();
    let kept = 0;
    for (const e of entries) {
      const own = perPlugin.get(e.plugin) ?? { files: 0, bytes: 0 };
      perPlugin.set(e.plugin, own);
      own.files += 1;
      own.bytes += e.bytes;
      const withinPlugin = own.files <= this.#limits.filesPerPlugin && own.bytes <= this.#limits.bytesPerPlugin;
      // Past the overall bytes once, every older file goes too.
      if (withinPlugin && kept <= this.#limits.bytes) kept += e.bytes;
      if (!withinPlugin || kept > this.#limits.bytes) await rm(e.file, { force: true });
    }
  }
}
