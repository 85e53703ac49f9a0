// An operator's stop of a plugin (corralctl stop), kept in the state
// directory until an operator starts the plugin again. The supervisor's next
// start (after a crash, a restart of its unit, a reboot) leaves the plugin
// stopped: it started every plugin of its config again, one an operator had
// stopped because it did harm among them.
//
// <stateDir>/plugins/<name>/stopped holds {"at": <ms since the epoch>,
// "by": <the admin identity that asked>},
// written durably. Starting the plugin removes it, and so does the plugin's
// removal from the config or its addition by a reload (a plugin added anew
// runs). The supervisor's own stops, at its end, record nothing.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { replaceAtomically, syncDir } from "../identity/files.ts";

/** An operator's stop or start was carried out, but its record could not be written or removed. */
export class OperatorRecordFailed extends Error {}

export class OperatorStop {
  readonly #file: string;
  /** When an operator stopped the plugin, if the stop is in force. */
  #at: number | undefined;
  /** Who: the admin identity that asked ("" if unknown). */
  #by = "";
  /** Why the record could not be read, when it could not. */
  unreadable: string | undefined;

  private constructor(file: string, at: number | undefined, by = "") {
    this.#file = file;
    this.#at = at;
    this.#by = by;
  }

  /**
   * The plugin's record, as the state directory has it. One that cannot be
   * read, or parsed, is a stop at an unknown time (0): kept stopped, which
   * is what its writer asked for; `unreadable` says why.
   */
  static async open(stateDir: string, plugin: string): Promise<OperatorStop> {
    const file = path.join(stateDir, "plugins", plugin, "stopped");
    let unreadable: string | undefined;
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") unreadable = `${file}: ${err.message}`;
      return undefined;
    });
    if (unreadable !== undefined) {
      const stop = new OperatorStop(file, 0);
      stop.unreadable = unreadable;
      return stop;
    }
    if (text === undefined) return new OperatorStop(file, undefined);
    const record = (() => {
      try {
        return JSON.parse(text) as { at?: unknown; by?: unknown };
      } catch {
        return {};
      }
    })();
    const at = typeof record.at === "number" && Number.isFinite(record.at) ? record.at : 0;
    // Shown in a status: a name of a certificate's, not any text the file holds.
    const by = typeof record.by === "string" && /^spiffe:\/\/[A-Za-z0-9.-]+\/admin\/[A-Za-z0-9._-]+$/.test(record.by) ? record.by : "";
    return new OperatorStop(file, at, by);
  }

  /** When an operator stopped the plugin (0: unknown), or undefined if no stop is in force. */
  get at(): number | undefined {
    return this.#at;
  }

  /** Records the stop, `by` the admin identity that asked for it. */
  async record(by: string, at = Date.now()): Promise<void> {
    await mkdir(path.dirname(this.#file), { recursive: true });
    await replaceAtomically(this.#file, `${JSON.stringify({ at, by })}\n`, 0o644);
    this.#at = at;
    this.#by = by;
  }

  async clear(): Promise<void> {
    if (this.#at === undefined) return;
    await rm(this.#file, { force: true });
    await syncDir(path.dirname(this.#file)).catch(() => {}); // the directory may be gone with the plugin's state
    this.#at = undefined;
  }

  /** The stop as a stopped plugin's reason ("greeter: stopped: by an operator at …"). */
  reason(plugin: string): string {
    const when = this.#at ? ` at ${new Date(this.#at).toISOString()}` : "";
    const who = this.#by ? ` (${this.#by})` : "";
    return `by an operator${who}${when}; kept stopped across restarts of the supervisor until corralctl start ${plugin}`;
  }
}

/**
 * Forgets the recorded stops of plugins no longer in the config (`kept`
 * are): removed from the file while the supervisor was down, and added
 * back one day, a plugin runs, as after a reload's removal. Returns their
 * names.
 */
export async function forgetStopsOfRemoved(stateDir: string, kept: Iterable<string>): Promise<string[]> {
  const configured = new Set(kept);
  const forgotten: string[] = [];
  for (const plugin of await readdir(path.join(stateDir, "plugins")).catch(() => [] as string[])) {
    if (configured.has(plugin)) continue;
    const file = path.join(stateDir, "plugins", plugin, "stopped");
    if (!existsSync(file)) continue;
    await rm(file, { force: true });
    forgotten.push(plugin);
  }
  return forgotten;
}
