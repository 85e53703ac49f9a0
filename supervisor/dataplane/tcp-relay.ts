// The optional TCP listener of a plugin's data plane: each accepted
// connection is joined, byte for byte, to a new connection to the stable
// Unix address, which resolves to whatever serves now (and is not followed
// further: connect-through-link.ts). TLS stays end to end
// between the host application and the plugin (or the refusal server); the
// relay sees only ciphertext and needs no certificate.
import net, { type Server, type Socket } from "node:net";
import { connectThroughLink } from "./connect-through-link.ts";
import { joinHostPort, splitHostPort } from "../host-port.ts";

/** A relay's bounds (see TcpRelay.listen). */
export const RELAY_LIMITS = { connections: 1024, firstByteMs: 10_000 };

/**
 * Idle time before the kernel probes an accepted connection's peer. A host
 * that vanished (powered off, cut off by the network) sends no FIN or RST:
 * without probes its connection, and the Unix one joined to it, would hold
 * the supervisor's fds, and a place under `connections`, for good.
 */
export const RELAY_KEEPALIVE_MS = 60_000;

export class TcpRelay {
  readonly #server: Server;
  readonly #sockets: Set<Socket>;
  /** host:port it listens on (the port the kernel chose, for port 0). */
  readonly address: string;

  private constructor(server: Server, sockets: Set<Socket>, address: string) {
    this.#server = server;
    this.#sockets = sockets;
    this.address = address;
  }

  /**
   * `onRefused` hears of each connection the relay could not make (not a
   * socket, or nothing listening). Connections past `limits.connections`
   * are closed as they come, and one that sends nothing within
   * `limits.firstByteMs` is closed: each holds two or three of the
   * supervisor's fds, and no certificate is needed to open one.
   */
  static async listen(
    hostPort: string,
    unixPath: string,
    onRefused: (err: Error) => void = () => {},
    limits: { connections: number; firstByteMs: number } = RELAY_LIMITS,
  ): Promise<TcpRelay> {
    const { host, port } = splitHostPort(hostPort);
    const sockets = new Set<Socket>();
    const server = net.createServer({ keepAlive: true, keepAliveInitialDelay: RELAY_KEEPALIVE_MS }, (client) => {
      sockets.add(client);
      client.setNoDelay(true);
      // Nothing read by then: closed. Else the TLS handshake's own bounds
      // take over; a quiet connection after it (an idle channel) stays.
      client.setTimeout(limits.firstByteMs, () => (client.bytesRead === 0 ? client.destroy() : client.setTimeout(0)));
      client.on("close", () => sockets.delete(client));
      client.on("error", () => {}); // its close ends the pair
      // What the client sends meanwhile waits in its socket's buffer.
      connectThroughLink(unixPath).then(
        (upstream) => {
          if (client.destroyed) return void upstream.destroy();
          sockets.add(upstream);
          upstream.on("close", () => sockets.delete(upstream));
          upstream.on("error", () => {});
          client.pipe(upstream).on("error", () => {});
          upstream.pipe(client).on("error", () => {});
          client.on("close", () => upstream.destroy());
          upstream.on("close", () => client.destroy());
        },
        (err: Error) => {
          onRefused(err);
          client.destroy();
        },
      );
    });
    server.maxConnections = limits.connections;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(Object.assign(new Error(`dataPlane.tcp ${hostPort}: ${err.message}`), { code: err.code })));
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as net.AddressInfo;
    return new TcpRelay(server, sockets, joinHostPort(bound));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /**
   * Stops listening at once (the port is free for a new relay), and leaves
   * the connections it relays until they end, for at most graceMs: a
   * reload that moves the TCP address ends no call in flight. close() ends
   * them sooner.
   */
  async retire(graceMs: number): Promise<void> {
    const listening = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    while (this.#sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(50, deadline - Date.now())));
    for (const s of this.#sockets) s.destroy();
    await listening;
  }
}
