// Moves one plugin from release to release (DESIGN.md §7): `corralctl
// deploy` and `rollback`, and swaps of `current` made by other tools, all
// through one queue, so concurrent deploys happen one after the other. Each
// makes the release current, has the controller bring it into service, and,
// when it does not become ready, puts `current` back to the release that
// serves and reports why. A bad release never replaces a serving one.
import type { Logger } from "../log.ts";
import { UpdateFailed, type UpdateResult } from "../plugin/controller.ts";
import type { PluginState } from "../plugin/lifecycle.ts";
import type { CurrentChange } from "./current-watch.ts";
import { contentHash } from "./objects.ts";
import { stageBinary } from "./stage.ts";
import { ReleaseError, type Release, type ReleaseStore } from "./store.ts";

/** What the deployer needs of the plugin's controller. */
export interface Updatable {
  readonly state: PluginState;
  /** The release the serving instance runs, if one serves. */
  readonly servingRelease: string | undefined;
  /** `onServing` is called once the new instance takes the calls, before the old one drains. */
  update(release: string, onServing?: () => Promise<void>): Promise<UpdateResult>;
  /** Puts a new config in force: a new instance of the serving release (also of one still starting), through the hot-update path. */
  applyConfig(): Promise<UpdateResult>;
}

export interface DeployOutcome extends UpdateResult {
  durationMs: number;
}

export class Deployer {
  readonly #store: ReleaseStore;
  readonly #plugin: Updatable;
  /** Releases kept for rollback besides the current and serving ones (a reload may change it). */
  keep: number;
  readonly #log: Logger;
  readonly #onFailure: (message: string) => void;
  readonly #onDeployed: (message: string) => void;
  readonly #onRestarted: (message: string) => void;
  #queue: Promise<unknown> = Promise.resolve();
  /** Deploys, rollbacks and reloads queued or under way. */
  #queued = 0;
  #closed = false;
  /**
   * The release this deployer last made `current` name, or last acted on
   * when another tool did: the watch's report of it is only its echo (seen
   * after a deploy whose release has crashed since, it would start that
   * release again at once, skipping the crash's backoff).
   */
  #known: string | undefined;
  readonly #readers: { allocate(): number; release(uid: number): void };

  constructor(options: {
    store: ReleaseStore;
    plugin: Updatable;
    keep: number;
    log: Logger;
    /** A release came into service (what, and what it replaced). */
    onDeployed?: (message: string) => void;
    /** The serving release was restarted under a reloaded config: no release changed. */
    onRestarted?: (message: string) => void;
    /** A release did not come into service (why, and what keeps serving). */
    onFailure?: (message: string) => void;
    /** What `current` names as the deployer takes over (the watch may still report its making). */
    current?: string;
    /** Ids to read another admin's binary as (sandbox uids not in use: they own nothing). */
    readers: { allocate(): number; release(uid: number): void };
  }) {
    this.#store = options.store;
    this.#plugin = options.plugin;
    this.keep = options.keep;
    this.#log = options.log.child({ plugin: options.store.plugin });
    this.#onFailure = options.onFailure ?? (() => {});
    this.#onDeployed = options.onDeployed ?? (() => {});
    this.#onRestarted = options.onRestarted ?? (() => {});
    this.#known = options.current;
    this.#readers = options.readers;
  }

  /**
   * A config reload: the configured `binary` comes into service if it is
   * new since the last reload or start (a release deployed since is kept
   * otherwise); else, with `restart`, the serving release is restarted under
   * the new config (see Updatable.applyConfig). Both through the hot-update
   * path. A new binary counts as configured once it serves: one that fails
   * is tried again by the next reload, and stays out of the history.
   */
  reload(binary: string, restart: boolean, config?: { apply(): void; revert(): void }): Promise<DeployOutcome> {
    return this.#serialized({}, async () => {
      config?.apply();
      try {
        return await this.#reload(binary, restart);
      } catch (err) {
        config?.revert();
        throw err;
      }
    });
  }

  async #reload(binary: string, restart: boolean): Promise<DeployOutcome> {
    const started = Date.now();
    const configured = await this.#store.import(binary);
    const serving = this.#plugin.servingRelease;
    if (await this.#store.isNewSeed(configured)) {
      if (configured.sha256 !== serving && this.#plugin.state === "stopped") {
        // As at the supervisor's start: current, and run by the plugin's
        // next start. (A deploy into a stopped plugin is refused, its
        // release untried; here the operator's config names the binary.)
        const previous = (await this.#store.current().catch(() => undefined))?.sha256 ?? "";
        await this.#activate(configured);
        await this.#store.recordActivation(configured.sha256);
        await this.#recordSeed(configured);
        this.#log.info({ release: configured.sha256 }, "the configured binary is current: the plugin is stopped, and its next start runs it");
        return { changed: true, release: configured.sha256, previous, instance: "", durationMs: Date.now() - started };
      }
      if (configured.sha256 !== serving) {
        // As a deploy: tried at once, also when nothing serves (a plugin
        // starting or backing off runs it next).
        let outcome: DeployOutcome;
        try {
          outcome = await this.#switchTo(configured);
        } catch (err) {
          // Not seeded untried by the next start either (PluginSet).
          await this.#store.refuseSeed(configured).catch((e: Error) => this.#log.error({ err: e.message }, "recording the configured binary as refused failed"));
          throw err;
        }
        await this.#recordSeed(configured);
        return outcome;
      }
      await this.#recordSeed(configured);
    }
    const release = (await this.#store.current()) ?? configured;
    const unchanged = { changed: false, release: release.sha256, previous: serving ?? "", instance: "", durationMs: 0 };
    if (!restart) return unchanged;
    // Also when nothing serves: an instance may be starting, or paused, under the old config.
    const result = await this.#plugin.applyConfig();
    if (!result.changed) return unchanged;
    this.#onRestarted(`restarted under the reloaded config: instance ${result.instance} replaces the one of release ${result.previous.slice(0, 12)}`);
    return { ...result, durationMs: Date.now() - started };
  }

  /**
   * Records the configured binary as seeded. Its release is in force by
   * then: a failure (a full disk) is reported and undoes nothing; the next
   * start, finding no record, seeds what is current already.
   */
  async #recordSeed(configured: Release): Promise<void> {
    await this.#store.recordSeed(configured).catch((err: Error) => {
      const message = `release ${configured.sha256.slice(0, 12)} of plugin ${this.#store.plugin} is in force, but recording it as the configured binary (its seed file) failed: ${err.message}`;
      this.#log.error({ release: configured.sha256, err: err.message }, message);
      this.#onFailure(message);
    });
  }

  /**
   * Imports `binary` (read once, checked, hashed, copied), makes it
   * current and brings it into service. A release this deploy imported and
   * that never served is removed again. With `readableByAll` (a caller
   * other than root), only a binary every user may read is taken. With
   * `cancelled` aborted (its caller gave up) before `current` is touched,
   * the deploy is dropped; from then on it goes on to its end.
   */
  deploy(binary: string, options: { readableByAll?: boolean; cancelled?: AbortSignal } = {}): Promise<DeployOutcome> {
    return this.#serialized({ what: "deploy", about: { binary }, cancelled: options.cancelled }, async () => {
      const uid = options.readableByAll === false ? undefined : this.#readers.allocate();
      let staged: { path: string; discard(): Promise<void> };
      try {
        staged = await stageBinary(binary, this.#store.stagingDir, uid === undefined ? {} : { reader: { uid } });
      } finally {
        if (uid !== undefined) this.#readers.release(uid);
      }
      let release: Release;
      let imported: boolean;
      try {
        imported = (await this.#store.get(await contentHash(staged.path))) === undefined;
        release = await this.#store.import(staged.path, { staged: true });
      } finally {
        await staged.discard();
      }
      if (options.cancelled?.aborted) {
        if (imported) await this.#store.discard(release.sha256);
        throw dropped("deploy", this.#store.plugin);
      }
      this.#log.info({ binary, release: release.sha256 }, "deploying");
      try {
        return await this.#switchTo(release, { imported });
      } catch (err) {
        if (imported) await this.#store.discard(release.sha256);
        throw err;
      }
    });
  }

  /** Makes `prefix`'s release (default: the one current before the current one) current again; dropped, as a deploy, if `cancelled` before it begins. */
  rollback(prefix?: string, options: { cancelled?: AbortSignal } = {}): Promise<DeployOutcome> {
    return this.#serialized({ what: "rollback", about: { release: prefix ?? "previous" }, cancelled: options.cancelled }, async () => {
      let release: Release;
      if (prefix) release = await this.#store.resolve(prefix);
      else {
        const current = await this.#store.current();
        const previous = current && (await this.#store.previous(current.sha256));
        if (!previous) throw new ReleaseError(`plugin ${this.#store.plugin} has no earlier release to roll back to`);
        release = previous;
      }
      this.#log.info({ release: release.sha256 }, "rolling back");
      return this.#switchTo(release);
    });
  }

  /** A swap of `current` seen by the watch (often one the deployer made itself: then there is nothing to do). */
  onCurrentChange(change: CurrentChange): Promise<void> {
    return this.#serialized({}, async () => {
      const serving = this.#plugin.servingRelease;
      // Events queue behind deploys; act only on what the link says now (a
      // failed deploy's link has been put back by the time its event is seen).
      const now = await this.#store.readCurrent().catch((err: Error) => ({ kind: "invalid" as const, reason: err.message }));
      if (change.kind === "invalid" ? now.kind === "release" : now.kind !== "release" || now.release.sha256 !== change.release.sha256) return;
      if (change.kind === "invalid") {
        // What serves; with nothing serving (crashed, backing off), what the
        // link named before, else the release that served last: the next
        // start needs a release to run.
        const restore = await this.#firstInStore([serving, this.#known, () => this.#lastServed("")]);
        try {
          if (restore) await this.#activate(restore);
        } catch (err) {
          const message = `${change.reason}; putting back the link to release ${restore!.sha256.slice(0, 12)} failed: ${(err as Error).message}`;
          this.#log.error({ target: change.target }, message);
          this.#onFailure(message);
          return;
        }
        const what = !restore ? "no release to put back" : restore.sha256 === serving ? "which keeps serving" : "which nothing serves now";
        const message = `${change.reason}; ${restore ? `put back to release ${restore.sha256.slice(0, 12)}, ${what}` : what}`;
        this.#log.error({ target: change.target }, message);
        this.#onFailure(message);
        return;
      }
      if (change.release.sha256 === serving || change.release.sha256 === this.#known) return;
      // Put back if it does not come in: what serves, else what `current`
      // named before the swap (what the deployer last made it name or saw).
      const restore = (await this.#firstInStore([serving, this.#known, () => this.#lastServed(change.release.sha256)]))?.sha256;
      this.#known = change.release.sha256;
      this.#log.info({ release: change.release.sha256 }, "current release link swapped; updating");
      await this.#store.beginTrial(change.release.sha256, restore);
      await this.#bringIn(change.release, Date.now(), restore).catch(() => {}); // reported in #bringIn
    });
  }

  /** `imported`: this deploy brought the release into the store (a crash before it serves removes it again: recoverTrial). */
  async #switchTo(release: Release, { imported = false }: { imported?: boolean } = {}): Promise<DeployOutcome> {
    const started = Date.now();
    const serving = this.#plugin.servingRelease;
    // Put back if it does not come into service: the release that serves,
    // or when none does (a plugin starting, backing off, crashed), the one
    // `current` names now, which it would run next (the release itself, for
    // a deploy of what is current: nothing to put back).
    let restore = serving;
    if (restore === undefined) {
      const now = await this.#store.current().catch(() => undefined);
      restore = now?.sha256 ?? (await this.#lastServed(release.sha256));
    }
    if (release.sha256 !== serving) await this.#store.beginTrial(release.sha256, restore, { imported });
    try {
      await this.#activate(release);
    } catch (err) {
      await this.#store.endTrial();
      throw err;
    }
    return this.#bringIn(release, started, restore);
  }

  /** The release that last came into service, other than `except`, if the store still has it. */
  /** The first of `candidates` (hashes, or lookups of one, tried in turn) that the store has. */
  async #firstInStore(candidates: Array<string | undefined | (() => Promise<string | undefined>)>): Promise<Release | undefined> {
    for (const candidate of candidates) {
      const sha256 = typeof candidate === "function" ? await candidate() : candidate;
      const release = sha256 === undefined ? undefined : await this.#store.get(sha256);
      if (release) return release;
    }
    return undefined;
  }

  async #lastServed(except: string): Promise<string | undefined> {
    const history = await this.#store.history().catch(() => []);
    for (const entry of history.toReversed()) {
      if (entry.sha256 !== except && (await this.#store.get(entry.sha256))) return entry.sha256;
    }
    return undefined;
  }

  /**
   * Brings the current release `release` (on trial, unless it serves
   * already) into service; if it does not come in, `restore` is made
   * current again.
   */
  async #bringIn(release: Release, started: number, restore: string | undefined): Promise<DeployOutcome> {
    const before = this.#plugin.servingRelease;
    // In the history (and off trial) as soon as it takes the calls: a
    // supervisor that dies while the old instance drains leaves it current.
    const served = async () => {
      await this.#store.recordActivation(release.sha256);
      await this.#store.endTrial();
    };
    let result: UpdateResult;
    try {
      await this.#store.verify(release);
      result = await this.#plugin.update(release.sha256, () =>
        served().catch((err: Error) => this.#log.error({ release: release.sha256, err: err.message }, "recording the release in service failed")),
      );
      // Stopped meanwhile (a stop, or the supervisor's): it never served,
      // and the release that did stays current.
      if (before !== undefined && result.instance === "") {
        throw new UpdateFailed(`plugin ${this.#store.plugin} was stopped before the release came into service`);
      }
    } catch (err) {
      throw await this.#notDeployed(release, restore, err as Error);
    }
    // In service: what is left is bookkeeping, whose failure (a full disk)
    // must undo nothing.
    try {
      await served();
      const removed = await this.#store.prune(this.keep, [release.sha256, ...(before ? [before] : [])]);
      if (removed.length > 0) this.#log.info({ removed }, "removed old releases beyond the retention");
    } catch (err) {
      const message = `release ${release.sha256.slice(0, 12)} of plugin ${this.#store.plugin} is current, but recording it failed: ${(err as Error).message}`;
      this.#log.error({ release: release.sha256 }, message);
      this.#onFailure(message);
    }
    this.#log.info({ release: result.release, previous: result.previous, instance: result.instance, changed: result.changed }, "release in service");
    if (result.changed) this.#onDeployed(`release ${result.release.slice(0, 12)} serves (instance ${result.instance}), replacing ${result.previous.slice(0, 12) || "none"}`);
    return { ...result, durationMs: Date.now() - started };
  }

  /** Puts `restore` back (unless someone made yet another release current meanwhile), reports, and returns the error to throw. */
  async #notDeployed(release: Release, restore: string | undefined, err: Error): Promise<Error> {
    const current = await this.#store.current().catch(() => undefined);
    const back = restore && restore !== release.sha256 ? await this.#store.get(restore) : undefined;
    if (back && current?.sha256 === release.sha256) await this.#activate(back);
    await this.#store.endTrial();
    const serving = this.#plugin.servingRelease;
    const after = !back ? "" : serving === back.sha256 ? `; ${back.sha256.slice(0, 12)} keeps serving` : `; current is ${back.sha256.slice(0, 12)} again`;
    const reported = `release ${release.sha256.slice(0, 12)} of plugin ${this.#store.plugin} was not deployed: ${err.message}${after}`;
    this.#log.error({ release: release.sha256, restored: back?.sha256 }, reported);
    this.#onFailure(reported);
    return err instanceof UpdateFailed || err instanceof ReleaseError ? new UpdateFailed(reported) : err;
  }

  async #activate(release: Release): Promise<void> {
    await this.#store.activate(release);
    this.#known = release.sha256;
  }

  /**
   * Refuses what is queued and not begun (the supervisor stops, or the
   * plugin is removed), and settles when what had begun is over: its
   * release in service, or put back once the plugin's stop refused it.
   */
  close(): Promise<unknown> {
    this.#closed = true;
    return this.#queue;
  }

  /**
   * Runs `work` after what is queued; not at all if the deployer closed, or
   * `cancelled` was aborted, meanwhile. A deploy or rollback (`what`, which
   * `about` names in the log) that has to wait says so, for whoever wonders
   * why it has not begun; a reload or the watch's echo of a deploy's own
   * swap waits as a matter of course, unsaid.
   */
  #serialized<T>(op: { what?: "deploy" | "rollback"; about?: Record<string, string>; cancelled?: AbortSignal }, work: () => Promise<T>): Promise<T> {
    const { what, about, cancelled } = op;
    if (this.#queued > 0 && what) this.#log.info({ ...about, ahead: this.#queued }, `the ${what} of plugin ${this.#store.plugin} waits behind another`);
    this.#queued++;
    const next = this.#queue.then(() => {
      if (this.#closed) throw new UpdateFailed(`plugin ${this.#store.plugin} is going away (the supervisor stops, or the plugin was removed); nothing was changed`);
      if (cancelled?.aborted) throw dropped(what ?? "deploy", this.#store.plugin);
      return work();
    });
    this.#queue = next.catch(() => {}).finally(() => this.#queued--);
    return next;
  }
}

/** A deploy or rollback whose caller gave up before it changed anything. */
function dropped(what: "deploy" | "rollback", plugin: string): UpdateFailed {
  return new UpdateFailed(`the ${what} of plugin ${plugin} was cancelled by its caller before it began; nothing was changed`);
}
