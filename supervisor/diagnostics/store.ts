// Where trips leave their evidence: goroutine dumps and pprof profiles under
// <state>/diagnostics/<plugin>/, named by time, instance and kind, with
// retention by count and size per plugin so evidence cannot fill the disk.
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
  files: number;
  bytes: number;
}

export class DiagnosticsStore {
  readonly #dir: string;
  readonly #limits: RetentionLimits;
  /** Each plugin's saves, one after another: a prune must not remove what another save is listing. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(stateDir: string, limits: RetentionLimits = { files: 50, bytes: 256 * 1024 * 1024 }) {
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
      if (i >= this.#limits.files || bytes > this.#limits.bytes) await rm(e.file, { force: true });
    }
  }
}
