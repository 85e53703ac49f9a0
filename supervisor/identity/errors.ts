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
  | "plugin-scope-malformed";

export class IdentityError extends Error {
  readonly rule: IdentityRule;

  constructor(rule: IdentityRule, message: string, options?: ErrorOptions) {
    super(`identity rule ${rule}: ${message}`, options);
    this.name = "IdentityError";
    this.rule = rule;
  }
}
