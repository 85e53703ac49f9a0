// corralctl's behaviour when the daemon cannot be reached: one clear line
// and an exit code a script can rely on, never a stack trace.
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueAdminLeaf, loadOrCreateCA } from "../supervisor/identity/index.ts";
import { corralctl, corralctlBin, nodeBin } from "./helpers/supervisor.ts";

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

  it("gives up at --timeout on a socket that never answers, for a call, a stream and a command that waits for instances", async () => {
    // Admin credentials that load; a listener that takes connections and never speaks TLS.
    const ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: "corral.local" });
    const leaf = await issueAdminLeaf(ca, { trustDomain: "corral.local", ttlMs: 3600_000 }, "alice");
    await mkdir(path.join(dir, "admin-credentials"));
    await writeFile(path.join(dir, "admin-credentials", "ca.pem"), ca.certPem);
    await writeFile(path.join(dir, "admin-credentials", "cert.pem"), leaf.certPem);
    await writeFile(path.join(dir, "admin-credentials", "key.pem"), leaf.keyPem, { mode: 0o600 });
    const socket = path.join(dir, "admin.sock");
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      // restart waits 120 s by default; --timeout, when given, is what it waits.
      for (const args of [["version"], ["logs", "greeter"], ["events"], ["restart", "greeter"]]) {
        const started = Date.now();
        const r = await execa(nodeBin, [corralctlBin, "--socket", socket, "--timeout", "1000", ...args], { reject: false, timeout: 20_000 });
        // It printed its error at 1 s, then hung for as long as the peer kept quiet.
        expect(r.timedOut, args.join(" ")).toBe(false);
        expect(r.exitCode, args.join(" ")).toBe(3);
        expect(r.stderr).toMatch(new RegExp(`^corralctl: cannot reach the Corral daemon at ${socket}: `));
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 90_000);

  it("reports a bad config file by name instead of a socket", async () => {
    // The command line names what cannot be used: a usage error (2), not the daemon's (1).
    const r = await corralctl(["--config", path.join(dir, "missing.yaml"), "status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, "missing.yaml")}:0:0: cannot read config`);
    expect((await corralctl(["--config", dir, "status"])).code).toBe(2); // a directory
    // A file that is not YAML, or not a mapping, names no socket: it is not taken for the default daemon's.
    const broken = path.join(dir, "broken.yaml");
    await writeFile(broken, "stateDir: ./state\nruntimeDir: [unclosed\n");
    const syntax = await corralctl(["--config", broken, "status"]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(new RegExp(`^corralctl: ${broken}:\\d+:\\d+: YAML: `));
    const list = path.join(dir, "list.yaml");
    await writeFile(list, "- a\n");
    const notMapping = await corralctl(["--config", list, "status"]);
    expect(notMapping.code).toBe(2);
    expect(notMapping.stderr).not.toContain("not running");
    // An invalid config whose YAML merges one anchor into many plugins (more
    // aliases than the YAML library's default of 100) still names its socket.
    const merged = path.join(dir, "merged.yaml");
    const entries = Array.from({ length: 150 }, (_, i) => `  - { <<: *base, name: p${i} }`).join("\n");
    await writeFile(merged, `runtimeDir: ./merged-run\nbase: &base { binary: /nonexistent, apiVersion: "1" }\nplugins:\n${entries}\n`);
    const viaAliases = await corralctl(["--config", merged, "status"]);
    expect(viaAliases.code).toBe(3);
    expect(viaAliases.stderr).toContain(`no socket at ${path.join(dir, "merged-run", "admin.sock")}`);
  });

  it("exits 2 on a usage error and 0 on --help", async () => {
    expect((await corralctl(["frobnicate"])).code).toBe(2);
    const timeout = await corralctl(["--timeout", "abc", "status"]);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain("option '--timeout <ms>' argument 'abc' is invalid. give a number of milliseconds, e.g. 5000");
    // Option values are checked before the daemon is asked.
    const cpu = await corralctl(["diag", "greeter", "--capture", "--cpu", "abc"]);
    expect([cpu.code, cpu.stderr]).toEqual([2, expect.stringContaining("option '--cpu <ms>' argument 'abc' is invalid. give a number of milliseconds")]);
    // What the protocol's uint32 cannot carry is refused, not wrapped around (4294967396 ms would be a 100 ms profile).
    const huge = await corralctl(["diag", "greeter", "--capture", "--cpu", "4294967396"]);
    expect([huge.code, huge.stderr]).toEqual([2, expect.stringContaining("option '--cpu <ms>' argument '4294967396' is invalid. at most 4294967295 ms")]);
    const tail = await corralctl(["logs", "greeter", "-n", "4294967297"]);
    expect([tail.code, tail.stderr]).toEqual([2, "corralctl: --tail 4294967297: give a number of lines, at most 4294967295\n"]);
    const cpuAlone = await corralctl(["diag", "greeter", "--cpu", "100"]);
    expect([cpuAlone.code, cpuAlone.stderr]).toEqual([2, expect.stringContaining("--cpu goes with --capture")]);
    const kind = await corralctl(["ack", "greeter", "--kind", "goroutine"]);
    expect([kind.code, kind.stderr]).toEqual([2, expect.stringContaining("argument 'goroutine' is invalid. Allowed choices are fd-growth, goroutine-rise")]);
    const ttl = await corralctl(["certs", "issue", "--role", "admin", "--name", "x", "--out", dir, "--ttl", "0d"]);
    expect([ttl.code, ttl.stderr]).toEqual([2, expect.stringContaining("--ttl 0d: use e.g. 30d, 720h or 90m (at least 1)")]);
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
