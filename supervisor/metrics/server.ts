// The Prometheus endpoint: GET /metrics on the configured address, nothing
// else. Off unless `metrics.listen` is set in the config.
import http, { type Server } from "node:http";
import type { Registry } from "prom-client";
import { joinHostPort, splitHostPort } from "../host-port.ts";

export class MetricsServer {
  readonly #server: Server;
  readonly address: string;

  private constructor(server: Server, address: string) {
    this.#server = server;
    this.address = address;
  }

  static async listen(hostPort: string, registry: Registry): Promise<MetricsServer> {
    const { host, port } = splitHostPort(hostPort);
    const server = http.createServer((req, res) => {
      if (req.method !== "GET" || (req.url !== "/metrics" && !req.url?.startsWith("/metrics?"))) {
        res.writeHead(404, { "content-type": "text/plain" }).end("corral: only GET /metrics is served here\n");
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
      );
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
