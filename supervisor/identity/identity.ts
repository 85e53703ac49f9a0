import { children, fromDer, isContext, isUniversal, bytes, readUtf8, Type } from "./der.ts";
import { IdentityError } from "./errors.ts";
import { OID, PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "./oids.ts";
import { serialHex } from "./serial.ts";
import { parseSpiffeId, type IdentityKind } from "./spiffe.ts";
import { certificateDer, decodeCertificate, type DecodedCertificate, type DecodedExtension } from "./x509.ts";

export interface PeerIdentity {
  readonly uri: string;
  readonly kind: IdentityKind;
  /** The plugin, admin or client name; "supervisor" for the supervisor. */
  readonly name: string;
  readonly trustDomain: string;
  /** Value of the plugin-ID extension, when present. */
  readonly pluginId?: string;
  /** Plugins named by the plugin-scope extension, when present. */
  readonly scope?: readonly string[];
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ExpectedPlugin {
  trustDomain: string;
  plugin: string;
}

/**
 * Identities read lately, by certificate (its DER as a latin1 string), oldest
 * first. The supervisor reads the same few certificates again and again: an
 * admin's on every call, a plugin's on every Control connection, each leaf
 * it issues (issue.ts reads it once, where nothing waits). Reading one, run
 * cold as it is at that pace, took about 0.3 ms of the event loop. An
 * identity depends on the certificate's bytes alone; it is frozen.
 */
const recentlyRead = new Map<string, PeerIdentity>();
const RECENTLY_READ_KEPT = 256;

/**
 * Reads the Corral identity of a certificate: DER (e.g. TLS
 * getPeerCertificate().raw) or PEM. Checks the form of the identity only; the
 * chain is for TLS to check against the CA.
 */
export function parsePeerIdentity(cert: Buffer | string): PeerIdentity {
  let der: Buffer;
  try {
    der = certificateDer(cert);
  } catch (error) {
    throw malformed(error);
  }
  const key = der.toString("latin1");
  const known = recentlyRead.get(key);
  if (known) return known;
  const identity = readIdentity(der);
  if (recentlyRead.size >= RECENTLY_READ_KEPT) recentlyRead.delete(recentlyRead.keys().next().value!);
  recentlyRead.set(key, identity);
  return identity;
}

function malformed(error: unknown): IdentityError {
  return new IdentityError("malformed-certificate", `cannot decode the certificate: ${(error as Error).message}`, { cause: error });
}

function readIdentity(der: Buffer): PeerIdentity {
  let decoded: DecodedCertificate;
  try {
    decoded = decodeCertificate(der);
  } catch (error) {
    throw malformed(error);
  }
  const seen = new Set<string>();
  for (const e of decoded.extensions) {
    if (seen.has(e.oid)) throw new IdentityError("duplicate-extension", `extension ${e.oid} appears more than once`);
    seen.add(e.oid);
  }
  const byOid = (oid: string): DecodedExtension | undefined => decoded.extensions.find((e) => e.oid === oid);

  const uris = uriSans(byOid(OID.subjectAltName));
  if (uris.length !== 1) throw new IdentityError("uri-san-count", `the certificate has ${uris.length} URI SANs, expected exactly one`);
  const uri = uris[0]!;
  const id = parseSpiffeId(uri);
  if (!id) {
    throw new IdentityError(
      "uri-san-form",
      `URI SAN ${JSON.stringify(uri)} is not spiffe://<trust-domain>/{plugin,admin,client}/<name> or spiffe://<trust-domain>/supervisor`,
    );
  }

  const identity: { -readonly [K in keyof PeerIdentity]: PeerIdentity[K] } = {
    uri,
    ...id,
    serialHex: serialHex(decoded.serial),
    notBefore: decoded.notBefore,
    notAfter: decoded.notAfter,
  };
  const pluginId = byOid(PLUGIN_ID_OID);
  if (pluginId) {
    if (pluginId.critical) throw new IdentityError("plugin-id-critical", "the plugin-ID extension must be non-critical");
    try {
      identity.pluginId = readUtf8(fromDer(pluginId.value));
    } catch (error) {
      throw new IdentityError("plugin-id-malformed", `the plugin-ID extension is not a DER UTF8String: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const scope = byOid(PLUGIN_SCOPE_OID);
  if (scope) {
    try {
      const list = fromDer(scope.value);
      if (!isUniversal(list, Type.SEQUENCE)) throw new Error("not a SEQUENCE");
      identity.scope = children(list).map(readUtf8);
    } catch (error) {
      throw new IdentityError(
        "plugin-scope-malformed",
        `the plugin-scope extension is not a DER SEQUENCE OF UTF8String: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  if (identity.scope) Object.freeze(identity.scope);
  return Object.freeze(identity);
}

/**
 * Checks that `cert` identifies the plugin `expected.plugin` of
 * `expected.trustDomain`, by URI SAN and plugin-ID extension; throws an
 * IdentityError naming the first rule that fails.
 */
export function verifyPluginIdentity(cert: Buffer | string, expected: ExpectedPlugin): PeerIdentity {
  const id = parsePeerIdentity(cert);
  if (id.trustDomain !== expected.trustDomain) {
    throw new IdentityError("trust-domain", `the certificate is for trust domain ${id.trustDomain}, expected ${expected.trustDomain}`);
  }
  if (id.kind !== "plugin") throw new IdentityError("kind", `the certificate identifies a ${id.kind} (${id.uri}), expected a plugin`);
  if (id.pluginId === undefined) throw new IdentityError("plugin-id-missing", "the certificate has no plugin-ID extension");
  if (id.pluginId !== expected.plugin) {
    throw new IdentityError("plugin-id-mismatch", `certificate names plugin ${JSON.stringify(id.pluginId)}, expected ${JSON.stringify(expected.plugin)}`);
  }
  if (id.name !== expected.plugin) {
    throw new IdentityError("plugin-name", `URI SAN ${id.uri} names plugin ${JSON.stringify(id.name)}, expected ${JSON.stringify(expected.plugin)}`);
  }
  return id;
}

function uriSans(san: DecodedExtension | undefined): string[] {
  if (!san) return [];
  let names;
  try {
    names = children(fromDer(san.value));
  } catch (error) {
    throw new IdentityError("malformed-certificate", `cannot decode subjectAltName: ${(error as Error).message}`, { cause: error });
  }
  // uniformResourceIdentifier [6] IMPLICIT IA5String
  return names.filter((n) => isContext(n, 6) && !n.constructed).map((n) => bytes(n).toString("latin1"));
}
