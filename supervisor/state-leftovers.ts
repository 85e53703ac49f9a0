// What a supervisor killed in the middle of a write leaves in its state
// directory: the temporary files and directories its writers make beside
// their targets and rename into place. None is ever read; some hold a
// release's binary (a staging directory's link keeps its object from
// being pruned). And a release's object that no release links to: an
// import cut between the object's rename and its release's (a release is
// a hard link to its object, so the object's only link is its own name).
// Removed at start, once the state directory's lock is held, when no other
// writer can be at work. Only these names, where their writers make them:
// anything else is left alone.
import { lstat, readdir, rm, unlink } from "node:fs/promises";
import path from "node:path";

const SHA256 = "[0-9a-f]{64}";
/** replaceAtomically (identity/files.ts): `.<name>.<12 hex>.tmp`. */
const ATOMIC_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;
/** replaceFile (replace-file.ts): `<name>.<12 hex>.tmp`. */
const REPLACE_TEMP = /\.[0-9a-f]{12}\.tmp$/;

/** Where each writer's temporary names are: a directory (`*` for each entry of its parent) and the names. */
const PLACES: Array<{ dir: string[]; names: RegExp }> = [
  { dir: [], names: /^\.ca-new-/ }, // identity/ca.ts, the CA's staging directory
  { dir: ["ca"], names: ATOMIC_TEMP },
  { dir: ["admin"], names: ATOMIC_TEMP }, // admin/credentials.ts, the local admin's key and certificate
  { dir: ["objects"], names: new RegExp(`^(${SHA256}\\.tmp-[0-9a-f]{8}|\\.staging-[0-9a-f]{12})$`) }, // releases/objects.ts, stage.ts
  { dir: ["plugins", "*"], names: /^(current|trial\.json|history\.jsonl|seed|refused-seed)\.tmp-[0-9a-f]{8}$/ }, // releases/store.ts
  { dir: ["plugins", "*"], names: ATOMIC_TEMP }, // plugin/operator-stop.ts, an operator's stop
  { dir: ["plugins", "*", "releases"], names: new RegExp(`^${SHA256}\\.tmp-[0-9a-f]{8}$`) },
  { dir: ["diagnostics", "*"], names: REPLACE_TEMP }, // diagnostics/store.ts
];

/** Removes the leftovers of interrupted writes under `stateDir`; returns what it removed. */
export async function removeStateLeftovers(stateDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const place of PLACES) {
    for (const dir of await expand(stateDir, place.dir)) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!place.names.test(name)) continue;
        await rm(path.join(dir, name), { recursive: true, force: true });
        removed.push(path.join(dir, name));
      }
    }
  }
  // After the staging links are gone: an object they alone kept is unused too.
  const objects = path.join(stateDir, "objects");
  for (const name of await readdir(objects).catch(() => [] as string[])) {
    if (!OBJECT.test(name)) continue;
    const object = path.join(objects, name);
    const st = await lstat(object).catch(() => undefined);
    if (!st?.isFile() || st.nlink > 1) continue;
    await unlink(object);
    removed.push(object);
  }
  return removed;
}

/** trust.ts's copy of the CRL for host applications, `<runtimeDir>/crl.pem`, through replaceAtomically. */
const CRL_COPY_TEMP = /^\.crl\.pem\.[0-9a-f]{12}\.tmp$/;

/** Removes what an interrupted copy of the CRL left in the runtime directory; returns what it removed. */
export async function removeRuntimeLeftovers(runtimeDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(runtimeDir).catch(() => [] as string[])) {
    if (!CRL_COPY_TEMP.test(name)) continue;
    await rm(path.join(runtimeDir, name), { force: true });
    removed.push(path.join(runtimeDir, name));
  }
  return removed;
}

/** releases/objects.ts: an object is named by its sha256. */
const OBJECT = new RegExp(`^${SHA256}$`);

/** The directories `parts` names under `root`, `*` standing for each subdirectory. */
async function expand(root: string, parts: string[]): Promise<string[]> {
  let dirs = [root];
  for (const part of parts) {
    if (part !== "*") {
      dirs = dirs.map((d) => path.join(d, part));
      continue;
    }
    const next: string[] = [];
    for (const d of dirs) {
      for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) if (entry.isDirectory()) next.push(path.join(d, entry.name));
    }
    dirs = next;
  }
  return dirs;
}
