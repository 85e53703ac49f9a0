// The admin socket's permissions: root only by default; with admin.group,
// that group may connect too (mode 0660). The certificate decides the rest.
import { stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

describe("admin socket", () => {
  it("is 0600 root:root without a group", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [] });
    running.push(supervisor);
    const st = await stat(supervisor.adminSocket);
    expect(st.mode & 0o777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([0, 0]);
  });

  it("is 0660 with the configured group, by name or gid", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [], config: { admin: { group: "nogroup" } } });
    running.push(supervisor);
    const st = await stat(supervisor.adminSocket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(65534);
  });

  it("refuses to start with a group that does not exist, naming it", async () => {
    const supervisor = await TestSupervisor.create({ plugins: [], config: { admin: { group: "no-such-group" } } });
    running.push(supervisor);
    await expect(supervisor.start()).rejects.toThrow(/admin\.group: no group named "no-such-group"/);
  });
});
