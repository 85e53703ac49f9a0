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
  /** Each plugin's saves, one after another: a prune must not remove what another save is listing. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** The prunes over all plugins, one after another. */
  #overall: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string, limits: RetentionLimits = DEFAULT_RETENTION) {
    this.#dir = path.join(stateDir, "diagnostics");
    this.#limits = limits;
  }

  /** Stores one piece of evidence; returns its path. Older ones beyond the limits go. */
  save(plugin: string, instance: string, what: string, data: Buffer): Promise<string> {
    const saved = (this.#queues.get(plugin) ?? Promise.resolve()).then(async () => {
      const dir = path.join(this.#dir, plugin);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${new Date().toISOString().replaceAll(":", "")}-${instance}-${what}`);
      await replaceFile(file, data, 0o600);
      await this.#prune(dir);
      await this.#pruneOverall();
      return file;
    });
    const queued = saved.catch(() => {});
    this.#queues.set(plugin, queued);
    void queued.then(() => {
      if (this.#queues.get(plugin) === queued) this.#queues.delete(plugin);
    });
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
          return s && { plugin, file: path.join(dir, name), bytes: s.size, at: s.mtime };
        }),
    );
    return entries.filter((e) => e !== undefined).sort((a, b) => b.file.localeCompare(a.file));
  }

  async #prune(dir: string): Promise<void> {
    const entries = await this.list(path.basename(dir));
    let bytes = 0;
    for (const [i, e] of entries.entries()) {
      bytes += e.bytes;
      if (i >= this.#limits.filesPerPlugin || bytes > this.#limits.bytesPerPlugin) await rm(e.file, { force: true });
    }
  }

  /** Keeps the newest files of every plugin's directory within the overall bytes. */
  #pruneOverall(): Promise<void> {
    const pruned = this.#overall.then(async () => {
      const plugins = await readdir(this.#dir).catch(() => [] as string[]);
      const entries = (await Promise.all(plugins.map((p) => this.list(p)))).flat();
      // Newest first by the time in the name, whatever the plugin.
      entries.sort((a, b) => path.basename(b.file).localeCompare(path.basename(a.file)));
      let bytes = 0;
      for (const e of entries) {
        bytes += e.bytes;
        if (bytes > this.#limits.bytes) await rm(e.file, { force: true });
      }
    });
    this.#overall = pruned.catch(() => {});
    return pruned;
  }
}
