// Which release a plugin starts with when the supervisor starts (DESIGN.md
// §7): a deploy or reload the last supervisor died in is undone first (its
// release never served); then the configured binary becomes current if it
// is new since the last start, unless a reload already found it would not
// serve (that one, or the one on trial, is tried again by the next reload,
// not brought in untried). A `current` that names no release (removed, or
// swapped to something else while no supervisor watched) is put back to the
// last release that served, unless the configured binary changed. What the operator must hear of it comes back as
// notices, for the caller to raise and tell.
import type { Logger } from "../log.ts";
import type { Release, ReleaseStore } from "./store.ts";

export interface ReleaseAtStart {
  /** What `current` names now; undefined if the binary could not be imported (importError says why). */
  release: Release | undefined;
  importError?: Error;
  /** Why a release did not come into service as configured: each an update-failed alert. */
  refusals: string[];
  /** The configured binary replaced what was current, bypassing a deploy's gate: a deploy event. */
  replaced?: string;
}

export async function releaseAtStart(store: ReleaseStore, binary: string, log: Logger): Promise<ReleaseAtStart> {
  const trial = await store.recoverTrial().catch((err: Error) => {
    log.error({ err: err.message }, "cannot read the release on trial");
    return undefined;
  });
  // What current names once the trial is undone (or was, before the supervisor died).
  const current = await store.current().catch(() => undefined);
  const served = trial && current !== undefined && current.sha256 !== trial.release ? current : undefined;
  const result: ReleaseAtStart = { release: undefined, refusals: [] };
  let untried = false;
  try {
    const configured = await store.import(binary);
    const broken = await brokenCurrent(store);
    if (broken !== undefined && (await store.lastSeed()) === configured.sha256) {
      // The configured binary is as at the last start: a release deployed
      // since may have served, and would be lost to the configured binary
      // unsaid. The last release that served comes back, as the running
      // watch puts back a link swapped to nothing.
      const last = await store.lastServed();
      if (last) {
        await store.activate(last);
        result.release = last;
        result.refusals.push(`${broken} when the supervisor started; it is put back to release ${last.sha256.slice(0, 12)}, the last that served`);
        return result;
      }
    }
    untried = served !== undefined && configured.sha256 === trial?.release;
    // A configured binary the last reload could not bring into service.
    const refused = !untried && current !== undefined && configured.sha256 !== current.sha256 && (await store.refusedSeed()) === configured.sha256;
    result.release = untried || refused ? current : await store.seed(binary);
    if (refused) {
      result.refusals.push(
        `the configured binary (release ${configured.sha256.slice(0, 12)}) did not come into service at the last reload; ` +
          `current stays on ${current.sha256.slice(0, 12)}, and the next reload tries the configured binary again`,
      );
    }
    if (result.release && current && !trial && result.release.sha256 !== current.sha256) {
      result.replaced = `the configured binary changed since the last start: its release ${result.release.sha256.slice(0, 12)} replaces ${current.sha256.slice(0, 12)}, which was current`;
    }
  } catch (err) {
    result.importError = err as Error;
  }
  if (trial) {
    result.refusals.unshift(
      `release ${trial.release.slice(0, 12)} was coming into service when the supervisor stopped, and never served; ` +
        (served ? `current is on ${served.sha256.slice(0, 12)}, which did` : "nothing served before it") +
        (untried ? "; the configured binary is tried again at the next reload" : ""),
    );
  }
  return result;
}

/** What is wrong with `current`, if it names no release of the store. */
async function brokenCurrent(store: ReleaseStore): Promise<string | undefined> {
  const state = await store.readCurrent().catch((err: Error) => ({ kind: "invalid" as const, reason: `${store.currentLink} cannot be read: ${err.message}` }));
  if (state.kind === "missing") return `${store.currentLink} was missing`;
  if (state.kind === "invalid") return state.reason;
  return undefined;
}
