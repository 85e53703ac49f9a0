// The admin gRPC server corralctl talks to: a Unix socket, mTLS with a client
// certificate from Corral's CA, and only the admin role admitted.
import {
  Server,
  status as grpcStatus,
  type ServerCredentials,
  type ServerWritableStream,
  type ServiceError,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { parsePeerIdentity } from "../identity/identity.ts";
import { LOCAL_ADMIN } from "../identity/spiffe.ts";
import { chmod, chown, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import type { AdminHandlers } from "../../proto/gen/ts/corral/admin/v1/Admin.ts";
import type { Alert } from "../../proto/gen/ts/corral/admin/v1/Alert.ts";
import type { Certificate } from "../../proto/gen/ts/corral/admin/v1/Certificate.ts";
import type { Diagnostic } from "../../proto/gen/ts/corral/admin/v1/Diagnostic.ts";
import type { DeployResponse } from "../../proto/gen/ts/corral/admin/v1/DeployResponse.ts";
import type { Release } from "../../proto/gen/ts/corral/admin/v1/Release.ts";
import type { DescribeResponse } from "../../proto/gen/ts/corral/admin/v1/DescribeResponse.ts";
import type { Event } from "../../proto/gen/ts/corral/admin/v1/Event.ts";
import type { LogLine } from "../../proto/gen/ts/corral/admin/v1/LogLine.ts";
import type { ReloadResponse } from "../../proto/gen/ts/corral/admin/v1/ReloadResponse.ts";
import type { ValidateConfigResponse } from "../../proto/gen/ts/corral/admin/v1/ValidateConfigResponse.ts";
import type { IssueCertificateRequest__Output } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateRequest.ts";
import type { IssueCertificateResponse } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateResponse.ts";
import type { PluginStatus } from "../../proto/gen/ts/corral/admin/v1/PluginStatus.ts";
import type { RevokeCertificateRequest__Output } from "../../proto/gen/ts/corral/admin/v1/RevokeCertificateRequest.ts";
import type { UnrevokeIdentityRequest__Output } from "../../proto/gen/ts/corral/admin/v1/UnrevokeIdentityRequest.ts";
import type { UnrevokeIdentityResponse } from "../../proto/gen/ts/corral/admin/v1/UnrevokeIdentityResponse.ts";
import type { Logger } from "../log.ts";
import { serviceError, shownNames, shownRequest } from "./messages.ts";
import { protos } from "../rpc/protos.ts";

/** An error with the gRPC status the caller should see. */
export class AdminError extends Error {
  readonly code: grpcStatus;
  constructor(code: grpcStatus, message: string) {
    super(message);
    this.code = code;
  }
}

export interface AdminBackend {
  status(plugins: string[]): PluginStatus[];
  version(): { version: string; controlProtocolVersion: number };
  certificates: CertificateAdmin;
  health: HealthAdmin;
  releases: ReleaseAdmin;
  operations: OperationsAdmin;
}

/** Operating plugins and the config (issue 7). */
export interface OperationsAdmin {
  describe(plugin: string): Promise<DescribeResponse>;
  start(plugin: string): Promise<PluginStatus>;
  /** An operator's stop, kept across restarts of the supervisor; `caller` is recorded as who asked. */
  stop(plugin: string, caller: Caller): Promise<PluginStatus>;
  restart(plugin: string): Promise<PluginStatus>;
  pause(plugin: string): Promise<PluginStatus>;
  resume(plugin: string): Promise<PluginStatus>;
  /** Sends the last `tail` lines, then, with follow, new ones until `signal` aborts. */
  /** `send`'s `live` is false for what was there already (the tail): that part is bounded, and not counted against a client that stopped reading. */
  logs(plugin: string, tail: number, follow: boolean, send: (line: LogLine, live?: boolean) => void, signal: AbortSignal): Promise<void>;
  /** Sends the `recent` last events, then new ones until `signal` aborts. */
  events(plugin: string, recent: number, send: (event: Event, live?: boolean) => void, signal: AbortSignal): Promise<void>;
  /** Validates `content` (reported as `path`), or without content the file the supervisor runs. */
  validate(path: string, content: string): Promise<ValidateConfigResponse>;
  reload(): Promise<ReloadResponse>;
}

/** Hot updates (issue 6): deploy, rollback, list. */
export interface ReleaseAdmin {
  deploy(plugin: string, binary: string, caller: Caller): Promise<DeployResponse>;
  rollback(plugin: string, release: string, caller: Caller): Promise<DeployResponse>;
  list(plugin: string): Promise<Release[]>;
}

/** Alerts and diagnostics (issue 5): what the breakers and warning signs raised and captured. */
export interface HealthAdmin {
  alerts(plugin: string, includeAcknowledged: boolean): Alert[];
  ack(plugin: string, kind: string): number;
  diagnostics(plugin: string): Promise<Diagnostic[]>;
  capture(plugin: string, cpuMs: number): Promise<Diagnostic[]>;
}

/** The certificate operations of the admin API (supervisor/identity does the work). */
export interface CertificateAdmin {
  list(includeRevoked: boolean): Promise<Certificate[]>;
  issue(request: IssueCertificateRequest__Output): Promise<IssueCertificateResponse>;
  revoke(request: RevokeCertificateRequest__Output): Promise<{ revokedSerials: string[] }>;
  unrevoke(request: UnrevokeIdentityRequest__Output): Promise<UnrevokeIdentityResponse>;
  rotate(plugins: string[]): Promise<{ instances: string[] }>;
}

/**
 * Who calls, as far as what root may do on their behalf goes: the local
 * admin credential (the supervisor's own, 0600 in its state directory) is
 * root's; any other admin's is not, and root reads no file for it that
 * every user could not read.
 */
export interface Caller {
  root: boolean;
  /** Its identity (spiffe://<td>/admin/<name>), for what records who asked; "" if unknown. */
  identity: string;
  /** Aborted when the caller cancels the call (Ctrl-C, or its deadline passed). */
  cancelled: AbortSignal;
}

function callerOf(peer: Buffer | undefined, cancelled: AbortSignal): Caller {
  try {
    const id = peer && parsePeerIdentity(peer);
    return { root: id !== undefined && id.kind === "admin" && id.name === LOCAL_ADMIN, identity: id ? id.uri : "", cancelled };
  } catch {
    return { root: false, identity: "", cancelled };
  }
}

/** Messages a follow stream keeps for a client that has stopped reading, beyond what the stream buffers. */
export const FOLLOW_BACKLOG = 1000;

export interface AdminServerOptions {
  socket: string;
  credentials: ServerCredentials;
  /** Throws (with the reason) unless the client's certificate (DER) may administer now; returns when it ends. */
  authorize: (peerCertificate: Buffer | undefined) => { notAfter: Date };
  backend: AdminBackend;
  /** Where each call that changes something is recorded: who, what, and how it ended. */
  log: Logger;
  /** A gid whose members may connect too (mode 0660); root only (0600) without. */
  group?: number;
  /** Changes are refused with this from the first call on, until acceptChanges(it). */
  refuseChangesFirst?: string;
}

/** A follow stream (logs -f, events) in progress, and who asked for it. */
interface OpenStream {
  /** The client's certificate, authorized again on a revocation. */
  peer: Buffer | undefined;
  /** Ends it, with `err` as its status. */
  end(err: Partial<ServiceError>): void;
}

/** The longest a Node timer waits (about 24.8 days); a stream's expiry check beyond that is made then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A stop waits this long for unary calls in progress, then closes what is left. */
const SHUTDOWN_GRACE_MS = 2_000;

export class AdminServer {
  readonly #server: Server;
  readonly #socket: string;
  readonly #streams: Set<OpenStream>;
  readonly #authorize: AdminServerOptions["authorize"];
  /** Set once the supervisor stops: why calls that would change instances are refused. */
  readonly #changes: { refused?: string };

  private constructor(server: Server, socket: string, streams: Set<OpenStream>, authorize: AdminServerOptions["authorize"], changes: { refused?: string }) {
    this.#server = server;
    this.#socket = socket;
    this.#streams = streams;
    this.#authorize = authorize;
    this.#changes = changes;
  }

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    await claimSocket(options.socket);
    const server = new Server();
    // `audit` names a call that changes something: it is logged with who made it, and how it ended.
    const guard = <Req, Res>(handler: (req: Req, caller: Caller) => Res | Promise<Res>, audit?: string) => {
      return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
        const peer = call.getAuthContext().sslPeerCertificate?.raw;
        try {
          options.authorize(peer);
        } catch (err) {
          callback(serviceError(grpcStatus.PERMISSION_DENIED, (err as Error).message));
          return;
        }
        const record = (outcome: string) => {
          if (!audit) return;
          const id = parsePeerIdentity(peer!);
          options.log.info({ admin: id.uri, serial: id.serialHex, rpc: audit, request: shownRequest(call.request), outcome }, `admin ${audit} by ${id.uri}: ${outcome}`);
        };
        // An answer that cannot be sent is logged: thrown from here, it would end the supervisor.
        const answer = (...args: Parameters<typeof callback>) => {
          try {
            callback(...args);
          } catch (err) {
            options.log.error({ err: (err as Error).message, rpc: audit }, "answering an admin call failed");
          }
        };
        const cancelled = new AbortController();
        call.once("cancelled", () => cancelled.abort());
        Promise.resolve()
          .then(() => handler(call.request, callerOf(peer, cancelled.signal)))
          .then(
            (response) => {
              record("done");
              answer(null, response);
            },
            (err: Error) => {
              record(`failed: ${err.message.split("\n")[0]}`);
              answer(serviceError(err instanceof AdminError ? err.code : grpcStatus.INTERNAL, err.message));
            },
          );
      };
    };
    // Follow streams run until their client leaves: they are kept, so that
    // a stop can end them, and a revocation end those of a revoked client.
    const streams = new Set<OpenStream>();
    const stream = <Req, Res>(handler: (req: Req, send: (message: Res, live?: boolean) => void, signal: AbortSignal) => Promise<void>) => {
      return (call: ServerWritableStream<Req, Res>) => {
        const peer = call.getAuthContext().sslPeerCertificate?.raw;
        let notAfter: Date;
        try {
          ({ notAfter } = options.authorize(peer));
        } catch (err) {
          call.emit("error", serviceError(grpcStatus.PERMISSION_DENIED, (err as Error).message));
          return;
        }
        const ended = new AbortController();
        const open: OpenStream = { peer, end: (err) => finish(err) };
        // The stream ends when its client's certificate does, as a revocation ends it.
        let expiry: NodeJS.Timeout | undefined;
        const checkAt = (end: Date) => {
          expiry = setTimeout(() => {
            try {
              checkAt(options.authorize(peer).notAfter); // not yet: a timer waits at most MAX_TIMER_MS
            } catch (err) {
              finish(serviceError(grpcStatus.PERMISSION_DENIED, (err as Error).message));
            }
          }, Math.min(Math.max(end.getTime() - Date.now(), 0) + 1, MAX_TIMER_MS));
          expiry.unref();
        };
        const finish = (err?: Partial<ServiceError>) => {
          if (ended.signal.aborted) return;
          clearTimeout(expiry);
          streams.delete(open);
          ended.abort();
          if (call.cancelled) return;
          try {
            if (err) call.emit("error", err);
            else call.end();
          } catch (sendErr) {
            options.log.error({ err: (sendErr as Error).message }, "ending an admin stream failed");
          }
        };
        streams.add(open);
        checkAt(notAfter);
        call.on("cancelled", () => finish());
        call.on("close", () => finish());
        // A client that stops reading (corralctl logs -f suspended with
        // Ctrl-Z) is not buffered for without bound: once the stream's
        // buffer is full, at most FOLLOW_BACKLOG more live messages wait
        // for it, then the stream ends, saying so. (What was there already,
        // the tail, is bounded by its ring and always sent.)
        let behind = 0;
        call.on("drain", () => (behind = 0));
        const send = (message: Res, live = true) => {
          if (ended.signal.aborted) return;
          if (!live) {
            if (!call.write(message)) behind = Math.max(behind, 1);
            return;
          }
          if (behind >= FOLLOW_BACKLOG) {
            finish(serviceError(grpcStatus.RESOURCE_EXHAUSTED, `the client read nothing while ${FOLLOW_BACKLOG} messages waited for it; follow again`));
            return;
          }
          if (!call.write(message) || behind > 0) behind += 1;
        };
        Promise.resolve()
          .then(() => handler(call.request, send, ended.signal))
          .then(
            () => finish(),
            (err: Error) => finish(serviceError(err instanceof AdminError ? err.code : grpcStatus.INTERNAL, err.message)),
          );
      };
    };
    // What would start or change instances is refused once the supervisor stops (refuseChanges).
    const changes: { refused?: string } = options.refuseChangesFirst === undefined ? {} : { refused: options.refuseChangesFirst };
    const change = <Req, Res>(audit: string, handler: (req: Req, caller: Caller) => Res | Promise<Res>) =>
      guard((req: Req, caller: Caller) => {
        if (changes.refused) throw new AdminError(grpcStatus.UNAVAILABLE, changes.refused);
        return handler(req, caller);
      }, audit);
    const ops = options.backend.operations;
    const handlers: AdminHandlers = {
      Status: guard((req) => {
        const known = new Set(options.backend.status([]).map((p) => p.name));
        const unknown = req.plugins.filter((name) => !known.has(name));
        if (unknown.length > 0) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${shownNames(unknown)}`);
        return { plugins: options.backend.status(req.plugins) };
      }),
      Version: guard(() => options.backend.version()),
      ListCertificates: guard(async (req) => ({ certificates: await options.backend.certificates.list(req.includeRevoked) })),
      IssueCertificate: guard((req) => options.backend.certificates.issue(req), "IssueCertificate"),
      RevokeCertificate: guard((req) => options.backend.certificates.revoke(req), "RevokeCertificate"),
      UnrevokeIdentity: guard((req) => options.backend.certificates.unrevoke(req), "UnrevokeIdentity"),
      RotateCertificates: change("RotateCertificates", (req) => options.backend.certificates.rotate(req.plugins)),
      ListAlerts: guard((req) => ({ alerts: options.backend.health.alerts(req.plugin, req.includeAcknowledged) })),
      AckAlerts: guard((req) => ({ acknowledged: options.backend.health.ack(req.plugin, req.kind) }), "AckAlerts"),
      ListDiagnostics: guard(async (req) => ({ diagnostics: await options.backend.health.diagnostics(req.plugin) })),
      CaptureDiagnostics: change("CaptureDiagnostics", async (req) => ({ diagnostics: await options.backend.health.capture(req.plugin, req.cpuMs) })),
      Deploy: change("Deploy", (req, caller) => options.backend.releases.deploy(req.plugin, req.binary, caller)),
      Rollback: change("Rollback", (req, caller) => options.backend.releases.rollback(req.plugin, req.release, caller)),
      ListReleases: guard(async (req) => ({ releases: await options.backend.releases.list(req.plugin) })),
      Describe: guard((req) => ops.describe(req.plugin)),
      Start: change("Start", (req) => ops.start(req.plugin)),
      Stop: change("Stop", (req, caller) => ops.stop(req.plugin, caller)),
      Restart: change("Restart", (req) => ops.restart(req.plugin)),
      Pause: change("Pause", (req) => ops.pause(req.plugin)),
      Resume: change("Resume", (req) => ops.resume(req.plugin)),
      Logs: stream((req, send, signal) => ops.logs(req.plugin, req.tail, req.follow, send, signal)),
      WatchEvents: stream((req, send, signal) => ops.events(req.plugin, req.recent, send, signal)),
      ValidateConfig: guard((req) => ops.validate(req.path, req.content)),
      Reload: change("Reload", () => ops.reload()),
    };
    server.addService(protos().admin.corral.admin.v1.Admin.service, handlers);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${options.socket}`, options.credentials, (err) => (err ? reject(err) : resolve())),
    );
    // Only root (and the configured group) may even connect; the certificate decides the rest.
    if (options.group === undefined) await chmod(options.socket, 0o600);
    else {
      await chown(options.socket, 0, options.group);
      await chmod(options.socket, 0o660);
    }
    return new AdminServer(server, options.socket, streams, options.authorize, changes);
  }

  /** From now on, calls that would start or change instances are refused (UNAVAILABLE) with `reason`. */
  refuseChanges(reason: string): void {
    this.#changes.refused = reason;
  }

  /** Takes changes again, if what refused them was `reason` (a refusal for another reason, a stop's, stays). */
  acceptChanges(reason: string): void {
    if (this.#changes.refused === reason) delete this.#changes.refused;
  }

  /** Ends the follow streams of clients no longer authorized (a revocation), with the reason. */
  recheckStreams(): void {
    for (const open of [...this.#streams]) {
      try {
        this.#authorize(open.peer);
      } catch (err) {
        open.end(serviceError(grpcStatus.PERMISSION_DENIED, (err as Error).message));
      }
    }
  }

  /** Ends the follow streams, lets unary calls finish (a little while), and closes. */
  async close(): Promise<void> {
    for (const open of [...this.#streams]) open.end(serviceError(grpcStatus.UNAVAILABLE, "the supervisor is stopping"));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await rm(this.#socket, { force: true });
  }
}

/** The gid of `group` (a name from /etc/group, or a number), the config's `field`. */
export async function resolveGroup(group: string | number, field = "admin.group"): Promise<number> {
  if (typeof group === "number") return group;
  const line = (await readFile("/etc/group", "utf8")).split("\n").find((l) => l.split(":")[0] === group);
  if (!line) throw new Error(`${field}: no group named "${group}" in /etc/group`);
  return Number(line.split(":")[2]);
}


/**
 * Removes a stale socket left by a supervisor that died, but refuses to
 * steal one that a live supervisor still answers on.
 */
async function claimSocket(socket: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(socket);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) throw new Error(`another Corral supervisor is serving on ${socket}`);
  await rm(socket, { force: true });
}
