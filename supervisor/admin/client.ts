// corralctl's connection to the supervisor: find the socket and the admin
// credentials, connect with mTLS, and turn transport failures into messages a
// person can act on.
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import type { AdminClient } from "../../proto/gen/ts/corral/admin/v1/Admin.ts";
import { parseDocument } from "yaml";
import { ConfigError, loadConfig, MAX_ALIAS_COUNT } from "../config/load.ts";
import { clientCredentials } from "../identity/index.ts";
import { keyMatchesCertificate } from "../identity/keys.ts";
import { protos } from "../rpc/protos.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { credentialFiles } from "./credentials.ts";

export const DEFAULT_SOCKET = "/run/corral/admin.sock";

export interface Endpoint {
  socket: string;
  credentials: string;
}

/** Socket: --socket, else the one --config names, else $CORRAL_SOCKET, else the default. */
export async function resolveEndpoint(options: { socket?: string; config?: string; credentials?: string }): Promise<Endpoint> {
  const socket =
    options.socket ?? (options.config ? await adminSocketOf(options.config) : undefined) ?? process.env.CORRAL_SOCKET ?? DEFAULT_SOCKET;
  const credentials = options.credentials ?? process.env.CORRAL_CREDENTIALS ?? path.join(path.dirname(socket), "admin-credentials");
  return { socket: path.resolve(socket), credentials: path.resolve(credentials) };
}

/**
 * The admin socket a config file names. A file that fails validation still
 * names its socket when its YAML can be read: an operator who runs
 * `corralctl reload` after a bad edit should hear the daemon's refusal,
 * with every problem, not be unable to reach it.
 */
async function adminSocketOf(file: string): Promise<string> {
  try {
    return (await loadConfig(file, { empty: "defaults" })).admin.socket;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const text = await readFile(file, "utf8").catch(() => undefined);
    const parsed = text === undefined ? undefined : parseDocument(text, { merge: true });
    // Only a mapping that parses names a socket; anything else (a file that
    // is not YAML, or not a config) is the command line's mistake, told as
    // such, rather than a guess at the default daemon, which may be another.
    // Read as the config loader reads it (its aliases, its merge keys).
    let doc: unknown;
    try {
      doc = parsed && parsed.errors.length === 0 ? parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) : undefined;
    } catch {
      doc = undefined;
    }
    const fields = doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as { runtimeDir?: unknown; admin?: { socket?: unknown } }) : undefined;
    if (!fields) throw new CliError(err.message, ExitCode.usage);
    const dir = path.dirname(path.resolve(file));
    if (typeof fields.admin?.socket === "string") return path.resolve(dir, fields.admin.socket);
    return path.join(path.resolve(dir, typeof fields.runtimeDir === "string" ? fields.runtimeDir : "/run/corral"), "admin.sock");
  }
}

/** A failure corralctl reports as one line and an exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export async function connectAdmin(endpoint: Endpoint): Promise<AdminClient> {
  // The socket first: "not running" is the likeliest problem, and says more
  // than a missing credentials link beside a missing socket.
  try {
    await access(endpoint.socket);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EACCES") throw new CliError(`permission denied on ${endpoint.socket} (run as root)`, ExitCode.denied);
    throw new CliError(`the Corral daemon is not running: no socket at ${endpoint.socket}`, ExitCode.unreachable);
  }
  const files = credentialFiles(endpoint.credentials);
  let pems: [string, string, string];
  try {
    pems = await readMatchedCredentials(files);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EACCES" ? "permission denied (admin credentials are readable by root only)" : e.message;
    throw new CliError(`cannot read admin credentials in ${endpoint.credentials}: ${why}`, e.code === "EACCES" ? ExitCode.denied : ExitCode.unreachable);
  }
  const [caPem, certPem, keyPem] = pems;
  let creds: ReturnType<typeof clientCredentials>;
  try {
    creds = clientCredentials({ certPem: caPem }, { certPem, keyPem });
  } catch (err) {
    // OpenSSL's words ("DECODER routines::unsupported") name no file.
    throw new CliError(`cannot use the admin credentials in ${endpoint.credentials} (${files.ca}, ${files.cert}, ${files.key}): ${(err as Error).message}`, ExitCode.denied);
  }
  return new (protos().admin.corral.admin.v1.Admin)(`unix://${endpoint.socket}`, creds);
}

/** Why the certificate of the credentials in `dir` is not valid now ("expired at ..."), if it is not. */
function credentialsOutOfDate(dir: string, now = Date.now()): string | undefined {
  try {
    const cert = new X509Certificate(readFileSync(credentialFiles(dir).cert));
    if (now >= cert.validToDate.getTime()) return `expired at ${cert.validToDate.toISOString()}`;
    if (now < cert.validFromDate.getTime()) return `is valid only from ${cert.validFromDate.toISOString()}`;
  } catch {
    // Unreadable: connectAdmin said so already.
  }
  return undefined;
}

/** How long a read of credentials whose key is not the certificate's is tried again: a renewal replaces them a file at a time. */
const RENEWAL_WAIT_MS = 1_000;

/**
 * The credentials' PEMs (CA, certificate, key). A certificate and a key that
 * do not match are read again for up to RENEWAL_WAIT_MS: the supervisor may
 * be renewing them (admin/credentials.ts), a file at a time; after that,
 * they are returned as they are, for the TLS set-up to say what is wrong.
 */
export async function readMatchedCredentials(files: ReturnType<typeof credentialFiles>): Promise<[string, string, string]> {
  const until = Date.now() + RENEWAL_WAIT_MS;
  for (;;) {
    const pems = await Promise.all([readFile(files.ca, "utf8"), readFile(files.cert, "utf8"), readFile(files.key, "utf8")]);
    if (keyMatchesCertificate(pems[1], pems[2]) || Date.now() >= until) return pems;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Maps a gRPC error from the admin socket to what corralctl prints and exits with. */
export function explain(err: ServiceError, endpoint: Endpoint): CliError {
  const details = err.details || err.message;
  switch (err.code) {
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
      // The daemon's own answer: reached, but not taking the call now.
      if (/^the supervisor is (still starting|stopping)/.test(details)) {
        return new CliError(`the Corral daemon at ${endpoint.socket} did not take the call: ${details}; try again`, ExitCode.unreachable);
      }
      if (/ENOENT|No such file/i.test(details)) {
        return new CliError(`the Corral daemon is not running: no socket at ${endpoint.socket}`, ExitCode.unreachable);
      }
      if (/ECONNREFUSED/i.test(details)) {
        return new CliError(`the Corral daemon is not running: nothing listens on ${endpoint.socket}`, ExitCode.unreachable);
      }
      if (/EACCES/i.test(details)) {
        return new CliError(`permission denied on ${endpoint.socket} (run as root or a member of the admin group)`, ExitCode.denied);
      }
      // The TLS handshake failed: the credentials are not this daemon's (another CA, expired, revoked).
      if (/certificate|SSL|TLS|alert/i.test(details)) {
        return new CliError(`the Corral daemon at ${endpoint.socket} and the admin credentials in ${endpoint.credentials} do not agree: ${details}`, ExitCode.denied);
      }
      {
        // The daemon refused the certificate: grpc-js says no more than "Failed to connect".
        const outOfDate = credentialsOutOfDate(endpoint.credentials);
        if (outOfDate) return new CliError(`the admin certificate in ${endpoint.credentials} ${outOfDate}: corralctl certs issue --role admin makes a new one`, ExitCode.denied);
      }
      // grpc-js names the peer of a call it sent (remote_addr=): the daemon had it, and is slow, not away.
      if (err.code === grpcStatus.DEADLINE_EXCEEDED && /remote_addr=/.test(details)) {
        return new CliError(`the Corral daemon at ${endpoint.socket} did not answer in time (it may still be carrying the request out; corralctl status shows where it is): ${details}`, ExitCode.failed);
      }
      return new CliError(`cannot reach the Corral daemon at ${endpoint.socket}: ${details}`, ExitCode.unreachable);
    case grpcStatus.NOT_FOUND:
      return new CliError(details, ExitCode.notFound);
    case grpcStatus.PERMISSION_DENIED:
    case grpcStatus.UNAUTHENTICATED:
      return new CliError(`permission denied: ${details}`, ExitCode.denied);
    default:
      return new CliError(details, ExitCode.failed);
  }
}
