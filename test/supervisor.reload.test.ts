// Config reload against a real daemon (corralctl reload and SIGHUP): plugins
// added, removed, changed (limits, binary) without a failed call to the ones
// that stay; a file that fails validation, or that changes what only a
// restart can, changes nothing.
import { execa } from "execa";
import { status, type ServiceError } from "@grpc/grpc-js";
import { once } from "node:events";
import { copyFile, link as hardLink, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { hostname, tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { channelOptions, pluginCredentials } from "../client/index.ts";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { echoClient, makeRelease, sha256File, type EchoClient } from "./helpers/echo.ts";
import { corralctl, corralctlBin, nodeBin, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

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

/** The `n` most recent events, as `corralctl events --recent n --json` shows them. */
async function recentEvents(n: number): Promise<Array<{ plugin: string; kind: string; message: string; to?: string }>> {
  const watch = execa(nodeBin, [corralctlBin, "--config", supervisor.configFile, "events", "--recent", String(n), "--json"], { reject: false });
  let seen = "";
  watch.stdout!.on("data", (chunk: Buffer) => (seen += chunk.toString()));
  for (let i = 0; i < 100 && seen.split("\n").length <= n; i++) await new Promise((r) => setTimeout(r, 50));
  watch.kill("SIGINT");
  await watch;
  return seen.trim().split("\n").slice(0, n).map((l) => JSON.parse(l) as { plugin: string; kind: string; message: string; to?: string });
}

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
    // A follower of the plugin the reload removes: its follow ends, saying why.
    const follower = execa(nodeBin, [corralctlBin, "--config", supervisor.configFile, "logs", "greeter", "-f", "--tail", "0"], { reject: false, timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
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
    // A restart under the reloaded config is the config's event, not a deploy; a removal says so.
    const events = await recentEvents(30);
    expect(events.filter((e) => e.plugin === "echo" && e.kind === "deploy")).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ plugin: "echo", kind: "config", message: expect.stringMatching(/^restarted under the reloaded config/) }));
    expect(events).toContainEqual(expect.objectContaining({ plugin: "greeter", kind: "config", message: "removed from the config" }));
    const followed = await follower;
    expect(followed.timedOut, "the follow went on after its plugin was removed").toBe(false);
    expect(followed.exitCode).not.toBe(0);
    expect(followed.stderr).toContain("plugin greeter was removed from the config: its output ends here");
  }, 60_000);

  it("does not add a plugin whose first start fails, nor one whose binary it cannot import, and says why; a reload after goes through", async () => {
    const good = await readFile(supervisor.configFile, "utf8");
    await editConfig((doc) => {
      doc.plugins.push(
        // Never ready, and restarted forever: no quarantine within its window.
        { name: "hangs", binary: path.join(repoRoot, "build/test-plugins/echo-hang"), apiVersion: "1.0", startTimeout: "1s", restart: { initialBackoff: "10ms", quarantineAfter: 1000 } },
        { name: "ghost", binary: "/opt/corral-test-no-such/ghost", apiVersion: "1.0" },
      );
    });
    try {
      const r = await ctl("reload", "--json");
      expect(r.code).toBe(1);
      const result = JSON.parse(r.stdout) as { added: string[]; failed: string[] };
      expect(result.added).toEqual([]);
      expect(result.failed.toSorted()).toEqual([
        "ghost: cannot import the plugin's binary: ENOENT: no such file or directory, stat '/opt/corral-test-no-such/ghost'",
        "hangs: not ready: backoff: not ready within startTimeout (1000 ms)",
      ]);
      for (const name of ["hangs", "ghost"]) expect((await ctl("status", name)).code).toBe(4);
      // Not "removed from the config": it is in the file, and was never added.
      const hangs = (await recentEvents(40)).filter((e) => e.plugin === "hangs" && e.kind === "config");
      expect(hangs.map((e) => e.message)).toEqual(["not added: not ready: backoff: not ready within startTimeout (1000 ms)"]);
    } finally {
      await writeFile(supervisor.configFile, good);
    }
    expect((await ctl("reload")).code).toBe(0);
  }, 60_000);

  it("moves a TCP address to another host address on the same port", async () => {
    const port = await freePort();
    const setTcp = (tcp: string) => editConfig((doc) => void (doc.plugins.find((p) => p.name === "echo")!.dataPlane = { tcp }));
    try {
      await setTcp(`127.0.0.1:${port}`);
      expect((await ctl("reload")).code).toBe(0);
      expect((await supervisor.plugin("echo")).tcpAddress).toBe(`127.0.0.1:${port}`);
      // Listening on 0.0.0.0:port beside 127.0.0.1:port is EADDRINUSE: the old one goes first.
      await setTcp(`0.0.0.0:${port}`);
      const r = await ctl("reload", "--json");
      expect(r.code, r.stdout).toBe(0);
      expect((await supervisor.plugin("echo")).tcpAddress).toBe(`0.0.0.0:${port}`);
      expect(await listening(port)).toBe(true);

      // A port another process holds: the reload fails, and the address in
      // use, with its connections, is left alone.
      const taken = net.createServer().listen(0, "127.0.0.1");
      await once(taken, "listening");
      const open = net.connect(port, "127.0.0.1");
      await once(open, "connect");
      let cut = false;
      open.on("close", () => (cut = true));
      try {
        await setTcp(`127.0.0.1:${(taken.address() as net.AddressInfo).port}`);
        const refused = await ctl("reload", "--json");
        expect(refused.code).toBe(1);
        expect(JSON.parse(refused.stdout).failed).toEqual([expect.stringMatching(/^echo: dataPlane\.tcp 127\.0\.0\.1:\d+: listen EADDRINUSE/)]);
        expect((await supervisor.plugin("echo")).tcpAddress).toBe(`0.0.0.0:${port}`);
        await new Promise((r) => setTimeout(r, 200));
        expect(cut, "a connection through the address in use was cut").toBe(false);
      } finally {
        open.destroy();
        taken.close();
      }
    } finally {
      await setTcp("127.0.0.1:0");
    }
    expect((await ctl("reload")).code).toBe(0);
  }, 30_000);

  it("leaves the connections of a TCP address it moves to end as the plugin recycles them, not cut at stopTimeout", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const setTcp = (tcp: string, stopTimeout?: string) =>
      editConfig((doc) => {
        const echo = doc.plugins.find((p) => p.name === "echo")!;
        echo.dataPlane = { tcp };
        if (stopTimeout) echo.stopTimeout = stopTimeout;
        else delete echo.stopTimeout;
      });
    try {
      await setTcp(`127.0.0.1:${p1}`, "1s");
      expect((await ctl("reload")).code).toBe(0);
      const creds = pluginCredentials("echo", await supervisor.clientPems("tcp-move", ["echo"]));
      const overTcp = echoClient(`127.0.0.1:${p1}`, creds, channelOptions({ retry: false }));
      try {
        expect((await overTcp.unary({ message: "before", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 })).reply.message).toBe("before");
        await setTcp(`127.0.0.1:${p2}`, "1s");
        expect((await ctl("reload")).code).toBe(0);
        expect((await supervisor.plugin("echo")).tcpAddress).toBe(`127.0.0.1:${p2}`);
        await new Promise((r) => setTimeout(r, 2500)); // past stopTimeout, which cut the relay's connections
        expect((await overTcp.unary({ message: "after", sleepMs: 0, replySize: 0 }, { deadlineMs: 5000 })).reply.message).toBe("after");
        expect(await listening(p1)).toBe(false); // new connections go to the new address
      } finally {
        overTcp.close();
      }
    } finally {
      await setTcp("127.0.0.1:0");
    }
    expect((await ctl("reload")).code).toBe(0);
  }, 30_000);

  it("swaps two plugins' TCP ports in one reload, and takes a port respelled by name", async () => {
    const good = await readFile(supervisor.configFile, "utf8");
    const [p1, p2] = [await freePort(), await freePort()];
    const names = (parse(good) as ConfigDoc).plugins.slice(0, 2).map((p) => p.name as string);
    const setTcp = (a: string, b: string) =>
      editConfig((doc) => {
        doc.plugins[0]!.dataPlane = { tcp: a };
        doc.plugins[1]!.dataPlane = { tcp: b };
      });
    const reload = async () => {
      const r = await ctl("reload", "--json");
      expect(r.code, r.stdout).toBe(0);
    };
    try {
      await setTcp(`127.0.0.1:${p1}`, `127.0.0.1:${p2}`);
      await reload();
      await setTcp(`127.0.0.1:${p2}`, `127.0.0.1:${p1}`);
      await reload();
      expect([(await supervisor.plugin(names[0]!)).tcpAddress, (await supervisor.plugin(names[1]!)).tcpAddress]).toEqual([`127.0.0.1:${p2}`, `127.0.0.1:${p1}`]);
      expect([await listening(p1), await listening(p2)]).toEqual([true, true]);
      await setTcp(`localhost:${p2}`, `127.0.0.1:${p1}`);
      await reload();
      expect(await listening(p2)).toBe(true);
      // Respelled back as an address, then as this host's name where it names 127.0.0.1 (here: /etc/hosts).
      await setTcp(`127.0.0.1:${p2}`, `127.0.0.1:${p1}`);
      await reload();
      if ((await lookup(hostname(), { family: 4 })).address === "127.0.0.1") {
        await setTcp(`${hostname()}:${p2}`, `127.0.0.1:${p1}`);
        await reload();
        expect(await listening(p2)).toBe(true);
      }
    } finally {
      await writeFile(supervisor.configFile, good);
      expect((await ctl("reload")).code).toBe(0);
    }
  }, 60_000);

  it("moves a TCP address without ending the calls in flight on the old one", async () => {
    const setTcp = (tcp: string) => editConfig((doc) => void (doc.plugins.find((p) => p.name === "echo")!.dataPlane = { tcp }));
    const [first, second] = [await freePort(), await freePort()];
    const creds = pluginCredentials("echo", await supervisor.clientPems("reload-tcp", ["echo"]));
    try {
      await setTcp(`127.0.0.1:${first}`);
      expect((await ctl("reload")).code).toBe(0);
      const overTcp = echoClient(`127.0.0.1:${first}`, creds, channelOptions({ retry: false }));
      try {
        await overTcp.unary({ message: "connected" });
        const inFlight = overTcp.unary({ message: "across the move", sleepMs: 2000 }, { deadlineMs: 10_000 });
        await new Promise((r) => setTimeout(r, 300));
        await setTcp(`127.0.0.1:${second}`);
        const r = await ctl("reload", "--json");
        expect(r.code, r.stdout).toBe(0);
        expect((await supervisor.plugin("echo")).tcpAddress).toBe(`127.0.0.1:${second}`);
        expect(await listening(first)).toBe(false); // new connections go to the new address only
        expect((await inFlight).reply.message).toBe("across the move");
      } finally {
        overTcp.client.close();
      }
    } finally {
      await setTcp("127.0.0.1:0");
    }
    expect((await ctl("reload")).code).toBe(0);
  }, 30_000);

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
      // Also an event, for a SIGHUP that has no one to tell.
      const [last] = (await recentEvents(1)).slice(-1);
      expect(last).toMatchObject({ plugin: "", kind: "config", message: expect.stringMatching(/^config reload rejected: invalid config; the running one stays:\n.*limits\.memory/) });
    } finally {
      await writeFile(supervisor.configFile, good);
    }
    expect((await ctl("validate")).code).toBe(0);
  }, 30_000);

  it("validates a file corralctl reads and sends; the daemon reads no path but its own config, nor quotes a file back whole", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "corral-validate-"));
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    const validate = (request: { path: string; content: string }) =>
      new Promise<{ code: number; details: string; errors: string[] }>((resolve) =>
        admin.ValidateConfig(request, { deadline: new Date(Date.now() + 5000) }, (err, r) =>
          resolve(err ? { code: err.code, details: err.details, errors: [] } : { code: 0, details: "", errors: r!.errors }),
        ),
      );
    try {
      // A file only root may read: the daemon is not asked to read it.
      const secret = path.join(work, "secret.pem");
      await writeFile(secret, `-----BEGIN PRIVATE KEY-----\n${"S".repeat(300)}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
      // A path other than the running file's names text sent (here, none): the file is not read.
      const unread = await validate({ path: secret, content: "" });
      expect(unread.code).toBe(0);
      expect(unread.errors.join("\n")).not.toContain("PRIVATE KEY");
      // Nor does the daemon look for the host paths of text sent.
      const doc = parse(await readFile(supervisor.configFile, "utf8")) as ConfigDoc;
      doc.plugins[0]!.readOnlyPaths = ["/opt/corral-validate-nowhere"];
      expect((await validate({ path: path.join(work, "grants.yaml"), content: stringify(doc) })).errors).toEqual([]);
      // ...which corralctl says, rather than leave "valid" to read as checked on this host.
      await writeFile(path.join(work, "grants.yaml"), stringify(doc));
      const said = await ctl("validate", path.join(work, "grants.yaml"));
      expect(said.code).toBe(0);
      expect(said.stdout).toContain(`(host paths, such as readOnlyPaths, were not looked for: \`corral validate ${path.join(work, "grants.yaml")}\` on the host checks them)`);
      // Text that is no config is quoted no further than 80 characters.
      const quoted = await validate({ path: secret, content: await readFile(secret, "utf8") });
      expect(quoted.errors.join("\n")).not.toContain("S".repeat(100));
      expect(quoted.errors.join("\n")).toMatch(/…\)$/);
      // Many problems: the first 100 are answered, and how many more.
      const many = await validate({ path: path.join(work, "many.yaml"), content: Array.from({ length: 300 }, (_, i) => `k${i}: 0`).join("\n") });
      expect(many.errors).toHaveLength(101);
      expect(many.errors.at(-1)).toBe("... and 200 more");
      // corralctl reads the file itself.
      const copy = path.join(work, "corral.yaml");
      await writeFile(copy, await readFile(supervisor.configFile, "utf8"));
      expect(await ctl("validate", copy)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^valid: \d+ plugin\(s\): /) });
      expect((await ctl("validate", path.join(work, "none.yaml"))).code).toBe(2);
    } finally {
      admin.close();
      await rm(work, { recursive: true, force: true });
    }
  });

  it("checks large config text off the event loop: other calls are answered meanwhile, and only a few checks wait", async () => {
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    const order: string[] = [];
    const validate = (content: string) =>
      new Promise<{ code: number; details: string; plugins: number }>((resolve) =>
        admin.ValidateConfig({ path: "/tmp/big.yaml", content }, { deadline: new Date(Date.now() + 20_000) }, (err, r) => {
          order.push("validate");
          resolve(err ? { code: err.code, details: err.details, plugins: 0 } : { code: 0, details: "", plugins: r!.plugins.length });
        }),
      );
    const version = () =>
      new Promise<void>((resolve, reject) =>
        admin.Version({}, { deadline: new Date(Date.now() + 20_000) }, (err) => {
          order.push("version");
          if (err) reject(err);
          else resolve();
        }),
      );
    // About 255 KiB: some 4700 plugins, a second or two of parsing.
    let big = "plugins:\n";
    for (let i = 0; big.length < 250_000; i++) big += `  - {name: p${i}, binary: /bin/true, apiVersion: "1"}\n`;
    try {
      const checked = validate(big);
      await new Promise((r) => setTimeout(r, 50)); // the check is under way
      await version();
      expect((await checked).plugins).toBeGreaterThan(4000);
      expect(order).toEqual(["version", "validate"]);

      // One check under way and three waiting: a fifth at once is refused.
      const small = `${"# padding past what is checked inline\n".repeat(300)}plugins: []\n`;
      const five = await Promise.all(Array.from({ length: 5 }, () => validate(small)));
      expect(five.filter((r) => r.code === 0)).toHaveLength(4);
      expect(five.filter((r) => r.code !== 0)).toEqual([{ code: status.RESOURCE_EXHAUSTED, details: "3 validations are waiting already; try again", plugins: 0 }]);

      // Small text with aliases too: a few KiB of them expand to much more.
      const aliased = `x-std: &std {binary: /bin/true, apiVersion: "1"}\nplugins: [{name: a, <<: *std}]\n`;
      const fiveAliased = await Promise.all(Array.from({ length: 5 }, () => validate(aliased)));
      expect(fiveAliased.filter((r) => r.code !== 0)).toEqual([{ code: status.RESOURCE_EXHAUSTED, details: "3 validations are waiting already; try again", plugins: 0 }]);
    } finally {
      admin.close();
    }
  });

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
      // validate, the step before a reload, says so too: what it passes, the reload takes.
      const v = await ctl("validate");
      expect(v.code).toBe(1);
      expect(v.stderr).toBe(`invalid config\n${supervisor.configFile}: trustDomain changed; only a restart of the supervisor applies that, and a reload refuses it\n`);
      // Named, the daemon's own file is read and sent by corralctl: checked the same way.
      const named = await ctl("validate", supervisor.configFile);
      expect(named.code).toBe(1);
      expect(named.stderr).toBe(v.stderr);
      // ...by whatever path: through a link to its directory too.
      const link = `${path.dirname(supervisor.configFile)}-link`;
      await symlink(path.dirname(supervisor.configFile), link);
      try {
        const linked = await ctl("validate", path.join(link, path.basename(supervisor.configFile)));
        expect(linked.code).toBe(1);
        // Its relative paths resolve as the daemon's own: only the field that changed is named.
        expect(linked.stderr).toMatch(/: trustDomain changed; only a restart of the supervisor applies that, and a reload refuses it\n$/);
      } finally {
        await rm(link);
      }
      // ...and through a hard link to the file itself.
      const hard = `${supervisor.configFile}.hard`;
      await hardLink(supervisor.configFile, hard);
      try {
        const hardly = await ctl("validate", hard);
        expect(hardly.code).toBe(1);
        expect(hardly.stderr).toMatch(/: trustDomain changed; only a restart of the supervisor applies that, and a reload refuses it\n$/);
      } finally {
        await rm(hard);
      }
    } finally {
      await writeFile(supervisor.configFile, good);
    }
  }, 30_000);

  it("has validate refuse a plugin added, or given another binary, whose binary cannot be read, as the reload then does", async () => {
    const good = await readFile(supervisor.configFile, "utf8");
    const missing = path.join(path.dirname(supervisor.configFile), "no-such-plugin");
    await editConfig((doc) => {
      doc.plugins.push({ name: "ghost", binary: missing, apiVersion: "1.0" });
      doc.plugins.find((p) => p.name === "echo")!.binary = path.dirname(missing);
    });
    try {
      const v = await ctl("validate");
      expect(v.code).toBe(1);
      expect(v.stderr).toBe(
        `invalid config\n${supervisor.configFile}: plugin echo: its binary ${path.dirname(missing)} is not a regular file; a reload would fail for the plugin\n` +
          `${supervisor.configFile}: plugin ghost: its binary ${missing} does not exist; a reload would refuse the plugin's addition\n`,
      );
      const r = await ctl("reload", "--json");
      expect(r.code).toBe(1);
      const failed = (JSON.parse(r.stdout) as { failed: string[] }).failed;
      expect(failed.sort()).toEqual([expect.stringMatching(/^echo: EISDIR/), expect.stringMatching(/^ghost: cannot import the plugin's binary: ENOENT/)]);
    } finally {
      await writeFile(supervisor.configFile, good);
      expect((await ctl("reload")).code).toBe(0);
    }
  }, 60_000);

  it("has validate refuse a file whose plugin, kept as it is, lost its binary since: the reload imports it again, and fails", async () => {
    const good = await readFile(supervisor.configFile, "utf8");
    const copy = path.join(path.dirname(supervisor.configFile), "echo-kept");
    await copyFile(echoBinary, copy);
    await editConfig((doc) => void doc.plugins.push({ name: "kept", binary: copy, apiVersion: "1.0" }));
    try {
      expect((await ctl("reload")).code).toBe(0);
      await rm(copy);
      const v = await ctl("validate");
      expect(v.code).toBe(1);
      expect(v.stderr).toBe(`invalid config\n${supervisor.configFile}: plugin kept: its binary ${copy} does not exist; a reload would fail for the plugin\n`);
      const r = await ctl("reload", "--json");
      expect(r.code).toBe(1);
      expect((JSON.parse(r.stdout) as { failed: string[] }).failed).toEqual([expect.stringMatching(/^kept: ENOENT/)]);
    } finally {
      await writeFile(supervisor.configFile, good);
      expect((await ctl("reload")).code).toBe(0);
      await rm(copy, { force: true });
    }
  }, 60_000);

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

describe("config reload of a plugin that is not simply serving", () => {
  /** The MARK variable in the environment of echo's instance now. */
  async function markOfInstance(): Promise<string | undefined> {
    const pid = (await supervisor.plugin("echo")).instance!.pid;
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    return environ.split("\0").find((v) => v.startsWith("MARK="));
  }
  /** Reloads; corralctl exits 1 when a plugin failed. */
  const reload = async (code = 0) => {
    const r = await ctl("reload", "--json");
    expect(r.code, r.stderr).toBe(code);
    return JSON.parse(r.stdout) as { changed: string[]; failed: string[] };
  };

  it("puts a change in force in an instance that was still starting under the old config", async () => {
    await editConfig((doc) => {
      doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "1500", MARK: "a" };
    });
    expect(await reload()).toMatchObject({ changed: ["echo"], failed: [] });
    expect(await markOfInstance()).toBe("MARK=a");
    // Crashed, it is restarted after its backoff, and takes 1.5 s to start.
    process.kill((await supervisor.plugin("echo")).instance!.pid!, "SIGKILL");
    await supervisor.waitForPlugin("echo", (p) => p.state === "starting", 10_000);
    await editConfig((doc) => {
      doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "1500", MARK: "b" };
    });
    expect(await reload()).toMatchObject({ changed: ["echo"], failed: [] });
    expect((await supervisor.plugin("echo")).state).toBe("ready");
    expect(await markOfInstance()).toBe("MARK=b");
  }, 60_000);

  it("refuses a change to a paused plugin, naming why, and keeps its config", async () => {
    const paused = await ctl("pause", "echo");
    expect(paused.code, paused.stderr).toBe(0);
    try {
      await editConfig((doc) => {
        doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "1500", MARK: "c" };
      });
      const result = await reload(1);
      expect(result.changed).toEqual([]);
      expect(result.failed).toEqual(["echo: plugin echo is paused; resume it first"]);
      const described = JSON.parse((await ctl("describe", "echo", "--json")).stdout) as { config: { env: Record<string, string> } };
      expect(described.config.env.MARK).toBe("b");
    } finally {
      expect((await ctl("resume", "echo")).code).toBe(0);
    }
    expect(await markOfInstance()).toBe("MARK=b");
  }, 60_000);

  it("does not start the instance of a deploy under way under the config of a reload that then fails", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "corral-reload-deploy-"));
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    const call = <T>(method: "Deploy" | "Reload", request: object) =>
      new Promise<T>((resolve, reject) => {
        const done = (err: ServiceError | null, value?: T) => (err ? reject(err) : resolve(value!));
        if (method === "Deploy") admin.Deploy(request, { deadline: new Date(Date.now() + 30_000) }, done as never);
        else admin.Reload(request, { deadline: new Date(Date.now() + 30_000) }, done as never);
      });
    const inForce = parse(await readFile(supervisor.configFile, "utf8")) as ConfigDoc;
    try {
      const next = await makeRelease(echoBinary, work, "during-reload");
      // The reload changes the environment, and a binary that cannot serve: it fails.
      await editConfig((doc) => {
        doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "1500", MARK: "d" };
        doc.plugins[0]!.binary = path.join(repoRoot, "build/test-plugins/echo-crash");
      });
      const deploying = call<{ release: string }>("Deploy", { plugin: "echo", binary: next });
      await new Promise((r) => setTimeout(r, 5));
      const reloaded = await call<{ changed: string[]; failed: string[] }>("Reload", {});
      expect(reloaded.changed).toEqual([]);
      expect(reloaded.failed).toEqual([expect.stringMatching(/^echo: release [0-9a-f]{12} of plugin echo was not deployed/)]);
      expect((await deploying).release).toBe(await sha256File(next));
      // The deploy's instance runs the config in force, which describe shows.
      expect(await markOfInstance()).toBe("MARK=b");
      const described = JSON.parse((await ctl("describe", "echo", "--json")).stdout) as { config: { env: Record<string, string> } };
      expect(described.config.env.MARK).toBe("b");
    } finally {
      admin.close();
      await writeFile(supervisor.configFile, stringify(inForce));
      await rm(work, { recursive: true, force: true });
    }
  }, 60_000);

  it("applies releases.keep without a new instance", async () => {
    const before = (await supervisor.plugin("echo")).instance!.id;
    await editConfig((doc) => {
      doc.plugins[0]!.env = { ECHO_START_DELAY_MS: "1500", MARK: "b" };
      doc.plugins[0]!.releases = { keep: 1 };
    });
    expect(await reload()).toMatchObject({ changed: ["echo"], failed: [] });
    expect((await supervisor.plugin("echo")).instance!.id).toBe(before);
    for (const tag of ["keep-1", "keep-2"]) {
      const r = await ctl("deploy", "echo", await makeRelease(echoBinary, supervisor.dir, tag));
      expect(r.code, r.stderr).toBe(0);
    }
    // The one serving (and current), the one it replaced, and one more to
    // roll back to (the default, 5, kept all 4).
    const listed = JSON.parse((await ctl("releases", "echo", "--json")).stdout) as unknown[];
    expect(listed).toHaveLength(3);
  }, 60_000);
});

describe("config reload of a binary that does not serve", () => {
  it("tries it again on the next reload, and keeps it out of the history that rollbacks follow", async () => {
    const history = async () =>
      (await readFile(path.join(supervisor.stateDir, "plugins/echo/history.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { sha256: string }).sha256);
    const serving = (await supervisor.plugin("echo")).instance!.release;
    const good = (parse(await readFile(supervisor.configFile, "utf8")) as ConfigDoc).plugins[0]!.binary;
    const crashing = await makeRelease(path.join(repoRoot, "build/test-plugins/echo-crash"), supervisor.dir, "reload-crash");
    // The same reload moves its TCP address: that must not stay moved either.
    const port = await freePort();
    await editConfig((doc) => {
      doc.plugins[0]!.binary = crashing;
      doc.plugins[0]!.dataPlane = { tcp: `127.0.0.1:${port}` };
    });
    try {
      for (const attempt of [1, 2]) {
        const r = await ctl("reload", "--json");
        expect(r.code, `reload ${attempt}: ${r.stdout}`).toBe(1);
        const result = JSON.parse(r.stdout) as { changed: string[]; failed: string[] };
        expect(result.changed, `reload ${attempt}`).toEqual([]);
        expect(result.failed, `reload ${attempt}`).toEqual([expect.stringMatching(new RegExp(`^echo: release [0-9a-f]{12} of plugin echo was not deployed: .*; ${serving.slice(0, 12)} keeps serving$`))]);
        expect((await supervisor.plugin("echo")).instance!.release).toBe(serving);
        const { tcpAddress } = await supervisor.plugin("echo");
        expect(tcpAddress, `reload ${attempt}`).not.toBe(`127.0.0.1:${port}`);
        expect(await listening(port), `reload ${attempt}`).toBe(false);
      }
      expect(await history()).not.toContain(await sha256File(crashing));
      expect(await readlink(path.join(supervisor.stateDir, "plugins/echo/current"))).toBe(`releases/${serving}`);
    } finally {
      await editConfig((doc) => {
        doc.plugins[0]!.binary = good;
        doc.plugins[0]!.dataPlane = { tcp: "127.0.0.1:0" };
      });
    }
    expect((await ctl("reload")).code).toBe(0);
  }, 60_000);
});

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number): Promise<boolean> {
  const socket = net.connect(port, "127.0.0.1");
  try {
    await once(socket, "connect");
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

describe("a SIGHUP while the supervisor is starting", () => {
  it("is not lost: the config written meanwhile is reloaded once the start is done", async () => {
    const starting = await TestSupervisor.create({
      plugins: [{ name: "echo", binary: echoBinary, apiVersion: "1.0", env: { ECHO_START_DELAY_MS: "2500" }, startTimeout: "10s" }],
    });
    try {
      const started = starting.start();
      await starting.waitForLog((l) => l.plugin === "echo" && typeof l.msg === "string" && l.msg.startsWith("plugin starting"), 10_000);
      const doc = parse(await readFile(starting.configFile, "utf8")) as ConfigDoc;
      doc.plugins.push({ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" });
      await writeFile(starting.configFile, stringify(doc));
      process.kill(starting.pid!, "SIGHUP");
      await started;
      const ready = starting.logs.findIndex((l) => l.msg.startsWith("supervisor ready"));
      const reloaded = await starting.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("config reloaded: 1 added"), 15_000);
      expect(starting.logs.indexOf(reloaded)).toBeGreaterThan(ready);
      expect((await starting.plugin("greeter")).state).toBe("ready");
    } finally {
      await starting.cleanup();
    }
  }, 60_000);
});
