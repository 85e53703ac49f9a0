import { describe, expect, it } from "vitest";
import { decodeOid, encodeOid, PLUGIN_ID_OID, PLUGIN_SCOPE_OID } from "../../supervisor/identity/oids.ts";

describe("OID encoding", () => {
  // Expected values: openssl asn1parse -genstr OID:<oid>, tag and length dropped.
  it("encodes the plugin OIDs as OpenSSL does", () => {
    expect(PLUGIN_ID_OID).toBe("1.3.6.1.4.1.61734.1.1");
    expect(PLUGIN_SCOPE_OID).toBe("1.3.6.1.4.1.61734.1.2");
    expect(encodeOid(PLUGIN_ID_OID).toString("hex")).toBe("2b0601040183e2260101");
    expect(encodeOid(PLUGIN_SCOPE_OID).toString("hex")).toBe("2b0601040183e2260102");
  });

  it("handles arcs beyond 2^53 (a peer may carry any OID; forge's derToOid throws on them)", () => {
    const uuidOid = "2.25.234667894160730662746807885550410240573.1";
    expect(encodeOid(uuidOid).toString("hex")).toBe("6982e18bb29dd3f89285ff90eaba87bcc49ea43d01");
    expect(decodeOid(Buffer.from("6982e18bb29dd3f89285ff90eaba87bcc49ea43d01", "hex"))).toBe(uuidOid);
  });

  it("round-trips small and large arcs", () => {
    for (const oid of ["2.5.29.17", "1.2.840.113549.1.1.11", "0.0", "2.999.1", PLUGIN_ID_OID, PLUGIN_SCOPE_OID]) {
      expect(decodeOid(encodeOid(oid))).toBe(oid);
    }
  });

  it("rejects malformed OIDs", () => {
    expect(() => encodeOid("1")).toThrow(/invalid OID/);
    expect(() => encodeOid("3.1")).toThrow(/out of range/);
    expect(() => encodeOid("1.40")).toThrow(/out of range/);
    expect(() => encodeOid("1.2.03")).toThrow(/invalid OID/);
    expect(() => decodeOid(Buffer.from([0x2a, 0x86]))).toThrow(/truncated/);
    expect(() => decodeOid(Buffer.from([0x2a, 0x80, 0x01]))).toThrow(/non-minimal/);
    expect(() => decodeOid(Buffer.alloc(0))).toThrow(/empty/);
  });
});
