// corralctl's behaviour when the daemon cannot be reached: one clear line
// and an exit code a script can rely on, never a stack trace.
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { corralctl } from "./helpers/supervisor.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-cli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("corralctl without a daemon", () => {
  it("says the daemon is not running when there is no socket (exit 3)", async () => {
    const socket = path.join(dir, "admin.sock");
    const r = await corralctl(["--socket", socket, "status"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`corralctl: the Corral daemon is not running: no socket at ${socket}\n`);
    expect(r.stdout).toBe("");
  });

  it("finds the socket through $CORRAL_SOCKET", async () => {
    const socket = path.join(dir, "from-env.sock");
    const r = await corralctl(["status"], { CORRAL_SOCKET: socket });
    expect(r.stderr).toContain(`no socket at ${socket}`);
  });

  it("names the missing admin credentials when a socket exists", async () => {
    const socket = path.join(dir, "admin.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const r = await corralctl(["--socket", socket, "status"]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`corralctl: cannot read admin credentials in ${path.join(dir, "admin-credentials")}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reports a bad config file by name instead of a socket", async () => {
    const r = await corralctl(["--config", path.join(dir, "missing.yaml"), "status"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, "missing.yaml")}:0:0: cannot read config`);
  });

  it("exits 2 on a usage error and 0 on --help", async () => {
    expect((await corralctl(["frobnicate"])).code).toBe(2);
    const help = await corralctl(["status", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: corralctl status [options] [plugins...]");
  });

  it("completes commands, subcommands and options in bash", async () => {
    const script = await corralctl(["completion", "bash"]);
    expect(script.code).toBe(0);
    const file = path.join(dir, "corralctl.bash");
    await writeFile(file, script.stdout);
    const complete = async (...words: string[]) => {
      const r = await execa("bash", ["-c", `source ${file}; COMP_WORDS=(corralctl ${words.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=${words.length}; _corralctl; echo "\${COMPREPLY[@]}"`]);
      return r.stdout.trim().split(" ");
    };
    expect(await complete("certs", "re")).toEqual(["revoke"]);
    expect(await complete("de")).toEqual(["describe", "deploy"]);
    expect(await complete("logs", "x", "--f")).toEqual(["--follow"]);
  });
});
