// Host applications refuse a plugin whose certificate is revoked: the
// supervisor publishes the CRL where they can read it (<runtimeDir>/crl.pem;
// the state directory is root's), and both client libraries check the
// plugin's certificate against it on every new connection. What this
// guards against is a plugin key that got out (a plugin's code is not
// trusted) presented by an impostor, e.g. on the network path to a TCP
// address, after the operator revoked it.
import { loadPackageDefinition, Server, ServerCredentials, status, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { execa } from "execa";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../client/index.ts";
import { issuePluginLeaf, loadOrCreateCA, openRegistry, type IssuedLeaf } from "../supervisor/identity/index.ts";
import { Greeter, type HelloReply } from "./helpers/greeter.ts";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const TD = "test.corral.local";
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const greeterService = (
  loadPackageDefinition(loadSync(path.join(repoRoot, "examples/greeter/api/greeter.proto"), { longs: Number, defaults: true })) as unknown as {
    corral: { examples: { greeter: { v1: { Greeter: { service: Parameters<Server["addService"]>[0] } } } } };
  }
).corral.examples.greeter.v1.Greeter.service;

/** A server presenting `leaf` (a greeter certificate that got out) on a socket of its own, answering as greeter would. */
async function impostor(caPem: string, leaf: IssuedLeaf, socket: string): Promise<void> {
  const server = new Server();
  server.addService(greeterService, {
    SayHello: (call: { request: { name: string } }, callback: (err: null, reply: HelloReply) => void) =>
      callback(null, { message: `Hello, ${call.request.name}!`, instance: "impostor" }),
  });
  const credentials = ServerCredentials.createSsl(Buffer.from(caPem), [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }], false);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, credentials, (err) => (err ? reject(err) : resolve())));
  cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
}

describe("host applications and the CRL", () => {
  it("refuse an impostor presenting a revoked plugin certificate, in Node and in Go", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    cleanups.push(() => supervisor.cleanup());
    const published = path.join(supervisor.runtimeDir, "crl.pem");
    expect((await stat(published)).mode & 0o777).toBe(0o644);
    expect(await readFile(published, "utf8")).toBe(await readFile(path.join(supervisor.stateDir, "ca/crl.pem"), "utf8"));

    const work = await mkdtemp(path.join(tmpdir(), "corral-client-crl-"));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const credentials = path.join(work, "credentials");
    expect((await corralctl(["--config", supervisor.configFile, "certs", "issue", "--role", "client", "--name", "web", "--plugin", "greeter", "--out", credentials])).code).toBe(0);
    const ca = await loadOrCreateCA(supervisor.stateDir, { trustDomain: TD });
    const stolen = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "greeter", ttlMs: 3600_000 });
    const socket = path.join(work, "impostor.sock");
    await impostor(ca.certPem, stolen, socket);

    /** Where a call goes: the impostor's socket, and the runtime directory (undefined: the default's). */
    type Target = { address: string; runtimeDir?: string };
    const first: Target = { address: socket, runtimeDir: supervisor.runtimeDir };
    const nodeCall = async ({ address, runtimeDir }: Target = first): Promise<string> => {
      const client = connect("greeter", Greeter, { credentials, address, ...(runtimeDir && { runtimeDir }), retry: false });
      try {
        return await new Promise<string>((resolve) =>
          client.SayHello({ name: "web" }, { deadline: new Date(Date.now() + 5000) }, (err: ServiceError | null, reply?: HelloReply) =>
            resolve(err ? `${status[err.code]}: ${err.details}` : reply!.message),
          ),
        );
      } finally {
        client.close();
      }
    };
    /** echo-call, go-shim/client's host application of the tests, calling echo's Unary on the greeter impostor. */
    const goCall = async ({ address, runtimeDir }: Target = first): Promise<string> => {
      const r = await execa(
        path.join(repoRoot, "build/test-hosts/echo-call"),
        ["-plugin", "greeter", "-credentials", credentials, ...(runtimeDir ? ["-runtime-dir", runtimeDir] : []), "-address", address],
        { reject: false },
      );
      return `${r.stdout}${r.stderr}`.trim();
    };

    // Not revoked: the impostor is served like the plugin (what the CRL check is for).
    expect(await nodeCall()).toBe("Hello, web!");
    expect(await goCall()).toMatch(/code = Unimplemented desc = The server does not implement the method \/corral.test.echo.v1.Echo\/Unary/);
    const before = await readFile(published, "utf8");
    // A client whose connection is open when the plugin's certificate is revoked.
    const kept = connect("greeter", Greeter, { credentials, address: socket, runtimeDir: supervisor.runtimeDir, retry: false });
    cleanups.push(async () => kept.close());
    const keptCall = () =>
      new Promise<string>((resolve) =>
        kept.SayHello({ name: "web" }, { deadline: new Date(Date.now() + 5000) }, (err: ServiceError | null, reply?: HelloReply) =>
          resolve(err ? `${status[err.code]}: ${err.details}` : reply!.message),
        ),
      );
    expect(await keptCall()).toBe("Hello, web!");

    const revoked = await corralctl(["--config", supervisor.configFile, "certs", "revoke", "--serial", stolen.serialHex, "--reason", "keyCompromise"]);
    expect(revoked.code).toBe(0);
    // Its connection is closed within a look at the list (every second while one is open).
    // A call under way as it closes ends "Connection dropped"; the next is refused, saying why.
    const revokedAt = Date.now();
    let keptAnswer = await keptCall();
    while ((keptAnswer === "Hello, web!" || keptAnswer === "UNAVAILABLE: Connection dropped") && Date.now() - revokedAt < 3000) {
      await new Promise((r) => setTimeout(r, 100));
      keptAnswer = await keptCall();
    }
    expect(keptAnswer).toMatch(/^UNAVAILABLE: .*is revoked/);
    expect(Date.now() - revokedAt).toBeLessThan(2500);
    const refusal = `the plugin's certificate \\(serial ${stolen.serialHex}\\) is revoked \\(${published}, CRL number \\d+`;
    expect(await nodeCall()).toMatch(new RegExp(`^UNAVAILABLE: .*${refusal}`));
    expect(await goCall()).toMatch(new RegExp(`code = Unavailable .*${refusal}`));

    // A copy in the credentials directory (a host application on another machine) comes first:
    // one from before the revocation lets the impostor through, the current one does not.
    await writeFile(path.join(credentials, "crl.pem"), before);
    expect(await nodeCall()).toBe("Hello, web!");
    expect(await goCall()).toMatch(/Unimplemented/);
    await writeFile(path.join(credentials, "crl.pem"), await readFile(published, "utf8"));
    expect(await nodeCall()).toMatch(/^UNAVAILABLE: .*is revoked/);
    expect(await goCall()).toMatch(/code = Unavailable .*is revoked/);

    // Without a copy, and without runtimeDir, the list is the one of the runtime directory the
    // address is in (<dir>/plugins/<plugin>.sock)...
    await rm(path.join(credentials, "crl.pem"));
    const elsewhere = path.join(work, "run");
    await mkdir(path.join(elsewhere, "plugins"), { recursive: true });
    await impostor(ca.certPem, stolen, path.join(elsewhere, "plugins", "greeter.sock"));
    await writeFile(path.join(elsewhere, "crl.pem"), await readFile(published, "utf8"));
    const underIt: Target = { address: path.join(elsewhere, "plugins", "greeter.sock") };
    expect(await nodeCall(underIt)).toMatch(/^UNAVAILABLE: .*is revoked/);
    expect(await goCall(underIt)).toMatch(/code = Unavailable .*is revoked/);
    // ... and that default is left out when it is another CA's (another supervisor's runtime
    // directory), rather than failing every connect.
    const other = await openRegistry(path.join(work, "other"), await loadOrCreateCA(path.join(work, "other"), { trustDomain: TD }));
    await writeFile(path.join(elsewhere, "crl.pem"), (await other.publishCrl()).pem);
    expect(await nodeCall(underIt)).toBe("Hello, web!");
    expect(await goCall(underIt)).toMatch(/Unimplemented/);
  });
});
