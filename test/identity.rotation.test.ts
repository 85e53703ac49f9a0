// Rotation: instance leaves renew at about half their life and the plugin
// switches without a failed call; corralctl certs rotate renews on demand.
import { credentials } from "@grpc/grpc-js";
import { readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import type { PeerCertificate } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { issueClientLeaf, loadOrCreateCA, pluginServerIdentity } from "../supervisor/identity/index.ts";
import { sayHello } from "./helpers/greeter.ts";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

const TD = "test.corral.local";

describe("certificate rotation", () => {
  it("renews an instance's leaf at half its life with no failed call, on new and existing connections", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0", certificateTtl: "4s" }],
    });
    running.push(supervisor);
    const instance = (await supervisor.plugin("greeter")).instance!;
    const socket = path.join(supervisor.runtimeDir, "instances", instance.id, "plugin.sock");
    const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: TD });
    const client = await issueClientLeaf(ca, { trustDomain: TD, ttlMs: 3600_000 }, "rotation-test", ["greeter"]);
    const seen = new Set<string>();
    const check = pluginServerIdentity({ trustDomain: TD, plugin: "greeter" });
    const creds = () =>
      credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem), {
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          seen.add(cert.serialNumber);
          return check(host, cert);
        },
      });
    const longLived = creds();

    let ok = 0;
    const failures: string[] = [];
    const deadline = Date.now() + 7000;
    while (Date.now() < deadline) {
      // One call on a fresh connection (new handshake), one on a long-lived channel.
      for (const c of [creds(), longLived]) {
        await sayHello(socket, c, "r").then(
          () => ok++,
          (err: Error) => failures.push(err.message),
        );
      }
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const renewals = supervisor.logs.filter((l) => l.msg === "renewed the instance's certificate" && l.instance === instance.id);
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    // New connections saw the renewed certificates.
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it("corralctl certs rotate renews running instances on demand", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    running.push(supervisor);
    const instance = (await supervisor.plugin("greeter")).instance!;
    const r = await corralctl(["--config", supervisor.configFile, "certs", "rotate", "greeter"]);
    expect(r).toMatchObject({ code: 0, stdout: `rotated 1 instance(s): ${instance.id}\n` });
    await supervisor.waitForLog((l) => l.msg === "renewed the instance's certificate");
    const missing = await corralctl(["--config", supervisor.configFile, "certs", "rotate", "nosuch"]);
    expect(missing).toMatchObject({ code: 4, stderr: "corralctl: no such plugin: nosuch\n" });
  });

  it("renews an instance still starting, which then starts on a new Control channel and leaves none of its old ones open", async () => {
    // Starts take 3 s before go-shim serves: a rotation lands in one.
    const supervisor = await TestSupervisor.start({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", env: { ECHO_START_DELAY_MS: "3000" }, startTimeout: "20s" }],
    });
    running.push(supervisor);
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
    const restart = ctl("restart", "echo");
    await new Promise((r) => setTimeout(r, 1000));
    const rotated = await ctl("certs", "rotate", "echo");
    expect(rotated.code, rotated.stderr).toBe(0);
    expect((await restart).code).toBe(0);
    const rotatedInstance = (await supervisor.plugin("echo")).instance!.id;
    expect(rotated.stdout).toContain(rotatedInstance); // the one starting was among those rotated
    // Replaced: nothing of the supervisor's may still lead to its socket.
    expect((await ctl("restart", "echo")).code).toBe(0);
    const links = readdirSync(`/proc/${supervisor.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${supervisor.pid}/fd/${fd}`);
      } catch {
        return "";
      }
    });
    expect(links.filter((l) => l.includes(rotatedInstance))).toEqual([]);
  }, 90_000);
});
