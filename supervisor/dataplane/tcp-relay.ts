// The optional TCP listener of a plugin's data plane: each accepted
// connection is joined, byte for byte, to a new connection to the stable
// Unix address, which resolves to whatever serves now. TLS stays end to end
// between the host application and the plugin (or the refusal server); the
// relay sees only ciphertext and needs no certificate.
import net, { type Server, type Socket } from "node:net";

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

  static async listen(hostPort: string, unixPath: string): Promise<TcpRelay> {
    const colon = hostPort.lastIndexOf(":");
    const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(hostPort.slice(colon + 1));
    const sockets = new Set<Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(unixPath);
      for (const s of [client, upstream]) {
        sockets.add(s);
        if (s !== upstream) s.setNoDelay(true);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {}); // the other side's close ends the pair
      }
      client.pipe(upstream).on("error", () => {});
      upstream.pipe(client).on("error", () => {});
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(new Error(`dataPlane.tcp ${hostPort}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as net.AddressInfo;
    return new TcpRelay(server, sockets, `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
