// `corralctl deploy` names a path the supervisor opens in its own mount
// namespace. Under the shipped unit (PrivateTmp) /tmp and /var/tmp are its
// own: a binary there is "not found" for it, though the admin sees it, and
// corralctl says why. Only then: a binary that the sandbox cannot run for
// lack of its loader is told as such, without that hint.
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corralctl, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
const HINT = "the supervisor resolves the path in its own mount namespace";
let supervisor: TestSupervisor;
let varTmp: string;

beforeAll(async () => {
  varTmp = await mkdtemp("/var/tmp/corral-deploy-paths-");
  supervisor = await TestSupervisor.start({
    plugins: [{ name: "echo", binary: echoBinary, apiVersion: "1.0" }],
    // As PrivateTmp: a /var/tmp of the supervisor's own.
    wrap: ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount -t tmpfs corral-private-var-tmp /var/tmp && exec "$@"', "sh"],
  });
});

afterAll(async () => {
  await supervisor?.cleanup();
  if (varTmp) await rm(varTmp, { recursive: true, force: true });
});

const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);

describe("corralctl deploy", () => {
  it("says the supervisor has a mount namespace of its own when the binary is here but not there", async () => {
    const binary = path.join(varTmp, "echo");
    await copyFile(echoBinary, binary);
    const deploy = await ctl("deploy", "echo", binary);
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toContain(`${binary}: no such file for the supervisor, though it is here: ${HINT}`);
  });

  it("tells a binary the sandbox cannot run (dynamically linked) as such, without that hint", async () => {
    const deploy = await ctl("deploy", "echo", "/bin/true");
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toMatch(/it is dynamically linked, and its loader \S+ is not in the sandbox/);
    expect(deploy.stderr).not.toContain(HINT);
    expect((await supervisor.plugin("echo")).state).toBe("ready");
  });
});
