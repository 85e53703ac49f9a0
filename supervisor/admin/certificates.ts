// The admin API's certificate operations, on top of the identity module.
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Certificate } from "../../proto/gen/ts/corral/admin/v1/Certificate.ts";
import type { IssueCertificateRequest__Output } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateRequest.ts";
import type { IssueCertificateResponse } from "../../proto/gen/ts/corral/admin/v1/IssueCertificateResponse.ts";
import { issueAdminLeaf, issueClientLeaf, parsePeerIdentity, type CertificateAuthority, type IssuedLeaf } from "../identity/index.ts";
import type { Instance } from "../plugin/controller.ts";
import { AdminError, type CertificateAdmin } from "./server.ts";

const DEFAULT_TTL_MS = 30 * 24 * 3600 * 1000;

export interface CertificateAdminDeps {
  ca: CertificateAuthority;
  /** Configured plugin names: a client certificate may only be scoped to these. */
  plugins: () => string[];
  /** The running instances of the named plugins (all when empty). */
  instances: (plugins: string[]) => Instance[];
}

export function certificateAdmin(deps: CertificateAdminDeps): CertificateAdmin {
  const { ca } = deps;
  return {
    async issue(req: IssueCertificateRequest__Output): Promise<IssueCertificateResponse> {
      const ttlMs = req.ttlMs || DEFAULT_TTL_MS;
      let leaf: IssuedLeaf;
      if (req.role === "admin") {
        if (req.plugins.length > 0) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "an admin certificate is not scoped to plugins");
        leaf = await issueAdminLeaf(ca, { trustDomain: ca.trustDomain, ttlMs }, req.name);
      } else if (req.role === "client") {
        if (req.plugins.length === 0) throw new AdminError(grpcStatus.INVALID_ARGUMENT, "a client certificate needs at least one --plugin");
        const known = deps.plugins();
        const unknown = req.plugins.filter((p) => !known.includes(p));
        if (unknown.length > 0) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${unknown.join(", ")}`);
        leaf = await issueClientLeaf(ca, { trustDomain: ca.trustDomain, ttlMs }, req.name, req.plugins);
      } else {
        throw new AdminError(grpcStatus.INVALID_ARGUMENT, `role "${req.role}" is not admin or client`);
      }
      return { certificate: describe(leaf.certPem, false), certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem };
    },
    async list(): Promise<Certificate[]> {
      throw new AdminError(grpcStatus.UNIMPLEMENTED, "listing certificates is not available yet");
    },
    async revoke() {
      throw new AdminError(grpcStatus.UNIMPLEMENTED, "revocation is not available yet");
    },
    async rotate(plugins: string[]) {
      const unknown = plugins.filter((p) => !deps.plugins().includes(p));
      if (unknown.length > 0) throw new AdminError(grpcStatus.NOT_FOUND, `no such plugin: ${unknown.join(", ")}`);
      const instances = deps.instances(plugins);
      await Promise.all(instances.map((i) => i.rotateCertificate()));
      return { instances: instances.map((i) => i.id) };
    },
  };
}

function describe(certPem: string, revoked: boolean): Certificate {
  const id = parsePeerIdentity(certPem);
  return {
    serial: id.serialHex,
    identity: id.uri,
    kind: id.kind,
    name: id.name,
    plugins: id.scope ?? [],
    notBeforeUnixMs: id.notBefore.getTime(),
    notAfterUnixMs: id.notAfter.getTime(),
    revoked,
  };
}
