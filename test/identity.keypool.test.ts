import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyPool } from "../supervisor/identity/key-pool.ts";
import { generateLeafKey, type KeyPair } from "../supervisor/identity/keys.ts";

let key: KeyPair;
let dir: string;

beforeAll(async () => {
  key = await generateLeafKey();
  dir = await mkdtemp(join(tmpdir(), "corral-keypool-test-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A generator whose calls the test settles by hand. */
function manualGenerator() {
  const pending: Array<{ resolve: (k: KeyPair) => void; reject: (e: Error) => void }> = [];
  let calls = 0;
  return {
    generate: () => {
      calls++;
      return new Promise<KeyPair>((resolve, reject) => pending.push({ resolve, reject }));
    },
    get calls() {
      return calls;
    },
    get inFlight() {
      return pending.length;
    },
    resolveNext: async () => {
      pending.shift()!.resolve(key);
      await new Promise((r) => setImmediate(r));
    },
    rejectNext: async (error: Error) => {
      pending.shift()!.reject(error);
      await new Promise((r) => setImmediate(r));
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("KeyPool", () => {
  it("fills up to its size one key at a time, then stops", async () => {
    const gen = manualGenerator();
    const pool = new KeyPool({ size: 2, generate: gen.generate });
    expect(gen.inFlight).toBe(1);
    await gen.resolveNext();
    expect(pool.ready).toBe(1);
    expect(gen.inFlight).toBe(1);
    await gen.resolveNext();
    expect(pool.ready).toBe(2);
    expect(gen.inFlight).toBe(0);
    expect(gen.calls).toBe(2);
    await pool.close();
  });

  it("hands out ready keys and refills behind them", async () => {
    const gen = manualGenerator();
    const pool = new KeyPool({ size: 1, generate: gen.generate });
    await gen.resolveNext();
    expect(await pool.take()).toBe(key);
    expect(pool.ready).toBe(0);
    expect(gen.inFlight).toBe(1); // the refill
    await gen.resolveNext();
    expect(pool.ready).toBe(1);
    await pool.close();
  });

  it("generates on demand when empty", async () => {
    const gen = manualGenerator();
    const pool = new KeyPool({ size: 1, generate: gen.generate });
    const taken = pool.take();
    expect(gen.inFlight).toBe(2); // background refill and the caller's own key
    await gen.resolveNext();
    await gen.resolveNext();
    await expect(taken).resolves.toBe(key);
    await pool.close();
  });

  it("does not retry a failing generator in a loop; take() surfaces the error", async () => {
    const gen = manualGenerator();
    const pool = new KeyPool({ size: 2, generate: gen.generate });
    await gen.rejectNext(new Error("no entropy"));
    expect(gen.inFlight).toBe(0);
    expect(gen.calls).toBe(1);
    const taken = pool.take().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(gen.inFlight).toBe(2); // one retry in the background, one for the caller
    await gen.rejectNext(new Error("still none"));
    await gen.rejectNext(new Error("still none"));
    expect(await taken).toMatchObject({ message: "still none" });
    await pool.close();
  });

  it("close() stops refilling, drops ready keys and waits for the generation in flight", async () => {
    const gen = manualGenerator();
    const pool = new KeyPool({ size: 3, generate: gen.generate });
    await gen.resolveNext();
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    expect(pool.ready).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    await gen.resolveNext();
    await closing;
    expect(pool.ready).toBe(0);
    expect(gen.calls).toBe(2);
    const direct = pool.take(); // still usable: generates directly, without refilling
    expect(gen.inFlight).toBe(1);
    await gen.resolveNext();
    await expect(direct).resolves.toBe(key);
    expect(gen.inFlight).toBe(0);
  });

  it("leaves no handle or timer open once closed", async () => {
    const count = (): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
      return m;
    };
    const before = count();
    const pool = new KeyPool({ size: 2 });
    await until(() => pool.ready === 2);
    await pool.take(); // starts a refill
    await pool.close();
    await new Promise((r) => setImmediate(r));
    // Nothing of the pool's may remain (others' resources may come and go).
    for (const [resource, n] of count()) expect(n, resource).toBeLessThanOrEqual(before.get(resource) ?? 0);
  });

  it("does not keep a process alive, closed or not", async () => {
    const modulePath = resolve(import.meta.dirname, "../supervisor/identity/key-pool.ts");
    for (const close of [false, true]) {
      const script = join(dir, `pool-${close}.mjs`);
      await writeFile(
        script,
        `import { KeyPool } from ${JSON.stringify(modulePath)};
const pool = new KeyPool({ size: 4 });
await pool.take();
${close ? "await pool.close();" : ""}
console.log("done");
`,
      );
      const started = performance.now();
      const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 20_000 });
      expect(stdout.trim()).toBe("done");
      // At most the key generations already running finish before exit.
      expect(performance.now() - started).toBeLessThan(10_000);
    }
  });

  it("validates its options", () => {
    expect(() => new KeyPool({ size: 0 })).toThrow(/size must be a positive integer/);
    expect(() => new KeyPool({ concurrency: 1.5 })).toThrow(/concurrency must be a positive integer/);
  });
});
