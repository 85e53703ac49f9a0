// Corral's identities (docs/internals.md, "Identities"): the CA (ca.ts), leaf
// issuance (issue.ts), reading and checking a
// peer's identity (identity.ts) and gRPC client credentials (credentials.ts).

export { loadOrCreateCA, type CAOptions, type CertificateAuthority } from "./ca.ts";
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
export { freshKeys, generateLeafKey, generateRsaKey, LEAF_KEY_CURVE, type KeyPair, type KeySource } from "./keys.ts";
export { PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "./oids.ts";
export type { RandomSource } from "./serial.ts";
export { formatSpiffeId, parseSpiffeId, type IdentityKind, type SpiffeId } from "./spiffe.ts";
