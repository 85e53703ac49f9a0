// Corral's identities (docs/internals.md, "Identities"): the CA (ca.ts), leaf
// issuance (issue.ts), reading and checking a
// peer's identity (identity.ts) and gRPC client credentials (credentials.ts);
// the record of issued and revoked certificates and the CRL (registry.ts,
// crl.ts); operator-provided certificates (operator.ts).

export { loadOrCreateCA, type CAOptions, type CertificateAuthority } from "./ca.ts";
export { parseRevocationReason, REVOCATION_REASONS, signCrl, type CrlEntry, type CrlIssuer, type CrlSpec, type RevocationReason, type SignedCrl } from "./crl.ts";
export { clientCredentials, pluginServerIdentity, supervisorServerIdentity, type CheckServerIdentity } from "./credentials.ts";
export { IdentityError, type IdentityRule } from "./errors.ts";
export { parsePeerIdentity, verifyPluginIdentity, type ExpectedPlugin, type PeerIdentity } from "./identity.ts";
export {
  issueAdminLeaf,
  issueClientLeaf,
  issuePluginLeaf,
  issueSupervisorLeaf,
  type IssuedLeaf,
  type LeafOptions,
  type PluginLeafOptions,
} from "./issue.ts";
export { RotatingLeaf, type RotatingLeafOptions } from "./rotating-leaf.ts";
export { CA_KEY_CURVE, freshKeys, generateCaKey, generateLeafKey, generateRsaKey, LEAF_KEY_CURVE, type KeyPair, type KeySource } from "./keys.ts";
export { PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "./oids.ts";
export {
  checkOperatorCertificate,
  DEFAULT_MIN_VALIDITY_MS,
  type OperatorCertificate,
  type OperatorCheckOptions,
} from "./operator.ts";
export {
  CertificateRegistry,
  DEFAULT_CRL_VALIDITY_MS,
  openRegistry,
  type CertificateListing,
  type IssuanceRecorder,
  type IssuedCertificate,
  type PublishedCrl,
  type RegistryOptions,
  type RevokedIdentity,
  type RevokedSerial,
  type RevokeOptions,
} from "./registry.ts";
export { normalizeSerialHex, type RandomSource } from "./serial.ts";
export { formatSpiffeId, parseSpiffeId, type IdentityKind, type SpiffeId } from "./spiffe.ts";
