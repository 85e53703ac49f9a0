// Gathers bench/results/<name>.json into bench/results.json and a readable
// bench/REPORT.md: every metric (median, p95, p99), every ratio with its
// target where the issues set one, and the machine. `npm run bench` writes
// both after a full run; `node bench/report.ts` rebuilds them from whatever
// results are there. The README's figures are regenerated with them
// (readme-figures.ts).
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machine, repoRoot, type BenchResult } from "./lib.ts";
import { readmeFigures, withFigures } from "./readme-figures.ts";
import { targets } from "./targets.ts";


/** A percentile of n samples is shown only where n holds it: p95 from 20 samples, p99 from 100 (else it is the max). */
const percentile = (value: number | undefined, n: number, least: number) => (value === undefined || n < least ? "–" : String(value));

/** A ratio as the report shows it: NaN (a baseline of 0) is no ratio. */
const shown = (value: number | null | undefined) => (value === null || (typeof value === "number" && Number.isNaN(value)) ? "n/a (baseline 0)" : String(value ?? "-"));

/** `ran`: the benchmarks this run measured; the others' results, from earlier runs, are marked so. */
export async function writeReport(ran: string[] = []): Promise<{ json: string; markdown: string; readme: string }> {
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
    "A p95 is shown from 20 samples, a p99 from 100 (with fewer it would be the max: \"–\"); of a throughput",
    "(calls/s per round), the p95 and p99 are of its best rounds.",
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
    const met = (v: number) => ("under" in target ? v < target.under : v <= target.atMost);
    const verdict = found === undefined ? "not measured" : found === null || Number.isNaN(found) ? "no value" : met(found) ? "met" : "**not met**";
    const when = !result ? "-" : ran.includes(target.bench) ? "this run" : `an earlier run: ${String(result.machine.date ?? "?")}, ${String(result.machine.commit ?? "commit unknown")}`;
    const bound = "under" in target ? `< ${target.under}` : `≤ ${target.atMost}`;
    lines.push(`| ${target.bench} | \`${target.key}\` | ${shown(found)} | ${bound} | ${target.issue} | ${verdict} | ${when} |`);
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
      lines.push(
        `| \`${key}\` | ${metric.n} | ${metric.median} | ${percentile(metric.p95, metric.n, 20)} | ${percentile(metric.p99, metric.n, 100)} | ${metric.min} | ${metric.max} | ${metric.unit} |`,
      );
    }
  }
  const markdown = path.join(repoRoot, "bench/REPORT.md");
  await writeFile(markdown, `${lines.join("\n")}\n`);
  // The README quotes the same results, generated: by hand they went stale.
  const readme = path.join(repoRoot, "README.md");
  await writeFile(readme, withFigures(await readFile(readme, "utf8"), readmeFigures(results)));
  return { json, markdown, readme };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const written = await writeReport();
  console.log(`wrote ${written.json}, ${written.markdown} and the figures in ${written.readme}`);
}
