// corralctl against a real daemon: operating plugins (describe, stop, start,
// restart, pause, resume), their logs and events, and errors a script can
// rely on. Calls keep going through the stable address meanwhile.
import type { ChannelCredentials, ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { execa } from "execa";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { readProcStat } from "../supervisor/proc-stat.ts";
import { echoClient, type EchoClient } from "./helpers/echo.ts";
import { corralctl, corralctlBin, nodeBin, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
let supervisor: TestSupervisor;
let creds: ChannelCredentials;
let client: EchoClient;

let supervisorStartedAt: number;

beforeAll(async () => {
  supervisorStartedAt = Date.now();
  supervisor = await TestSupervisor.start({
    plugins: [{ name: "echo", binary: echoBinary, apiVersion: "1.0", stopTimeout: "2s" }],
  });
  creds = pluginCredentials("echo", await supervisor.clientPems("ops-test", ["echo"]));
  client = echoClient((await supervisor.plugin("echo")).address, creds, channelOptions({ retry: false }));
}, 60_000);

afterAll(async () => {
  client?.close();
  await supervisor?.cleanup();
});

const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
const call = () =>
  client.unary({ message: "x", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 }).then(
    (r) => ({ ok: true as const, instance: r.reply.instance }),
    (err: ServiceError) => ({ ok: false as const, code: err.code, details: err.details }),
  );

describe("corralctl operations", () => {
  it("describes a plugin: state, address, config, events", async () => {
    const r = await ctl("describe", "echo", "--json");
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { status: { state: string; address: string }; config: { name: string; stopTimeout: number }; events: Array<{ kind: string; to: string }> };
    expect(d.status.state).toBe("ready");
    expect(d.status.address).toBe(path.join(supervisor.runtimeDir, "plugins/echo.sock"));
    expect(d.config).toMatchObject({ name: "echo", stopTimeout: 2000 });
    expect(d.events.filter((e) => e.kind === "transition").map((e) => e.to)).toEqual(["starting", "ready"]);
    const human = await ctl("describe", "echo");
    expect(human.stdout).toMatch(/^plugin: {4}echo\nstate: {5}ready/);
  });

  it("restarts a plugin without a failed call", async () => {
    const before = (await supervisor.plugin("echo")).instance!.id;
    const results: Array<Awaited<ReturnType<typeof call>>> = [];
    let running = true;
    const loop = (async () => {
      while (running) results.push(await call());
    })();
    const r = await ctl("restart", "echo", "--json");
    running = false;
    await loop;
    expect(r.code, r.stderr).toBe(0);
    const after = JSON.parse(r.stdout) as { state: string; instance: { id: string } };
    expect(after.state).toBe("ready");
    expect(after.instance.id).not.toBe(before);
    expect(results.filter((x) => !x.ok)).toEqual([]);
    expect(new Set(results.map((x) => x.ok && x.instance))).toContain(after.instance.id);
  }, 30_000);

  it("pauses a plugin: its processes stopped, calls refused at once with the reason; resume serves again", async () => {
    const r = await ctl("pause", "echo");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^echo: paused/);
    const pid = (await supervisor.plugin("echo")).instance!.pid;
    expect(readProcStat(pid!)?.state).toBe("T");
    const started = Date.now();
    const refused = await call();
    expect(refused).toMatchObject({ ok: false, code: status.UNAVAILABLE });
    expect((refused as { details: string }).details).toMatch(/^plugin echo is paused: requested by an operator/);
    expect(Date.now() - started).toBeLessThan(1000);

    const resumed = await ctl("resume", "echo");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^echo: ready/);
    let back = await call();
    for (let i = 0; i < 20 && !back.ok; i++) {
      await new Promise((res) => setTimeout(res, 100));
      back = await call();
    }
    expect(back.ok).toBe(true);
  }, 30_000);

  it("resumes a plugin whose pause is still parking it: its processes are not stopped after the resume", async () => {
    // One admin connection, so the two calls arrive 30 ms apart: the resume
    // within the pause's grace, before its SIGSTOP.
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    const rpc = (method: "Pause" | "Resume") =>
      new Promise<string>((resolve, reject) =>
        admin[method]({ plugin: "echo" }, { deadline: new Date(Date.now() + 10_000) }, (err, value) => (err ? reject(err) : resolve(value!.state))),
      );
    try {
      const paused = rpc("Pause");
      await new Promise((res) => setTimeout(res, 30));
      const resumed = rpc("Resume");
      expect(await paused).toBe("paused");
      expect(await resumed).toBe("ready");
    } finally {
      admin.close();
    }
    await new Promise((res) => setTimeout(res, 500)); // past any SIGSTOP the pause still had to send
    const after = await supervisor.plugin("echo");
    expect(after.state).toBe("ready");
    expect(readProcStat(after.instance!.pid!)?.state).not.toBe("T");
    expect(await call()).toMatchObject({ ok: true });
  }, 30_000);

  it("stops and starts a plugin; calls are refused while it is stopped", async () => {
    const stopped = await ctl("stop", "echo");
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^echo: stopped: by an operator \(spiffe:\/\/\S+\/admin\/\S+\) at \S+; kept stopped across restarts of the supervisor until corralctl start echo\n$/);
    const refused = await call();
    expect(refused).toMatchObject({ ok: false, code: status.UNAVAILABLE, details: "plugin echo is stopped" });
    const again = await ctl("stop", "echo");
    expect(again.code).toBe(0);
    const started = await ctl("start", "echo");
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^echo: ready \(instance echo-/);
    const twice = await ctl("start", "echo");
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/plugin echo is ready; start applies to a stopped or quarantined plugin/);
    // Each change is in the log, with who asked for it and how it ended.
    const audit = supervisor.logs.filter((l) => typeof l.rpc === "string" && ["Stop", "Start"].includes(l.rpc as string));
    expect(audit.map((l) => [l.rpc, l.admin, (l.request as { plugin: string }).plugin, l.outcome])).toEqual([
      ["Stop", "spiffe://test.corral.local/admin/local-root", "echo", "done"],
      ["Stop", "spiffe://test.corral.local/admin/local-root", "echo", "done"],
      ["Start", "spiffe://test.corral.local/admin/local-root", "echo", "done"],
      ["Start", "spiffe://test.corral.local/admin/local-root", "echo", expect.stringMatching(/^failed: plugin echo is ready/)],
    ]);
    expect(audit.every((l) => typeof l.serial === "string" && /^[0-9A-F]+$/.test(l.serial as string))).toBe(true);
  }, 30_000);

  it("shows the plugin's output, and follows it", async () => {
    const tail = await ctl("logs", "echo", "--tail", "5", "--json");
    expect(tail.code, tail.stderr).toBe(0);
    const lines = tail.stdout.trim().split("\n").map((l) => JSON.parse(l) as { atUnixMs: string; stream: string; line: string; instance: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.some((l) => l.stream === "stderr" && /corral go-shim/.test(l.line))).toBe(true);
    // Each line carries when the supervisor read it: since this file's supervisor started.
    for (const l of lines) expect(Number(l.atUnixMs)).toBeGreaterThanOrEqual(supervisorStartedAt);
    for (const l of lines) expect(Number(l.atUnixMs)).toBeLessThanOrEqual(Date.now());
    const text = await ctl("logs", "echo", "--tail", "1");
    expect(text.stdout.slice(0, 24)).toBe(new Date(Number(lines.at(-1)!.atUnixMs)).toISOString());

    // Follow: a restart's new instance writes lines, and they arrive.
    const follow = execa(nodeBin, [corralctlBin, "--config", supervisor.configFile, "logs", "echo", "--tail", "1", "-f"], { reject: false });
    let seen = "";
    const following = new Promise((resolve) => follow.stdout!.once("data", resolve)); // the tail's line: it follows from here
    follow.stdout!.on("data", (chunk: Buffer) => (seen += chunk.toString()));
    await following;
    const restarted = JSON.parse((await ctl("restart", "echo", "--json")).stdout) as { instance: { id: string } };
    for (let i = 0; i < 50 && !seen.includes(restarted.instance.id); i++) await new Promise((r) => setTimeout(r, 100));
    follow.kill("SIGINT");
    const exit = await follow;
    expect(seen).toContain(restarted.instance.id);
    expect(exit.exitCode).toBe(0);
  }, 30_000);

  it("stops quietly when what it prints into goes away (events | head -1)", async () => {
    for (const args of ["events --recent 1", "logs echo -f --tail 1"]) {
      const pipeline = execa("bash", ["-c", `"${nodeBin}" "${corralctlBin}" --config "${supervisor.configFile}" ${args} | head -1; echo "status \${PIPESTATUS[0]}" >&2`], {
        reject: false,
        timeout: 30_000,
      });
      // head has its line (corralctl follows from there) and is gone; a restart makes corralctl write again.
      await new Promise((resolve) => pipeline.stdout!.once("data", resolve));
      expect((await ctl("restart", "echo")).code).toBe(0);
      const r = await pipeline;
      expect(r.timedOut, args).toBe(false);
      expect(r.stdout.split("\n")).toHaveLength(1);
      // Not an unhandled EPIPE with its stack (status 1).
      expect(r.stderr, args).toBe("status 0");
    }
  }, 60_000);

  it("streams events as they happen", async () => {
    const watch = execa(nodeBin, [corralctlBin, "--config", supervisor.configFile, "events", "echo", "--recent", "1", "--json"], { reject: false });
    let seen = "";
    watch.stdout!.on("data", (chunk: Buffer) => (seen += chunk.toString()));
    for (let i = 0; i < 100 && !seen.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50)); // watching: the most recent event came
    const recent = seen;
    await ctl("stop", "echo");
    await ctl("start", "echo");
    for (let i = 0; i < 50 && !seen.includes('"to":"ready"'); i++) await new Promise((r) => setTimeout(r, 100));
    watch.kill("SIGINT");
    await watch;
    const events = seen.slice(recent.length).trim().split("\n").map((l) => JSON.parse(l) as { kind: string; to: string });
    expect(events.filter((e) => e.kind === "transition").map((e) => e.to)).toEqual(["draining", "stopped", "starting", "ready"]);
  }, 30_000);

  it("shows in status --json what the table shows (AGE too), and refuses an --recent that is not a count", async () => {
    const status = JSON.parse((await ctl("status", "echo", "--json")).stdout) as { plugins: Array<{ name: string; stateAgeMs: number }> };
    expect(status.plugins[0]!.stateAgeMs).toBeGreaterThan(0);
    for (const recent of ["-3", "abc", "1e3"]) {
      const r = await ctl("events", "--recent", recent);
      expect([r.code, r.stderr.trim()]).toEqual([2, `corralctl: --recent ${recent}: give a number of events`]);
    }
  });

  it("shows its own version and the daemon's, which are the package's", async () => {
    const { version } = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
    const text = await ctl("version");
    expect(text.stdout).toBe(`corralctl ${version}\ncorral ${version} (Control protocol v1)\n`);
    const json = JSON.parse((await ctl("version", "--json")).stdout) as Record<string, unknown>;
    expect(json).toEqual({ corralctl: version, version, controlProtocolVersion: 1 });
  });

  it("names what does not exist, with exit code 4", async () => {
    for (const args of [["describe", "nope"], ["stop", "nope"], ["logs", "nope"], ["pause", "nope"]]) {
      const r = await ctl(...args);
      expect(r.code, args.join(" ")).toBe(4);
      expect(r.stderr).toBe("corralctl: no such plugin: nope\n");
    }
  });

  it("says when the admin credentials are not the daemon's, or do not load, naming them (exit 5)", async () => {
    const { loadOrCreateCA, issueAdminLeaf } = await import("../supervisor/identity/index.ts");
    const other = await mkdtemp(path.join(tmpdir(), "corral-other-ca-"));
    try {
      // Credentials of another CA: the daemon's certificate is not theirs to trust, nor theirs its.
      const ca = await loadOrCreateCA(path.join(other, "state"), { trustDomain: "test.corral.local" });
      const leaf = await issueAdminLeaf(ca, { trustDomain: "test.corral.local", ttlMs: 3600_000 }, "stranger");
      /** A credentials directory `name` of `issuer`'s certificate and `pair`. */
      const credentialsDir = async (name: string, issuer: { certPem: string }, pair: { certPem: string; keyPem: string }) => {
        const dir = path.join(other, name);
        await mkdir(dir);
        await writeFile(path.join(dir, "ca.pem"), issuer.certPem);
        await writeFile(path.join(dir, "cert.pem"), pair.certPem);
        await writeFile(path.join(dir, "key.pem"), pair.keyPem, { mode: 0o600 });
        return dir;
      };
      const creds = await credentialsDir("creds", ca, leaf);
      const strange = await corralctl(["--socket", supervisor.adminSocket, "--credentials", creds, "status"]);
      expect(strange.code).toBe(5);
      expect(strange.stderr).toMatch(new RegExp(`^corralctl: the Corral daemon at ${supervisor.adminSocket} and the admin credentials in ${creds} do not agree: `));
      // The streaming commands say the same, at once, not "cannot reach" after --timeout.
      for (const command of [["events"], ["logs", "echo"]]) {
        const t0 = Date.now();
        const streamed = await corralctl(["--socket", supervisor.adminSocket, "--credentials", creds, "--timeout", "8000", ...command]);
        expect([streamed.code, streamed.stderr]).toEqual([5, strange.stderr]);
        expect(Date.now() - t0).toBeLessThan(6000);
      }
      // The daemon's own CA, but a certificate that has expired: said so, not "cannot reach the daemon".
      const own = await loadOrCreateCA(supervisor.stateDir, { trustDomain: "test.corral.local" });
      const shortLived = await issueAdminLeaf(own, { trustDomain: "test.corral.local", ttlMs: 1000 }, "short");
      const expired = await credentialsDir("expired", own, shortLived);
      await new Promise((r) => setTimeout(r, Math.max(0, shortLived.notAfter.getTime() - Date.now()) + 1100));
      const late = await corralctl(["--socket", supervisor.adminSocket, "--credentials", expired, "status"]);
      expect([late.code, late.stderr]).toEqual([5, `corralctl: the admin certificate in ${expired} expired at ${shortLived.notAfter.toISOString()}: corralctl certs issue --role admin makes a new one\n`]);
      // A key that is not one.
      await writeFile(path.join(creds, "key.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
      const broken = await corralctl(["--socket", supervisor.adminSocket, "--credentials", creds, "status"]);
      expect(broken.code).toBe(5);
      expect(broken.stderr).toContain(`corralctl: cannot use the admin credentials in ${creds} (${path.join(creds, "ca.pem")}, ${path.join(creds, "cert.pem")}, ${path.join(creds, "key.pem")}): `);
      // A daemon that had the call and is slow with it (not "unreachable"): test/unit/admin-explain.test.ts.
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("refuses to resume what is not paused, with the reason", async () => {
    const r = await ctl("resume", "echo");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("corralctl: plugin echo is ready, not paused\n");
  });

  it("completes plugin names in bash from the daemon the command line names", async () => {
    const script = await corralctl(["completion", "bash"]);
    const file = path.join(supervisor.dir, "corralctl.bash");
    await writeFile(file, script.stdout);
    const complete = async (...words: string[]) => {
      const line = [path.join(repoRoot, "bin/corralctl"), ...words].map((w) => `"${w}"`).join(" ");
      const r = await execa("bash", ["-c", `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _corralctl; echo "\${COMPREPLY[@]}"`]);
      return r.stdout.trim();
    };
    expect(await complete("--config", supervisor.configFile, "restart", "e")).toBe("echo");
    expect(await complete("--socket", supervisor.adminSocket, "--timeout", "3000", "pause", "")).toContain("echo");
    // bash's own split of --config=FILE.
    expect(await complete("--config", "=", supervisor.configFile, "describe", "ec")).toBe("echo");
    // No daemon there: no names, and no error on the terminal.
    expect(await complete("--socket", path.join(supervisor.dir, "none.sock"), "restart", "e")).toBe("");
  });

  it("has --help and --json on every command", async () => {
    const top = await corralctl(["--help"]);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== "help" && c !== "certs" && c !== "completion");
    expect(commands.length).toBeGreaterThan(15);
    for (const command of [...commands, "certs issue", "certs list", "certs revoke", "certs unrevoke", "certs rotate"]) {
      const r = await corralctl([...command.split(" "), "--help"]);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: corralctl ${command}`);
      expect(r.stdout, `${command} --json`).toContain("--json");
    }
  });
});
