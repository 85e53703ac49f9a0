// Gathers bench/results/<name>.json into bench/results.json and a readable
// bench/REPORT.md: every metric (median, p95, p99), every ratio with its
// target where the issues set one, and the machine. `npm run bench` writes
// both after a full run; `node bench/report.ts` rebuilds them from whatever
// results are there.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machine, repoRoot, type BenchResult } from "./lib.ts";

/** Targets the issues set: a ratio or metric median must be at most this. */
export const targets: Record<string, { atMost: number; issue: number }> = {
  sandboxed_vs_bare_start: { atMost: 1.5, issue: 3 },
  sandbox_vs_bwrap_start: { atMost: 1.5, issue: 3 },
  stable_vs_direct_p50: { atMost: 1.3, issue: 6 },
  swap_vs_steady_p99: { atMost: 2, issue: 6 },
  failed_calls: { atMost: 0, issue: 6 },
  start_vs_goplugin: { atMost: 1.5, issue: 8 },
  call_vs_goplugin_p50: { atMost: 1.5, issue: 8 },
  reaction_cpu_p95_vs_target: { atMost: 1, issue: 5 },
  reaction_memory_p95_vs_target: { atMost: 1, issue: 5 },
  reaction_goroutines_p95_vs_target: { atMost: 1, issue: 5 },
  supervisor_cpu_percent_at_200: { atMost: 5, issue: 5 },
  supervisor_cpu_percent_at_500: { atMost: 5, issue: 8 },
};

export async function writeReport(): Promise<{ json: string; markdown: string }> {
  const dir = path.join(repoRoot, "bench/results");
  const names = (await readdir(dir)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
  const results: Record<string, BenchResult> = {};
  for (const name of names) results[name] = JSON.parse(await readFile(path.join(dir, `${name}.json`), "utf8")) as BenchResult;

  const json = path.join(repoRoot, "bench/results.json");
  await writeFile(json, `${JSON.stringify({ machine: machine(), benchmarks: results }, null, 2)}\n`);

  const m = machine();
  const lines = [
    "# Corral benchmark report",
    "",
    `Generated ${m.date} by \`npm run bench\` (each benchmark alone: \`npm run bench -- NAME\`). Ratios compare`,
    "measurements taken in the same run of that benchmark; each benchmark's own machine line says when it ran.",
    "",
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.go}.`,
    "",
    "## Targets",
    "",
    "| ratio or metric | measured | target | issue | |",
    "|---|---|---|---|---|",
  ];
  for (const [key, target] of Object.entries(targets)) {
    const found = Object.values(results).flatMap((r) => [r.ratios[key], r.metrics[key]?.median]).find((v) => v !== undefined);
    const verdict = found === undefined ? "not measured" : found <= target.atMost ? "met" : "**not met**";
    lines.push(`| \`${key}\` | ${found ?? "-"} | ≤ ${target.atMost} | ${target.issue} | ${verdict} |`);
  }
  for (const [name, result] of Object.entries(results)) {
    lines.push("", `## ${name}`, "", `Run ${String(result.machine.date ?? "")} (\`npm run bench -- ${name}\`).`, "");
    if (Object.keys(result.ratios).length > 0) {
      lines.push("| ratio | value |", "|---|---|");
      for (const [key, value] of Object.entries(result.ratios)) lines.push(`| \`${key}\` | ${value} |`);
      lines.push("");
    }
    lines.push("| metric | n | median | p95 | p99 | min | max | unit |", "|---|---|---|---|---|---|---|---|");
    for (const [key, metric] of Object.entries(result.metrics)) {
      lines.push(`| \`${key}\` | ${metric.n} | ${metric.median} | ${metric.p95} | ${metric.p99 ?? "-"} | ${metric.min} | ${metric.max} | ${metric.unit} |`);
    }
  }
  const markdown = path.join(repoRoot, "bench/REPORT.md");
  await writeFile(markdown, `${lines.join("\n")}\n`);
  return { json, markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const written = await writeReport();
  console.log(`wrote ${written.json} and ${written.markdown}`);
}
