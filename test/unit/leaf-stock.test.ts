import { describe, expect, it } from "vitest";
import type { IssuedLeaf } from "../../supervisor/identity/issue.ts";
import { LeafStock } from "../../supervisor/identity/leaf-stock.ts";

const HOUR = 3600_000;

function issuer() {
  let n = 0;
  const issued: string[] = [];
  const revoked = new Set<string>();
  const issue = async (plugin: string, ttlMs: number): Promise<IssuedLeaf> => {
    const serialHex = `${plugin}-${++n}`;
    issued.push(serialHex);
    const now = new Date();
    return { certPem: "", keyPem: "", serialHex, uri: `spiffe://t/plugin/${plugin}`, notBefore: now, notAfter: new Date(now.getTime() + ttlMs) };
  };
  const check = (leaf: IssuedLeaf) => {
    if (revoked.has(leaf.serialHex) || revoked.has(leaf.uri)) throw new Error(`${leaf.serialHex} revoked`);
  };
  return { issue, check, issued, revoked };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("leaf stock", () => {
  it("hands the next start a leaf issued after the previous one, and issues on the spot when none is stocked", async () => {
    const ca = issuer();
    const stock = new LeafStock({ ...ca, refillDelayMs: 0 });
    try {
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-1"); // nothing stocked yet
      await settle();
      expect(stock.has("echo")).toBe(true);
      expect(ca.issued).toEqual(["echo-1", "echo-2"]);
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-2");
      await settle();
      expect(ca.issued).toEqual(["echo-1", "echo-2", "echo-3"]);
    } finally {
      stock.close();
    }
  });

  it("never hands out a leaf revoked while stocked, nor one of an identity revoked since", async () => {
    const ca = issuer();
    const stock = new LeafStock({ ...ca, refillDelayMs: 0 });
    try {
      await stock.take("echo", 24 * HOUR);
      await settle();
      ca.revoked.add("echo-2");
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-3");
      await settle();
      ca.revoked.add("spiffe://t/plugin/echo");
      // Issued anew, where the issuer itself refuses a revoked identity.
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-5");
    } finally {
      stock.close();
    }
  });

  it("issues anew when the stocked leaf is stale or of another lifetime", async () => {
    const ca = issuer();
    let now = 0;
    const stock = new LeafStock({ ...ca, refillDelayMs: 0, now: () => now });
    try {
      await stock.take("echo", 24 * HOUR);
      await settle();
      now += HOUR + 1; // past min(ttl / 10, 1 h)
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-3");
      await settle();
      expect((await stock.take("echo", 2 * HOUR)).serialHex).toBe("echo-5"); // stocked echo-4 is of a 24 h lifetime
    } finally {
      stock.close();
    }
  });

  it("issues anew when the wall clock was stepped back since the stocked leaf was issued (it may not be valid yet)", async () => {
    const ca = issuer();
    let now = 10 * HOUR;
    const stock = new LeafStock({ ...ca, refillDelayMs: 0, now: () => now });
    try {
      await stock.take("echo", 24 * HOUR);
      await settle();
      now -= HOUR / 2;
      expect((await stock.take("echo", 24 * HOUR)).serialHex).toBe("echo-3");
    } finally {
      stock.close();
    }
  });

  it("stops refilling when closed, and forgets a removed plugin", async () => {
    const ca = issuer();
    const stock = new LeafStock({ ...ca, refillDelayMs: 0 });
    await stock.take("a", HOUR);
    await stock.take("b", HOUR);
    await settle();
    stock.forget("a");
    expect([stock.has("a"), stock.has("b")]).toEqual([false, true]);
    await stock.take("b", HOUR);
    stock.close();
    await settle();
    expect(stock.has("b")).toBe(false);
    expect(ca.issued).toEqual(["a-1", "b-2", "a-3", "b-4"]);
  });
});
