// Config reload against a real daemon (corralctl reload and SIGHUP): plugins
// added, removed, changed (limits, binary) without a failed call to the ones
// that stay; a file that fails validation, or that changes what only a
// restart can, changes nothing.
import type { ServiceError } from "@grpc/grpc-js";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { echoClient, makeRelease, sha256File, type EchoClient } from "./helpers/echo.ts";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
let supervisor: TestSupervisor;
let client: EchoClient;

type ConfigDoc = { plugins: Array<Record<string, unknown>> } & Record<string, unknown>;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    plugins: [
      { name: "echo", binary: echoBinary, apiVersion: "1.0", limits: { memory: "64MiB" } },
      { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
    ],
  });
  const creds = pluginCredentials("echo", await supervisor.clientPems("reload-test", ["echo"]));
  client = echoClient((await supervisor.plugin("echo")).address, creds, channelOptions({ retry: false }));
}, 60_000);

afterAll(async () => {
  client?.close();
  await supervisor?.cleanup();
});

const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);

async function editConfig(edit: (doc: ConfigDoc) => void): Promise<void> {
  const doc = parse(await readFile(supervisor.configFile, "utf8")) as ConfigDoc;
  edit(doc);
  await writeFile(supervisor.configFile, stringify(doc));
}

/** Calls echo without pause while `during` runs; resolves with the failures. */
async function callsDuring(during: () => Promise<void>): Promise<{ failures: string[]; calls: number; releases: Set<string> }> {
  const failures: string[] = [];
  const releases = new Set<string>();
  let calls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await client.unary({ message: "r", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 }).then(
        (r) => {
          calls += 1;
          releases.add(r.reply.release);
        },
        (err: ServiceError) => failures.push(`${err.code}: ${err.details}`),
      );
    }
  })();
  try {
    await during();
  } finally {
    running = false;
    await loop;
  }
  return { failures, calls, releases };
}

describe("config reload", () => {
  it("rolls a plugin whose limits changed, without a failed call, and adds and removes plugins", async () => {
    const before = (await supervisor.plugin("echo")).instance!.id;
    const { failures, calls } = await callsDuring(async () => {
      await editConfig((doc) => {
        doc.plugins = [
          { name: "echo", binary: echoBinary, apiVersion: "1.0", limits: { memory: "96MiB" }, dataPlane: { tcp: "127.0.0.1:0" } },
          { name: "echo-two", binary: echoBinary, apiVersion: "1.0" },
        ];
      });
      const r = await ctl("reload", "--json");
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ added: ["echo-two"], removed: ["greeter"], changed: ["echo"], unchanged: [], failed: [] });
    });
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    const echo = await supervisor.plugin("echo");
    expect(echo.state).toBe("ready");
    expect(echo.instance!.id).not.toBe(before);
    expect(echo.tcpAddress).toMatch(/^127\.0\.0\.1:\d+$/); // a TCP listener added by the reload
    const described = JSON.parse((await ctl("describe", "echo", "--json")).stdout) as { config: { limits: { memory: number } } };
    expect(described.config.limits.memory).toBe(96 * 1024 * 1024);
    expect((await supervisor.plugin("echo-two")).state).toBe("ready");
    expect((await ctl("status", "greeter")).code).toBe(4);
  }, 60_000);

  it("brings a changed binary into service as a new release", async () => {
    const next = await makeRelease(echoBinary, supervisor.dir, "reloaded");
    const { failures, releases } = await callsDuring(async () => {
      await editConfig((doc) => {
        doc.plugins[0]!.binary = next;
      });
      const r = await ctl("reload", "--json");
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ changed: ["echo"], failed: [] });
    });
    expect(failures).toEqual([]);
    const release = await sha256File(next);
    expect(releases).toContain(release);
    expect((await supervisor.plugin("echo")).instance!.release).toBe(release);
  }, 60_000);

  it("rejects a file that fails validation, naming every problem, and keeps running as before", async () => {
    const before = await supervisor.status();
    const good = await readFile(supervisor.configFile, "utf8");
    await editConfig((doc) => {
      doc.plugins[0]!.limits = { memory: "12XB" };
      doc.plugins[1]!.bogus = true;
    });
    try {
      const r = await ctl("reload");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/invalid config; the running one stays/);
      expect(r.stderr).toMatch(new RegExp(`${supervisor.configFile}:\\d+:\\d+: plugins\\[0\\]\\.limits\\.memory: "12XB" is not a size`));
      expect(r.stderr).toMatch(/plugins\[1\]\.bogus: unknown field "bogus"/);
      const v = await ctl("validate");
      expect(v.code).toBe(1);
      expect(v.stderr).toMatch(/limits\.memory/);
      const after = await supervisor.status();
      expect(after.plugins.map((p) => [p.name, p.state, p.instance?.id])).toEqual(before.plugins.map((p) => [p.name, p.state, p.instance?.id]));
    } finally {
      await writeFile(supervisor.configFile, good);
    }
    expect((await ctl("validate")).code).toBe(0);
  }, 30_000);

  it("refuses a change only a restart can apply, and changes nothing", async () => {
    const good = await readFile(supervisor.configFile, "utf8");
    await editConfig((doc) => {
      doc.trustDomain = "other.corral.local";
      doc.plugins.pop();
    });
    try {
      const r = await ctl("reload");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/trustDomain changed; only a restart of the supervisor applies that, so nothing was reloaded/);
      expect((await supervisor.plugin("echo-two")).state).toBe("ready");
    } finally {
      await writeFile(supervisor.configFile, good);
    }
  }, 30_000);

  it("reloads on SIGHUP", async () => {
    await editConfig((doc) => {
      doc.plugins.push({ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" });
    });
    const seen = supervisor.logs.length;
    process.kill(supervisor.pid!, "SIGHUP");
    await supervisor.waitForLog((l) => supervisor.logs.indexOf(l) >= seen && typeof l.msg === "string" && l.msg.startsWith("config reloaded: 1 added"));
    expect((await supervisor.plugin("greeter")).state).toBe("ready");
  }, 30_000);
});
