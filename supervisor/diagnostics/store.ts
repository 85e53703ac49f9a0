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

  constructor(stateDir: string, limits: RetentionLimits = { files: 50, bytes: 256 * 1024 * 1024 }) {
    this.#dir = path.join(stateDir, "diagnostics");
    this.#limits = limits;
  }

  /** Stores one piece of evidence; returns its path. Older ones beyond the limits go. */
  async save(plugin: string, instance: string, what: string, data: Buffer): Promise<string> {
    const dir = path.join(this.#dir, plugin);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${new Date().toISOString().replaceAll(":", "")}-${instance}-${what}`);
    await replaceFile(file, data, 0o600);
    await this.#prune(dir);
    return file;
  }

  /** Newest first. */
  async list(plugin: string): Promise<Diagnostic[]> {
    const dir = path.join(this.#dir, plugin);
    const names = await readdir(dir).catch(() => [] as string[]);
    const entries = await Promise.all(
      names
        .filter((n) => !n.endsWith(".tmp"))
        .map(async (name) => {
          const s = await stat(path.join(dir, name));
          return { plugin, file: path.join(dir, name), bytes: s.size, at: s.mtime };
        }),
    );
    return entries.sort((a, b) => b.file.localeCompare(a.file));
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
