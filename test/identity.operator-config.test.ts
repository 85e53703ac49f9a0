// Operator-provided certificates (the original design's model): configured per
// plugin, checked at every start, refused with the rule that failed.
import { X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { readCrl } from "../supervisor/identity/crl.ts";
import { issuePluginLeaf, loadOrCreateCA } from "../supervisor/identity/index.ts";
import { corralctl, plugins, processAlive, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

const TD = "test.corral.local";
const DAY = 24 * 3600 * 1000;

describe("operator-provided certificates", () => {
  it("serves with a valid one and refuses one with too little validity or another plugin's identity", async () => {
    const supervisor = await TestSupervisor.create({ plugins: [] });
    running.push(supervisor);
    const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: TD });
    const write = async (name: string, plugin: string, ttlMs: number) => {
      const leaf = await issuePluginLeaf(ca, { trustDomain: TD, plugin, ttlMs });
      const cert = path.join(supervisor.dir, `${name}.crt`);
      const key = path.join(supervisor.dir, `${name}.key`);
      await writeFile(cert, leaf.certPem);
      await writeFile(key, leaf.keyPem, { mode: 0o600 });
      return { leaf, files: { cert, key } };
    };
    const good = await write("good", "greeter", 30 * DAY);
    const short = await write("short", "short", 3 * DAY);
    const wrong = await write("wrong", "greeter", 30 * DAY);
    const config = parse(await readFile(supervisor.configFile, "utf8")) as Record<string, unknown>;
    config.plugins = [
      { name: "greeter", binary: plugins.greeter, apiVersion: "1.0", certificate: good.files },
      { name: "short", binary: plugins.slowdrain, apiVersion: "1.0", certificate: short.files },
      { name: "misfiled", binary: plugins.slowdrain, apiVersion: "1.0", certificate: wrong.files },
    ];
    await writeFile(supervisor.configFile, stringify(config));
    await supervisor.start();

    const greeter = await supervisor.plugin("greeter");
    expect(greeter.state).toBe("ready");
    const served = await readFile(path.join(supervisor.runtimeDir, "instances", greeter.instance!.id, "cert.pem"), "utf8");
    expect(served).toBe(good.leaf.certPem);

    const shortStatus = await supervisor.waitForPlugin("short", (p) => p.state === "quarantined");
    expect(shortStatus.reason).toMatch(/^certificate refused: identity rule min-validity: .*short\.crt/);
    expect(shortStatus.restarts).toBe(0);
    const misfiled = await supervisor.waitForPlugin("misfiled", (p) => p.state === "quarantined");
    expect(misfiled.reason).toMatch(/^certificate refused: identity rule (plugin-id-mismatch|plugin-name|uri-san-form)/);
    expect(misfiled.reason).toContain("greeter");
  });
});

describe("corralctl certs issue --role plugin", () => {
  it("issues a configured plugin's certificate, which the plugin then serves with as its operator-provided one", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    running.push(supervisor);
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
    const out = path.join(supervisor.dir, "greeter-cert");
    await mkdir(out);
    const issued = await ctl("certs", "issue", "--role", "plugin", "--name", "greeter", "--ttl", "30d", "--out", out, "--json");
    expect(issued.code, issued.stderr).toBe(0);
    const { identity, serial } = JSON.parse(issued.stdout) as { identity: string; serial: string };
    expect(identity).toBe(`spiffe://${TD}/plugin/greeter`);
    // Of a plugin the config has, and not scoped.
    expect(await ctl("certs", "issue", "--role", "plugin", "--name", "nosuch", "--out", out)).toMatchObject({ code: 4, stderr: expect.stringContaining("no such plugin: nosuch") });
    expect(await ctl("certs", "issue", "--role", "plugin", "--name", "greeter", "--plugin", "greeter", "--out", out)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("a plugin certificate is not scoped to plugins: --name is the plugin"),
    });

    const config = parse(await readFile(supervisor.configFile, "utf8")) as { plugins: Array<Record<string, unknown>> };
    config.plugins[0]!.certificate = { cert: path.join(out, "cert.pem"), key: path.join(out, "key.pem") };
    await writeFile(supervisor.configFile, stringify(config));
    const reload = await ctl("reload");
    expect(reload.code, reload.stdout + reload.stderr).toBe(0);
    const greeter = await supervisor.waitForPlugin("greeter", (p) => p.state === "ready" && p.instance !== null);
    const served = new X509Certificate(await readFile(path.join(supervisor.runtimeDir, "instances", greeter.instance!.id, "cert.pem"), "utf8"));
    expect(served.serialNumber).toBe(serial);
  });
});

/** A supervisor running greeter with a certificate of its CA given as an operator's (30 days), not issued by it. */
async function greeterWithOperatorCertificate() {
  const supervisor = await TestSupervisor.create({ plugins: [] });
  running.push(supervisor);
  const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: TD });
  const leaf = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "greeter", ttlMs: 30 * DAY });
  const files = { cert: path.join(supervisor.dir, "greeter.crt"), key: path.join(supervisor.dir, "greeter.key") };
  await writeFile(files.cert, leaf.certPem);
  await writeFile(files.key, leaf.keyPem, { mode: 0o600 });
  const config = parse(await readFile(supervisor.configFile, "utf8")) as Record<string, unknown>;
  config.plugins = [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0", certificate: files, restart: { initialBackoff: "100ms" } }];
  await writeFile(supervisor.configFile, stringify(config));
  await supervisor.start();
  const before = await supervisor.plugin("greeter");
  expect(before.state).toBe("ready");
  return { supervisor, leaf, before };
}

describe("a revoked operator-provided certificate", () => {
  it("stops the instance that serves with it, which is not started again, and the revocation succeeds", async () => {
    const { supervisor, leaf, before } = await greeterWithOperatorCertificate();

    // Corral cannot issue an operator's certificate again: the instance ends.
    const revoked = await corralctl(["--config", supervisor.configFile, "certs", "revoke", "--serial", leaf.serialHex]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(processAlive(before.instance!.pid!)).toBe(false);
    const after = await supervisor.waitForPlugin("greeter", (p) => p.state === "quarantined", 20_000);
    expect(after.reason).toMatch(/^certificate refused: identity rule .*revoked/);
  }, 60_000);

  it("stops the instance when the plugin's identity is revoked, and lists the serials of its operator certificates in the CRL", async () => {
    const { supervisor, leaf, before } = await greeterWithOperatorCertificate();
    // The operator replaces the file with a new certificate that no instance has served with yet.
    const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: TD });
    const replacement = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "greeter", ttlMs: 30 * DAY });
    await writeFile(path.join(supervisor.dir, "greeter.crt"), replacement.certPem);
    await writeFile(path.join(supervisor.dir, "greeter.key"), replacement.keyPem, { mode: 0o600 });

    const revoked = await corralctl(["--config", supervisor.configFile, "certs", "revoke", "--plugin", "greeter"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    // Neither was issued through the registry: the one served was noted when
    // read, the one configured when the identity was revoked. Host
    // applications check the CRL, and must refuse both keys.
    expect(revoked.stdout).toContain(leaf.serialHex);
    expect(revoked.stdout).toContain(replacement.serialHex);
    const crl = readCrl(await readFile(path.join(supervisor.runtimeDir, "crl.pem")), [new X509Certificate(ca.certPem)]);
    expect([...crl.serials]).toEqual(expect.arrayContaining([leaf.serialHex, replacement.serialHex]));
    expect(processAlive(before.instance!.pid!)).toBe(false);
    const after = await supervisor.waitForPlugin("greeter", (p) => p.state === "quarantined", 20_000);
    expect(after.reason).toMatch(/^certificate refused: identity rule .*revoked/);

    // Unrevoked, it serves with its certificate again (Corral could not issue
    // one in its place), and the CRL no longer lists it.
    expect((await corralctl(["--config", supervisor.configFile, "certs", "unrevoke", "--plugin", "greeter"])).code).toBe(0);
    const started = await corralctl(["--config", supervisor.configFile, "start", "greeter"]);
    expect(started.code, started.stderr).toBe(0);
    expect((await supervisor.plugin("greeter")).state).toBe("ready");
    const lifted = readCrl(await readFile(path.join(supervisor.runtimeDir, "crl.pem")), [new X509Certificate(ca.certPem)]);
    expect([...lifted.serials]).not.toContain(replacement.serialHex);
  }, 60_000);
});
