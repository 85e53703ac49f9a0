// Whether a plugin may serve: it must speak our Control protocol, be the
// plugin we launched, and implement the API version the hosts expect.

/** The corral.plugin.v1.Control protocol version this supervisor speaks. */
export const CONTROL_PROTOCOL_VERSION = 1;

export interface HandshakeFacts {
  protocolVersion: number;
  pluginName: string;
  pluginVersion: string;
  apiVersion: string;
  /** The gRPC methods it serves, as /package.Service/Method. */
  methods: string[];
}

/** A plugin that says it serves more methods than this is refused: they become metric series, kept for its life. */
export const MAX_METHODS = 10_000;
const METHOD_NAME = /^\/[A-Za-z_][\w.]{0,254}\/[A-Za-z_]\w{0,127}$/;

/** A gRPC method's full name (/package.Service/Method), of a sane length: the plugin says it, and it becomes a metric label. */
export function isMethodName(name: string): boolean {
  return METHOD_NAME.test(name);
}

export class IncompatiblePlugin extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IncompatiblePlugin";
  }
}

/**
 * Checks a plugin's handshake against what was configured. Throws
 * IncompatiblePlugin with a message naming both sides' values.
 */
export function checkHandshake(facts: HandshakeFacts, expected: { pluginName: string; apiVersion: string }): void {
  if (facts.protocolVersion !== CONTROL_PROTOCOL_VERSION) {
    throw new IncompatiblePlugin(
      `incompatible Control protocol: plugin speaks version ${facts.protocolVersion}, supervisor speaks version ${CONTROL_PROTOCOL_VERSION}`,
    );
  }
  if (facts.pluginName !== expected.pluginName) {
    throw new IncompatiblePlugin(`plugin identifies itself as ${quoted(facts.pluginName)} but was configured as "${expected.pluginName}"`);
  }
  if (facts.pluginVersion.length > MAX_VERSION_LENGTH || CONTROL.test(facts.pluginVersion)) {
    throw new IncompatiblePlugin(`the plugin's version ${quoted(facts.pluginVersion)} is not ${MAX_VERSION_LENGTH} characters or fewer without control characters`);
  }
  if (facts.methods.length > MAX_METHODS) {
    throw new IncompatiblePlugin(`the plugin says it serves ${facts.methods.length} methods, more than the ${MAX_METHODS} a plugin may`);
  }
  const odd = facts.methods.find((m) => !isMethodName(m));
  if (odd !== undefined) {
    throw new IncompatiblePlugin(`the plugin says it serves a method named ${quoted(odd)}, not /package.Service/Method`);
  }
  if (!apiSatisfies(facts.apiVersion, expected.apiVersion)) {
    throw new IncompatiblePlugin(
      `incompatible API: plugin implements version ${facts.apiVersion ? quoted(facts.apiVersion) : "(none)"}, config requires ${expected.apiVersion} (same major, at least that minor)`,
    );
  }
}

/** The longest plugin version a plugin may say: it is shown in status, stored for the instance's life. */
const MAX_VERSION_LENGTH = 128;
/** C0 and C1 controls, DEL, line and paragraph separators: what would act on an operator's terminal or log. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A value the plugin said, as a reason quotes it: JSON-escaped, and the
 * controls JSON leaves as they are (DEL, C1, the line and paragraph
 * separators) too, so that none acts; at most 100 characters.
 */
export function quoted(value: string): string {
  const json = JSON.stringify(value.slice(0, 100)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `${json}${value.length > 100 ? "..." : ""}`;
}

/** "1.3" satisfies "1" and "1.2", not "1.4" or "2". */
export function apiSatisfies(offered: string, required: string): boolean {
  const parse = (v: string) => {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(v);
    return m ? { major: Number(m[1]), minor: Number(m[2] ?? 0) } : undefined;
  };
  const have = parse(offered);
  const want = parse(required);
  if (!have || !want) return false;
  return have.major === want.major && have.minor >= want.minor;
}
