// End to end over real TLS on Unix sockets: the chain is TLS's to check
// against the CA, the identity is ours.

import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { clientCredentials, pluginServerIdentity, type CheckServerIdentity } from "../supervisor/identity/credentials.ts";
import { IdentityError } from "../supervisor/identity/errors.ts";
import { parsePeerIdentity, type PeerIdentity } from "../supervisor/identity/identity.ts";
import { issueAdminLeaf, issuePluginLeaf, issueSupervisorLeaf, type IssuedLeaf } from "../supervisor/identity/issue.ts";

const TD = "corral.local";
const HOUR = 3600_000;
let dir: string;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
const leaves: Record<string, IssuedLeaf> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-tls-test-"));
  [ca, otherCa] = await Promise.all([
    loadOrCreateCA(join(dir, "state"), { trustDomain: TD }),
    loadOrCreateCA(join(dir, "other-state"), { trustDomain: TD }),
  ]);
  const opts = { trustDomain: TD, ttlMs: HOUR };
  leaves.echo = await issuePluginLeaf(ca, { ...opts, plugin: "echo" });
  leaves.kv = await issuePluginLeaf(ca, { ...opts, plugin: "kv" });
  leaves.supervisor = await issueSupervisorLeaf(ca, opts);
  leaves.admin = await issueAdminLeaf(ca, opts, "alice");
  leaves.foreignSupervisor = await issueSupervisorLeaf(otherCa, opts);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let sockets = 0;
const socketPath = (): string => join(dir, `s${sockets++}.sock`);

/** A plugin-side TLS server requiring client certificates from the CA; reports the client's identity. */
async function pluginServer(leaf: IssuedLeaf): Promise<{ path: string; clients: PeerIdentity[]; close: () => Promise<void> }> {
  const clients: PeerIdentity[] = [];
  const server = tls.createServer(
    { key: leaf.keyPem, cert: leaf.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      clients.push(parsePeerIdentity(socket.getPeerCertificate().raw));
      socket.end("hello");
    },
  );
  server.on("tlsClientError", () => undefined); // refused clients are the point of some tests
  const path = socketPath();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, clients, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function connect(path: string, leaf: IssuedLeaf, checkServerIdentity: CheckServerIdentity): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ path, ca: ca.certPem, key: leaf.keyPem, cert: leaf.certPem, servername: "localhost", checkServerIdentity });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("TLS between the supervisor and a plugin", () => {
  it("connects when the plugin is the one expected, and the plugin sees the supervisor", async () => {
    const server = await pluginServer(leaves.echo!);
    try {
      await expect(connect(server.path, leaves.supervisor!, pluginServerIdentity({ trustDomain: TD, plugin: "echo" }))).resolves.toBe("hello");
      expect(server.clients).toMatchObject([{ kind: "supervisor", uri: "spiffe://corral.local/supervisor" }]);
    } finally {
      await server.close();
    }
  });

  it("refuses a plugin serving another plugin's certificate", async () => {
    const server = await pluginServer(leaves.kv!);
    try {
      const error = await connect(server.path, leaves.supervisor!, pluginServerIdentity({ trustDomain: TD, plugin: "echo" })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdentityError);
      expect((error as IdentityError).rule).toBe("plugin-id-mismatch");
      expect((error as Error).message).toContain('certificate names plugin "kv", expected "echo"');
      expect(server.clients).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("leaves the chain to TLS: a client of another CA is refused by the plugin", async () => {
    const server = await pluginServer(leaves.echo!);
    try {
      // With TLS 1.3 the client finishes first; the server then refuses its certificate and hangs up.
      const outcome = await connect(server.path, leaves.foreignSupervisor!, pluginServerIdentity({ trustDomain: TD, plugin: "echo" })).catch(
        (e: unknown) => e,
      );
      expect(outcome).not.toBe("hello");
      expect(server.clients).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("leaves key purposes to TLS: an admin leaf cannot serve", async () => {
    const server = await pluginServer(leaves.admin!);
    try {
      await expect(connect(server.path, leaves.supervisor!, () => undefined)).rejects.toThrow(/unsuitable certificate purpose/i);
    } finally {
      await server.close();
    }
  });
});

describe("gRPC channel credentials", () => {
  const method = "/corral.test.v1.Who/Am";
  const passThrough = (b: Buffer): Buffer => b;

  /** A gRPC server answering with the URI of the calling client's certificate. */
  async function grpcPluginServer(leaf: IssuedLeaf): Promise<{ target: string; close: () => void }> {
    const server = new grpc.Server();
    server.addService(
      {
        am: {
          path: method,
          requestStream: false,
          responseStream: false,
          requestSerialize: passThrough,
          requestDeserialize: passThrough,
          responseSerialize: passThrough,
          responseDeserialize: passThrough,
        },
      },
      {
        am: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
          callback(null, Buffer.from(raw ? parsePeerIdentity(raw).uri : "anonymous"));
        },
      },
    );
    const credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(ca.certPem),
      [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }],
      true,
    );
    const target = `unix://${socketPath()}`;
    await new Promise<void>((resolve, reject) => server.bindAsync(target, credentials, (error) => (error ? reject(error) : resolve())));
    return { target, close: () => server.forceShutdown() };
  }

  function call(target: string, credentials: grpc.ChannelCredentials): Promise<string> {
    const client = new grpc.Client(target, credentials);
    return new Promise<string>((resolve, reject) => {
      client.makeUnaryRequest(method, passThrough, passThrough, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (error, value) => {
        if (error) reject(error);
        else resolve(value!.toString());
      });
    }).finally(() => client.close());
  }

  it("reaches the expected plugin over mTLS on a Unix socket", async () => {
    const server = await grpcPluginServer(leaves.echo!);
    try {
      await expect(call(server.target, clientCredentials(ca, leaves.supervisor!, "echo"))).resolves.toBe("spiffe://corral.local/supervisor");
    } finally {
      server.close();
    }
  });

  it("refuses another plugin, naming the rule", async () => {
    const server = await grpcPluginServer(leaves.kv!);
    try {
      await expect(call(server.target, clientCredentials(ca, leaves.supervisor!, "echo"))).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: expect.stringMatching(/plugin-id-mismatch: certificate names plugin "kv", expected "echo"/),
      });
    } finally {
      server.close();
    }
  });

  it("without an expected plugin, accepts only the supervisor", async () => {
    const plugin = await grpcPluginServer(leaves.echo!);
    const supervisor = await grpcPluginServer(leaves.supervisor!);
    try {
      await expect(call(plugin.target, clientCredentials(ca, leaves.admin!))).rejects.toMatchObject({
        details: expect.stringMatching(/identity rule kind: the certificate identifies a plugin/),
      });
      await expect(call(supervisor.target, clientCredentials(ca, leaves.admin!))).resolves.toBe("spiffe://corral.local/admin/alice");
    } finally {
      plugin.close();
      supervisor.close();
    }
  });
});
