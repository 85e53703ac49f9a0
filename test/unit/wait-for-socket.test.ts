import { chmodSync } from "node:fs";
import { chmod, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitForSocket } from "../../supervisor/plugin/wait-for-socket.ts";

describe("waiting for a plugin's socket", () => {
  let dir: string;
  const servers: Server[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-wait-socket-"));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    await rm(dir, { recursive: true, force: true });
  });
  const listen = (socket: string) =>
    new Promise<void>((resolve) => {
      const server = createServer((c) => c.destroy());
      servers.push(server);
      server.listen(socket, resolve);
    });

  it("resolves once a socket that appears later accepts connections", async () => {
    const socket = path.join(dir, "plugin.sock");
    const waiting = waitForSocket(socket, AbortSignal.timeout(5000));
    await new Promise((r) => setTimeout(r, 20));
    await listen(socket);
    await expect(waiting).resolves.toBeUndefined();
  });

  it("resolves for a socket that was listening before the wait began", async () => {
    const socket = path.join(dir, "plugin.sock");
    await listen(socket);
    await expect(waitForSocket(socket, AbortSignal.timeout(5000))).resolves.toBeUndefined();
  });

  it("waits out a file that refuses connections until a listener takes its place", async () => {
    const socket = path.join(dir, "plugin.sock");
    await writeFile(socket, ""); // bound, as it were, but not listening: connections are refused
    let settled = false;
    const waiting = waitForSocket(socket, AbortSignal.timeout(5000)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await unlink(socket);
    await listen(socket);
    await expect(waiting).resolves.toBeUndefined();
  });

  it("takes a change of the socket's mode as the word that it listens (go-shim sets it after listen)", async () => {
    const socket = path.join(dir, "plugin.sock");
    await writeFile(socket, "");
    const waiting = waitForSocket(socket, AbortSignal.timeout(5000));
    await new Promise((r) => setTimeout(r, 20));
    await chmod(socket, 0o600);
    await expect(waiting).resolves.toBeUndefined();
  });

  it("makes no connection to a socket whose mode changes as it appears, as go-shim's early socket does", async () => {
    // A connection of the wait's own would reach the plugin ahead of the
    // supervisor's real one: the plugin accepts it and fails a TLS handshake
    // on it first, on the start's critical path.
    const socket = path.join(dir, "plugin.sock");
    const waiting = waitForSocket(socket, AbortSignal.timeout(5000));
    await new Promise((r) => setTimeout(r, 20));
    let connections = 0;
    const server = createServer((c) => {
      connections++;
      c.destroy();
    });
    servers.push(server);
    server.listen(socket); // bind and listen, then the mode: one after the other, as go-shim does
    chmodSync(socket, 0o600);
    await waiting;
    await new Promise((r) => setTimeout(r, 50)); // a probe made would have arrived by now
    expect(connections).toBe(0);
  });

  it("rejects with the abort's reason", async () => {
    const controller = new AbortController();
    const waiting = waitForSocket(path.join(dir, "plugin.sock"), controller.signal);
    controller.abort(new Error("stop requested"));
    await expect(waiting).rejects.toThrow("stop requested");
  });
});
