// The config reload's diff: what is added, removed, changed (and which
// fields), and what only a restart can apply.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../supervisor/config/load.ts";
import { canonical, diffConfig } from "../../supervisor/config/diff.ts";

const base = `
stateDir: /var/lib/corral
plugins:
  - name: alpha
    binary: /bin/true
    apiVersion: "1"
  - name: beta
    binary: /bin/true
    apiVersion: "1"
    limits: { memory: 64MiB }
`;

describe("config diff", () => {
  it("finds nothing to do in the same config, however it is written", () => {
    const a = parseConfig(base, "/c.yaml");
    const b = parseConfig(base.replace("limits: { memory: 64MiB }", "limits:\n      memory: 64MiB"), "/c.yaml");
    const diff = diffConfig(a, b);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toEqual([]);
    expect(diff.unchanged.map((p) => p.name)).toEqual(["alpha", "beta"]);
    expect(diff.needsRestart).toEqual([]);
  });

  it("names added, removed and changed plugins and the fields that changed", () => {
    const a = parseConfig(base, "/c.yaml");
    const b = parseConfig(
      `
stateDir: /var/lib/corral
plugins:
  - name: beta
    binary: /bin/false
    apiVersion: "1"
    limits: { memory: 32MiB }
  - name: gamma
    binary: /bin/true
    apiVersion: "1"
`,
      "/c.yaml",
    );
    const diff = diffConfig(a, b);
    expect(diff.added.map((p) => p.name)).toEqual(["gamma"]);
    expect(diff.removed).toEqual(["alpha"]);
    expect(diff.changed.map((c) => [c.plugin.name, c.fields])).toEqual([["beta", ["binary", "limits"]]]);
    expect(diff.changed[0]!.previous.limits.memory).toBe(64 * 1024 * 1024);
  });

  it("reports supervisor-wide changes as needing a restart", () => {
    const a = parseConfig(base, "/c.yaml");
    const b = parseConfig(base.replace("/var/lib/corral", "/srv/corral") + "trustDomain: other.local\n", "/c.yaml");
    expect(diffConfig(a, b).needsRestart).toEqual(["stateDir", "trustDomain"]);
    // The metrics endpoint is bound once, at start: a new address must not be taken silently.
    const c = parseConfig(base + "metrics: { listen: 127.0.0.1:9465 }\n", "/c.yaml");
    expect(diffConfig(a, c).needsRestart).toEqual(["metrics.listen"]);
    // Who may connect to the plugins: their directories' modes are set at start.
    expect(diffConfig(a, parseConfig(base + "dataPlane: { group: 2051000 }\n", "/c.yaml")).needsRestart).toEqual(["dataPlane.group"]);
    // So are the diagnostics' limits, taken by the store at start.
    const d = parseConfig(base + "diagnostics: { maxBytes: 2GiB, maxFilesPerPlugin: 10 }\n", "/c.yaml");
    expect([d.diagnostics.maxBytes, d.diagnostics.maxFilesPerPlugin, d.diagnostics.maxBytesPerPlugin]).toEqual([2 * 1024 ** 3, 10, 256 * 1024 ** 2]);
    expect(diffConfig(a, d).needsRestart).toEqual(["diagnostics.maxBytes", "diagnostics.maxFilesPerPlugin"]);
  });

  it("compares objects regardless of key order", () => {
    expect(canonical({ a: 1, b: { d: 2, c: 3 } })).toBe(canonical({ b: { c: 3, d: 2 }, a: 1 }));
    expect(canonical({ a: [1, 2] })).not.toBe(canonical({ a: [2, 1] }));
  });
});
