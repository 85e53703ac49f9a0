// Roles: admin and client certificates from the same CA, issued through
// corralctl; a client scoped to plugin A is refused by plugin B.
import { credentials, status } from "@grpc/grpc-js";
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parsePeerIdentity, pluginServerIdentity } from "../supervisor/identity/index.ts";
import { sayHello } from "./helpers/greeter.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

const TD = "test.corral.local";

async function credentialsFrom(dir: string, expectPlugin: string) {
  const [ca, cert, key] = await Promise.all(["ca.pem", "cert.pem", "key.pem"].map((f) => readFile(path.join(dir, f))));
  return credentials.createSsl(ca!, key!, cert!, { checkServerIdentity: pluginServerIdentity({ trustDomain: TD, plugin: expectPlugin }) });
}

describe("certificate roles", () => {
  it("issues client certificates scoped to plugins, which only those plugins accept", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
        { name: "other", binary: plugins.slowdrain, apiVersion: "1.0" },
      ],
    });
    running.push(supervisor);
    const out = path.join(supervisor.dir, "client-a");
    // Into a directory holding a key.pem anyone may read: the new key is not.
    await mkdir(out, { mode: 0o700 });
    await writeFile(path.join(out, "key.pem"), "an old key\n", { mode: 0o644 });
    const issued = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "web", "--plugin", "greeter", "--out", out, "--json"]);
    expect(issued.stderr).toBe("");
    expect(issued.code).toBe(0);
    expect(JSON.parse(issued.stdout)).toMatchObject({ identity: `spiffe://${TD}/client/web`, kind: "client", plugins: ["greeter"] });
    expect((await stat(path.join(out, "key.pem"))).mode & 0o777).toBe(0o600);
    expect(parsePeerIdentity(await readFile(path.join(out, "cert.pem"), "utf8")).scope).toEqual(["greeter"]);

    const greeter = (await supervisor.plugin("greeter")).instance!;
    const greeterSocket = path.join(supervisor.runtimeDir, "instances", greeter.id, "plugin.sock");
    expect((await sayHello(greeterSocket, await credentialsFrom(out, "greeter"), "web")).message).toBe("Hello, web!");

    // Scoped to "other": greeter refuses it, naming the peer.
    const outB = path.join(supervisor.dir, "client-b");
    expect((await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "batch", "--plugin", "other", "--out", outB])).code).toBe(0);
    const refused = await sayHello(greeterSocket, await credentialsFrom(outB, "greeter"), "batch").catch((e: { code: number; details: string }) => e);
    expect(refused).toMatchObject({ code: status.PERMISSION_DENIED });
    expect((refused as { details: string }).details).toContain(`spiffe://${TD}/client/batch`);
  });

  it("issues admin certificates that corralctl can use, and refuses bad requests clearly", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    running.push(supervisor);
    const out = path.join(supervisor.dir, "alice");
    const issued = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "admin", "--name", "alice", "--ttl", "2h", "--out", out]);
    expect(issued.code).toBe(0);
    expect(issued.stdout).toMatch(new RegExp(`^issued spiffe://${TD}/admin/alice serial [0-9A-F]+, valid until `));
    const status = await corralctl(["--socket", supervisor.adminSocket, "--credentials", out, "status", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).plugins[0].name).toBe("greeter");

    // A client certificate is not an admin: the admin socket refuses it.
    const client = path.join(supervisor.dir, "client");
    await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "web", "--plugin", "greeter", "--out", client]);
    const denied = await corralctl(["--socket", supervisor.adminSocket, "--credentials", client, "status"]);
    expect(denied.code).toBe(5);
    expect(denied.stderr).toBe(`corralctl: permission denied: spiffe://${TD}/client/web is not an admin of ${TD}\n`);

    const unknown = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "x", "--plugin", "nosuch", "--out", client]);
    expect(unknown).toMatchObject({ code: 4, stderr: "corralctl: no such plugin: nosuch\n" });
    const badRole = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "root", "--name", "x", "--out", client]);
    expect(badRole).toMatchObject({ code: 1, stderr: 'corralctl: role "root" is not admin, client or plugin\n' });
    // An --out it cannot write into is refused before anything is issued: no certificate whose key is lost.
    const file = path.join(supervisor.dir, "a-file");
    await writeFile(file, "");
    const before = await corralctl(["--config", supervisor.configFile, "certs", "list", "--json"]);
    const nowhere = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "admin", "--name", "bob", "--out", file]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(new RegExp(`^corralctl: --out ${file}: cannot write the certificate's files there: EEXIST`));
    expect((await corralctl(["--config", supervisor.configFile, "certs", "list", "--json"])).stdout).toBe(before.stdout);
    // The local admin's identity is root's: no one is issued it.
    const reserved = await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "admin", "--name", "local-root", "--out", path.join(supervisor.dir, "lr")]);
    expect(reserved).toMatchObject({ code: 1, stderr: 'corralctl: admin name "local-root" is the supervisor\'s own credential for root; choose another\n' });

    // An admin who is not root deploys only what every user may read; root may deploy the rest.
    const hidden = path.join(supervisor.dir, "private");
    await mkdir(hidden, { mode: 0o700 });
    const binary = path.join(hidden, "greeter");
    await copyFile(plugins.greeter, binary);
    const byAlice = await corralctl(["--socket", supervisor.adminSocket, "--credentials", out, "deploy", "greeter", binary]);
    expect(byAlice.code).not.toBe(0);
    expect(byAlice.stderr).toContain(`${binary}: not found, or not a regular executable file every user may read`);
    const byRoot = await corralctl(["--config", supervisor.configFile, "deploy", "greeter", binary]);
    expect(byRoot.code, byRoot.stderr).toBe(0);
  });
});
