/** The identity rule a certificate broke; stable, so callers can match on it. */
export type IdentityRule =
  | "malformed-certificate"
  | "duplicate-extension"
  | "uri-san-count"
  | "uri-san-form"
  | "trust-domain"
  | "kind"
  | "plugin-name"
  | "plugin-id-missing"
  | "plugin-id-malformed"
  | "plugin-id-critical"
  | "plugin-id-mismatch"
  | "plugin-scope-malformed"
  // Operator-provided certificates (operator.ts):
  | "chain"
  | "ca-certificate"
  | "extended-key-usage"
  | "key-usage"
  | "unknown-critical-extension"
  | "key-malformed"
  | "key-mismatch"
  | "not-yet-valid"
  | "expired"
  | "min-validity"
  // Revocation (registry.ts):
  | "revoked"
  | "identity-revoked";

export class IdentityError extends Error {
  readonly rule: IdentityRule;
  /** The message without the "identity rule <rule>: " prefix, for callers that re-word it. */
  readonly detail: string;

  constructor(rule: IdentityRule, message: string, options?: ErrorOptions) {
    super(`identity rule ${rule}: ${message}`, options);
    this.name = "IdentityError";
    this.rule = rule;
    this.detail = message;
  }
}
