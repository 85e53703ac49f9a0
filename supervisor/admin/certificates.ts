// The admin API's certificate operations, on top of the identity module:
// issuing role certificates, listing, revoking (published as a CRL within a
// second everywhere) and rotating instance leaves on demand.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Certificate } from "../../proto/gen/ts/corral/admin/v1/Certificate.ts";
import type { IssueCertificateRequest__Output } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateRequest.ts";
import type { IssueCertificateResponse } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateResponse.ts";
import type { RevokeCertificateRequest__Output } from "../../proto/gen/ts/corral/admin/v1/RevokeCertificateRequest.ts";
import type { UnrevokeIdentityRequest__Output } from "../../proto/gen/ts/corral/admin/v1/UnrevokeIdentityRequest.ts";
import {
  formatSpiffeId,
  IdentityError,
  issueAdminLeaf,
  issueClientLeaf,
  issuePluginLeaf,
  parseRevocationReason,
  type CertificateAuthority,
  type CertificateRegistry,
  type IssuedCertificate,
  type IssuedLeaf,
  type RevokeOptions,
} from "../identity/index.ts";
import type { Instance } from "../plugin/controller.ts";
import { normalizeSerialHex } from "../identity/serial.ts";
import { isName, LOCAL_ADMIN, parseSpiffeId } from "../identity/spiffe.ts";
import { AdminError, type CertificateAdmin } from "./server.ts";
import { shownNames } from "./messages.ts";

const DEFAULT_TTL_MS = 30 * 24 * 3600 * 1000;
/** What IssueCertificate's ttl_ms may be: a minute (corralctl's least, 1m) to ten years (the CA's life; a leaf ends with its CA). */
const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 3650 * 24 * 3600 * 1000;


export interface CertificateAdminDeps {
  ca: CertificateAuthority;
  registry: CertificateRegistry;
  /** Configured plugin names: a client certificate may only be scoped to these. */
  plugins: () => string[];
  /** The running instances of the named plugins (all when empty). */
  instances: (plugins: string[]) => Instance[];
  /**
   * Has the registry note the operator-provided certificates configured for
   * an identity about to be revoked, so that the CRL lists their serials too.
   */
  noteConfiguredCertificates: (uri: string) => Promise<void>;
  /**
   * Renews the certificates of the named plugins' refusal servers (all when
   * empty), which carry the plugins' identities: at a rotation, and when an
   * identity is unrevoked (its refusal server's was revoked with it).
   */
  renewRefusals: (plugins: string[]) => Promise<void>;
  /** Publishes the CRL everywhere and acts on what was revoked (nothing, after an unrevoke); resolves when in force. */
  afterRevocation: (serials: string[], identity?: string) => Promise<void>;
}

export function certificateAdmin(deps: CertificateAdminDeps): CertificateAdmin {
  const { ca, registry } = deps;
  const options = { trustDomain: ca.trustDomain, registry };
  const checkPlugins = (names: string[]) => {
    const known = new Set(deps.plugins()); // once: a request may name many
    const unknown = names.filter((p) => !known.has(p));
    if (unknown.length > 0) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${shownNames(unknown)}`);
  };
  /** The identity a request names, of this trust domain, or INVALID_ARGUMENT. */
  const identityOf = (uri: string) => {
    const id = parseSpiffeId(uri);
    if (!id) throw new AdminError(grpcStatus.INVALID_ARGUMENT, `"${shownNames([uri])}" is not a Corral identity (spiffe://<trust-domain>/<plugin|admin|client>/<name>)`);
    if (id.trustDomain !== ca.trustDomain) throw new AdminError(grpcStatus.INVALID_ARGUMENT, `${shownNames([uri])} is not of this CA's trust domain ${ca.trustDomain}`);
    return uri;
  };
  return {
    async issue(req: IssueCertificateRequest__Output): Promise<IssueCertificateResponse> {
      const ttlMs = Number(req.ttlMs) || DEFAULT_TTL_MS;
      if (!(ttlMs >= MIN_TTL_MS && ttlMs <= MAX_TTL_MS)) {
        throw new AdminError(grpcStatus.INVALID_ARGUMENT, `ttl_ms ${req.ttlMs} is not between ${MIN_TTL_MS} (a minute) and ${MAX_TTL_MS} (ten years)`);
      }
      if (!isName(req.name)) {
        throw new AdminError(grpcStatus.INVALID_ARGUMENT, `name "${shownNames([req.name])}" is not 1-63 of [A-Za-z0-9._-], starting with a letter or digit`);
      }
      let leaf: IssuedLeaf;
      try {
        if (req.role === "admin") {
          if (req.plugins.length > 0) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "an admin certificate is not scoped to plugins");
          // That identity is root's (its key only root reads, in the state
          // directory): root does for it what it does for no other admin.
          if (req.name === LOCAL_ADMIN) {
            throw new AdminError(grpcStatus.INVALID_ARGUMENT, `admin name "${LOCAL_ADMIN}" is the supervisor's own credential for root; choose another`);
          }
          leaf = await issueAdminLeaf(ca, { ...options, ttlMs }, req.name);
        } else if (req.role === "client") {
          if (req.plugins.length === 0) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "a client certificate needs at least one --plugin");
          checkPlugins(req.plugins);
          leaf = await issueClientLeaf(ca, { ...options, ttlMs }, req.name, req.plugins);
        } else if (req.role === "plugin") {
          // For plugins[].certificate, an operator-provided certificate: of a
          // plugin of the config (its entry will name it), with the plugin
          // ID extension the check at each start wants.
          if (req.plugins.length > 0) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "a plugin certificate is not scoped to plugins: --name is the plugin");
          checkPlugins([req.name]);
          leaf = await issuePluginLeaf(ca, { ...options, ttlMs, plugin: req.name });
        } else {
          throw new AdminError(grpcStatus.INVALID_ARGUMENT, `role "${req.role}" is not admin, client or plugin`);
        }
      } catch (err) {
        throw err instanceof IdentityError ? new AdminError(grpcStatus.FAILED_PRECONDITION, err.detail) : err;
      }
      const [certificate] = registry.list({ includeRevoked: true }).issued.filter((c) => c.serialHex === leaf.serialHex);
      return { certificate: describe(certificate!, false), certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem };
    },

    async list(includeRevoked: boolean): Promise<Certificate[]> {
      return registry.list({ includeRevoked }).issued.map((c) => describe(c, c.revocation !== undefined));
    },

    async revoke(req: RevokeCertificateRequest__Output) {
      const opts: RevokeOptions = {};
      const reason = req.reason ? parseRevocationReason(req.reason) : undefined;
      if (reason) opts.reason = reason;
      else if (req.reason) opts.note = req.reason;
      try {
        if (req.target === "serial") {
          if (normalizeSerialHex(req.serial ?? "") === undefined) {
            throw new AdminError(grpcStatus.INVALID_ARGUMENT, `serial "${shownNames([req.serial ?? ""])}" is not a positive hex number of at most 20 octets`);
          }
          const revoked = await registry.revokeSerial(req.serial!, opts);
          await deps.afterRevocation([revoked.serialHex]);
          return { revokedSerials: [revoked.serialHex] };
        }
        if (req.target === "plugin") checkPlugins([req.plugin!]);
        const uri =
          req.target === "plugin" ? formatSpiffeId({ trustDomain: ca.trustDomain, kind: "plugin", name: req.plugin! }) : req.identity!;
        if (!uri) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name a serial, a plugin or an identity to revoke");
        identityOf(uri);
        await deps.noteConfiguredCertificates(uri);
        const { serials } = await registry.revokeIdentity(uri, opts);
        await deps.afterRevocation(serials, uri);
        return { revokedSerials: serials };
      } catch (err) {
        throw err instanceof IdentityError ? new AdminError(grpcStatus.INVALID_ARGUMENT, err.detail) : err;
      }
    },

    async unrevoke(req: UnrevokeIdentityRequest__Output) {
      if (req.target === "plugin") checkPlugins([req.plugin!]);
      const uri = req.target === "plugin" ? formatSpiffeId({ trustDomain: ca.trustDomain, kind: "plugin", name: req.plugin! }) : req.identity;
      if (!uri) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "name a plugin or an identity to unrevoke");
      identityOf(uri);
      const wasRevoked = await registry.unrevokeIdentity(uri);
      const id = parseSpiffeId(uri)!;
      // A CRL without the operator certificates listed while it was revoked.
      if (wasRevoked) await deps.afterRevocation([], uri);
      if (wasRevoked && id.kind === "plugin" && deps.plugins().includes(id.name)) await deps.renewRefusals([id.name]);
      return { identity: uri, wasRevoked };
    },

    async rotate(plugins: string[]) {
      checkPlugins(plugins);
      const instances = deps.instances(plugins);
      await Promise.all([...instances.map((i) => i.rotateCertificate()), deps.renewRefusals(plugins)]);
      return { instances: instances.map((i) => i.id) };
    },
  };
}

function describe(c: IssuedCertificate, revoked: boolean): Certificate {
  return {
    serial: c.serialHex,
    identity: c.uri,
    kind: c.kind,
    name: c.name,
    plugins: c.plugins ?? [],
    notBeforeUnixMs: c.notBefore.getTime(),
    notAfterUnixMs: c.notAfter.getTime(),
    revoked,
  };
}
