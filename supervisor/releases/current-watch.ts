// Watches a plugin's `current` link for swaps made by any tool (corralctl
// deploy, or an operator's `mv -T`, or a careless `ln -sfn`), and reports
// the release it settles on. Events are debounced, then confirmed with
// readlink: `ln -sfn` removes the link and creates a new one, so for a
// moment there is none, and a burst of events must not start a burst of
// updates. What the link finally names is checked against the store; a
// link to nothing the store holds is reported as such, never acted on.
//
// Every settled change is reported, also one back to what the link named
// before: a tool that puts `current` back within the debounce of a
// deploy's own swap must be heard, or the deploy's release would serve
// while `current` names another. The deployer drops what already serves.
import { watch, type FSWatcher } from "chokidar";
import path from "node:path";
import type { Logger } from "../log.ts";
import type { CurrentLink, Release, ReleaseStore } from "./store.ts";

export type CurrentChange =
  | { kind: "release"; release: Release }
  /** The link is missing, or names something that is not a release of the store. */
  | { kind: "invalid"; target: string | undefined; reason: string };

export class CurrentWatch {
  readonly #store: ReleaseStore;
  readonly #debounceMs: number;
  readonly #onChange: (change: CurrentChange) => void;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(store: ReleaseStore, options: { debounceMs: number; onChange: (change: CurrentChange) => void; log: Logger }) {
    this.#store = store;
    this.#debounceMs = options.debounceMs;
    this.#onChange = options.onChange;
    this.#log = options.log;
  }

  /**
   * Starts watching. `onChange` is called after the link has changed and
   * then been still for `debounceMs`, with what it names then.
   */
  static async start(store: ReleaseStore, options: { debounceMs?: number; onChange: (change: CurrentChange) => void; log: Logger }): Promise<CurrentWatch> {
    const w = new CurrentWatch(store, { debounceMs: options.debounceMs ?? 100, onChange: options.onChange, log: options.log });
    // The directory, not the link: a link replaced by rename(2) is a new
    // inode, which a watch on the old one would never see.
    const watcher = watch(store.directory, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (file) => file !== store.directory && path.basename(file) !== "current",
    });
    w.#watcher = watcher;
    watcher.on("all", () => w.#schedule());
    // chokidar stats what changed and drops a link to nothing (ENOENT); the
    // raw inotify event still says the link changed, and readlink decides.
    watcher.on("raw", (_event, file) => {
      if (path.basename(String(file)) === "current") w.#schedule();
    });
    watcher.on("error", (err) => options.log.error({ plugin: store.plugin, err: (err as Error).message }, "watching the current release link failed"));
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
    return w;
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#confirm(), this.#debounceMs);
  }

  async #confirm(): Promise<void> {
    this.#timer = undefined;
    const now = await this.#store.readCurrent().catch(readFailed);
    if (this.#closed) return;
    if (now.kind === "missing") {
      this.#onChange({ kind: "invalid", target: undefined, reason: `${this.#store.currentLink} is missing` });
      return;
    }
    if (now.kind === "invalid") {
      this.#onChange({ kind: "invalid", target: now.target, reason: now.reason });
      return;
    }
    this.#log.debug({ plugin: this.#store.plugin, release: now.release.sha256 }, "current release link changed");
    this.#onChange({ kind: "release", release: now.release });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#watcher?.close();
  }
}

function readFailed(err: Error): CurrentLink {
  return { kind: "invalid", reason: err.message };
}
