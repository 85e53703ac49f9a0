import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  basicConstraints,
  encodeName,
  pluginIdExtension,
  pluginScopeExtension,
  signCertificate,
  spkiDer,
  subjectAltName,
  type Extension,
} from "../../supervisor/identity/certificate.ts";
import { implicitPrimitive, octets, seq, toDer, utf8 } from "../../supervisor/identity/der.ts";
import { IdentityError, type IdentityRule } from "../../supervisor/identity/errors.ts";
import { parsePeerIdentity, verifyPluginIdentity } from "../../supervisor/identity/identity.ts";
import { generateLeafKey, type KeyPair } from "../../supervisor/identity/keys.ts";
import { OID, PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "../../supervisor/identity/oids.ts";

const TD = "corral.local";
let key: KeyPair;

beforeAll(async () => {
  key = await generateLeafKey();
});

/** A certificate with exactly the given extensions (self-issued; parsing never checks the chain). */
function craft(extensions: Extension[], options: { serial?: string; spki?: Buffer } = {}): { pem: string; der: Buffer } {
  const name = encodeName([[OID.commonName, "test"]]);
  return signCertificate(
    {
      serial: Buffer.from(options.serial ?? "0a0b0c", "hex"),
      issuer: name,
      subject: name,
      notBefore: new Date("2030-01-02T03:04:05Z"),
      notAfter: new Date("2051-06-07T08:09:10Z"), // GeneralizedTime range
      spki: options.spki ?? spkiDer(key.publicKey),
      extensions: [basicConstraints(false), ...extensions],
    },
    key.privateKey,
  );
}

const raw = (oid: string, value: Buffer, critical = false): Extension => ({ oid, critical, value });

function expectRule(fn: () => unknown, rule: IdentityRule, message?: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).rule).toBe(rule);
    expect((error as Error).message).toContain(rule);
    if (message) expect((error as Error).message).toMatch(message);
    return;
  }
  expect.fail(`expected IdentityError ${rule}`);
}

describe("parsePeerIdentity", () => {
  it("reads a plugin identity from PEM and from DER", () => {
    const cert = craft([subjectAltName(`spiffe://${TD}/plugin/echo`, ["localhost"]), pluginIdExtension("echo")]);
    for (const input of [cert.pem, cert.der]) {
      expect(parsePeerIdentity(input)).toEqual({
        uri: "spiffe://corral.local/plugin/echo",
        kind: "plugin",
        name: "echo",
        trustDomain: TD,
        pluginId: "echo",
        serialHex: "0A0B0C",
        notBefore: new Date("2030-01-02T03:04:05Z"),
        notAfter: new Date("2051-06-07T08:09:10Z"),
      });
    }
  });

  it("reads the scope of a client and the supervisor's identity", () => {
    const client = craft([subjectAltName(`spiffe://${TD}/client/web`), pluginScopeExtension(["echo", "kv"])]);
    expect(parsePeerIdentity(client.pem)).toMatchObject({ kind: "client", name: "web", scope: ["echo", "kv"] });
    const supervisor = craft([subjectAltName(`spiffe://${TD}/supervisor`)]);
    expect(parsePeerIdentity(supervisor.pem)).toMatchObject({ kind: "supervisor", name: "supervisor", trustDomain: TD });
    expect(parsePeerIdentity(supervisor.pem).pluginId).toBeUndefined();
  });

  it("reports the serial's magnitude without sign padding", () => {
    const cert = craft([subjectAltName(`spiffe://${TD}/supervisor`)], { serial: "0090aa" });
    expect(parsePeerIdentity(cert.der).serialHex).toBe("90AA");
  });

  it("reads certificates whose key is not RSA (forge's Certificate API cannot)", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const cert = craft([subjectAltName(`spiffe://${TD}/admin/alice`)], { spki: spkiDer(ec.publicKey) });
    expect(parsePeerIdentity(cert.pem)).toMatchObject({ kind: "admin", name: "alice" });
  });

  it("refuses a certificate without exactly one URI SAN", () => {
    const sanOf = (...names: Array<[tag: number, value: string]>): Extension =>
      raw(OID.subjectAltName, toDer(seq(names.map(([tag, value]) => implicitPrimitive(tag, Buffer.from(value))))));
    expectRule(() => parsePeerIdentity(craft([]).pem), "uri-san-count", /0 URI SANs/);
    expectRule(() => parsePeerIdentity(craft([sanOf([2, "localhost"])]).pem), "uri-san-count", /0 URI SANs/);
    const two = sanOf([6, `spiffe://${TD}/plugin/echo`], [2, "localhost"], [6, `spiffe://${TD}/plugin/kv`]);
    expectRule(() => parsePeerIdentity(craft([two]).pem), "uri-san-count", /2 URI SANs/);
  });

  it("refuses a URI SAN that is not a Corral SPIFFE ID", () => {
    for (const uri of ["x", "https://corral.local/plugin/echo", `spiffe://${TD}/plugin/echo/x`, `spiffe://${TD}/robot/x`]) {
      expectRule(() => parsePeerIdentity(craft([subjectAltName(uri)]).pem), "uri-san-form");
    }
  });

  it("refuses duplicated extensions", () => {
    const cert = craft([subjectAltName(`spiffe://${TD}/plugin/echo`), pluginIdExtension("echo"), pluginIdExtension("other")]);
    expectRule(() => parsePeerIdentity(cert.pem), "duplicate-extension", new RegExp(PLUGIN_ID_OID.replaceAll(".", "\\.")));
  });

  it("refuses a malformed or critical plugin-ID extension", () => {
    const san = subjectAltName(`spiffe://${TD}/plugin/echo`);
    const ia5 = Buffer.from([0x16, 0x04, ...Buffer.from("echo")]);
    expectRule(() => parsePeerIdentity(craft([san, raw(PLUGIN_ID_OID, ia5)]).pem), "plugin-id-malformed");
    const badUtf8 = Buffer.from([0x0c, 0x02, 0xc3, 0x28]);
    expectRule(() => parsePeerIdentity(craft([san, raw(PLUGIN_ID_OID, badUtf8)]).pem), "plugin-id-malformed");
    const trailing = Buffer.concat([toDer(utf8("echo")), Buffer.from([0x00])]);
    expectRule(() => parsePeerIdentity(craft([san, raw(PLUGIN_ID_OID, trailing)]).pem), "plugin-id-malformed");
    expectRule(() => parsePeerIdentity(craft([san, { ...pluginIdExtension("echo"), critical: true }]).pem), "plugin-id-critical");
  });

  it("refuses a malformed plugin-scope extension", () => {
    const san = subjectAltName(`spiffe://${TD}/client/web`);
    expectRule(() => parsePeerIdentity(craft([san, raw(PLUGIN_SCOPE_OID, toDer(utf8("echo")))]).pem), "plugin-scope-malformed");
    expectRule(() => parsePeerIdentity(craft([san, raw(PLUGIN_SCOPE_OID, toDer(seq([octets(Buffer.from("x"))])))]).pem), "plugin-scope-malformed");
  });

  it("refuses what is not a certificate", () => {
    expectRule(() => parsePeerIdentity(Buffer.from("nonsense")), "malformed-certificate");
    expectRule(() => parsePeerIdentity("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "malformed-certificate");
    expectRule(() => parsePeerIdentity("no pem here"), "malformed-certificate");
  });

  it("reads a certificate once: its PEM and its DER give the one identity, frozen", () => {
    const cert = craft([subjectAltName(`spiffe://${TD}/client/web`), pluginScopeExtension(["echo", "kv"])], { serial: "0d0e0f" });
    const first = parsePeerIdentity(cert.der);
    expect(parsePeerIdentity(Buffer.from(cert.der))).toBe(first);
    expect(parsePeerIdentity(cert.pem)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.scope)).toBe(true);
    expect(() => ((first as { name: string }).name = "other")).toThrow(TypeError);
    expect(parsePeerIdentity(cert.der).name).toBe("web");
  });

  it("refuses a malformed certificate every time it is asked, not only the first", () => {
    const bad = craft([subjectAltName(`spiffe://${TD}/plugin/echo`), raw(PLUGIN_ID_OID, toDer(octets(Buffer.from("x"))))]);
    expectRule(() => parsePeerIdentity(bad.der), "plugin-id-malformed");
    expectRule(() => parsePeerIdentity(bad.der), "plugin-id-malformed");
  });
});

describe("verifyPluginIdentity", () => {
  const expected = { trustDomain: TD, plugin: "echo" };

  it("accepts the plugin it expects", () => {
    const cert = craft([subjectAltName(`spiffe://${TD}/plugin/echo`, ["localhost"]), pluginIdExtension("echo")]);
    expect(verifyPluginIdentity(cert.der, expected).name).toBe("echo");
  });

  it("names the rule that failed", () => {
    const cases: Array<[Extension[], IdentityRule, RegExp]> = [
      [[subjectAltName(`spiffe://other.td/plugin/echo`), pluginIdExtension("echo")], "trust-domain", /other\.td, expected corral\.local/],
      [[subjectAltName(`spiffe://${TD}/supervisor`)], "kind", /identifies a supervisor/],
      [[subjectAltName(`spiffe://${TD}/client/echo`), pluginIdExtension("echo")], "kind", /identifies a client/],
      [[subjectAltName(`spiffe://${TD}/plugin/echo`)], "plugin-id-missing", /no plugin-ID extension/],
      [[subjectAltName(`spiffe://${TD}/plugin/kv`), pluginIdExtension("kv")], "plugin-id-mismatch", /certificate names plugin "kv", expected "echo"/],
      [[subjectAltName(`spiffe://${TD}/plugin/kv`), pluginIdExtension("echo")], "plugin-name", /names plugin "kv", expected "echo"/],
      [[pluginIdExtension("echo")], "uri-san-count", /0 URI SANs/],
    ];
    for (const [extensions, rule, message] of cases) {
      expectRule(() => verifyPluginIdentity(craft(extensions).pem, expected), rule, message);
    }
  });
});
