// The Node client library for host applications: a typed gRPC client of a
// plugin's own service, on the plugin's stable address, with mTLS set up
// the way Corral expects and a retry policy that rides out restarts and
// refusals.
//
//   import { connect } from "corral/client";
//   const greeter = connect("greeter", GreeterClient, { credentials: "/etc/myapp/corral" });
//   greeter.SayHello({ name: "x" }, (err, reply) => ...);
//
// `ServiceClient` is the constructor @grpc/grpc-js makes for the plugin's
// service (from loadPackageDefinition, or generated with
// proto-loader-gen-types); Corral does not need to know its proto. It must
// come from the grpc-js connect() uses (a constructor of another copy
// refuses these credentials), so that one is re-exported here, with
// proto-loader's loadSync: a host application installed the client from a
// checkout (a link) would otherwise load its own, second copy.
export { loadPackageDefinition, Metadata, status } from "@grpc/grpc-js";
export { loadSync } from "@grpc/proto-loader";
import {
  credentials as grpcCredentials,
  experimental,
  InterceptingCall,
  ListenerBuilder,
  RequesterBuilder,
  status as grpcStatus,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type Interceptor,
  type StatusObject,
} from "@grpc/grpc-js";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pluginServerIdentity } from "../supervisor/identity/credentials.ts";
import { parsePeerIdentity } from "../supervisor/identity/identity.ts";
import { PluginConnectionCredentials } from "./connections.ts";
import { WholeCredentialsProvider } from "./whole-credentials.ts";
import { PluginRevocations } from "./revocations.ts";

/** PEM material of a host application's certificate (`corralctl certs issue --role client --plugin P`). */
export interface ClientPems {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface ConnectOptions {
  /**
   * A directory holding ca.pem, cert.pem and key.pem, as `corralctl certs
   * issue --out DIR` writes them (read again while in use: a renewal there
   * is taken up by new connections), or the PEMs.
   */
  credentials: string | ClientPems;
  /**
   * The plugin's stable address: a Unix socket path, or host:port of its
   * TCP listener. Default: `<runtimeDir>/plugins/<plugin>.sock`.
   */
  address?: string;
  /** Default /run/corral. */
  runtimeDir?: string;
  /**
   * The CA's revocation list: a plugin whose certificate it revokes is
   * refused. It is read again when it or the CA's file changes; until it
   * exists nothing is revoked, and a list that no longer reads or verifies
   * leaves the one read before in force. Default: `<credentials>/crl.pem`
   * if that file exists (a host application on another machine, over TCP,
   * keeps a copy there), else the `crl.pem` the supervisor keeps current in
   * its runtime directory: `runtimeDir`, or the one `address` is in
   * (`<dir>/plugins/<plugin>.sock`), or /run/corral. That default is left
   * out if it is not a list of the credentials' CA (another supervisor's).
   * "-" checks none.
   */
  crl?: string;
  /** Largest message either way; match the plugin's `dataPlane.maxMessageSize` (default 4 MiB). */
  maxMessageSize?: number;
  /**
   * Retry calls that fail with UNAVAILABLE (the plugin is restarting,
   * paused or being updated): up to `maxAttempts` in all, with backoff.
   * Calls that never reached the plugin are retried by gRPC anyway; this
   * also retries calls the plugin may have begun, so turn it off (false)
   * for methods that are not safe to repeat. Default { maxAttempts: 3 };
   * at most 5 (gRPC's limit); 1 is no retry, as false.
   */
  retry?: false | { maxAttempts: number };
  /** More grpc-js channel options; these win. */
  channelOptions?: ChannelOptions;
}

export type ServiceClientConstructor<C extends Client> = new (address: string, credentials: ChannelCredentials, options?: ChannelOptions) => C;

const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;
const DEFAULT_RUNTIME_DIR = "/run/corral";

/** A client of `plugin`'s service `ServiceClient` on the plugin's stable address. Close it with client.close(). */
export function connect<C extends Client>(plugin: string, ServiceClient: ServiceClientConstructor<C>, options: ConnectOptions): C {
  const target = pluginTarget(plugin, options);
  const unix = target.startsWith("unix://");
  // The server's identity is its certificate's URI SAN, checked by pluginCredentials; a host name is only
  // sent (as SNI, which may not be an IP address), so TCP targets get a placeholder.
  const sni = unix ? {} : { "grpc.ssl_target_name_override": `${plugin}.corral.invalid` };
  return new ServiceClient(target, pluginCredentials(plugin, options.credentials, crlFile(options)), {
    ...sni,
    ...channelOptions(options),
    interceptors: [refusedCertificate, deadlineExceeded],
  });
}

/**
 * An interceptor that passes a call through unchanged but for its final
 * status, which `rewrite` may replace (undefined: kept). It is told the
 * call's deadline (Unix ms) and whether its caller cancelled it.
 */
function rewritingStatus(rewrite: (status: StatusObject, call: { deadline: number; cancelledByCaller: boolean }) => StatusObject | undefined): Interceptor {
  return (options, nextCall) => {
    const call = { deadline: options.deadline instanceof Date ? options.deadline.getTime() : (options.deadline ?? Infinity), cancelledByCaller: false };
    return new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, listener, next) =>
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveMetadata((m, nextMetadata) => nextMetadata(m))
              .withOnReceiveMessage((m, nextMessage) => nextMessage(m))
              .withOnReceiveStatus((status, nextStatus) => nextStatus(rewrite(status, call) ?? status))
              .build(),
          ),
        )
        .withCancel((next) => {
          call.cancelledByCaller = true;
          next();
        })
        .build(),
    );
  };
}

/**
 * Reports a call that ended CANCELLED after its deadline, which its caller
 * did not cancel, as DEADLINE_EXCEEDED. A Go server resets a stream with
 * RST_STREAM(CANCEL) once the deadline it was sent passes; when that
 * reaches grpc-js before its own deadline timer fires, grpc-js fails the
 * call with CANCELLED ("Call cancelled"). gRPC's PROTOCOL-HTTP2 asks clients
 * to check the deadline on CANCELLED, as grpc-go's does (go-shim/client
 * reports DEADLINE_EXCEEDED always): a call past its deadline fails alike
 * whichever side noticed first.
 */
export const deadlineExceeded: Interceptor = rewritingStatus((status, call) =>
  status.code === grpcStatus.CANCELLED && !call.cancelledByCaller && Date.now() >= call.deadline
    ? { ...status, code: grpcStatus.DEADLINE_EXCEEDED, details: `Deadline exceeded (the server reset the call: ${status.details})` }
    : undefined,
);

/**
 * Turns the UNAVAILABLE of a call that got no connection because the plugin
 * refused its TLS handshake (this application's certificate revoked,
 * expired, or not of the plugin's CA: OpenSSL's "alert bad certificate" and
 * kin) into UNAUTHENTICATED, which says so (the retry policy has tried
 * again already): as go-shim/client does for Go.
 */
export const refusedCertificate: Interceptor = rewritingStatus(asCertificateRefusal);

function asCertificateRefusal(status: StatusObject): StatusObject | undefined {
  // grpc-js's words for a call that got no connection; any other status came
  // from the plugin, which may pass on a TLS refusal of its own backend's.
  if (status.code !== grpcStatus.UNAVAILABLE || !status.details.startsWith("No connection established")) return undefined;
  const alert = /alert (bad certificate|certificate revoked|certificate expired|unknown ca|certificate required|certificate unknown)/i.exec(status.details);
  if (!alert) return undefined;
  return {
    ...status,
    code: grpcStatus.UNAUTHENTICATED,
    details: `the plugin refused this application's certificate (tls: ${alert[1]!.toLowerCase()}): revoked, expired, or not issued by the plugin's CA; ${status.details}`,
  };
}

/**
 * The gRPC target of the plugin's stable address: its Unix socket (a path
 * relative to the working directory made absolute: gRPC would take it for
 * a host name), or the TCP relay's host:port.
 */
export function pluginTarget(plugin: string, options: Pick<ConnectOptions, "address" | "runtimeDir">): string {
  const address = options.address ?? path.join(options.runtimeDir ?? DEFAULT_RUNTIME_DIR, "plugins", `${plugin}.sock`);
  // A path has a slash or names a socket; host:port (IPv6 in brackets too) has neither.
  return address.includes("/") || address.endsWith(".sock") ? `unix://${path.resolve(address)}` : address;
}

/**
 * mTLS credentials for calling `plugin`: present the host application's
 * certificate, trust only Corral's CA, and accept only a server whose
 * certificate names `plugin` (its instance, or the supervisor refusing on
 * its behalf) in the trust domain of the application's own certificate,
 * and is not revoked by the CRL of the file `crl` (ConnectOptions.crl).
 */
export function pluginCredentials(plugin: string, source: string | ClientPems, crl?: CrlChoice): ChannelCredentials {
  const pems = typeof source === "string" ? readPems(source) : source;
  const { trustDomain } = parsePeerIdentity(pems.certPem);
  const ca = typeof source === "string" ? { file: path.join(source, "ca.pem") } : { pem: pems.caPem };
  const revocations = crl === undefined ? undefined : new PluginRevocations(crl.file, ca, { required: crl.required });
  const checkServerIdentity = pluginServerIdentity({ trustDomain, plugin }, (peer) => revocations?.check(peer.serialHex));
  const watched = (credentials: ChannelCredentials) => new PluginConnectionCredentials(credentials, revocations);
  if (typeof source !== "string") {
    return watched(grpcCredentials.createSsl(Buffer.from(pems.caPem), Buffer.from(pems.keyPem), Buffer.from(pems.certPem), { checkServerIdentity }));
  }
  // A directory is read again every CREDENTIALS_REFRESH_MS while a channel
  // uses it (grpc-js's own file watcher): a certificate renewed there
  // (`corralctl certs issue --out DIR`) is presented by new connections,
  // without a restart of the host application.
  const files = new experimental.FileWatcherCertificateProvider({
    caCertificateFile: path.join(source, "ca.pem"),
    certificateFile: path.join(source, "cert.pem"),
    privateKeyFile: path.join(source, "key.pem"),
    refreshIntervalMs: CREDENTIALS_REFRESH_MS,
  });
  // Renewed a file at a time: a certificate whose key has not come yet, or a
  // CA file read while it was written, is not taken (whole-credentials.ts).
  const whole = new WholeCredentialsProvider(files);
  return watched(experimental.createCertificateProviderChannelCredentials(whole, whole, { checkServerIdentity }));
}

/** A revocation list to check plugins against; one not `required` (the default's) is left out while it is another CA's. */
export interface CrlChoice {
  file: string;
  required: boolean;
}

/** The revocation list connect() checks plugins against (ConnectOptions.crl), if any. */
export function crlFile(options: Pick<ConnectOptions, "credentials" | "runtimeDir" | "address" | "crl">): CrlChoice | undefined {
  if (options.crl === "-") return undefined;
  if (options.crl !== undefined) return { file: options.crl, required: true };
  if (typeof options.credentials === "string") {
    const own = path.join(options.credentials, "crl.pem");
    if (existsSync(own)) return { file: own, required: true };
  }
  return { file: path.join(publishingDir(options), "crl.pem"), required: false };
}

/** The runtime directory whose crl.pem is the default list: runtimeDir, or the one a stable address under it names, or the default. */
function publishingDir(options: Pick<ConnectOptions, "runtimeDir" | "address">): string {
  if (options.runtimeDir !== undefined) return options.runtimeDir;
  const address = options.address;
  if (address !== undefined && address.endsWith(".sock") && path.basename(path.dirname(address)) === "plugins") return path.resolve(path.dirname(path.dirname(address)));
  return DEFAULT_RUNTIME_DIR;
}

/** How often a credentials directory is read again while in use. */
export const CREDENTIALS_REFRESH_MS = 10_000;

/** The channel options connect() uses: message limits, the retry policy, keepalive, reconnect backoff. */
export function channelOptions(options: Pick<ConnectOptions, "maxMessageSize" | "retry" | "channelOptions">): ChannelOptions {
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
  const retry = options.retry ?? { maxAttempts: 3 };
  // gRPC's retry policy takes 2 to 5 attempts: 1 means none (no policy).
  const serviceConfig = retry && retry.maxAttempts > 1
    ? {
        methodConfig: [
          {
            name: [{}],
            retryPolicy: {
              maxAttempts: Math.min(retry.maxAttempts, 5),
              initialBackoff: "0.05s",
              maxBackoff: "0.5s",
              backoffMultiplier: 2,
              retryableStatusCodes: ["UNAVAILABLE"],
            },
          },
        ],
      }
    : undefined;
  return {
    "grpc.max_receive_message_length": max,
    "grpc.max_send_message_length": max,
    // A connection that no longer answers fails its calls with UNAVAILABLE within 4 s, rather
    // than letting them wait out their deadlines: its plugin frozen, or gone while Node has
    // stopped reading the socket (`ss`: ESTAB, peer gone, nothing queued; not in Node's epoll
    // set, so the end is never read). The latter happened at most kill -9s of a plugin with
    // callers; on a Unix socket the instance watch (instance-watch.ts) now closes such a
    // connection within 0.2 s, and this is what is left for TCP and a frozen plugin. A ping
    // is only sent while calls are in flight (go-shim takes one a second); it goes unanswered
    // either way, and the timeout ends the connection.
    // No ping is sent on a connection draining after a GOAWAY: Node refuses it, and grpc-js
    // would end the calls still finishing there (patches/@grpc+grpc-js+*.patch).
    "grpc.keepalive_time_ms": 2_000,
    "grpc.keepalive_timeout_ms": 2_000,
    // A refused connect to the stable address means a plugin just died: for the few milliseconds
    // until the supervisor sees it, the address still leads to its closed socket. gRPC's default
    // wait before the next try (1 s, then 1.6 s, ... up to 2 min) would fail every call for that
    // long after the plugin is back; tries are cheap on a local socket.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    ...(serviceConfig && { "grpc.service_config": JSON.stringify(serviceConfig) }),
    ...options.channelOptions,
  };
}

function readPems(dir: string): ClientPems {
  const read = (name: string) => {
    try {
      return readFileSync(path.join(dir, name), "utf8");
    } catch (err) {
      throw new Error(`corral client credentials: cannot read ${path.join(dir, name)}: ${(err as Error).message}`);
    }
  };
  return { caPem: read("ca.pem"), certPem: read("cert.pem"), keyPem: read("key.pem") };
}
