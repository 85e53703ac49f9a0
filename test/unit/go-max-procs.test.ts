// GOMAXPROCS for a plugin's CPU limit: Go's own default under a cgroup limit.
import { describe, expect, it } from "vitest";
import { goMaxProcs } from "../../supervisor/plugin/sandbox-spec.ts";

describe("goMaxProcs", () => {
  it("is the limit rounded up, never below 2", () => {
    expect(goMaxProcs(0.1, 64)).toBe(2);
    expect(goMaxProcs(0.5, 64)).toBe(2);
    expect(goMaxProcs(1, 64)).toBe(2);
    expect(goMaxProcs(2.5, 64)).toBe(3);
    expect(goMaxProcs(16, 64)).toBe(16);
  });

  it("is never above the host's CPUs, nor for an unlimited plugin", () => {
    expect(goMaxProcs(8, 4)).toBe(4);
    expect(goMaxProcs(Infinity, 4)).toBe(4);
    expect(goMaxProcs(0.5, 1)).toBe(1);
  });
});
