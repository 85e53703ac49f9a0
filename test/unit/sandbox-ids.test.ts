import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sandboxIdsTaken } from "../../supervisor/sandbox-ids.ts";

let dir: string;
let files: { users: string; groups: string; subuids: string; subgids: string };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-sandbox-ids-"));
  files = { users: path.join(dir, "passwd"), groups: path.join(dir, "group"), subuids: path.join(dir, "subuid"), subgids: path.join(dir, "subgid") };
  await writeFile(files.users, "root:x:0:0:root:/root:/bin/bash\nalice:x:200500:200500::/home/alice:/bin/sh\n+::::::\n\n");
  await writeFile(files.groups, "root:x:0:\nbuilders:x:300020:alice\n");
  await writeFile(files.subuids, "alice:100000:65536\nbob:165536:65536\n");
  await writeFile(files.subgids, "1002:400000:65536\n");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the sandboxes' ids", () => {
  it("may be a range that no user or group of the host's files has", async () => {
    expect(sandboxIdsTaken(231072, 1000, files)).toBeUndefined(); // above bob's subordinate uids, below the builders
    expect(sandboxIdsTaken(465536, 1000, files)).toBeUndefined(); // just above the subordinate gids
  });

  it("may not include a user's uid, named with the fields and the file", async () => {
    expect(sandboxIdsTaken(200000, 501, files)).toContain(
      `the sandboxes' ids 200000-200500 include user "alice" (200500 in ${files.users}), which a sandbox would share: choose a range that no user, group or subordinate range of the host has`,
    );
  });

  it("may not include a group's gid (a sandbox's gid is its uid)", async () => {
    expect(sandboxIdsTaken(300000, 100, files)).toContain(`include group "builders" (300020 in ${files.groups})`);
  });

  it("may not overlap a user's subordinate uids or gids, which its user namespaces may run as", async () => {
    expect(sandboxIdsTaken(231000, 100, files)).toContain(`include ids subordinate to "bob" (165536-231071 in ${files.subuids}), which it may run processes as`);
    expect(sandboxIdsTaken(99_990, 11, files)).toContain(`subordinate to "alice" (100000-165535 in ${files.subuids})`);
    expect(sandboxIdsTaken(399_000, 1001, files)).toContain(`subordinate to "1002" (400000-465535 in ${files.subgids})`);
  });

  it("passes files that do not exist, and says which one it could not read", async () => {
    const none = path.join(dir, "none");
    expect(sandboxIdsTaken(200000, 1000, { users: none, groups: none, subuids: none, subgids: none })).toBeUndefined();
    expect(sandboxIdsTaken(200000, 1000, { ...files, users: dir })).toContain(`cannot read ${dir} to check the range is free`);
  });
});
