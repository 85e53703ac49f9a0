import { generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeName, keyIdentifier, spkiDer } from "../../supervisor/identity/certificate.ts";
import { parseRevocationReason, signCrl, type CrlEntry, type CrlIssuer } from "../../supervisor/identity/crl.ts";
import { bytes, children, fromDer, isContext, isUniversal, readOid, toDer, Type, type Asn1 } from "../../supervisor/identity/der.ts";
import { OID } from "../../supervisor/identity/oids.ts";
import { normalizeSerialHex, serialContent } from "../../supervisor/identity/serial.ts";

const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
const issuer: CrlIssuer = {
  subject: encodeName([[OID.commonName, "Corral CA unit"]]),
  keyId: keyIdentifier(spkiDer(key.publicKey)),
  privateKey: key.privateKey,
};
const thisUpdate = new Date("2030-01-01T00:00:00.700Z");
const nextUpdate = new Date("2030-01-08T00:00:00Z");
const crl = (entries: CrlEntry[], number = 1n) => signCrl(issuer, { number, thisUpdate, nextUpdate, entries });

/** The parts of a CRL's TBSCertList, by name. */
function tbsOf(der: Buffer) {
  const [tbs, algorithm, signature] = children(fromDer(der));
  const parts = children(tbs!);
  const revoked = parts.find((p, i) => i >= 5 && isUniversal(p, Type.SEQUENCE));
  const extensions = parts.find((p) => isContext(p, 0));
  return { tbs: tbs!, algorithm: algorithm!, signature: signature!, parts, revoked, extensions };
}

function extensionMap(list: Asn1): Map<string, { critical: boolean; value: Buffer }> {
  return new Map(
    children(list).map((ext) => {
      const [id, second, third] = children(ext);
      const critical = isUniversal(second, Type.BOOLEAN);
      return [readOid(id!), { critical, value: bytes((critical ? third : second)!) }];
    }),
  );
}

describe("signCrl", () => {
  it("signs with ECDSA P-256 and SHA-256 for a P-256 CA, the parameters absent (RFC 5758)", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const ecIssuer: CrlIssuer = { ...issuer, keyId: keyIdentifier(spkiDer(ec.publicKey)), privateKey: ec.privateKey };
    const { tbs, algorithm, signature, parts } = tbsOf(signCrl(ecIssuer, { number: 1n, thisUpdate, nextUpdate, entries: [] }).der);
    expect(children(algorithm).map((c) => readOid(c))).toEqual([OID.ecdsaWithSHA256]);
    expect(toDer(parts[1]!)).toEqual(toDer(algorithm));
    const sig = bytes(signature).subarray(1);
    expect(verify("sha256", toDer(tbs), ec.publicKey, sig)).toBe(true);
  });

  it("refuses a CA key it cannot name the signature of", () => {
    const ed = generateKeyPairSync("ed25519");
    expect(() => signCrl({ ...issuer, privateKey: ed.privateKey }, { number: 1n, thisUpdate, nextUpdate, entries: [] })).toThrow(
      "a CA key must be ECDSA P-256 or P-384, or RSA; this one is ed25519",
    );
  });

  it("builds a v2 TBSCertList signed with SHA-256/RSA by an RSA issuer's key", () => {
    const { tbs, algorithm, signature, parts } = tbsOf(crl([]).der);
    expect(bytes(parts[0]!)).toEqual(Buffer.from([1])); // version v2
    expect(readOid(children(algorithm)[0]!)).toBe(OID.sha256WithRSAEncryption);
    expect(readOid(children(parts[1]!)[0]!)).toBe(OID.sha256WithRSAEncryption);
    expect(toDer(parts[2]!)).toEqual(issuer.subject);
    expect(bytes(parts[3]!).toString()).toBe("300101000000Z"); // whole seconds, UTCTime
    expect(bytes(parts[4]!).toString()).toBe("300108000000Z");
    const sig = bytes(signature).subarray(1); // past the unused-bits octet
    expect(verify("sha256", toDer(tbs), key.publicKey, sig)).toBe(true);
  });

  it("leaves revokedCertificates out when nothing is revoked, and carries AKI and cRLNumber", () => {
    const { revoked, extensions } = tbsOf(crl([], 300n).der);
    expect(revoked).toBeUndefined();
    const exts = extensionMap(children(extensions!)[0]!);
    expect([...exts.keys()]).toEqual([OID.authorityKeyIdentifier, OID.cRLNumber]);
    expect(exts.get(OID.cRLNumber)).toEqual({ critical: false, value: Buffer.from("0202012c", "hex") });
    expect(exts.get(OID.authorityKeyIdentifier)?.value).toEqual(Buffer.concat([Buffer.from([0x30, 22, 0x80, 20]), issuer.keyId]));
  });

  it("encodes serials DER-minimal and positive, sorted, with reasonCode unless unspecified", () => {
    const at = new Date("2030-01-02T03:04:05Z");
    const { revoked } = tbsOf(
      crl([
        { serialHex: "90ab", revocationDate: at, reason: "keyCompromise" },
        { serialHex: "00:01:02", revocationDate: at, reason: "unspecified" },
        { serialHex: "7F", revocationDate: at },
      ]).der,
    );
    const entries = children(revoked!).map((e) => children(e));
    expect(entries.map((e) => bytes(e[0]!).toString("hex"))).toEqual(["7f", "0102", "0090ab"]);
    expect(entries.map((e) => bytes(e[1]!).toString())).toEqual(["300102030405Z", "300102030405Z", "300102030405Z"]);
    expect(entries[0]![2]).toBeUndefined();
    expect(entries[1]![2]).toBeUndefined();
    const reason = extensionMap(entries[2]![2]!).get(OID.cRLReason);
    expect(reason).toEqual({ critical: false, value: Buffer.from("0a0101", "hex") }); // ENUMERATED 1
  });

  it("refuses what would make an invalid CRL", () => {
    expect(() => signCrl(issuer, { number: 1n, thisUpdate: nextUpdate, nextUpdate: thisUpdate, entries: [] })).toThrow(/not after thisUpdate/);
    expect(() => crl([], -1n)).toThrow(/invalid cRLNumber -1/);
    expect(() => crl([], 1n << 160n)).toThrow(/invalid cRLNumber/);
    expect(() => crl([], (1n << 159n) - 1n)).not.toThrow(); // 20 octets: the most RFC 5280 allows
    const at = new Date();
    expect(() => crl([{ serialHex: "0A", revocationDate: at }, { serialHex: "a", revocationDate: at }])).toThrow(/serial 0A appears twice/);
    expect(() => crl([{ serialHex: "xyz", revocationDate: at }])).toThrow(/invalid serial "xyz"/);
    expect(() => crl([{ serialHex: "0", revocationDate: at }])).toThrow(/invalid serial "0"/);
  });
});

describe("serial spellings", () => {
  it("normalize to the serialHex form", () => {
    expect(normalizeSerialHex("0a:0b:0c")).toBe("0A0B0C");
    expect(normalizeSerialHex("000A0B0C")).toBe("0A0B0C");
    expect(normalizeSerialHex("a0b")).toBe("0A0B");
    expect(normalizeSerialHex(" 90AB ")).toBe("90AB");
    for (const bad of ["", "0", "00", "-1", "0x12", "G1", "1".repeat(41)]) expect(normalizeSerialHex(bad)).toBeUndefined();
  });

  it("encode back to DER INTEGER content, padded when the high bit is set", () => {
    expect(serialContent("90AB").toString("hex")).toBe("0090ab");
    expect(serialContent("7f").toString("hex")).toBe("7f");
    expect(serialContent("00:00:01").toString("hex")).toBe("01");
    expect(() => serialContent("nope")).toThrow(/invalid serial/);
  });
});

describe("parseRevocationReason", () => {
  it("accepts RFC 5280 names in any case and separator style", () => {
    expect(parseRevocationReason("keyCompromise")).toBe("keyCompromise");
    expect(parseRevocationReason("key-compromise")).toBe("keyCompromise");
    expect(parseRevocationReason("CESSATION_OF_OPERATION")).toBe("cessationOfOperation");
    expect(parseRevocationReason("certificateHold")).toBeUndefined(); // a revoked serial is never reinstated
    expect(parseRevocationReason("because")).toBeUndefined();
  });
});
