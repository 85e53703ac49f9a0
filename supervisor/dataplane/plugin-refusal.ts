// A plugin's refusal: the refusal server its stable address leads to while
// no instance may serve, with the certificate that carries the plugin's
// identity (renewed at half its life, and when asked), and listening again
// when its socket is gone.
import path from "node:path";
import type { PluginConfig } from "../config/schema.ts";
import type { IssuedLeaf } from "../identity/index.ts";
import { RotatingLeaf } from "../identity/rotating-leaf.ts";
import type { Logger } from "../log.ts";
import type { DataPlaneDirectories } from "./directories.ts";
import { RefusalServer } from "./refusal-server.ts";

/** What a plugin's stable address, and its refusal, are opened with (StableAddress.open, PluginRefusal.open). */
export interface AddressParts {
  directories: DataPlaneDirectories;
  caPem: string;
  trustDomain: string;
  /** Issues a leaf of the plugin's identity. */
  issueLeaf: (plugin: string, ttlMs: number) => Promise<IssuedLeaf>;
  isRevoked: (serialHex: string) => boolean;
  log: Logger;
}

export class PluginRefusal {
  readonly server: RefusalServer;
  /** Its certificate, renewed at half its life, and the CA that goes with it (none for a server given its TLS once). */
  readonly #leaf: { rotating: RotatingLeaf; caPem: string } | undefined;
  readonly #log: Logger;
  /** Makes its directory again, with its owner and mode, when that has gone too. */
  readonly #ensureDirectory: () => Promise<void>;
  /** The server listening again, when its socket was gone. */
  #relistening: Promise<void> | undefined;
  /** Listening again has failed since it last listened: said once, then at debug. */
  #relistenFailed = false;
  #closed = false;

  constructor(server: RefusalServer, log: Logger, options: { ensureDirectory?: () => Promise<void>; leaf?: { rotating: RotatingLeaf; caPem: string } } = {}) {
    this.server = server;
    this.#log = log;
    this.#ensureDirectory = options.ensureDirectory ?? (async () => {});
    this.#leaf = options.leaf;
  }

  /** `plugin`'s refusal, listening in `refusals` with a certificate of its identity, refusing as stopped. */
  static async open(plugin: PluginConfig, parts: AddressParts): Promise<PluginRefusal> {
    let server: RefusalServer | undefined;
    const rotating = await RotatingLeaf.start({
      issue: () => parts.issueLeaf(plugin.name, plugin.certificateTtl),
      caPem: parts.caPem,
      onRotate: (renewed) => {
        if (renewed instanceof Error) parts.log.error({ err: renewed.message }, "renewing the refusal server's certificate failed");
        else server?.setCertificate({ caPem: parts.caPem, ...renewed });
      },
    });
    try {
      server = await RefusalServer.listen(path.join(parts.directories.path("refusals"), `${plugin.name}.sock`), { caPem: parts.caPem, ...rotating.current }, `plugin ${plugin.name} is stopped`, {
        plugin: plugin.name,
        trustDomain: parts.trustDomain,
        isRevoked: parts.isRevoked,
      });
    } catch (err) {
      rotating.close();
      throw err;
    }
    return new PluginRefusal(server, parts.log, { ensureDirectory: () => parts.directories.ensure("refusals"), leaf: { rotating, caPem: parts.caPem } });
  }

  /** The serial of its certificate, which carries the plugin's identity. */
  get serial(): string | undefined {
    return this.#leaf?.rotating.current.serialHex;
  }

  /**
   * Renews its certificate now: `corralctl certs rotate`, and when the
   * plugin's identity is unrevoked. Revoked with the identity, it was
   * renewed only at half its life (12 h by default): every refusal until
   * then failed its handshake as revoked, the reason never told.
   */
  async renewCertificate(): Promise<void> {
    if (!this.#leaf || this.#closed) return;
    const renewed = await this.#leaf.rotating.rotate();
    this.server.setCertificate({ caPem: this.#leaf.caPem, ...renewed });
  }

  /**
   * Throws (and has the server listen again) when its socket is gone:
   * removed by someone, or by a cleaner of a runtimeDir under /tmp, it left
   * callers ENOENT, said nowhere, whenever the plugin was down, until the
   * supervisor restarted. The caller tries again once it listens.
   */
  checkListening(): void {
    if (this.server.listening) return;
    this.#relistening ??= this.#ensureDirectory()
      .then(() => this.server.listenAgain())
      .then(
        () => {
          this.#relistenFailed = false;
          this.#log.warn({ socket: this.server.socket }, "the refusal server's socket was gone: it listens again");
        },
        (err: Error) => {
          this.#log[this.#relistenFailed ? "debug" : "error"]({ socket: this.server.socket, err: err.message }, "the refusal server's socket was gone and cannot be listened on again");
          this.#relistenFailed = true;
        },
      )
      .finally(() => (this.#relistening = undefined));
    throw new Error(`the refusal server's socket ${this.server.socket} is gone; it listens again`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.server.close();
    this.#leaf?.rotating.close();
  }
}
