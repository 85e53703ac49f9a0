// Gathers bench/results/<name>.json into bench/results.json and a readable
// bench/REPORT.md: every metric (median, p95, p99), every ratio with its
// target where the issues set one, and the machine. `npm run bench` writes
// both after a full run; `node bench/report.ts` rebuilds them from whatever
// results are there.
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machine, repoRoot, type BenchResult } from "./lib.ts";

/** Targets the issues set: a benchmark's ratio or metric median must be at most this. */
export const targets: Array<{ bench: string; key: string; atMost: number; issue: number }> = [
  { bench: "start", key: "sandboxed_vs_bare_start", atMost: 1.5, issue: 3 },
  { bench: "sandbox", key: "sandbox_vs_bwrap_start", atMost: 1.5, issue: 3 },
  { bench: "dataplane", key: "stable_vs_direct_p50", atMost: 1.3, issue: 6 },
  { bench: "dataplane", key: "swap_vs_steady_p99", atMost: 2, issue: 6 },
  { bench: "dataplane", key: "failed_calls", atMost: 0, issue: 6 },
  { bench: "goplugin", key: "start_vs_goplugin", atMost: 1.5, issue: 8 },
  { bench: "goplugin", key: "call_vs_goplugin_p50", atMost: 1.5, issue: 8 },
  { bench: "goplugin", key: "failed_calls", atMost: 0, issue: 8 },
  { bench: "breakers", key: "reaction_cpu_p95_vs_target", atMost: 1, issue: 5 },
  { bench: "breakers", key: "reaction_memory_p95_vs_target", atMost: 1, issue: 5 },
  { bench: "breakers", key: "reaction_goroutines_p95_vs_target", atMost: 1, issue: 5 },
  { bench: "breakers", key: "supervisor_cpu_percent_at_200", atMost: 5, issue: 5 },
  { bench: "scale", key: "start_plugins_not_ready_at_500", atMost: 0, issue: 8 },
  { bench: "scale", key: "supervisor_cpu_percent_at_500", atMost: 5, issue: 8 },
];

/** A ratio as the report shows it: NaN (a baseline of 0) is no ratio. */
const shown = (value: number | null | undefined) => (value === null || (typeof value === "number" && Number.isNaN(value)) ? "n/a (baseline 0)" : String(value ?? "-"));

/** `ran`: the benchmarks this run measured; the others' results, from earlier runs, are marked so. */
export async function writeReport(ran: string[] = []): Promise<{ json: string; markdown: string }> {
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
    "| benchmark | ratio or metric | measured | target | issue | | measured in |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const target of targets) {
    const result = results[target.bench];
    const found = result && (target.key in result.ratios ? result.ratios[target.key] : result.metrics[target.key]?.median);
    const verdict = found === undefined ? "not measured" : found === null || Number.isNaN(found) ? "no value" : found <= target.atMost ? "met" : "**not met**";
    const when = !result ? "-" : ran.includes(target.bench) ? "this run" : `an earlier run: ${String(result.machine.date ?? "?")}, ${String(result.machine.commit ?? "commit unknown")}`;
    lines.push(`| ${target.bench} | \`${target.key}\` | ${shown(found)} | ≤ ${target.atMost} | ${target.issue} | ${verdict} | ${when} |`);
  }
  for (const [name, result] of Object.entries(results)) {
    const origin = `${String(result.machine.date ?? "")}${result.machine.commit ? ` at ${String(result.machine.commit)}` : ""}`;
    lines.push("", `## ${name}`, "", `Run ${origin} (\`npm run bench -- ${name}\`)${ran.includes(name) ? "" : ": an earlier run, not this one"}.`, "");
    if (Object.keys(result.ratios).length > 0) {
      lines.push("| ratio | value |", "|---|---|");
      for (const [key, value] of Object.entries(result.ratios)) lines.push(`| \`${key}\` | ${shown(value)} |`);
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
