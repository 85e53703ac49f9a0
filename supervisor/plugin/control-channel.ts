// The supervisor's side of one plugin socket: the Control and health clients,
// and the readiness sequence every instance goes through before it may serve:
// socket bound → listening → mTLS with the right identity → handshake
// compatible → health SERVING.
import { Channel, Metadata, type ClientReadableStream, status as grpcStatus, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import type { ControlClient } from "../../proto/gen/ts/corral/plugin/v1/Control.ts";
import type { HandshakeResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/HandshakeResponse.ts";
import type { RuntimeStats__Output } from "../../proto/gen/ts/corral/plugin/v1/RuntimeStats.ts";
import type { CollectGarbageResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/CollectGarbageResponse.ts";
import type { ProfileChunk__Output } from "../../proto/gen/ts/corral/plugin/v1/ProfileChunk.ts";
import type { CallStatsResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/CallStatsResponse.ts";
import type { ReloadTrustResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/ReloadTrustResponse.ts";
import type { ParkResponse__Output } from "../../proto/gen/ts/corral/plugin/v1/ParkResponse.ts";
import type { HealthClient } from "../../proto/gen/ts/grpc/health/v1/Health.ts";
import { closeSync } from "node:fs";
import { protos } from "../rpc/protos.ts";
import { inodePath, NotASocket, openSocketInode } from "../socket-inode.ts";
import { checkHandshake, CONTROL_PROTOCOL_VERSION, IncompatiblePlugin } from "./compatibility.ts";
import { boundedControlClient, CONTROL_MAX_REPLY_BYTES, refusedReply } from "./control-replies.ts";
import type { ControlCredentials } from "./control-credentials.ts";
import { waitForSocket } from "./wait-for-socket.ts";
import { SUPERVISOR_VERSION } from "../version.ts";


/** A path where no socket can be (its parent is no directory): connections fail with ENOTDIR. */
const NO_SOCKET = "/dev/null/no-socket";

/** Connections tried before a start fails with UNAVAILABLE (see awaitReady). */
const CONNECT_TRIES = 3;

export class ControlChannel {
  readonly socket: string;
  readonly #credentials: ControlCredentials;
  #channel: Channel | undefined;
  #connections = 0;
  /** The socket, opened by its inode while a channel may connect to it. */
  #socketFd: number | undefined;
  /** close() was called: its channel is not made again. */
  #closed = false;
  #control: ControlClient | undefined;
  #health: HealthClient | undefined;

  constructor(socket: string, credentials: ControlCredentials) {
    this.socket = socket;
    this.#credentials = credentials;
  }

  /**
   * Waits until the plugin at the socket is ready to serve and returns its
   * handshake. Rejects with IncompatiblePlugin for refusals that retrying
   * cannot fix, with another error otherwise.
   */
  async awaitReady(expect: { pluginName: string; apiVersion: string }, signal: AbortSignal): Promise<HandshakeResponse__Output> {
    for (let tries = 1; ; tries++) {
      if (this.#closed) throw new ControlChannelClosed();
      // A new connection, to the socket that listens now: a failed one backs off.
      this.#reconnect();
      try {
        await waitForSocket(this.socket, signal);
        this.#socketFd = openSocketInode(this.socket);
      } catch (err) {
        // Only a plugin puts one there: a refusal, not a crash to retry.
        if (err instanceof NotASocket && err.symlink) throw new IncompatiblePlugin(`the plugin put a symlink in the place of its socket: ${err.message}`);
        throw err;
      }
      try {
        return await this.#handshake(expect, signal);
      } catch (err) {
        // A plugin that executes itself again before it serves closes the
        // socket it listened on since its start (go-shim's early socket)
        // and listens on a new one: a connection that failed then is made
        // again, to the socket as it is now, a few times before it counts.
        // Refusals are final at once.
        if (this.#closed) throw new ControlChannelClosed();
        if (!(err instanceof RpcError && err.code === grpcStatus.UNAVAILABLE) || signal.aborted || tries >= CONNECT_TRIES) throw err;
      }
    }
  }

  async #handshake(expect: { pluginName: string; apiVersion: string }, signal: AbortSignal): Promise<HandshakeResponse__Output> {
    const { control, health } = this.#clients();
    // Both calls go at once, on the one connection: health is asked for
    // while the handshake is answered, and counts only if it succeeds.
    // No deadline of their own: the attempt's signal ends them at the
    // plugin's startTimeout, however long that is (a plugin may take
    // minutes to initialize; go-shim answers once it serves).
    const serving = unary<{ status: string }>((md, opts, cb) => health.Check({ service: "" }, md, opts, cb), signal, Infinity);
    serving.catch(() => {}); // observed below, after the handshake
    const handshake = await unary<HandshakeResponse__Output>(
      // pushesTrust: reloadTrust() follows every change of the instance's
      // CRL and CA, so go-shim watches no files (a watch delays its exit).
      (md, opts, cb) => control.Handshake({ protocolVersion: CONTROL_PROTOCOL_VERSION, supervisorVersion: SUPERVISOR_VERSION, pushesTrust: true }, md, opts, cb),
      signal,
      Infinity,
    ).catch((err: RpcError) => {
      // Neither a certificate that is not the plugin's own nor a protocol
      // the plugin refuses gets better by retrying: both are refusals.
      const refused = this.#credentials.refusal();
      if (refused) throw new IncompatiblePlugin(`plugin presented a certificate that is not its own: ${refused.message}`);
      // Its words quoted escaped: they become the plugin's reason, which status shows.
      if (err.code === grpcStatus.FAILED_PRECONDITION) throw new IncompatiblePlugin(`plugin refused the handshake: ${JSON.stringify(err.message.slice(0, 200))}`);
      // A reply past its bound (control-replies.ts) is the plugin's doing, and would be again.
      const refusal = refusedReply(err);
      if (refusal) throw new IncompatiblePlugin(refusal);
      throw err;
    });
    checkHandshake(handshake, expect);
    const { status } = await serving;
    if (status !== "SERVING") throw new Error(`health check answered ${status}`);
    return handshake;
  }

  /** go-shim's runtime statistics, one message per interval, until cancelled. */
  stats(intervalMs: number): ClientReadableStream<RuntimeStats__Output> {
    return this.#clients().control.Stats({ intervalMs });
  }

  /** Forces a garbage collection in the plugin (runtime.GC + debug.FreeOSMemory). */
  async collectGarbage(): Promise<CollectGarbageResponse__Output> {
    const { control } = this.#clients();
    return unary((md, opts, cb) => control.CollectGarbage({}, md, opts, cb), AbortSignal.timeout(10_000));
  }

  /**
   * The plugin's calls since it started, by method and code, with latency
   * histograms (go-shim counts them on both sockets). Bounded by `signal`,
   * 1 s unless given: the metrics scrape waits for it.
   */
  async callStats(signal: AbortSignal = AbortSignal.timeout(1000)): Promise<CallStatsResponse__Output> {
    const { control } = this.#clients();
    return unary((md, opts, cb) => control.CallStats({}, md, opts, cb), signal);
  }

  /**
   * A profile of the plugin (goroutine dump, heap or CPU pprof), bounded in
   * time and size: the plugin is asked for at most maxBytes, and, as it is
   * not trusted to keep to that, the stream is cancelled past it. A profile
   * go-shim cut at maxBytes (RESOURCE_EXHAUSTED after its first maxBytes)
   * comes back `truncated`: a cut goroutine dump is still worth reading.
   */
  async profile(
    kind: "GOROUTINE" | "HEAP" | "CPU",
    options: { durationMs?: number; maxBytes?: number } = {},
  ): Promise<{ data: Buffer; contentType: string; truncated: boolean }> {
    const { control } = this.#clients();
    const deadline = new Date(Date.now() + (options.durationMs ?? 0) + 10_000);
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    const stream = control.Profile({ kind, gcFirst: kind === "HEAP", durationMs: options.durationMs ?? 0, maxBytes }, { deadline });
    return collectProfile(stream as ClientReadableStream<ProfileChunk__Output>, kind, maxBytes);
  }

  /** Asks the plugin to drain within graceMs; resolves when it has accepted. */
  async drain(graceMs: number): Promise<void> {
    const { control } = this.#clients();
    await unary((md, opts, cb) => control.Drain({ deadlineMs: graceMs }, md, opts, cb), AbortSignal.timeout(1000));
  }

  /**
   * The plugin's final call counts, once the drain asked for has ended its
   * calls (Control.Drained); it exits right after answering. Fails if the
   * drain's deadline stops the calls, or with UNIMPLEMENTED from a go-shim
   * older than the call.
   */
  async drained(signal: AbortSignal): Promise<CallStatsResponse__Output> {
    const { control } = this.#clients();
    return unary((md, opts, cb) => control.Drained({}, md, opts, cb), signal);
  }

  /**
   * Takes the plugin's data socket out of service: its clients get GOAWAY
   * (and reconnect through the stable address, which no longer leads
   * here); calls in flight get graceMs. Resolves with true once the plugin
   * has closed every connection of its data socket; false when it answered
   * as it began (a go-shim older than answer_when_closed, or past the
   * call's deadline).
   */
  async park(graceMs: number, reason: string): Promise<boolean> {
    const { control } = this.#clients();
    const parked = await unary<ParkResponse__Output>(
      (md, opts, cb) => control.Park({ graceMs, reason, answerWhenClosed: true }, md, opts, cb),
      AbortSignal.timeout(graceMs + 1000),
    );
    return parked.closed;
  }

  /** Puts the data socket back in service; resolves once it listens again. */
  async unpark(): Promise<void> {
    const { control } = this.#clients();
    await unary((md, opts, cb) => control.Unpark({}, md, opts, cb), AbortSignal.timeout(5000));
  }

  /**
   * Has go-shim look at the instance directory's crl.pem and ca.pem now
   * (the supervisor has just replaced them); resolves with the cRLNumber of
   * the list in force then ("" if none).
   */
  async reloadTrust(): Promise<string> {
    const { control } = this.#clients();
    const { crlNumber } = await unary<ReloadTrustResponse__Output>((md, opts, cb) => control.ReloadTrust({}, md, opts, cb), AbortSignal.timeout(2000));
    return crlNumber;
  }

  /** Closes the connection: calls made after fail. */
  close(): void {
    this.#closed = true;
    this.#channel?.close();
    this.#closeSocketFd();
  }

  /** Closes the connection, and lets the next call make a new one, to the socket as it is then (none once closed). */
  #reconnect(): void {
    this.#channel?.close();
    this.#closeSocketFd();
    if (this.#closed) return; // its clients stay, on a closed channel: calls on them fail
    this.#channel = this.#control = this.#health = undefined;
  }

  /**
   * The path of the socket's inode, opened now if it is not yet. The socket
   * is in the plugin's own directory: its inode is what is connected to,
   * now and at every reconnection (socket-inode.ts), not whatever the
   * plugin puts at its name. When it cannot be opened (what is there is no
   * socket, or is gone, or fds run out), a path nothing listens on: the
   * calls on that channel fail as with a plugin gone, and the next call
   * tries the open again (#clients).
   */
  #socketInode(): string {
    if (this.#socketFd === undefined) {
      try {
        this.#socketFd = openSocketInode(this.socket);
      } catch {
        return NO_SOCKET;
      }
    }
    return inodePath(this.#socketFd);
  }

  #closeSocketFd(): void {
    if (this.#socketFd !== undefined) closeSync(this.#socketFd);
    this.#socketFd = undefined;
  }

  #clients(): { control: ControlClient; health: HealthClient } {
    // A channel made when the socket could not be opened (see #socketInode)
    // is made again at the next call: the open may succeed by then.
    if (this.#channel && this.#socketFd === undefined && !this.#closed) this.#reconnect();
    if (!this.#channel || !this.#control || !this.#health) {
      // Once closed, no socket is opened and the channel made is closed at
      // once: a call on it fails, and nothing is left open for good (a
      // start under way reconnected on a channel closed by a rotation, and
      // held its fd and connection until the supervisor ended).
      const target = `unix://${this.#closed ? NO_SOCKET : this.#socketInode()}`;
      const creds = this.#credentials.credentials;
      // One connection for both clients. grpc-js shares connections among
      // channels of equal options: a new channel after a failed connection
      // would get that connection, with its backoff, but for the option
      // that counts the connections made.
      // go-shim's answers are bounded per method (control-replies.ts): the
      // largest of those bounds is what the channel takes at all.
      this.#channel = new Channel(target, creds, { "corral.connection": ++this.#connections, "grpc.max_receive_message_length": CONTROL_MAX_REPLY_BYTES });
      this.#control = new (boundedControlClient())(target, creds, { channelOverride: this.#channel });
      this.#health = new (protos().health.grpc.health.v1.Health)(target, creds, { channelOverride: this.#channel });
      if (this.#closed) this.#channel.close();
    }
    return { control: this.#control, health: this.#health };
  }
}

type UnaryStarter<T> = (
  metadata: Metadata,
  options: { deadline?: Date },
  callback: (err: ServiceError | null, value?: T) => void,
) => ClientUnaryCall;

/** A failed call: the gRPC status code, with its details as the message. */
export class RpcError extends Error {
  readonly code: grpcStatus;
  constructor(err: ServiceError) {
    super(err.details || err.message);
    this.code = err.code;
  }
}

/**
 * A unary call that the abort signal cancels, with a deadline of
 * `deadlineMs` besides (none: Infinity).
 */
function unary<T>(start: UnaryStarter<T>, signal: AbortSignal, deadlineMs = 30_000): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const call = start(new Metadata(), deadlineMs === Infinity ? {} : { deadline: new Date(Date.now() + deadlineMs) }, (err, value) => {
      signal.removeEventListener("abort", onAbort);
      if (err) reject(new RpcError(err));
      else resolve(value as T);
    });
    const onAbort = () => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A profile's chunks, at most maxBytes of them: the stream is cancelled
 * past that (the plugin was asked for no more). RESOURCE_EXHAUSTED after
 * some chunks is go-shim's word that it cut the profile there: kept,
 * `truncated`.
 */
export async function collectProfile(
  stream: AsyncIterable<ProfileChunk__Output> & { cancel(): void },
  kind: string,
  maxBytes: number,
): Promise<{ data: Buffer; contentType: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let contentType = "";
  let truncated = false;
  try {
    for await (const chunk of stream) {
      bytes += chunk.data.length;
      if (bytes > maxBytes) {
        stream.cancel();
        throw new Error(`the plugin's ${kind.toLowerCase()} profile is over the ${maxBytes} bytes asked for; not kept`);
      }
      chunks.push(chunk.data);
      contentType ||= chunk.contentType;
    }
  } catch (err) {
    // go-shim's word that it cut the profile at maxBytes, after some chunks;
    // not a chunk past the channel's limit, which is no profile of go-shim's.
    const e = err as ServiceError;
    if (e.code !== grpcStatus.RESOURCE_EXHAUSTED || bytes === 0 || refusedReply({ code: e.code, message: e.details ?? e.message })) throw err;
    truncated = true;
  }
  return { data: Buffer.concat(chunks), contentType, truncated };
}

/** The channel was closed while a start waited on it (a certificate rotation replaces it). */
export class ControlChannelClosed extends Error {
  constructor() {
    super("the Control channel was closed");
  }
}
