// The metrics endpoint bounds what anyone who can reach it holds of the
// supervisor's fds: connections beyond the limit are closed at once, idle
// ones after the idle time, and scrapes go on.
import net from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsServer } from "../../supervisor/metrics/server.ts";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

/** A connection that sends nothing; resolves its end time (or never, while open). */
function idle(port: number): { socket: net.Socket; closed: Promise<number> } {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  // Read, so that the server's end is taken in and 'close' follows: a socket
  // nobody reads can sit on its end unseen (a CI run waited 60 s for it).
  socket.resume();
  open.push({ close: () => socket.destroy() });
  return { socket, closed: new Promise((resolve) => socket.on("close", () => resolve(Date.now()))) };
}

describe("MetricsServer", () => {
  it("closes the oldest connection when one more comes, so that a scrape gets through connections held open", async () => {
    const server = await MetricsServer.listen("127.0.0.1:0", new Registry(), { connections: 4, idleMs: 10_000 });
    open.push(server);
    const port = Number(server.address.split(":").pop());
    const held = Array.from({ length: 4 }, () => idle(port));
    await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once("connect", resolve))));
    await new Promise((r) => setTimeout(r, 100)); // accepted by now
    const scrape = await fetch(`http://${server.address}/metrics`);
    expect(scrape.status).toBe(200);
    const oldestClosed = await Promise.race([held[0]!.closed, new Promise<number>((r) => setTimeout(() => r(0), 1000))]);
    expect(oldestClosed, "the oldest connection is closed").toBeGreaterThan(0);
    expect(held.slice(1).every((c) => !c.socket.destroyed)).toBe(true);
  });

  it("closes idle connections after its idle time, and one that sends a request slowly too", async () => {
    const server = await MetricsServer.listen("127.0.0.1:0", new Registry(), { connections: 4, idleMs: 400 });
    open.push(server);
    const port = Number(server.address.split(":").pop());
    const opened = Date.now();
    const quiet = idle(port);
    const slow = idle(port);
    // One header line every 200 ms: never idle for 400 ms, never a whole request.
    slow.socket.write("GET /metrics HTTP/1.1\r\n");
    const drip = setInterval(() => slow.socket.write("x-slow: 1\r\n"), 200);
    try {
      expect((await quiet.closed) - opened).toBeGreaterThanOrEqual(350);
      const slowEnd = await Promise.race([slow.closed, new Promise<number>((r) => setTimeout(() => r(0), 3000))]);
      expect(slowEnd, "a request not whole within the idle time is closed").toBeGreaterThan(0);
    } finally {
      clearInterval(drip);
    }
  });

  it("answers one request at a time per connection, closing one that pipelines, and renders once for scrapes at once", async () => {
    const registry = new Registry();
    let renderings = 0;
    const slowly = registry.metrics.bind(registry);
    registry.metrics = async () => {
      renderings += 1;
      await new Promise((r) => setTimeout(r, 50));
      return slowly();
    };
    const server = await MetricsServer.listen("127.0.0.1:0", registry, { connections: 8, idleMs: 10_000 });
    open.push(server);
    const port = Number(server.address.split(":").pop());
    // Thousands of requests in one write, none of the answers read.
    const flood = idle(port);
    await new Promise((resolve) => flood.socket.once("connect", resolve));
    flood.socket.pause();
    flood.socket.write("GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n".repeat(5000));
    const closed = await Promise.race([flood.closed, new Promise<number>((r) => setTimeout(() => r(0), 3000))]);
    expect(closed, "the pipelining connection is closed").toBeGreaterThan(0);
    // Three scrapes at once: one rendering. Scrapes one after the other on a kept-alive connection go on.
    const scrapes = await Promise.all([1, 2, 3].map(() => fetch(`http://${server.address}/metrics`)));
    expect(scrapes.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(renderings).toBeLessThanOrEqual(2); // the flood's first request, then the three together
    for (let i = 0; i < 3; i++) expect((await fetch(`http://${server.address}/metrics`)).status).toBe(200);
  });
});
