import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateCA, type CertificateAuthority } from "../supervisor/identity/ca.ts";
import { issueAdminLeaf, issueClientLeaf, issuePluginLeaf, issueSupervisorLeaf, type IssuedLeaf } from "../supervisor/identity/issue.ts";
import { parsePeerIdentity } from "../supervisor/identity/identity.ts";
import { PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "../supervisor/identity/oids.ts";

const TD = "corral.local";
const HOUR = 3600_000;
let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-leaf-test-"));
  ca = await loadOrCreateCA(join(dir, "state"), { trustDomain: TD });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function save(leaf: IssuedLeaf): Promise<string> {
  const path = join(dir, `leaf-${counter++}.pem`);
  await writeFile(path, leaf.certPem);
  return path;
}

const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const text = (path: string): string => openssl("x509", "-noout", "-text", "-in", path);

function verifies(path: string, purpose?: "sslserver" | "sslclient"): boolean {
  try {
    const out = openssl("verify", "-CAfile", ca.certPath, ...(purpose ? ["-purpose", purpose] : []), path);
    return out.trim() === `${path}: OK`;
  } catch {
    return false;
  }
}

/** The hex dump openssl asn1parse gives for the value of extension `oid`. */
function extensionValueHex(path: string, oid: string): string {
  const lines = openssl("asn1parse", "-in", path).split("\n");
  const at = lines.findIndex((l) => l.includes(`:${oid}`));
  const m = /OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)/.exec(lines.slice(at + 1, at + 3).join("\n"));
  if (at < 0 || !m) throw new Error(`extension ${oid} not found`);
  return m[1]!;
}

/** Text of one extension block in `openssl x509 -text`, with its header line. */
function extensionBlock(txt: string, header: string): string {
  const m = new RegExp(`^( +)${header.replaceAll(".", "\\.")}:( critical)? *\\n((?:\\1 +.*\\n)+)`, "m").exec(txt);
  if (!m) throw new Error(`no ${header} in:\n${txt}`);
  return m[0];
}

describe("plugin leaves", () => {
  let leaf: IssuedLeaf;
  let path: string;
  let issuedAt: number;

  beforeAll(async () => {
    issuedAt = Date.now();
    leaf = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR });
    path = await save(leaf);
  });

  it("verifies against the CA for both TLS server and client use", () => {
    expect(verifies(path)).toBe(true);
    expect(verifies(path, "sslserver")).toBe(true);
    expect(verifies(path, "sslclient")).toBe(true);
  });

  it("carries the URI SAN, DNS:localhost and a non-critical plugin-ID extension", () => {
    const txt = text(path);
    const san = extensionBlock(txt, "X509v3 Subject Alternative Name");
    expect(san).not.toContain("critical");
    expect(san).toContain("URI:spiffe://corral.local/plugin/echo, DNS:localhost\n");
    const pluginId = extensionBlock(txt, PLUGIN_ID_OID);
    expect(pluginId).not.toContain("critical");
    // DER UTF8String (tag 0x0C) "echo"
    expect(extensionValueHex(path, PLUGIN_ID_OID)).toBe("0C04" + Buffer.from("echo").toString("hex").toUpperCase());
  });

  it("has the key usages, constraints and key identifiers of a leaf", () => {
    const txt = text(path);
    expect(extensionBlock(txt, "X509v3 Basic Constraints")).toMatch(/critical\s+CA:FALSE/);
    expect(extensionBlock(txt, "X509v3 Key Usage")).toMatch(/critical\s+Digital Signature\n/);
    expect(extensionBlock(txt, "X509v3 Extended Key Usage")).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication\n/);
    const aki = extensionBlock(txt, "X509v3 Authority Key Identifier");
    expect(aki.replaceAll(":", "").toLowerCase()).toContain(ca.keyId.toString("hex"));
    expect(txt).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(txt).toMatch(/Public-Key: \(256 bit\)/);
    expect(txt).toMatch(/NIST CURVE: P-256/);
    expect(txt).toMatch(/Issuer: CN = Corral CA corral\.local/);
  });

  it("is valid from a minute ago for its TTL, and reports what the certificate says", () => {
    const x509 = new X509Certificate(leaf.certPem);
    expect(x509.validToDate).toEqual(leaf.notAfter);
    expect(x509.validFromDate).toEqual(leaf.notBefore);
    expect(Math.abs(leaf.notBefore.getTime() - (issuedAt - 60_000))).toBeLessThan(2_000);
    expect(Math.abs(leaf.notAfter.getTime() - (issuedAt + HOUR))).toBeLessThan(2_000);
    expect(openssl("x509", "-noout", "-enddate", "-in", path).trim()).toBe(
      `notAfter=${x509.validTo}`,
    );
  });

  it("comes with its own fresh ECDSA P-256 key in PKCS#8", async () => {
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(leaf.keyPem);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(new X509Certificate(leaf.certPem).checkPrivateKey(key)).toBe(true);
    const second = await issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR });
    expect(second.keyPem).not.toBe(leaf.keyPem);
    expect(second.serialHex).not.toBe(leaf.serialHex);
  });

  it("parses back to the identity it was issued for", () => {
    expect(parsePeerIdentity(leaf.certPem)).toEqual({
      uri: "spiffe://corral.local/plugin/echo",
      kind: "plugin",
      name: "echo",
      trustDomain: TD,
      pluginId: "echo",
      serialHex: leaf.serialHex,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
    });
  });
});

describe("serial numbers", () => {
  const forced = (...head: number[]) => (size: number) => Uint8Array.from({ length: size }, (_, i) => head[i] ?? 0x5a);
  const cases: Array<[string, number[], string]> = [
    ["high bit set by the source", [0xff, 0x01], "7F01" + "5A".repeat(14)],
    ["a leading zero byte DER must drop", [0x80, 0x12], "12" + "5A".repeat(14)],
    ["two leading zero bytes", [0x80, 0x00, 0x34], "34" + "5A".repeat(13)],
    ["a zero byte DER must keep (next byte has its high bit)", [0x80, 0x90], "90" + "5A".repeat(14)],
  ];
  for (const [what, head, hex] of cases) {
    it(`are positive, DER-minimal and match openssl with ${what}`, async () => {
      const leaf = await issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR, random: forced(...head) });
      const path = await save(leaf);
      expect(leaf.serialHex).toBe(hex);
      expect(verifies(path)).toBe(true); // OpenSSL rejects non-minimal INTEGERs
      expect(openssl("x509", "-noout", "-serial", "-in", path).trim()).toBe(`serial=${hex}`);
      expect(new X509Certificate(leaf.certPem).serialNumber).toBe(hex);
      expect(parsePeerIdentity(leaf.certPem).serialHex).toBe(hex);
    });
  }

  it("are random by default", async () => {
    const serials = await Promise.all([1, 2, 3].map(() => issueAdminLeaf(ca, { trustDomain: TD, ttlMs: HOUR }, "a")));
    expect(new Set(serials.map((s) => s.serialHex)).size).toBe(3);
    for (const s of serials) expect(s.serialHex).toMatch(/^[0-9A-F]{2,32}$/);
  });
});

describe("other leaves", () => {
  it("identifies the supervisor, for TLS server and client use", async () => {
    const leaf = await issueSupervisorLeaf(ca, { trustDomain: TD, ttlMs: HOUR });
    const path = await save(leaf);
    const txt = text(path);
    expect(extensionBlock(txt, "X509v3 Subject Alternative Name")).toMatch(/\n\s+URI:spiffe:\/\/corral\.local\/supervisor\n/);
    expect(txt).not.toContain(PLUGIN_ID_OID);
    expect(verifies(path, "sslserver")).toBe(true);
    expect(verifies(path, "sslclient")).toBe(true);
  });

  it("identifies an admin, for TLS client use only", async () => {
    const leaf = await issueAdminLeaf(ca, { trustDomain: TD, ttlMs: HOUR }, "alice");
    const path = await save(leaf);
    expect(extensionBlock(text(path), "X509v3 Subject Alternative Name")).toMatch(/\n\s+URI:spiffe:\/\/corral\.local\/admin\/alice\n/);
    expect(extensionBlock(text(path), "X509v3 Extended Key Usage")).toMatch(/\n\s+TLS Web Client Authentication\n/);
    expect(verifies(path, "sslclient")).toBe(true);
    expect(verifies(path, "sslserver")).toBe(false);
  });

  it("scopes a client to plugins with a non-critical plugin-scope extension", async () => {
    const leaf = await issueClientLeaf(ca, { trustDomain: TD, ttlMs: HOUR }, "web", ["echo", "kv", "echo"]);
    const path = await save(leaf);
    const txt = text(path);
    expect(extensionBlock(txt, "X509v3 Subject Alternative Name")).toMatch(/\n\s+URI:spiffe:\/\/corral\.local\/client\/web\n/);
    expect(extensionBlock(txt, PLUGIN_SCOPE_OID)).not.toContain("critical");
    // SEQUENCE { UTF8String "echo", UTF8String "kv" }
    expect(extensionValueHex(path, PLUGIN_SCOPE_OID)).toBe("300A0C046563686F0C026B76");
    expect(verifies(path, "sslclient")).toBe(true);
    expect(verifies(path, "sslserver")).toBe(false);
    expect(parsePeerIdentity(leaf.certPem).scope).toEqual(["echo", "kv"]);
  });
});

describe("issuance refuses", () => {
  const base = { trustDomain: TD, ttlMs: HOUR };
  it("another trust domain than the CA's", async () => {
    await expect(issueSupervisorLeaf(ca, { ...base, trustDomain: "other.local" })).rejects.toThrow(/the CA is for corral\.local/);
  });
  it("a TTL that is not positive, and anything once the CA has expired", async () => {
    await expect(issueSupervisorLeaf(ca, { ...base, ttlMs: 0 })).rejects.toThrow(/invalid leaf ttlMs 0/);
    const afterTheCa = ca.notAfter.getTime() + 1000;
    await expect(issueSupervisorLeaf(ca, { ...base, now: () => afterTheCa })).rejects.toThrow(`the CA expired at ${ca.notAfter.toISOString()}: no certificate can be issued`);
  });
  it("nothing for a TTL past the CA's end: the leaf ends with the CA", async () => {
    const dayBefore = ca.notAfter.getTime() - 24 * HOUR;
    const leaf = await issueSupervisorLeaf(ca, { ...base, ttlMs: 90 * 24 * HOUR, now: () => dayBefore });
    expect(leaf.notAfter).toEqual(ca.notAfter);
    expect(new X509Certificate(leaf.certPem).validToDate).toEqual(ca.notAfter);
    // A TTL of 20 years from now, too.
    expect((await issueSupervisorLeaf(ca, { ...base, ttlMs: 20 * 365 * 24 * HOUR })).notAfter).toEqual(ca.notAfter);
  });
  it("names that cannot be a URI path segment", async () => {
    await expect(issuePluginLeaf(ca, { ...base, plugin: "../x" })).rejects.toThrow(/invalid plugin name/);
    await expect(issueAdminLeaf(ca, base, "a b")).rejects.toThrow(/invalid admin name/);
    await expect(issueClientLeaf(ca, base, "web", ["ok", "not/ok"])).rejects.toThrow(/invalid plugin name "not\/ok"/);
  });
});
