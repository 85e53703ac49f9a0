import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkSandboxIdsFree } from "../../supervisor/sandbox-ids.ts";

let dir: string;
let files: { users: string; groups: string };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-sandbox-ids-"));
  files = { users: path.join(dir, "passwd"), groups: path.join(dir, "group") };
  await writeFile(files.users, "root:x:0:0:root:/root:/bin/bash\nalice:x:200500:200500::/home/alice:/bin/sh\n+::::::\n\n");
  await writeFile(files.groups, "root:x:0:\nbuilders:x:300020:alice\n");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the sandboxes' ids", () => {
  it("may be a range that no user or group of the host's files has", async () => {
    await expect(checkSandboxIdsFree(200501, 1000, files)).resolves.toBeUndefined();
    await expect(checkSandboxIdsFree(200000, 500, files)).resolves.toBeUndefined(); // 200000-200499
  });

  it("may not include a user's uid, named with the fields and the file", async () => {
    await expect(checkSandboxIdsFree(200000, 501, files)).rejects.toThrow(
      `sandbox.uidBase 200000, sandbox.uidCount 501: the sandboxes' ids 200000-200500 include user "alice" (200500 in ${files.users}), which a sandbox would share: choose a range that no user or group of the host has`,
    );
  });

  it("may not include a group's gid (a sandbox's gid is its uid)", async () => {
    await expect(checkSandboxIdsFree(300000, 100, files)).rejects.toThrow(`include group "builders" (300020 in ${files.groups})`);
  });

  it("passes files that do not exist, and says which one it could not read", async () => {
    await expect(checkSandboxIdsFree(200000, 1000, { users: path.join(dir, "none"), groups: path.join(dir, "none") })).resolves.toBeUndefined();
    await expect(checkSandboxIdsFree(200000, 1000, { users: dir, groups: files.groups })).rejects.toThrow(`sandbox.uidBase: cannot read ${dir} to check the range is free`);
  });
});
