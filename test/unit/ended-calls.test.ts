// The final call counts of ended instances: exported for a while, the
// latest few per plugin.
import { describe, expect, it } from "vitest";
import type { MethodCalls__Output } from "../../proto/gen/ts/corral/plugin/v1/MethodCalls.ts";
import { EndedInstanceCalls } from "../../supervisor/metrics/ended-calls.ts";
import { MAX_SERIES_PER_INSTANCE, wellFormed } from "../../supervisor/metrics/calls.ts";

const calls = (n: number): MethodCalls__Output[] => [
  { method: "/p.v1.S/M", codes: { OK: n }, bucketUpperBoundsSeconds: [Infinity], bucketCumulativeCounts: [n], sumSeconds: n / 1000, count: n },
];

async function answers(ended: EndedInstanceCalls) {
  return Promise.all(ended.sources().map(async (s) => [s.plugin, s.instance, (await s.callStats(AbortSignal.timeout(1000)))?.methods[0]?.count]));
}

describe("EndedInstanceCalls", () => {
  it("answers with each ended instance's final counts until they expire", async () => {
    let now = 0;
    const ended = new EndedInstanceCalls({ retainMs: 1000, now: () => now });
    ended.record("a", "a-1", calls(3));
    now = 600;
    ended.record("b", "b-1", calls(5));
    expect(await answers(ended)).toEqual([["a", "a-1", 3], ["b", "b-1", 5]]);
    now = 1000; // a-1 ended 1000 ms ago
    expect(await answers(ended)).toEqual([["b", "b-1", 5]]);
    now = 1600;
    expect(await answers(ended)).toEqual([]);
  });

  it("lets go of expired counts at the next record too, with no scrape in between (Prometheus down)", async () => {
    let now = 0;
    const ended = new EndedInstanceCalls({ retainMs: 1000, now: () => now });
    for (let i = 0; i < 50; i++) {
      now = i * 2000; // each one expired by the next: names a reload keeps bringing in and out
      ended.record(`plugin-${i}`, `plugin-${i}-1`, calls(1));
    }
    // Only the last is held: the 49 before it went as each new one was recorded (a scrape alone let them go).
    expect(ended.retained).toBe(1);
    expect(await answers(ended)).toEqual([["plugin-49", "plugin-49-1", 1]]);
  });

  it("keeps only what makes sense as series, and nothing of an answer without any", async () => {
    const ended = new EndedInstanceCalls();
    const broken = { ...calls(2)[0]!, method: "/p.v1.S/Broken", bucketCumulativeCounts: [1] }; // its +Inf bucket is not its count
    // Names a plugin may say but no gRPC method has: a megabyte (repeated in each of ~100 series), a newline.
    const huge = { ...calls(2)[0]!, method: `/p.v1.S/${"A".repeat(1_000_000)}` };
    const forged = { ...calls(2)[0]!, method: "/p.v1.S/M\nfake_metric 1" };
    const oddCode = { ...calls(2)[0]!, method: "/p.v1.S/Other", codes: { [`A${"B".repeat(10_000)}`]: 2, OK: 0 } };
    ended.record("a", "a-1", [broken, huge, forged, oddCode, ...calls(4)]);
    ended.record("a", "a-2", [broken]);
    ended.record("a", "a-3", []);
    const [only, ...rest] = ended.sources();
    expect(rest).toEqual([]);
    expect(only!.instance).toBe("a-1");
    const kept = (await only!.callStats(AbortSignal.timeout(1000)))?.methods;
    expect(kept?.map((m) => m.method)).toEqual(["/p.v1.S/Other", "/p.v1.S/M"]);
    expect(kept?.[0]?.codes).toEqual({ OK: 0 }); // the code named 10 KB long is not
  });

  it("keeps an answer to a bounded number of series: a plugin at every other bound made 98 000", () => {
    const bounds = [...Array.from({ length: 63 }, (_, i) => (i + 1) / 1000), Infinity];
    const codes = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`CODE_${i}`, 1]));
    const huge = Array.from({ length: 1000 }, (_, i) => ({
      method: `/p.v1.S/M${i}`,
      codes,
      bucketUpperBoundsSeconds: bounds,
      bucketCumulativeCounts: bounds.map(() => 32),
      sumSeconds: 1,
      count: 32,
    }));
    const kept = wellFormed(huge);
    const series = kept.reduce((n, m) => n + Object.keys(m.codes).length + m.bucketUpperBoundsSeconds.length + 2, 0);
    expect(series).toBeLessThanOrEqual(MAX_SERIES_PER_INSTANCE);
    expect(kept.map((m) => m.method)).toEqual(huge.slice(0, kept.length).map((m) => m.method));
    expect(kept.length).toBe(Math.floor(MAX_SERIES_PER_INSTANCE / (32 + 64 + 2)));
  });

  it("keeps the latest instances of a plugin, no more than perPlugin, whatever the others", async () => {
    const ended = new EndedInstanceCalls({ perPlugin: 2 });
    ended.record("a", "a-1", calls(1));
    ended.record("b", "b-1", calls(10));
    ended.record("a", "a-2", calls(2));
    ended.record("a", "a-3", calls(3));
    expect(await answers(ended)).toEqual([["b", "b-1", 10], ["a", "a-2", 2], ["a", "a-3", 3]]);
  });
});
