// The Prometheus endpoint: GET /metrics on the configured address, nothing
// else. Off unless `metrics.listen` is set in the config.
//
// Anyone who can reach the address can connect, so the server's share of
// the supervisor's fds is bounded, as the TCP relay's is: idle connections
// held open by the thousand (a reviewer's 2000) took every fd the
// supervisor had, and every plugin start failed with EMFILE until they
// were closed. A scraper makes one connection, and a scrape takes
// milliseconds.
import http, { type Server } from "node:http";
import type { Socket } from "node:net";
import type { Registry } from "prom-client";
import { joinHostPort, splitHostPort } from "../host-port.ts";

export interface MetricsServerLimits {
  /** Connections open at once; one more closes the oldest, so that those who hold theirs open cannot keep a scraper out. */
  connections: number;
  /** A connection idle (nothing read or written) this long is closed, as is a request not whole by then. */
  idleMs: number;
}

export const METRICS_SERVER_LIMITS: MetricsServerLimits = { connections: 64, idleMs: 10_000 };

export class MetricsServer {
  readonly #server: Server;
  readonly address: string;

  private constructor(server: Server, address: string) {
    this.#server = server;
    this.address = address;
  }

  static async listen(hostPort: string, registry: Registry, limits: MetricsServerLimits = METRICS_SERVER_LIMITS): Promise<MetricsServer> {
    const { host, port } = splitHostPort(hostPort);
    // One request at a time per connection, and one rendering for all
    // scrapes at once. Node reads on while an answer is being made: a client
    // that pipelined thousands of requests and read nothing had each become
    // a rendering of its own and an answer held for it (3 GiB, the event
    // loop taken for minutes, the watchdog's pings 26 s apart). Scrapers do
    // not pipeline: a second request before the first is answered closes
    // the connection.
    const answering = new WeakSet<Socket>();
    let rendering: Promise<string> | undefined;
    const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      if (answering.has(socket)) {
        socket.destroy();
        return;
      }
      answering.add(socket);
      res.once("close", () => answering.delete(socket));
      if (req.method !== "GET" || (req.url !== "/metrics" && !req.url?.startsWith("/metrics?"))) {
        res.writeHead(404, { "content-type": "text/plain" }).end("corral: only GET /metrics is served here\n");
        return;
      }
      rendering ??= registry.metrics().finally(() => (rendering = undefined));
      rendering.then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
      );
    };
    // Node checks headersTimeout and requestTimeout every connectionsCheckingInterval (30 s by default).
    const server = http.createServer({ headersTimeout: limits.idleMs, requestTimeout: limits.idleMs, connectionsCheckingInterval: Math.min(1000, limits.idleMs) }, serve);
    server.timeout = limits.idleMs;
    const open = new Set<Socket>(); // oldest first
    server.on("connection", (socket: Socket) => {
      if (open.size >= limits.connections) open.values().next().value?.destroy();
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(new Error(`metrics.listen ${hostPort}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as { address: string; port: number; family: string };
    return new MetricsServer(server, joinHostPort(bound));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
