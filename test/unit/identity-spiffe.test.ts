import { describe, expect, it } from "vitest";
import { formatSpiffeId, parseSpiffeId } from "../../supervisor/identity/spiffe.ts";

describe("SPIFFE IDs", () => {
  it("formats and parses the four forms", () => {
    const cases = [
      [{ trustDomain: "corral.local", kind: "plugin", name: "echo" }, "spiffe://corral.local/plugin/echo"],
      [{ trustDomain: "corral.local", kind: "admin", name: "alice" }, "spiffe://corral.local/admin/alice"],
      [{ trustDomain: "corral.local", kind: "client", name: "web-1" }, "spiffe://corral.local/client/web-1"],
      [{ trustDomain: "corral.local", kind: "supervisor", name: "supervisor" }, "spiffe://corral.local/supervisor"],
    ] as const;
    for (const [id, uri] of cases) {
      expect(formatSpiffeId(id)).toBe(uri);
      expect(parseSpiffeId(uri)).toEqual(id);
    }
  });

  it("rejects everything else", () => {
    for (const uri of [
      "spiffe://corral.local/plugin",
      "spiffe://corral.local/plugin/",
      "spiffe://corral.local/plugin/a/b",
      "spiffe://corral.local/supervisor/x",
      "spiffe://corral.local/other/x",
      "spiffe://Corral.local/plugin/echo",
      "spiffe://corral.local:443/plugin/echo",
      "spiffe://corral.local/plugin/echo?x=1",
      "spiffe://corral.local/plugin/..",
      "SPIFFE://corral.local/plugin/echo",
      "https://corral.local/plugin/echo",
    ]) {
      expect(parseSpiffeId(uri), uri).toBeUndefined();
    }
  });

  it("refuses to format invalid names and trust domains", () => {
    expect(() => formatSpiffeId({ trustDomain: "corral.local", kind: "plugin", name: "a/b" })).toThrow(/invalid plugin name/);
    expect(() => formatSpiffeId({ trustDomain: "corral.local", kind: "admin", name: "" })).toThrow(/invalid admin name/);
    expect(() => formatSpiffeId({ trustDomain: "Corral", kind: "plugin", name: "echo" })).toThrow(/invalid trust domain/);
    // An empty label: Go's x509 refuses the URI SAN (a plugin could not load its certificate).
    for (const td of ["corral..local", ".corral", "corral.local."]) expect(() => formatSpiffeId({ trustDomain: td, kind: "plugin", name: "echo" }), td).toThrow(/invalid trust domain/);
  });
});
