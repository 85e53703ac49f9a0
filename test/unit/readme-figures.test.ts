// The README's performance figures are those of the committed results: the
// block between its markers is what bench/report.ts generates from
// bench/results.json (run `node bench/report.ts` after changing either).
// Quoted by hand, they went stale while the text named the run they were of.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { figuresIn, readmeFigures, withFigures } from "../../bench/readme-figures.ts";
import { repoRoot, type BenchResult } from "../../bench/lib.ts";

describe("the README's performance figures", () => {
  it("are generated from the committed bench/results.json", async () => {
    const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
    const { benchmarks } = JSON.parse(await readFile(path.join(repoRoot, "bench/results.json"), "utf8")) as { benchmarks: Record<string, BenchResult> };
    expect(figuresIn(readme)).toBe(readmeFigures(benchmarks));
  });

  it("quote each benchmark's sides and ratio as measured, and mark the issues' targets", () => {
    const metric = (median: number, unit: string) => ({ median, p95: median, p99: median, min: median, max: median, n: 50, unit });
    const block = readmeFigures({
      goplugin: {
        machine: { date: "2026-01-02T03:04:05Z", commit: "abcdef123456" },
        metrics: { start_to_first_call_corral: metric(12.5, "ms"), start_to_first_call_goplugin: metric(10, "ms") },
        ratios: { start_vs_goplugin: 1.25 },
      },
    });
    expect(block).toContain("| goplugin | start to first call: admin Start RPC → first Unary through the stable address (sandboxed, mTLS) | 12.5 ms | 10 ms (go-plugin, NewClient … Dispense → first Unary, plain gRPC) | `start_vs_goplugin` 1.25 | ≤ 1.5: met |");
    expect(block).toContain("Each benchmark's run: goplugin 2026-01-02 at abcdef1");
    expect(withFigures(`a\n${block.replace("1.25 |", "9 |")}\nb`, block)).toBe(`a\n${block}\nb`);
    expect(() => withFigures("no markers", block)).toThrow(/README.md has no generated block/);
  });
});
