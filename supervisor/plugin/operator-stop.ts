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
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { replaceAtomically, syncDir } from "../identity/files.ts";

export class OperatorStop {
  readonly #file: string;
  /** When an operator stopped the plugin, if the stop is in force. */
  #at: number | undefined;
  /** Who: the admin identity that asked ("" if unknown). */
  #by = "";

  private constructor(file: string, at: number | undefined, by = "") {
    this.#file = file;
    this.#at = at;
    this.#by = by;
  }

  /** The plugin's record, as the state directory has it. One that cannot be read is a stop at an unknown time (0). */
  static async open(stateDir: string, plugin: string): Promise<OperatorStop> {
    const file = path.join(stateDir, "plugins", plugin, "stopped");
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw new Error(`reading ${file}: ${err.message}`, { cause: err });
    });
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
