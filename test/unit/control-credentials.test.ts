// The supervisor's credentials towards its plugins, over real TLS: an HTTP/2
// server in the test stands in for a plugin's socket and records the client
// certificate of every connection.
import { Channel, connectivityState } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import http2 from "node:http2";
import { tmpdir } from "node:os";
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
    const leaf = await RotatingLeaf.start({ issue: () => issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR }), caPem: ca.certPem });
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
    const leaf = await RotatingLeaf.start({ issue: () => issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR }), caPem: ca.certPem });
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
});
