// Operator-provided certificates, each bad one crafted with the project's own
// certificate builder so that it breaks exactly one rule.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import {
  authorityKeyIdentifier,
  basicConstraints,
  encodeName,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  pluginIdExtension,
  signCertificate,
  spkiDer,
  subjectAltName,
  subjectKeyIdentifier,
  wholeSeconds,
  type Extension,
} from "../supervisor/identity/certificate.ts";
import { implicitPrimitive, seq, toDer, utf8 } from "../supervisor/identity/der.ts";
import { IdentityError, type IdentityRule } from "../supervisor/identity/errors.ts";
import { issuePluginLeaf } from "../supervisor/identity/issue.ts";
import { generateLeafKey, type KeyPair } from "../supervisor/identity/keys.ts";
import { OID, PLUGIN_ID_OID } from "../supervisor/identity/oids.ts";
import { checkOperatorCertificate, type OperatorCertificate, type OperatorCheckOptions } from "../supervisor/identity/operator.ts";
import { openRegistry } from "../supervisor/identity/registry.ts";
import { newSerial } from "../supervisor/identity/serial.ts";

const TD = "corral.local";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const CERT_PATH = "/etc/corral/plugins/echo/cert.pem";
let root: string;
let ca: CertificateAuthority;
/** Another CA of the same trust domain: the same name, another key. */
let impostor: CertificateAuthority;
let key: KeyPair;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "corral-operator-test-"));
  [ca, impostor, key] = await Promise.all([
    loadOrCreateCA(join(root, "state"), { trustDomain: TD }),
    loadOrCreateCA(join(root, "impostor"), { trustDomain: TD }),
    generateLeafKey(),
  ]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Craft {
  /** Signs as this CA (issuer name and AKI from it, unless overridden). */
  signer?: CertificateAuthority;
  issuer?: Buffer;
  aki?: Buffer;
  notBefore?: number;
  notAfter?: number;
  /** Changes the extensions of a good plugin leaf for "echo". */
  extensions?: (good: Extension[]) => Extension[];
  /** The key whose PEM goes with the certificate (default: the certified key). */
  keyPem?: string;
}

/** A certificate as issuePluginLeaf makes it for "echo", valid 30 days, with what `c` changes. */
function craft(c: Craft = {}): OperatorCertificate {
  const signer = c.signer ?? ca;
  const now = Date.now();
  const spki = spkiDer(key.publicKey);
  const good = [
    basicConstraints(false),
    keyUsage(["digitalSignature"]),
    extKeyUsage(["serverAuth", "clientAuth"]),
    subjectAltName(`spiffe://${TD}/plugin/echo`, ["localhost"]),
    subjectKeyIdentifier(keyIdentifier(spki)),
    authorityKeyIdentifier(c.aki ?? signer.keyId),
    pluginIdExtension("echo"),
  ];
  const { pem } = signCertificate(
    {
      serial: newSerial().content,
      issuer: c.issuer ?? signer.subject,
      subject: encodeName([[OID.commonName, "echo"]]),
      notBefore: wholeSeconds(c.notBefore ?? now - HOUR),
      notAfter: wholeSeconds(c.notAfter ?? now + 30 * DAY),
      spki,
      extensions: c.extensions ? c.extensions(good) : good,
    },
    signer.privateKey,
  );
  return { certPem: pem, keyPem: c.keyPem ?? key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), certPath: CERT_PATH };
}

const options = (more: Partial<OperatorCheckOptions> = {}): OperatorCheckOptions => ({ ca, trustDomain: TD, plugin: "echo", ...more });

function expectRule(cert: OperatorCertificate, rule: IdentityRule, message?: RegExp, more: Partial<OperatorCheckOptions> = {}): IdentityError {
  let error: unknown;
  try {
    checkOperatorCertificate(cert, options(more));
  } catch (e) {
    error = e;
  }
  expect(error, `expected rule ${rule}`).toBeInstanceOf(IdentityError);
  const e = error as IdentityError;
  expect(e.rule).toBe(rule);
  expect(e.message).toMatch(new RegExp(`^identity rule ${rule}: `));
  if (cert.certPath) expect(e.message).toContain(cert.certPath);
  if (message) expect(e.message).toMatch(message);
  return e;
}

const replace = (oid: string, ext: Extension | undefined) => (good: Extension[]) =>
  ext === undefined ? good.filter((e) => e.oid !== oid) : good.map((e) => (e.oid === oid ? ext : e));

describe("checkOperatorCertificate accepts", () => {
  it("a plugin certificate of the CA with a month left", async () => {
    const leaf = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: 30 * DAY, plugin: "echo" });
    const id = checkOperatorCertificate({ certPem: leaf.certPem, keyPem: leaf.keyPem }, options());
    expect(id).toMatchObject({ uri: "spiffe://corral.local/plugin/echo", kind: "plugin", name: "echo", pluginId: "echo", serialHex: leaf.serialHex });
  });

  it("a crafted good certificate (the baseline every bad one departs from)", () => {
    expect(checkOperatorCertificate(craft(), options()).name).toBe("echo");
  });

  it("less than 7 days left when the configured minimum is lower", () => {
    const cert = craft({ notAfter: Date.now() + 2 * DAY });
    expect(checkOperatorCertificate(cert, options({ minValidityMs: DAY })).name).toBe("echo");
  });
});

describe("checkOperatorCertificate refuses, naming the rule and the certificate", () => {
  it("a certificate of another CA", () => {
    expectRule(craft({ signer: impostor }), "chain", /another CA of the same name \(CN=Corral CA corral\.local\)/);
    const stranger = { ...impostor, subject: encodeName([[OID.commonName, "Stranger CA"]]) };
    expectRule(craft({ signer: stranger }), "chain", /issued by CN=Stranger CA, not by Corral's CA \(CN=Corral CA corral\.local\)/);
  });

  it("a certificate naming the CA as issuer but signed by another key", () => {
    // Name and AKI are the CA's: only the signature tells.
    expectRule(craft({ signer: impostor, issuer: ca.subject, aki: ca.keyId }), "chain", /signature does not verify with the CA's key/);
  });

  it("the CA's own certificate", () => {
    const caKeyPem = ca.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expectRule({ certPem: ca.certPem, keyPem: caKeyPem, certPath: CERT_PATH }, "ca-certificate");
  });

  it("an expired certificate", () => {
    const e = expectRule(craft({ notBefore: Date.now() - 40 * DAY, notAfter: Date.now() - DAY }), "expired", /expired at \d{4}-.*Z, 1d before now/);
    expect(e.message).toMatch(/\(serial [0-9A-F]+\)/);
  });

  it("a certificate not yet valid", () => {
    expectRule(craft({ notBefore: Date.now() + 2 * HOUR }), "not-yet-valid", /is not valid before .*Z, (1h 59m|2h) after now/);
  });

  it("a certificate with fewer than 7 days left", () => {
    expectRule(
      craft({ notAfter: Date.now() + 6 * DAY + HOUR }),
      "min-validity",
      /expires at .*Z, in 6d( 1h)?; at least 7d of validity must be left/,
    );
    expectRule(craft({ notAfter: Date.now() + 20 * DAY }), "min-validity", /at least 30d/, { minValidityMs: 30 * DAY });
  });

  it("a per-instance leaf (24 h), which is no operator certificate", async () => {
    const leaf = await issuePluginLeaf(ca, { trustDomain: TD, ttlMs: DAY, plugin: "echo" });
    expectRule({ certPem: leaf.certPem, keyPem: leaf.keyPem }, "min-validity", /the certificate configured for plugin echo \(serial/);
  });

  it("a certificate of another plugin", () => {
    const other = (good: Extension[]) =>
      replace(OID.subjectAltName, subjectAltName(`spiffe://${TD}/plugin/kv`))(replace(PLUGIN_ID_OID, pluginIdExtension("kv"))(good));
    expectRule(craft({ extensions: other }), "plugin-id-mismatch", /names plugin "kv", expected "echo"/);
  });

  it("a plugin-ID extension that disagrees with the URI SAN", () => {
    expectRule(craft({ extensions: replace(PLUGIN_ID_OID, pluginIdExtension("kv")) }), "plugin-id-mismatch", /"kv", expected "echo"/);
  });

  it("a certificate without the plugin-ID extension", () => {
    expectRule(craft({ extensions: replace(PLUGIN_ID_OID, undefined) }), "plugin-id-missing");
  });

  it("a critical plugin-ID extension", () => {
    expectRule(craft({ extensions: replace(PLUGIN_ID_OID, { ...pluginIdExtension("echo"), critical: true }) }), "plugin-id-critical");
  });

  it("a certificate with two URI SANs", () => {
    const two: Extension = {
      oid: OID.subjectAltName,
      critical: false,
      value: toDer(
        seq([
          implicitPrimitive(6, Buffer.from(`spiffe://${TD}/plugin/echo`)),
          implicitPrimitive(6, Buffer.from(`spiffe://${TD}/plugin/kv`)),
        ]),
      ),
    };
    expectRule(craft({ extensions: replace(OID.subjectAltName, two) }), "uri-san-count", /2 URI SANs, expected exactly one/);
  });

  it("a certificate of another trust domain", () => {
    expectRule(craft({ extensions: replace(OID.subjectAltName, subjectAltName("spiffe://elsewhere/plugin/echo")) }), "trust-domain", /elsewhere, expected corral\.local/);
  });

  it("an unknown critical extension", () => {
    const unknown: Extension = { oid: "1.3.6.1.4.1.61734.9.9", critical: true, value: toDer(utf8("must understand")) };
    expectRule(craft({ extensions: (good) => [...good, unknown] }), "unknown-critical-extension", /1\.3\.6\.1\.4\.1\.61734\.9\.9/);
  });

  it("an extended key usage without TLS server authentication", () => {
    expectRule(craft({ extensions: replace(OID.extKeyUsage, extKeyUsage(["clientAuth"])) }), "extended-key-usage", /1\.3\.6\.1\.5\.5\.7\.3\.1/);
  });

  it("a key usage without digitalSignature, with which a TLS 1.3 server signs", () => {
    expectRule(craft({ extensions: replace(OID.keyUsage, keyUsage(["cRLSign"])) }), "key-usage", /does not include digitalSignature/);
    expect(checkOperatorCertificate(craft({ extensions: replace(OID.keyUsage, keyUsage(["digitalSignature", "keyEncipherment"])) }), options()).name).toBe("echo");
  });

  it("a key that is not the certificate's", async () => {
    const other = await generateLeafKey();
    expectRule(craft({ keyPem: other.privateKey.export({ type: "pkcs8", format: "pem" }).toString() }), "key-mismatch", /does not match the ec key given with it/);
  });

  it("a key that cannot be read", () => {
    expectRule(craft({ keyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }), "key-malformed");
  });

  it("what is not a certificate", () => {
    expectRule({ certPem: "nonsense", keyPem: "", certPath: CERT_PATH }, "malformed-certificate", /cannot be read/);
  });

  it("a revoked certificate, when given the registry", async () => {
    const reg = await openRegistry(join(root, "state"), ca);
    const cert = craft();
    expect(checkOperatorCertificate(cert, options({ revocations: reg })).name).toBe("echo");
    await reg.revokeCertificate(cert.certPem, { reason: "keyCompromise" });
    expectRule(cert, "revoked", /was revoked at .*keyCompromise/, { revocations: reg });
  });
});
