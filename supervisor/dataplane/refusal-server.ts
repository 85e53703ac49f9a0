// What a plugin's stable address reaches while no instance can serve
// (starting, restarting, paused by a breaker, quarantined, stopped): an
// HTTP/2 server on a Unix socket that speaks just enough gRPC to refuse
// every call at once with UNAVAILABLE and the reason, instead of letting it
// hang or fail with a bare connection error. It knows no protos: every
// request, whatever its path, gets a trailers-only response.
//
// It presents the plugin's own identity (a leaf Corral issues for it), so a
// host application that checks it is talking to the plugin gets the refusal
// rather than a TLS error.
//
// Callers the plugin itself would refuse (a revoked certificate, a client
// whose scope does not name the plugin) are refused as it would refuse
// them, not told to try again later (caller-policy.ts).
import http2, { type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { lstatSync, rmSync } from "node:fs";
import { chmod } from "node:fs/promises";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { refuseCaller, type CallerPolicy } from "./caller-policy.ts";

/** gRPC status UNAVAILABLE. */
const UNAVAILABLE = "14";

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The refusal servers' bounds. Their sockets are open to every local user
 * (access is by certificate), and a connection needs no certificate until
 * its handshake ends: all refusal servers together hold at most
 * `connections` of the supervisor's fds (past it, new ones are closed as they
 * come), and a handshake not done in `handshakeMs` is cut. A flood of them
 * then costs callers of a plugin that is down the refusal's reason, not the
 * supervisor its fds.
 */
export const REFUSAL_LIMITS = { connections: 1024, handshakeMs: 2_000 };

/** gRPC status UNAUTHENTICATED. */
const UNAUTHENTICATED = 16;

/**
 * A client certificate TLS did not verify (expired, of another CA), refused
 * in the words the client libraries use for the plugin's own refusal.
 */
function unverified(socket: TLSSocket | undefined, certificate: Buffer | undefined): { code: number; message: string } | undefined {
  if (!socket || socket.authorized || !certificate || certificate.length === 0) return undefined; // none: refuseCaller says so
  const why = (socket.authorizationError as unknown as { code?: string } | null)?.code ?? String(socket.authorizationError ?? "not verified");
  return { code: UNAUTHENTICATED, message: `the plugin refused this application's certificate (${why})` };
}

/** Connections open on all refusal servers of this process. */
let openConnections = 0;

function secureOptions(tls: TlsMaterial) {
  return { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, minVersion: "TLSv1.3" as const };
}

export class RefusalServer {
  readonly socket: string;
  readonly #server: Http2SecureServer;
  readonly #sessions = new Set<ServerHttp2Session>();
  #reason: string;
  /** False while the stable address leads to an instance: whoever still reaches this server is sent there. */
  #refusing = true;
  #refused = 0;

  private constructor(socket: string, server: Http2SecureServer, reason: string) {
    this.socket = socket;
    this.#server = server;
    this.#reason = reason;
  }

  /** Listens on `socket` (replacing a stale file), refusing with `reason` until told otherwise. */
  static async listen(socket: string, tls: TlsMaterial, reason: string, callers: CallerPolicy): Promise<RefusalServer> {
    const server = http2.createSecureServer({
      ...secureOptions(tls),
      requestCert: true,
      // The handshake takes any certificate; a call on it is refused below,
      // UNAUTHENTICATED, as the plugin refuses it. Rejected at the handshake,
      // a TLS 1.3 client got no alert (Node closes the socket), only a bare
      // connection error its library retries as UNAVAILABLE: an expired
      // certificate looked like a plugin that was down.
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
      // Not Node's 120 s: a client that connects and never finishes its
      // handshake holds an fd of the supervisor's meanwhile.
      handshakeTimeout: REFUSAL_LIMITS.handshakeMs,
    });
    const refusal = new RefusalServer(socket, server, reason);
    server.on("connection", (raw: Socket) => {
      if (openConnections >= REFUSAL_LIMITS.connections) {
        raw.destroy();
        return;
      }
      openConnections += 1;
      raw.once("close", () => (openConnections -= 1));
    });
    // What the handshake let through unverified: without a certificate, closed
    // at once (there is nothing to tell it that the client libraries would
    // read); with one TLS did not verify (expired, of another CA), kept only
    // as long as a handshake may last, time enough to be told why. Else such
    // clients held the refusal servers' connections for good.
    server.on("secureConnection", (tls: TLSSocket) => {
      if (tls.authorized) return;
      const certificate = tls.getPeerCertificate()?.raw;
      if (!certificate || certificate.length === 0) {
        tls.destroy();
        return;
      }
      const cut = setTimeout(() => tls.destroy(), REFUSAL_LIMITS.handshakeMs);
      tls.once("close", () => clearTimeout(cut));
    });
    server.on("session", (session) => {
      refusal.#sessions.add(session);
      session.on("close", () => refusal.#sessions.delete(session));
      session.on("error", () => {}); // a client gone mid-handshake is not the supervisor's problem
      // A connection made through the link while it still led here, whose
      // handshake ends after an instance took over: sent away at once.
      if (!refusal.#refusing) session.close();
    });
    server.on("stream", (stream, headers, _flags) => {
      stream.on("error", () => {});
      const socket = stream.session?.socket as TLSSocket | undefined;
      const certificate = socket?.getPeerCertificate().raw;
      const refused = unverified(socket, certificate) ?? refuseCaller(callers, certificate, String(headers[":path"] ?? ""));
      if (refused) {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": String(refused.code), "grpc-message": encodeGrpcMessage(refused.message) },
          { endStream: true },
        );
        return;
      }
      if (!refusal.#refusing) {
        // Not processed: gRPC clients retry a refused stream transparently,
        // on a new connection, which now leads to the instance.
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        stream.session?.close();
        return;
      }
      refusal.#refused += 1;
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": UNAVAILABLE,
          "grpc-message": encodeGrpcMessage(refusal.#reason),
        },
        { endStream: true },
      );
    });
    server.on("tlsClientError", () => {});
    await bindSocket(server, socket);
    return refusal;
  }

  get reason(): string {
    return this.#reason;
  }

  /** Whether its socket is still there (someone, or a cleaner of /tmp, may remove it). */
  get listening(): boolean {
    return lstatSync(this.socket, { throwIfNoEntry: false })?.isSocket() === true;
  }

  /** Listens on its socket again, made anew. Open sessions are sent GOAWAY (Http2Server.close does): their clients reconnect. */
  async listenAgain(): Promise<void> {
    this.#server.close();
    await bindSocket(this.#server, this.socket);
  }
  /** Calls refused since it started. */
  get refused(): number {
    return this.#refused;
  }

  /** Refuses calls from now on with `reason`. */
  refuse(reason: string): void {
    this.#reason = reason;
    this.#refusing = true;
  }

  /** Presents a renewed certificate to new connections. */
  setCertificate(tls: TlsMaterial): void {
    // The whole context is replaced: what it does not say (TLS 1.3 only) would be lost.
    this.#server.setSecureContext(secureOptions(tls));
  }

  /**
   * The stable address leads to an instance now: sends GOAWAY on every open
   * connection, and on any that completes later, so their clients reconnect
   * to the instance instead of being refused again on a connection they
   * keep open.
   */
  sendAway(): void {
    this.#refusing = false;
    for (const session of this.#sessions) {
      if (!session.closed && !session.destroyed) session.close();
    }
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.destroy();
    await closed;
    rmSync(this.socket, { force: true });
  }
}

/**
 * Percent-encodes a grpc-message value as the gRPC HTTP/2 spec asks: every
 * byte of the UTF-8 form outside printable ASCII, and '%' itself.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Listens on `socket`, made anew, open to every user: access is by certificate, as on the plugin's own socket. */
async function bindSocket(server: Http2SecureServer, socket: string): Promise<void> {
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socket, 0o666);
}
