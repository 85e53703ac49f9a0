// What interrupted writes leave in a state directory, removed at start:
// exactly the temporary names the writers make, nothing else.
import { existsSync } from "node:fs";
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeRuntimeLeftovers, removeStateLeftovers } from "../../supervisor/state-leftovers.ts";

let state: string;
beforeEach(async () => {
  state = await mkdtemp(path.join(tmpdir(), "corral-state-leftovers-"));
});
afterEach(() => rm(state, { recursive: true, force: true }));

const sha = "a".repeat(64);
const orphan = "b".repeat(64);

async function file(relative: string): Promise<string> {
  const at = path.join(state, relative);
  await mkdir(path.dirname(at), { recursive: true });
  await writeFile(at, "x");
  return relative;
}

describe("state directory leftovers", () => {
  it("removes the temporary names of interrupted writes, and keeps everything else", async () => {
    const leftovers = [
      await file(".ca-new-Xy12ab/ca.pem"),
      await file("ca/.revoked.json.0123456789ab.tmp"),
      await file("admin/.key.pem.0123456789ab.tmp"),
      await file(`objects/${sha}.tmp-0a1b2c3d`),
      await file("objects/.staging-0123456789ab"),
      await file(`plugins/echo/releases/${sha}.tmp-0a1b2c3d/plugin`),
      await file("plugins/echo/trial.json.tmp-deadbeef"),
      await file("plugins/echo/seed.tmp-deadbeef"),
      await file("plugins/echo/refused-seed.tmp-deadbeef"),
      await file("plugins/echo/.stopped.0123456789ab.tmp"),
      await file("diagnostics/echo/20261127T120000.000Z-echo-1a2b3c-cpu.pprof.0123456789ab.tmp"),
    ];
    await mkdir(path.join(state, "plugins/echo"), { recursive: true });
    await symlink(`releases/${sha}`, path.join(state, "plugins/echo/current.tmp-0a1b2c3d"));
    leftovers.push("plugins/echo/current.tmp-0a1b2c3d");
    // A release is a hard link to its object.
    await mkdir(path.join(state, `plugins/echo/releases/${sha}`), { recursive: true });
    await link(path.join(state, await file(`objects/${sha}`)), path.join(state, `plugins/echo/releases/${sha}/plugin`));
    // An object no release links to: an import cut before its release was made.
    leftovers.push(await file(`objects/${orphan}`));
    const kept = [
      `objects/${sha}`,
      `plugins/echo/releases/${sha}/plugin`,
      await file("ca/ca.pem"),
      await file("ca/revoked.json"),
      await file("admin/key.pem"),
      await file("plugins/echo/trial.json"),
      await file("plugins/echo/history.jsonl"),
      await file("plugins/echo/seed"),
      await file("plugins/echo/stopped"),
      await file("diagnostics/echo/20261127T120000.000Z-echo-1a2b3c-cpu.pprof"),
      await file("supervisor.lock"),
      // Someone else's temporary names are not ours to remove.
      await file("plugins/echo/current.tmp"),
      await file("notes.tmp"),
    ];
    const removed = await removeStateLeftovers(state);
    expect(removed.map((p) => path.relative(state, p)).sort()).toEqual(
      [
        ".ca-new-Xy12ab",
        "ca/.revoked.json.0123456789ab.tmp",
        "admin/.key.pem.0123456789ab.tmp",
        `objects/${sha}.tmp-0a1b2c3d`,
        "objects/.staging-0123456789ab",
        `plugins/echo/releases/${sha}.tmp-0a1b2c3d`,
        "plugins/echo/trial.json.tmp-deadbeef",
        "plugins/echo/seed.tmp-deadbeef",
        "plugins/echo/refused-seed.tmp-deadbeef",
        "plugins/echo/.stopped.0123456789ab.tmp",
        "plugins/echo/current.tmp-0a1b2c3d",
        "diagnostics/echo/20261127T120000.000Z-echo-1a2b3c-cpu.pprof.0123456789ab.tmp",
        `objects/${orphan}`,
      ].sort(),
    );
    for (const l of leftovers) expect(existsSync(path.join(state, l)), l).toBe(false);
    for (const k of kept) expect(existsSync(path.join(state, k)), k).toBe(true);
  });

  it("removes an interrupted copy of the CRL from the runtime directory, and nothing else there", async () => {
    const tmp = await file(".crl.pem.0123456789ab.tmp");
    const kept = [await file("crl.pem"), await file("admin.sock"), await file(".other.0123456789ab.tmp")];
    expect((await removeRuntimeLeftovers(state)).map((p) => path.relative(state, p))).toEqual([tmp]);
    for (const k of kept) expect(existsSync(path.join(state, k)), k).toBe(true);
    expect(await removeRuntimeLeftovers(path.join(state, "none"))).toEqual([]);
  });

  it("does nothing in a state directory that is new", async () => {
    expect(await removeStateLeftovers(path.join(state, "none"))).toEqual([]);
  });
});
