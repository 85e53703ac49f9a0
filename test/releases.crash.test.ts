// The supervisor killed (SIGKILL) in the middle of a hot update, then
// started again with the same config and state directory: the update is
// either whole or not at all. A release that never served is not current
// after the restart; one that served is current and in the history.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { echoClient, makeRelease, sha256File } from "./helpers/echo.ts";
import { execa } from "execa";
import { corralctl, corralctlBin, nodeBin, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");

let supervisor: TestSupervisor | undefined;
let work: string | undefined;
afterEach(async () => {
  await supervisor?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
  supervisor = undefined;
  work = undefined;
});

async function start() {
  work = await mkdtemp(path.join(tmpdir(), "corral-crash-deploy-"));
  const first = await makeRelease(echoBinary, work, "a");
  const s = await TestSupervisor.start({
    plugins: [{ name: "echo", binary: first, apiVersion: "1.0", startTimeout: "10s", stopTimeout: "5s", restart: { initialBackoff: "100ms" } }],
  });
  supervisor = s;
  const ctl = (...args: string[]) => corralctl(["--config", s.configFile, ...args]);
  const current = async () => path.basename(await readlink(path.join(s.stateDir, "plugins/echo/current")));
  const history = async () =>
    (await readFile(path.join(s.stateDir, "plugins/echo/history.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { sha256: string }).sha256);
  return { s, original: await sha256File(first), ctl, current, history };
}

describe("a supervisor killed during a hot update", () => {
  it("while the new release warms up: the next start puts current back to the release that served, and says so", async () => {
    const { s, original, ctl, current } = await start();
    const hang = path.join(repoRoot, "build/test-plugins/echo-hang");
    const deploying = ctl("deploy", "echo", hang);
    await s.waitForPlugin("echo", (p) => p.state === "updating");
    expect(await current()).toBe(await sha256File(hang));
    await s.stop("SIGKILL");
    await deploying;

    await s.start();
    const after = await s.plugin("echo");
    expect({ state: after.state, release: after.instance?.release }).toEqual({ state: "ready", release: original });
    expect(await current()).toBe(original);
    const alerts = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ kind: string; message: string }> };
    expect(alerts.alerts).toContainEqual(
      expect.objectContaining({
        kind: "update-failed",
        message: `release ${(await sha256File(hang)).slice(0, 12)} was coming into service when the supervisor stopped, and never served; current is on ${original.slice(0, 12)}, which did`,
      }),
    );
    expect(existsSync(path.join(s.stateDir, "plugins/echo/trial.json"))).toBe(false);
  }, 90_000);

  it("while a reload's new binary warms up: the next start keeps the release that served, and the next reload tries the binary again", async () => {
    const { s, original, ctl, current, history } = await start();
    const hang = path.join(repoRoot, "build/test-plugins/echo-hang");
    const doc = parse(await readFile(s.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    doc.plugins[0]!.binary = hang;
    doc.plugins[0]!.startTimeout = "2s";
    await writeFile(s.configFile, stringify(doc));
    const reloading = ctl("reload");
    await s.waitForPlugin("echo", (p) => p.state === "updating");
    await s.stop("SIGKILL");
    await reloading;

    await s.start();
    expect((await s.plugin("echo")).instance?.release).toBe(original);
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);
    const alerts = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ kind: string; message: string }> };
    expect(alerts.alerts.map((a) => a.message)).toContainEqual(expect.stringMatching(/; the configured binary is tried again at the next reload$/));
    // The next reload tries it, and it fails as a reload's binary does: the release that served stays.
    const again = await ctl("reload", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ failed: [expect.stringMatching(/^echo: release [0-9a-f]{12} of plugin echo was not deployed: .*not ready within startTimeout/)] });
    expect(await current()).toBe(original);
  }, 90_000);

  it("after a reload whose binary failed, a clean restart keeps the release that served, says why, and the next reload tries the binary again", async () => {
    const { s, original, ctl, current, history } = await start();
    const crash = path.join(repoRoot, "build/test-plugins/echo-crash");
    const crashSha = await sha256File(crash);
    const doc = parse(await readFile(s.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    doc.plugins[0]!.binary = crash;
    await writeFile(s.configFile, stringify(doc));
    const reload = await ctl("reload");
    expect(reload.code).toBe(1);
    expect(await current()).toBe(original);
    expect((await s.stop("SIGTERM")).code).toBe(0);

    await s.start();
    expect(await s.plugin("echo")).toMatchObject({ state: "ready", instance: { release: original } });
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);
    const alerts = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ kind: string; message: string }> };
    expect(alerts.alerts).toContainEqual(
      expect.objectContaining({
        kind: "update-failed",
        message: `the configured binary (release ${crashSha.slice(0, 12)}) did not come into service at the last reload; current stays on ${original.slice(0, 12)}, and the next reload tries the configured binary again`,
      }),
    );
    const again = await ctl("reload", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ failed: [expect.stringMatching(/^echo: release [0-9a-f]{12} of plugin echo was not deployed: .*; [0-9a-f]{12} keeps serving$/)] });
    expect(await current()).toBe(original);
  }, 90_000);

  it("a configured binary changed while the supervisor was down replaces a deployed release at the next start, and says so", async () => {
    const { s, ctl, current } = await start();
    const deployed = await makeRelease(echoBinary, work!, "b");
    expect((await ctl("deploy", "echo", deployed)).code).toBe(0);
    expect((await s.stop("SIGTERM")).code).toBe(0);
    // An upgrade that replaced the configured binary (install.sh's example plugin), say.
    const configured = await makeRelease(echoBinary, work!, "c");
    const doc = parse(await readFile(s.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    doc.plugins[0]!.binary = configured;
    await writeFile(s.configFile, stringify(doc));

    await s.start();
    const [was, now] = [await sha256File(deployed), await sha256File(configured)];
    expect(await current()).toBe(now);
    const said = await s.waitForLog((l) => l.plugin === "echo" && l.level === "warn" && typeof l.msg === "string" && l.msg.startsWith("the configured binary changed"));
    expect(said.msg).toBe(`the configured binary changed since the last start: its release ${now.slice(0, 12)} replaces ${was.slice(0, 12)}, which was current`);
  }, 90_000);

  it("after the trial was written and before current was swapped: the reload's binary is not brought in untried either", async () => {
    const { s, original, ctl, current, history } = await start();
    expect((await s.stop("SIGTERM")).code).toBe(0);
    // What a supervisor killed between the trial's record and the swap leaves: current still on what served.
    const hang = path.join(repoRoot, "build/test-plugins/echo-hang");
    const hangSha = await sha256File(hang);
    await writeFile(path.join(s.stateDir, "plugins/echo/trial.json"), `${JSON.stringify({ release: hangSha, restore: original })}\n`);
    const doc = parse(await readFile(s.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    doc.plugins[0]!.binary = hang;
    await writeFile(s.configFile, stringify(doc));

    await s.start();
    expect((await s.plugin("echo")).instance?.release).toBe(original);
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);
    const alerts = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ message: string }> };
    expect(alerts.alerts.map((a) => a.message)).toContainEqual(
      `release ${hangSha.slice(0, 12)} was coming into service when the supervisor stopped, and never served; current is on ${original.slice(0, 12)}, which did; the configured binary is tried again at the next reload`,
    );
  }, 90_000);

  it("while the old instance drains: the new release serves after the restart, and a rollback goes back to the old one", async () => {
    const { s, original, ctl, current, history } = await start();
    const client = echoClient((await s.plugin("echo")).address, pluginCredentials("echo", await s.clientPems("crash-test", ["echo"])), channelOptions({ retry: false }));
    // A call in flight on the old instance keeps its drain going for 4 s.
    const slow = client.unary({ message: "slow", sleepMs: 4000, replySize: 0 }, { deadlineMs: 20_000 }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 300));
    const secondBinary = await makeRelease(echoBinary, work!, "b");
    const second = await sha256File(secondBinary);
    let deployed = false;
    const deploying = ctl("deploy", "echo", secondBinary).finally(() => (deployed = true));
    await s.waitForPlugin("echo", (p) => p.instance?.release === second && p.state === "ready");
    await new Promise((r) => setTimeout(r, 500));
    expect(deployed).toBe(false); // the deploy waits for the old instance's drain
    await s.stop("SIGKILL");
    await deploying;
    await slow;
    client.close();

    await s.start();
    expect((await s.plugin("echo")).instance?.release).toBe(second);
    expect(await current()).toBe(second);
    expect(await history()).toEqual([original, second]);
    const rollback = await ctl("rollback", "echo");
    expect(rollback.code, rollback.stderr).toBe(0);
    expect((await s.plugin("echo")).instance?.release).toBe(original);
  }, 90_000);
});

describe("a supervisor started with a `current` link that names no release", () => {
  const cases = [
    { what: "removed", breakLink: async (link: string) => rm(link), said: (link: string) => `${link} was missing` },
    {
      what: "pointed outside the store",
      breakLink: async (link: string) => {
        await rm(link);
        await symlink(path.join(repoRoot, "build/test-plugins"), link);
      },
      said: (link: string) => `${link} -> ${path.join(repoRoot, "build/test-plugins")} is not a release of plugin echo`,
    },
  ];
  it.each(cases)("($what) puts back the deployed release that served, not the configured binary, and says so", async ({ breakLink, said }) => {
    const { s, ctl, current } = await start();
    const deployed = await makeRelease(echoBinary, work!, "b");
    expect((await ctl("deploy", "echo", deployed)).code).toBe(0);
    expect((await s.stop("SIGTERM")).code).toBe(0);
    const link = path.join(s.stateDir, "plugins/echo/current");
    await breakLink(link);

    await s.start();
    const was = await sha256File(deployed);
    expect((await s.plugin("echo")).instance?.release).toBe(was);
    expect(await current()).toBe(was);
    const alerts = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ kind: string; message: string }> };
    expect(alerts.alerts).toContainEqual(
      expect.objectContaining({
        kind: "update-failed",
        message: `${said(link)} when the supervisor started; it is put back to release ${was.slice(0, 12)}, the last that served`,
      }),
    );
  }, 90_000);
});

describe("a deploy that cannot be tried", () => {
  it("to a stopped plugin is refused: current, the history and the release that starts next stay as they were", async () => {
    const { s, original, ctl, current, history } = await start();
    expect((await ctl("stop", "echo")).code).toBe(0);
    const crash = path.join(repoRoot, "build/test-plugins/echo-crash");
    const deploy = await ctl("deploy", "echo", crash);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain("plugin echo is stopped; start it, then deploy: a release stays current only once it serves");
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);
    expect((await ctl("start", "echo")).code).toBe(0);
    expect((await s.plugin("echo")).instance?.release).toBe(original);
  }, 90_000);

  it("queued when the supervisor is told to stop fails, and the next start runs the release that served", async () => {
    const { s, original, ctl, current, history } = await start();
    const slowStart = await makeRelease(echoBinary, work!, "slow");
    // The first deploy's instance warms up for 3 s; the second waits behind it.
    const doc = parse(await readFile(s.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "3000" };
    await writeFile(s.configFile, stringify(doc));
    expect((await ctl("reload")).code).toBe(0);
    const warming = ctl("deploy", "echo", slowStart);
    await s.waitForPlugin("echo", (p) => p.state === "updating");
    const queued = ctl("deploy", "echo", path.join(repoRoot, "build/test-plugins/echo-crash"));
    await new Promise((r) => setTimeout(r, 500));
    expect((await s.stop("SIGTERM")).code).toBe(0);
    const [first, second] = await Promise.all([warming, queued]);
    expect(first.code).not.toBe(0);
    expect(second.code).not.toBe(0);
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);

    await s.start();
    expect((await s.plugin("echo")).instance?.release).toBe(original);
  }, 90_000);

  it("queued behind another and given up by its caller (Ctrl-C) is dropped: it never becomes current", async () => {
    const { s, original, ctl, current, history } = await start();
    const hang = path.join(repoRoot, "build/test-plugins/echo-hang");
    const first = ctl("deploy", "echo", hang); // fails after the plugin's startTimeout (10 s)
    await s.waitForPlugin("echo", (p) => p.state === "updating");
    const later = await makeRelease(echoBinary, work!, "later");
    const queued = execa(nodeBin, [corralctlBin, "--config", s.configFile, "deploy", "echo", later], { reject: false, stdin: "ignore" });
    // Once the daemon has it, waiting (a fixed second was too short for corralctl's start on a loaded machine).
    await s.waitForLog((l) => l.msg === "the deploy of plugin echo waits behind another" && l.binary === later);
    queued.kill("SIGINT");
    const interrupted = await queued;
    expect(interrupted.exitCode).toBe(130);
    expect(interrupted.stderr).toContain("corralctl: interrupted: the deploy is dropped if it was still waiting behind another");
    expect((await first).code).toBe(1);
    await s.waitForLog((l) => typeof l.msg === "string" && l.msg.includes("admin Deploy by") && l.msg.includes("the deploy of plugin echo was cancelled by its caller before it began"), 15_000);
    expect(await current()).toBe(original);
    expect(await history()).toEqual([original]);
    expect((await s.plugin("echo")).instance?.release).toBe(original);
    const releases = JSON.parse((await ctl("releases", "echo", "--json")).stdout) as Array<{ sha256: string }>;
    expect(releases.map((r) => r.sha256)).toEqual([original]);
  }, 90_000);
});

