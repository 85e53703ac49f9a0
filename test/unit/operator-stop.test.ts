import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgetStopsOfRemoved, OperatorStop } from "../../supervisor/plugin/operator-stop.ts";

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "operator-stop-"));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

const file = () => path.join(stateDir, "plugins", "greeter", "stopped");
const ADMIN = "spiffe://corral.local/admin/alice";

describe("an operator's stop record", () => {
  it("is none until recorded; then says when and by whom, read back by the next supervisor; cleared, it is none again", async () => {
    const stop = await OperatorStop.open(stateDir, "greeter");
    expect(stop.at).toBeUndefined();
    await stop.record(ADMIN, Date.UTC(2026, 10, 28, 12));
    expect(JSON.parse(await readFile(file(), "utf8"))).toEqual({ at: Date.UTC(2026, 10, 28, 12), by: ADMIN });
    const next = await OperatorStop.open(stateDir, "greeter");
    expect(next.reason("greeter")).toBe(
      `by an operator (${ADMIN}) at 2026-11-28T12:00:00.000Z; kept stopped across restarts of the supervisor until corralctl start greeter`,
    );
    await next.clear();
    expect(next.at).toBeUndefined();
    expect((await OperatorStop.open(stateDir, "greeter")).at).toBeUndefined();
  });

  it("takes a record it cannot read as a stop at an unknown time, and shows no text of the file's but an admin identity", async () => {
    await mkdir(path.dirname(file()), { recursive: true });
    await writeFile(file(), "{torn");
    const torn = await OperatorStop.open(stateDir, "greeter");
    expect(torn.at).toBe(0);
    expect(torn.reason("greeter")).toBe("by an operator; kept stopped across restarts of the supervisor until corralctl start greeter");
    await writeFile(file(), JSON.stringify({ at: 5, by: "\u001b[2Jrm -rf /" }));
    expect((await OperatorStop.open(stateDir, "greeter")).reason("greeter")).toBe(
      "by an operator at 1970-01-01T00:00:00.005Z; kept stopped across restarts of the supervisor until corralctl start greeter",
    );
  });

  it("keeps a plugin stopped whose record cannot be read at all, and says why", async () => {
    await mkdir(file(), { recursive: true }); // a directory where the record goes: EISDIR
    const stop = await OperatorStop.open(stateDir, "greeter");
    expect(stop.at).toBe(0);
    expect(stop.unreadable).toMatch(/stopped: EISDIR/);
  });

  it("is forgotten at the start for a plugin no longer in the config", async () => {
    for (const plugin of ["greeter", "gone"]) await (await OperatorStop.open(stateDir, plugin)).record(ADMIN);
    await mkdir(path.join(stateDir, "plugins", "never-stopped"), { recursive: true });
    expect(await forgetStopsOfRemoved(stateDir, ["greeter"])).toEqual(["gone"]);
    expect((await OperatorStop.open(stateDir, "greeter")).at).toBeDefined();
    expect((await OperatorStop.open(stateDir, "gone")).at).toBeUndefined();
  });
});
