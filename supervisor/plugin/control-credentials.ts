// The credentials of the supervisor's connections to its plugins' instance
// sockets: mTLS with the supervisor's own leaf, and the plugin's identity
// checked.
import { CallCredentials, ChannelCredentials, experimental, type ChannelOptions, type VerifyOptions } from "@grpc/grpc-js";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { SecureContext } from "node:tls";
import { pluginServerIdentity, type PeerIdentity } from "../identity/index.ts";

/** The TLS context a new connection presents: the supervisor's current leaf, and the CA. */
export interface LeafContext {
  secureContext(): SecureContext;
}

export interface ControlCredentials {
  credentials: ChannelCredentials;
  /** Why the last TLS handshake refused the plugin's certificate, if it did. */
  refusal(): Error | undefined;
}

/**
 * mTLS credentials for talking to `plugin`: present the supervisor's leaf,
 * trust only the CA, and accept only a certificate that names `plugin`. The
 * refusal is kept so a wrong identity is reported as such rather than as a
 * generic connection failure.
 */
export function controlCredentials(
  trustDomain: string,
  leaf: LeafContext,
  plugin: string,
  checkNotRevoked: (peer: PeerIdentity) => void = () => {},
): ControlCredentials {
  let refusal: Error | undefined;
  const checkIdentity = pluginServerIdentity({ trustDomain, plugin }, checkNotRevoked);
  const credentials = new LeafCredentials(leaf, {
    checkServerIdentity: (host, cert) => {
      const error = checkIdentity(host, cert);
      if (error) refusal = error;
      return error;
    },
  });
  return { credentials, refusal: () => refusal };
}

/**
 * Channel credentials whose every new connection presents the leaf current
 * at that moment: when the supervisor's leaf is renewed, reconnections
 * present the new one, and no channel is rebuilt.
 *
 * grpc-js's certificate-provider credentials do the same, but build a TLS
 * context from the PEMs twice for every connection (about 1.2 ms of the
 * event loop, on the path of every start). The context here is built once
 * per leaf (RotatingLeaf.secureContext); the TLS connection itself is made
 * by grpc-js's own credentials for a fixed context.
 */
class LeafCredentials extends ChannelCredentials {
  readonly #leaf: LeafContext;
  readonly #verify: VerifyOptions;

  constructor(leaf: LeafContext, verify: VerifyOptions) {
    super();
    this.#leaf = leaf;
    this.#verify = verify;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(target: experimental.GrpcUri, options: ChannelOptions, callCredentials?: CallCredentials): experimental.SecureConnector {
    const calls = callCredentials ?? CallCredentials.createEmpty();
    return {
      connect: async (socket) => {
        const tls = ChannelCredentials.createFromSecureContext(this.#leaf.secureContext(), this.#verify);
        const connected = await tls._createSecureConnector(target, options, calls).connect(socket);
        // Node runs what follows a client's TLS handshake (here, grpc-js's
        // HTTP/2 set-up) before it writes the handshake's last flight, the
        // client certificate and Finished, which the plugin waits for. A
        // turn of the event loop lets that flight go first, so the plugin
        // checks the supervisor's certificate while HTTP/2 is set up here.
        await nextTurn();
        return connected;
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => calls,
      destroy: () => {},
    };
  }
}
