import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { issuePluginLeaf, loadOrCreateCA, type CertificateAuthority, type IssuedLeaf } from "../../supervisor/identity/index.ts";

import { RotatingLeaf, WALL_CLOCK_CHECK_MS } from "../../supervisor/identity/rotating-leaf.ts";

const TD = "corral.local";
let dir: string;
let ca: CertificateAuthority;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-rotating-"));
  ca = await loadOrCreateCA(path.join(dir, "state"), { trustDomain: TD });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3600_000;

describe("rotating leaf", () => {
  it("renews at 45-55 % of the life left when it was obtained, not of notBefore's skewed span", async () => {
    const now = Date.now();
    for (const random of [0, 0.5, 1]) {
      const leaf = await RotatingLeaf.start({
        issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR }),
        caPem: ca.certPem,
        random: () => random,
        now: () => now,
      });
      try {
        // Within a few seconds of the expected point (issuance itself takes a moment).
        expect(Math.abs(leaf.renewalDelayMs() - HOUR * (0.45 + 0.1 * random))).toBeLessThan(5000);
      } finally {
        leaf.close();
      }
    }
  });

  it("tells grpc-js listeners the current leaf after they are added, and the new one on rotation", async () => {
    const leaf = await RotatingLeaf.start({ issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR }), caPem: ca.certPem });
    try {
      const seen: string[] = [];
      leaf.addIdentityCertificateListener((update) => seen.push(update!.certificate.toString()));
      expect(seen).toEqual([]); // deferred: grpc-js adds its own watchers after its listeners
      await new Promise((r) => process.nextTick(r));
      expect(seen).toEqual([leaf.current.certPem]);
      const before = leaf.current.serialHex;
      const next = await leaf.rotate();
      expect(next.serialHex).not.toBe(before);
      expect(seen).toEqual([expect.any(String), next.certPem]);
    } finally {
      leaf.close();
    }
  });

  it("builds its TLS context once per leaf: the same until renewed, a new one after", async () => {
    const leaf = await RotatingLeaf.start({ issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR }), caPem: ca.certPem });
    try {
      const context = leaf.secureContext();
      expect(leaf.secureContext()).toBe(context);
      await leaf.rotate();
      expect(leaf.secureContext()).not.toBe(context);
    } finally {
      leaf.close();
    }
  });

  it("refuses a renewed leaf of another identity and keeps serving the current one", async () => {
    let plugin = "echo";
    const leaf = await RotatingLeaf.start({ issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin, ttlMs: HOUR }), caPem: ca.certPem });
    try {
      const current: IssuedLeaf = leaf.current;
      plugin = "kv";
      await expect(leaf.rotate()).rejects.toThrow(`renewed leaf is for spiffe://${TD}/plugin/kv, not spiffe://${TD}/plugin/echo; keeping the current one`);
      expect(leaf.current).toBe(current);
    } finally {
      leaf.close();
    }
  });

  it("reports no renewal that finishes after it was closed", async () => {
    let issued = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reported: Array<IssuedLeaf | Error> = [];
    const leaf = await RotatingLeaf.start({
      issue: async () => {
        if (issued++ > 0) await gate; // the renewal waits until after close()
        return issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR });
      },
      caPem: ca.certPem,
      now: () => Date.now() + 2 * HOUR, // the leaf is due for renewal at once
      onRotate: (r) => reported.push(r),
    });
    while (issued < 2) await new Promise((r) => setTimeout(r, 5));
    leaf.close();
    release();
    await new Promise((r) => setTimeout(r, 100));
    expect(reported).toEqual([]);
  });

  it("renews by itself when due, and not once closed", async () => {
    const renewed: IssuedLeaf[] = [];
    const leaf = await RotatingLeaf.start({
      issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: 400 }),
      caPem: ca.certPem,
      onRotate: (r) => {
        if (!(r instanceof Error)) renewed.push(r);
      },
    });
    await new Promise((r) => setTimeout(r, 450));
    expect(renewed.length).toBeGreaterThanOrEqual(1);
    leaf.close();
    const count = renewed.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(renewed.length).toBe(count);
  });
});

describe("rotating leaf and the wall clock", () => {
  // Its timer runs on the monotonic clock; the wall clock can step (NTP, an
  // operator) or jump past a suspension of the host, which the monotonic
  // clock does not count.
  const start = async (clock: { offset: number }) =>
    RotatingLeaf.start({
      issue: () => issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR, now: () => Date.now() + clock.offset }),
      caPem: ca.certPem,
      now: () => Date.now() + clock.offset,
    });

  it("renews within a minute of the wall clock passing the renewal point, not when a wait begun before the jump runs out", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const clock = { offset: 0 };
    const leaf = await start(clock);
    try {
      const first = leaf.current.serialHex;
      clock.offset = 0.9 * HOUR; // a resume after a suspension: past the renewal point, not yet expired
      await vi.advanceTimersByTimeAsync(WALL_CLOCK_CHECK_MS);
      await vi.waitFor(() => expect(leaf.current.serialHex).not.toBe(first), { timeout: 5000 });
      expect(leaf.current.notAfter.getTime()).toBeGreaterThan(Date.now() + clock.offset + 0.9 * HOUR);
    } finally {
      leaf.close();
      vi.useRealTimers();
    }
  });

  it("renews at once a leaf the wall clock, stepped back, finds not yet valid", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const clock = { offset: 0 };
    const leaf = await start(clock);
    try {
      const first = leaf.current;
      clock.offset = -HOUR / 2;
      expect(leaf.renewalDelayMs()).toBe(0);
      await vi.advanceTimersByTimeAsync(WALL_CLOCK_CHECK_MS);
      await vi.waitFor(() => expect(leaf.current.serialHex).not.toBe(first.serialHex), { timeout: 5000 });
      expect(leaf.current.notBefore.getTime()).toBeLessThanOrEqual(Date.now() + clock.offset);
    } finally {
      leaf.close();
      vi.useRealTimers();
    }
  });
});

describe("rotating leaf asked to renew soon", () => {
  it("renews by its timer at once, and each minute until a renewal succeeds", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let failures = 0; // renewals to fail, once started
    const leaf = await RotatingLeaf.start({
      issue: async () => {
        if (failures > 0) {
          failures -= 1;
          throw new Error("ENOSPC: no space left on device");
        }
        return issuePluginLeaf(ca, { trustDomain: TD, plugin: "echo", ttlMs: HOUR });
      },
      caPem: ca.certPem,
    });
    try {
      const first = leaf.current.serialHex;
      failures = 2;
      leaf.renewSoon();
      await vi.advanceTimersByTimeAsync(10);
      expect(failures).toBe(1); // tried at once, and failed
      expect(leaf.current.serialHex).toBe(first);
      await vi.advanceTimersByTimeAsync(WALL_CLOCK_CHECK_MS);
      expect(failures).toBe(0); // a minute on, failed again
      await vi.advanceTimersByTimeAsync(WALL_CLOCK_CHECK_MS);
      await vi.waitFor(() => expect(leaf.current.serialHex).not.toBe(first), { timeout: 5000 });
    } finally {
      leaf.close();
      vi.useRealTimers();
    }
  });
});
