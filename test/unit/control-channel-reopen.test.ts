// A Control channel reaches the instance socket by its inode (socket-inode.ts).
// When the socket cannot be opened at a call (not there yet, gone, out of
// fds), that call fails, and the next one opens it again: a channel made
// on a failed open is not kept for the instance's life.
import { credentials } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ControlChannel } from "../../supervisor/plugin/control-channel.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a Control channel whose socket could not be opened", () => {
  it("opens it again at the next call, and connects once it is there", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-control-reopen-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const socket = path.join(dir, "plugin.sock");
    const channel = new ControlChannel(socket, { credentials: credentials.createInsecure(), refusal: () => undefined });
    cleanups.push(() => channel.close());

    await expect(channel.callStats(AbortSignal.timeout(1000))).rejects.toThrow(/ENOTDIR|UNAVAILABLE|No connection/i);

    const connections: net.Socket[] = [];
    const server = net.createServer((c) => connections.push(c));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => connections.forEach((c) => c.destroy()));
    // This server speaks no HTTP/2: the call fails, but it has reached the socket.
    await expect(channel.callStats(AbortSignal.timeout(1000))).rejects.toThrow();
    expect(connections.length).toBeGreaterThan(0);
  });
});
