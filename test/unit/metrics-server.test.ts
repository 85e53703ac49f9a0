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
  open.push({ close: () => socket.destroy() });
  return { socket, closed: new Promise((resolve) => socket.on("close", () => resolve(Date.now()))) };
}

describe("MetricsServer", () => {
  it("closes connections beyond its limit at once and idle ones after its idle time; a scrape is served after", async () => {
    const server = await MetricsServer.listen("127.0.0.1:0", new Registry(), { connections: 4, idleMs: 400 });
    open.push(server);
    const port = Number(server.address.split(":").pop());
    const opened = Date.now();
    const held = Array.from({ length: 4 }, () => idle(port));
    await Promise.all(held.map((c) => new Promise((resolve) => c.socket.once("connect", resolve))));
    await new Promise((r) => setTimeout(r, 100)); // accepted by now
    const extra = idle(port);
    const extraClosed = await Promise.race([extra.closed, new Promise<number>((r) => setTimeout(() => r(0), 300))]);
    expect(extraClosed, "a connection over the limit is closed").toBeGreaterThan(0);

    const ends = await Promise.all(held.map((c) => c.closed));
    for (const end of ends) expect(end - opened).toBeGreaterThanOrEqual(350);

    const scrape = await fetch(`http://${server.address}/metrics`);
    expect(scrape.status).toBe(200);
  });
});
