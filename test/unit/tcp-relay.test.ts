// The TCP relay's bounds, against a Unix socket behind a link as the stable
// address is: a connection that sends nothing is closed after firstByteMs,
// one that has sent something stays (an idle channel is quiet), and
// connections past the limit are closed as they come; and accepted
// connections are probed by the kernel once idle (keepalive).
import { once } from "node:events";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { TcpRelay } from "../../supervisor/dataplane/tcp-relay.ts";

let dir: string;
let upstream: net.Server;
let relay: TcpRelay;
const received: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-relay-"));
  upstream = net.createServer((s) => s.on("data", (d) => received.push(String(d)))).listen(path.join(dir, "data.sock"));
  await once(upstream, "listening");
  await symlink(path.join(dir, "data.sock"), path.join(dir, "stable.sock"));
  relay = await TcpRelay.listen("127.0.0.1:0", path.join(dir, "stable.sock"), () => {}, { connections: 2, firstByteMs: 200 });
});

afterAll(async () => {
  await relay?.close();
  upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

async function connect(): Promise<net.Socket> {
  const [host, port] = [relay.address.slice(0, relay.address.lastIndexOf(":")), Number(relay.address.slice(relay.address.lastIndexOf(":") + 1))];
  const socket = net.connect(port, host);
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/** "closed" if the socket closes within ms, else "open". */
const closedWithin = (socket: net.Socket, ms: number) =>
  Promise.race([once(socket, "close").then(() => "closed"), new Promise((r) => setTimeout(r, ms, "open"))]);

describe("the TCP relay's bounds", () => {
  it("closes a connection that sends nothing, and keeps one that has spoken", async () => {
    const silent = await connect();
    const speaking = await connect();
    speaking.write("hello");
    expect(await closedWithin(silent, 2000)).toBe("closed");
    expect(await closedWithin(speaking, 500)).toBe("open"); // past firstByteMs, quiet since
    expect(received.join("")).toBe("hello");
    speaking.destroy();
    await once(speaking, "close");
  });

  it("closes connections past its limit as they come", async () => {
    const held = [await connect(), await connect()];
    for (const s of held) s.write("x");
    const third = await connect();
    expect(await closedWithin(third, 1000)).toBe("closed");
    expect(await closedWithin(held[0]!, 300)).toBe("open");
    for (const s of held) s.destroy();
  });
});

describe("the TCP relay's accepted connections", () => {
  it("have the kernel probe their peer once idle (keepalive), so that a vanished host's connection ends", async () => {
    // A relay of its own: the bounds' tests above fill the shared one's places.
    const own = await TcpRelay.listen("127.0.0.1:0", path.join(dir, "stable.sock"));
    const port = own.address.slice(own.address.lastIndexOf(":") + 1);
    const client = net.connect(Number(port), "127.0.0.1");
    client.on("error", () => {});
    try {
      await once(client, "connect");
      client.write("x");
      // The relay's side of the connection, whose local port is the relay's.
      const relaySide = async () => (await execa("ss", ["-tnoH", "state", "established", `( sport = :${port} )`])).stdout;
      let seen = await relaySide();
      for (let i = 0; i < 20 && seen === ""; i++) seen = await new Promise((r) => setTimeout(r, 50)).then(relaySide);
      // 60 s at the accept, read a little later (on a busy machine, seconds later).
      const left = Number(/timer:\(keepalive,(\d+)sec,0\)/.exec(seen)?.[1]);
      expect(left, seen).toBeGreaterThanOrEqual(50);
      expect(left, seen).toBeLessThanOrEqual(60);
    } finally {
      client.destroy();
      await own.close();
    }
  });
});
