// The supervisor's credentials towards its plugins, over real TLS: an HTTP/2
// server in the test stands in for a plugin's socket and records the client
// certificate of every connection.
import { Channel, connectivityState } from "@grpc/grpc-js";
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import net, { type Socket } from "node:net";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuePluginLeaf, issueSupervisorLeaf, loadOrCreateCA, RotatingLeaf, type CertificateAuthority } from "../../supervisor/identity/index.ts";
import { controlCredentials } from "../../supervisor/plugin/control-credentials.ts";

const TD = "corral.local";
const HOUR = 3600_000;
let dir: string;
let ca: CertificateAuthority;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-control-creds-"));
  ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: TD });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The supervisor's renewing leaf, as Trust keeps it. */
const supervisorLeaf = () => RotatingLeaf.start({ issue: () => issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR }), caPem: ca.certPem });

/** A TLS HTTP/2 server with `plugin`'s certificate, recording the serial of each client certificate. */
async function pluginServer(plugin: string, socket: string) {
  const leaf = await issuePluginLeaf(ca, { trustDomain: TD, plugin, ttlMs: HOUR });
  const clients: string[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
  server.on("secureConnection", (tls: TLSSocket) => clients.push(tls.getPeerCertificate().serialNumber));
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    clients,
    /** Ends every connection, as a plugin that restarts its server would. */
    dropConnections: () => sessions.forEach((s) => s.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function connected(channel: Channel): Promise<void> {
  for (;;) {
    const state = channel.getConnectivityState(true);
    if (state === connectivityState.READY) return;
    if (state === connectivityState.TRANSIENT_FAILURE) throw new Error("connection failed");
    await new Promise<void>((resolve, reject) =>
      channel.watchConnectivityState(state, Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
    );
  }
}

describe("control credentials", () => {
  it("present the supervisor's current leaf on each new connection: the renewed one once it is renewed", async () => {
    const socket = path.join(dir, "renewal.sock");
    const server = await pluginServer("echo", socket);
    const leaf = await supervisorLeaf();
    const channel = new Channel(`unix://${socket}`, controlCredentials(TD, leaf, "echo").credentials, {});
    try {
      await connected(channel);
      const first = leaf.current.serialHex;
      await leaf.rotate();
      server.dropConnections();
      await new Promise<void>((resolve, reject) =>
        channel.watchConnectivityState(connectivityState.READY, Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
      );
      await connected(channel);
      expect(server.clients).toEqual([first, leaf.current.serialHex]);
      expect(leaf.current.serialHex).not.toBe(first);
    } finally {
      channel.close();
      leaf.close();
      await server.close();
    }
  });

  it("refuse a server whose certificate names another plugin, and keep the reason", async () => {
    const socket = path.join(dir, "other.sock");
    const server = await pluginServer("kv", socket);
    const leaf = await supervisorLeaf();
    const creds = controlCredentials(TD, leaf, "echo");
    const channel = new Channel(`unix://${socket}`, creds.credentials, {});
    try {
      await expect(connected(channel)).rejects.toThrow("connection failed");
      expect(creds.refusal()?.message).toBe(`identity rule plugin-id-mismatch: certificate names plugin "kv", expected "echo"`);
    } finally {
      channel.close();
      leaf.close();
      await server.close();
    }
  });

  it("send the handshake's last flight before the code that follows the connection runs", async () => {
    // The plugin's side in a process of its own, which prints when its
    // handshake completes: when the supervisor's certificate and Finished
    // have reached it. Node would write them only after the code that
    // follows the handshake, grpc-js's HTTP/2 set-up, unless let go first.
    const socket = path.join(dir, "flight.sock");
    const pem = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR });
    const files = { key: pem.keyPem, cert: pem.certPem, ca: ca.certPem };
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, `flight-${name}.pem`), text);
    const server = execa(process.execPath, ["--input-type=module", "-e", `
      import { readFileSync } from "node:fs";
      import tls from "node:tls";
      const read = (name) => readFileSync(${JSON.stringify(dir)} + "/flight-" + name + ".pem");
      tls.createServer({ key: read("key"), cert: read("cert"), ca: read("ca"), requestCert: true, rejectUnauthorized: true }, () => {
        console.log(process.hrtime.bigint().toString());
      }).listen(${JSON.stringify(socket)}, () => console.log("listening"));
    `]);
    const output: string[] = [];
    let wake = () => {};
    server.stdout!.on("data", (chunk: Buffer) => {
      output.push(...String(chunk).split("\n").filter(Boolean));
      wake();
    });
    void server.catch(() => {}).finally(() => wake());
    const line = async () => {
      while (output.length === 0) {
        if (server.exitCode !== null) throw new Error("the plugin's side ended");
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return output.shift()!;
    };
    const leaf = await supervisorLeaf();
    const creds = controlCredentials(TD, leaf, "echo");
    let tls: Socket | undefined;
    try {
      expect(await line()).toBe("listening");
      const tcp = await new Promise<Socket>((resolve, reject) => {
        const s = net.connect(socket, () => resolve(s)).once("error", reject);
      });
      const connector = creds.credentials._createSecureConnector({ scheme: "unix", authority: "", path: socket }, {});
      tls = (await connector.connect(tcp)).socket;
      // What follows the connection: 300 ms of the event loop.
      const began = process.hrtime.bigint();
      while (process.hrtime.bigint() - began < 300_000_000n);
      const completed = BigInt(await line());
      expect(creds.refusal()).toBeUndefined();
      // Well within the 300 ms loop (250 ms: the server is a process of its own, on a loaded machine).
      expect(completed).toBeLessThan(began + 250_000_000n);
    } finally {
      tls?.destroy();
      leaf.close();
      server.kill();
      await server.catch(() => {});
    }
  });
});
