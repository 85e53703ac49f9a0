// A typed client of the echo test plugin's API (test/plugins/echo) for tests,
// and the means to make another release of a plugin binary: a copy with a
// few bytes appended, so its sha256 differs while it behaves the same.
import {
  loadPackageDefinition,
  Metadata,
  status as Status,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type MetadataValue,
  type ServiceError,
  type StatusObject,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { appendFile, chmod, copyFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "./supervisor.ts";

export const echoProto = path.join(repoRoot, "test/plugins/echo/api/echo.proto");
/** The domain of the google.rpc.ErrorInfo that Fail attaches. */
export const echoErrorDomain = "echo.test.corral";

export interface EchoRequest {
  message?: string;
  /** Unary and Bidi: how long the plugin waits before replying. */
  sleepMs?: number;
  /** How many bytes of payload the reply carries. */
  replySize?: number;
  /** Bytes to send; the reply counts them in receivedBytes. */
  payload?: Uint8Array;
}

export interface EchoReply {
  message: string;
  /** Hex sha256 of the plugin's executable, as the plugin computed it. */
  release: string;
  /** CORRAL_INSTANCE_ID of the instance that answered. */
  instance: string;
  /** The plugin's pid in its own pid namespace. */
  pid: number;
  payload: Buffer;
  receivedBytes: number;
  /** ServerStream, Bidi: the reply's index from 0; ClientStream: how many messages were received. */
  seq: number;
}

export interface StreamRequest {
  message?: string;
  count?: number;
  intervalMs?: number;
  replySize?: number;
}

export interface FailRequest {
  /** A gRPC status code, not 0. */
  code: number;
  message?: string;
  /** When set, the status carries a google.rpc.ErrorInfo with this reason. */
  detailReason?: string;
}

export interface CancelledReply {
  count: number;
}

export interface EchoCallOptions {
  /** Milliseconds from now; default 10 000; Infinity for none. */
  deadlineMs?: number;
  /** Request metadata; keys ending in -bin take Buffers. */
  metadata?: Metadata | Record<string, MetadataValue | MetadataValue[]>;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
}

/** A unary or client-streaming call's reply, with the response headers and trailers. */
export interface EchoResult<T> {
  reply: T;
  headers: Metadata;
  trailers: Metadata;
}

/** A server-streaming or bidi call's replies, with the response headers and trailers. */
export interface EchoStreamResult {
  replies: EchoReply[];
  headers: Metadata;
  trailers: Metadata;
}

type Callback<T> = (err: ServiceError | null, reply?: T) => void;

/** The generated client, as @grpc/grpc-js makes it from echo.proto. */
export interface EchoGrpcClient extends Client {
  Unary(req: EchoRequest, metadata: Metadata, options: CallOptions, cb: Callback<EchoReply>): ClientUnaryCall;
  ServerStream(req: StreamRequest, metadata: Metadata, options: CallOptions): ClientReadableStream<EchoReply>;
  ClientStream(metadata: Metadata, options: CallOptions, cb: Callback<EchoReply>): ClientWritableStream<EchoRequest>;
  Bidi(metadata: Metadata, options: CallOptions): ClientDuplexStream<EchoRequest, EchoReply>;
  Fail(req: FailRequest, metadata: Metadata, options: CallOptions, cb: Callback<EchoReply>): ClientUnaryCall;
  Cancelled(req: Record<string, never>, metadata: Metadata, options: CallOptions, cb: Callback<CancelledReply>): ClientUnaryCall;
}

type EchoConstructor = new (target: string, creds: ChannelCredentials, options?: ChannelOptions) => EchoGrpcClient;

const definition = loadSync(echoProto, { longs: Number, defaults: true, keepCase: false });
const Echo = (loadPackageDefinition(definition) as unknown as {
  corral: { test: { echo: { v1: { Echo: EchoConstructor } } } };
}).corral.test.echo.v1.Echo;

/** "/path/to.sock" becomes a unix: target; anything else is a gRPC target as is. */
function target(address: string): string {
  return address.startsWith("/") ? `unix://${address}` : address;
}

function toMetadata(from: EchoCallOptions["metadata"]): Metadata {
  if (from instanceof Metadata) return from;
  const md = new Metadata();
  for (const [key, value] of Object.entries(from ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) md.add(key, v);
  }
  return md;
}

function callOptions(options: EchoCallOptions): CallOptions & { deadline: number } {
  const ms = options.deadlineMs ?? 10_000;
  return { deadline: ms === Infinity ? Infinity : Date.now() + ms };
}

/**
 * The error a call failed with, as a gRPC client should report it. A Go
 * server resets a stream with RST_STREAM(CANCEL) once the deadline it was
 * sent passes; when that reaches @grpc/grpc-js before its own deadline timer
 * fires, it fails the call with CANCELLED ("Call cancelled"). gRPC's
 * PROTOCOL-HTTP2 asks clients to double-check the deadline on CANCELLED, as
 * grpc-go's does: this does it, so that a call past its deadline fails with
 * DEADLINE_EXCEEDED whichever side noticed first.
 */
function asReported(err: ServiceError, deadline: number, signal: AbortSignal | undefined): ServiceError {
  if (err.code === Status.CANCELLED && !signal?.aborted && Date.now() >= deadline) {
    return Object.assign(err, { code: Status.DEADLINE_EXCEEDED, details: `Deadline exceeded (the server reset the call: ${err.details})` });
  }
  return err;
}

/** Cancels `call` when `signal` aborts. */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined) {
  if (!signal) return;
  if (signal.aborted) call.cancel();
  else signal.addEventListener("abort", () => call.cancel(), { once: true });
}

/**
 * Settles a call with a single reply: with the reply, headers and trailers,
 * or rejects with its ServiceError (whose metadata holds the trailers).
 */
function single<T>(
  options: EchoCallOptions,
  start: (opts: CallOptions, cb: Callback<T>) => ClientUnaryCall | ClientWritableStream<EchoRequest>,
) {
  const opts = callOptions(options);
  return new Promise<EchoResult<T>>((resolve, reject) => {
    let headers = new Metadata();
    let reply: T | undefined;
    let failed: ServiceError | undefined;
    let status: StatusObject | undefined;
    const settle = () => {
      if (failed) reject(asReported(failed, opts.deadline, options.signal));
      else if (reply !== undefined && status) resolve({ reply, headers, trailers: status.metadata });
    };
    const call = start(opts, (err, value) => {
      if (err) failed = err;
      else reply = value;
      settle();
    });
    call.on("metadata", (md: Metadata) => (headers = md));
    call.on("status", (s: StatusObject) => {
      status = s;
      settle();
    });
    cancelOnAbort(call, options.signal);
  });
}

/** Collects a stream's replies until it ends with its status. */
function collect<C extends ClientReadableStream<EchoReply> | ClientDuplexStream<EchoRequest, EchoReply>>(
  options: EchoCallOptions,
  start: (opts: CallOptions) => C,
) {
  const opts = callOptions(options);
  const call = start(opts);
  const result = new Promise<EchoStreamResult>((resolve, reject) => {
    let headers = new Metadata();
    const replies: EchoReply[] = [];
    let ended = false;
    let status: StatusObject | undefined;
    const settle = () => {
      if (ended && status?.code === Status.OK) resolve({ replies, headers, trailers: status.metadata });
    };
    call.on("metadata", (md: Metadata) => (headers = md));
    call.on("data", (reply: EchoReply) => replies.push(reply));
    call.on("error", (err: ServiceError) => reject(asReported(err, opts.deadline, options.signal)));
    call.on("end", () => {
      ended = true;
      settle();
    });
    call.on("status", (s: StatusObject) => {
      status = s;
      settle();
    });
    cancelOnAbort(call, options.signal);
  });
  return { call, result };
}

/**
 * An Echo client on one channel. `address` is a socket path or a gRPC
 * target. Calls reject with the ServiceError of a failed call, except
 * fail(), which resolves with it.
 */
export function echoClient(address: string, creds: ChannelCredentials, options?: ChannelOptions) {
  const client = new Echo(target(address), creds, options);
  return {
    /** The underlying client, for calls these helpers do not cover. */
    client,
    unary: (req: EchoRequest, opts: EchoCallOptions = {}) =>
      single<EchoReply>(opts, (o, cb) => client.Unary(req, toMetadata(opts.metadata), o, cb)),
    serverStream: (req: StreamRequest, opts: EchoCallOptions = {}) =>
      collect(opts, (o) => client.ServerStream(req, toMetadata(opts.metadata), o)).result,
    /** Sends each request, half-closes, and resolves with the one reply. */
    clientStream: (reqs: EchoRequest[], opts: EchoCallOptions = {}) =>
      single<EchoReply>(opts, (o, cb) => {
        const call = client.ClientStream(toMetadata(opts.metadata), o, cb);
        for (const req of reqs) call.write(req);
        call.end();
        return call;
      }),
    /** Sends each request, half-closes, and resolves with every reply. */
    bidi: (reqs: EchoRequest[], opts: EchoCallOptions = {}) => {
      const { call, result } = collect(opts, (o) => client.Bidi(toMetadata(opts.metadata), o));
      for (const req of reqs) call.write(req);
      call.end();
      return result;
    },
    /** Resolves with the ServiceError Fail fails with (rejects if it succeeds). */
    fail: (req: FailRequest, opts: EchoCallOptions = {}) =>
      single<EchoReply>(opts, (o, cb) => client.Fail(req, toMetadata(opts.metadata), o, cb)).then(
        (r): ServiceError => {
          throw new Error(`Fail succeeded: ${JSON.stringify(r.reply)}`);
        },
        (err: ServiceError) => err,
      ),
    /** How many calls the plugin instance saw end because they were cancelled or timed out. */
    cancelled: (opts: EchoCallOptions = {}) =>
      single<CancelledReply>(opts, (o, cb) => client.Cancelled({}, toMetadata(opts.metadata), o, cb)).then(
        (r) => r.reply.count,
      ),
    close: () => client.close(),
  };
}

export type EchoClient = ReturnType<typeof echoClient>;

// google.rpc.Status and google.rpc.ErrorInfo, for the grpc-status-details-bin
// trailer. Any is declared here by its wire format, so that protobufjs
// decodes it as a plain message.
const statusTypes = protobuf.parse(`
  syntax = "proto3";
  package corral.test.echo.decode;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
`).root;
const StatusType = statusTypes.lookupType("corral.test.echo.decode.Status");
const ErrorInfoType = statusTypes.lookupType("corral.test.echo.decode.ErrorInfo");

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

export interface StatusDetails {
  code: number;
  message: string;
  details: Array<{ typeUrl: string; value: Uint8Array; errorInfo?: ErrorInfo }>;
}

/** The google.rpc.Status in a failed call's grpc-status-details-bin trailer, if any; ErrorInfo details decoded. */
export function statusDetails(err: ServiceError): StatusDetails | undefined {
  const [bin] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (!Buffer.isBuffer(bin)) return undefined;
  const decoded = StatusType.toObject(StatusType.decode(bin), { defaults: true, arrays: true }) as StatusDetails;
  for (const detail of decoded.details) {
    if (detail.typeUrl === "type.googleapis.com/google.rpc.ErrorInfo") {
      detail.errorInfo = ErrorInfoType.toObject(ErrorInfoType.decode(detail.value), { defaults: true, objects: true }) as ErrorInfo;
    }
  }
  return decoded;
}

/** Hex sha256 of a file: a release's name. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Makes another release of a plugin binary: a copy in `dir` with
 * "\n#corral-test-release:<tag>\n" appended. Its sha256 differs; it behaves
 * the same, since an ELF loader reads only what the headers point to.
 * Returns the copy's path.
 */
export async function makeRelease(sourceBinary: string, dir: string, tag: string): Promise<string> {
  const dest = path.join(dir, `${path.basename(sourceBinary)}-${tag}`);
  await copyFile(sourceBinary, dest);
  await appendFile(dest, `\n#corral-test-release:${tag}\n`);
  await chmod(dest, 0o755);
  return dest;
}
