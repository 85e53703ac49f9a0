// How the client library makes a connection to a plugin: grpc-js's own TLS
// connection, with two things it lacks. A handshake that does not end in
// HANDSHAKE_TIMEOUT_MS fails: the stable address of a frozen plugin (SIGSTOP
// without a park, a debugger) takes the connect into its socket's backlog,
// where nothing answers, and grpc-js bounds neither the connect nor the
// handshake, so a call retried after a keepalive failure waited out its whole
// deadline. And each connection is kept under the revocation list's watch
// (revocations.ts), which closes it once its plugin's certificate is revoked,
// and, on a Unix socket, under the watch of the instance it reached
// (instance-watch.ts), which closes it once that instance is gone.
import { CallCredentials, ChannelCredentials, experimental, type ChannelOptions } from "@grpc/grpc-js";
import type { TLSSocket } from "node:tls";
import { parsePeerIdentity } from "../supervisor/identity/identity.ts";
import { watchInstance } from "./instance-watch.ts";
import type { PluginRevocations } from "./revocations.ts";

/** A plugin's TLS handshake takes milliseconds; longer, and nothing is answering. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

export class PluginConnectionCredentials extends ChannelCredentials {
  readonly #inner: ChannelCredentials;
  readonly #revocations: PluginRevocations | undefined;
  readonly #handshakeMs: number;

  constructor(inner: ChannelCredentials, revocations: PluginRevocations | undefined, handshakeMs = HANDSHAKE_TIMEOUT_MS) {
    super();
    this.#inner = inner;
    this.#revocations = revocations;
    this.#handshakeMs = handshakeMs;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(target: experimental.GrpcUri, options: ChannelOptions, callCredentials?: CallCredentials): experimental.SecureConnector {
    const connector = this.#inner._createSecureConnector(target, options, callCredentials ?? CallCredentials.createEmpty());
    return {
      connect: async (socket) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`the TLS handshake with the plugin did not end within ${this.#handshakeMs} ms`));
          }, this.#handshakeMs);
        });
        try {
          const connected = await Promise.race([connector.connect(socket), timedOut]);
          const tls = connected.socket as TLSSocket;
          // Checked at the handshake (pluginServerIdentity): its identity is readable.
          const raw = tls.getPeerCertificate?.()?.raw;
          if (raw && this.#revocations) this.#revocations.track(tls, parsePeerIdentity(raw).serialHex);
          if (target.scheme === "unix") watchInstance(tls, unixPath(target));
          return connected;
        } finally {
          clearTimeout(timer);
        }
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
}

/** The socket path of a unix: target, as grpc-js's resolver reads it (unix:///abs has an empty authority). */
function unixPath(target: experimental.GrpcUri): string {
  return target.authority === "" ? `/${target.path}` : target.path;
}
