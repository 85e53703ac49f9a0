// The refusal server's own bounds, over real TLS on a real socket: TLS 1.3
// only, also after its certificate is renewed, and a ceiling on the
// connections that all refusal servers hold, for which no certificate is
// needed until a handshake ends.
import { Client, credentials, status } from "@grpc/grpc-js";
import net, { type Socket } from "node:net";
import path from "node:path";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { RefusalServer, REFUSAL_LIMITS } from "../../supervisor/dataplane/refusal-server.ts";
import { issueClientLeaf, issuePluginLeaf, loadOrCreateCA } from "../../supervisor/identity/index.ts";
import { greeterRefusalServer, TEST_TRUST_DOMAIN, useTempCa } from "../helpers/temp-ca.ts";

const TD = TEST_TRUST_DOMAIN;
const HOUR = 3600_000;
const t = useTempCa("corral-refusal-");
const cleanups = t.cleanups;

async function refusalServer(name: string): Promise<RefusalServer> {
  const server = await greeterRefusalServer(t, name);
  cleanups.push(() => server.close());
  return server;
}

/** The outcome of a TLS 1.2 handshake with a valid client certificate. */
async function tls12(socket: string): Promise<string> {
  const client = await issueClientLeaf(t.ca, { trustDomain: TD, ttlMs: HOUR }, "app", ["greeter"]);
  return new Promise((resolve) => {
    const conn = tls.connect({ path: socket, ca: t.ca.certPem, cert: client.certPem, key: client.keyPem, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ALPNProtocols: ["h2"], checkServerIdentity: () => undefined });
    conn.once("secureConnect", () => {
      resolve(`connected with ${conn.getProtocol()}`);
      conn.destroy();
    });
    conn.once("error", (err) => resolve(err.message));
  });
}

describe("RefusalServer", () => {
  it("speaks TLS 1.3 only, also once its certificate is renewed", async () => {
    const server = await refusalServer("tls");
    expect(await tls12(server.socket)).toMatch(/protocol version/);
    const renewed = await issuePluginLeaf(t.ca, { trustDomain: TD, plugin: "greeter", ttlMs: HOUR });
    server.setCertificate({ caPem: t.ca.certPem, ...renewed });
    expect(await tls12(server.socket)).toMatch(/protocol version/);
  });

  it("holds at most REFUSAL_LIMITS.connections connections across all its servers, and cuts a handshake that does not end", async () => {
    const saved = { ...REFUSAL_LIMITS };
    Object.assign(REFUSAL_LIMITS, { connections: 4, handshakeMs: 500 });
    cleanups.push(() => {
      Object.assign(REFUSAL_LIMITS, saved);
    });
    const [a, b] = [await refusalServer("a"), await refusalServer("b")];
    // Connections that never start a handshake: what a flood of them costs.
    const open = (socket: string) =>
      new Promise<{ conn: Socket; closedAfter: Promise<number> }>((resolve, reject) => {
        const conn = net.connect(socket, () => {
          const at = Date.now();
          resolve({ conn, closedAfter: new Promise((r) => conn.once("close", () => r(Date.now() - at))) });
        });
        conn.once("error", reject);
        cleanups.push(() => {
          conn.destroy();
        });
      });
    const held = [await open(a.socket), await open(a.socket), await open(b.socket), await open(b.socket)];
    await new Promise((r) => setTimeout(r, 50)); // the servers have counted them
    // One more, on either server: closed as it comes.
    const over = await open(b.socket);
    expect(await over.closedAfter).toBeLessThan(250);
    // Those held are cut at the handshake's deadline, not kept.
    for (const h of held) expect(await h.closedAfter).toBeGreaterThanOrEqual(400);
    for (const h of held) expect(await h.closedAfter).toBeLessThan(5000);
    // And then there is room again.
    const after = await open(a.socket);
    const within = await Promise.race([after.closedAfter, new Promise<"open">((r) => setTimeout(() => r("open"), 200))]);
    expect(within).toBe("open");
  });
});

describe("RefusalServer and a client certificate TLS does not verify", () => {
  /** One call through the refusal server with the client's PEMs: its status and message. */
  async function call(socket: string, client: { certPem: string; keyPem: string }): Promise<string> {
    const creds = credentials.createSsl(Buffer.from(t.ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem), { checkServerIdentity: () => undefined });
    const c = new Client(`unix://${socket}`, creds);
    try {
      return await new Promise<string>((resolve) =>
        c.makeUnaryRequest("/corral.test.echo.v1.Echo/Unary", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: new Date(Date.now() + 5000) }, (err) =>
          resolve(err ? `${status[err.code]}: ${err.details}` : "OK"),
        ),
      );
    } finally {
      c.close();
    }
  }

  it("refuses its calls UNAUTHENTICATED, naming why, as the plugin would: an expired one, one of another CA", async () => {
    const server = await refusalServer("unverified");
    const expired = await issueClientLeaf(t.ca, { trustDomain: TD, ttlMs: 1000 }, "late", ["greeter"]);
    await new Promise((r) => setTimeout(r, Math.max(0, expired.notAfter.getTime() - Date.now()) + 1100));
    expect(await call(server.socket, expired)).toBe("UNAUTHENTICATED: the plugin refused this application's certificate (CERT_HAS_EXPIRED)");
    const other = await loadOrCreateCA(path.join(t.dir, "other-state"), { trustDomain: TD });
    const stranger = await issueClientLeaf(other, { trustDomain: TD, ttlMs: HOUR }, "stranger", ["greeter"]);
    expect(await call(server.socket, stranger)).toMatch(/^UNAUTHENTICATED: the plugin refused this application's certificate \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
    // A valid one is told why the plugin cannot serve.
    const valid = await issueClientLeaf(t.ca, { trustDomain: TD, ttlMs: HOUR }, "app", ["greeter"]);
    expect(await call(server.socket, valid)).toBe("UNAVAILABLE: plugin greeter is stopped");
  }, 20_000);
});

describe("RefusalServer and connections TLS let through unverified", () => {
  /** A TLS connection with `client`'s certificate (none if undefined); resolves when the server closes it, in ms after its handshake. */
  function held(socket: string, client?: { certPem: string; keyPem: string }): Promise<number> {
    return new Promise((resolve) => {
      let connectedAt = 0;
      const conn = tls.connect({ path: socket, ca: t.ca.certPem, ...(client && { cert: client.certPem, key: client.keyPem }), ALPNProtocols: ["h2"], checkServerIdentity: () => undefined });
      cleanups.push(() => void conn.destroy());
      conn.once("secureConnect", () => (connectedAt = Date.now()));
      conn.on("error", () => {});
      conn.once("close", () => resolve(connectedAt ? Date.now() - connectedAt : 0));
      conn.resume();
    });
  }

  it("closes one without a certificate at once, and one with an unverified certificate within a handshake's time", async () => {
    const server = await refusalServer("held");
    const none = await Promise.race([held(server.socket), new Promise<number>((r) => setTimeout(() => r(-1), 1000))]);
    expect(none, "a connection without a certificate is closed at once").toBeGreaterThanOrEqual(0);
    const other = await loadOrCreateCA(path.join(t.dir, "held-other-state"), { trustDomain: TD });
    const stranger = await issueClientLeaf(other, { trustDomain: TD, ttlMs: HOUR }, "stranger", ["greeter"]);
    const after = await Promise.race([held(server.socket, stranger), new Promise<number>((r) => setTimeout(() => r(-1), REFUSAL_LIMITS.handshakeMs + 2000))]);
    expect(after, "a connection with a foreign certificate is closed").toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThan(REFUSAL_LIMITS.handshakeMs + 1000);
  }, 20_000);
});
