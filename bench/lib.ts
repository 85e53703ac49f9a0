// Shared by every benchmark: statistics, a description of the machine, and
// the results file convention (bench/results/<name>.json).
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { issueClientLeaf, loadOrCreateCA } from "../supervisor/identity/index.ts";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface Metric {
  median: number;
  p95: number;
  p99?: number;
  min: number;
  max: number;
  n: number;
  unit: string;
}

export interface BenchResult {
  machine: Record<string, string | number>;
  metrics: Record<string, Metric>;
  ratios: Record<string, number>;
}

export function summarize(samples: number[], unit: string): Metric {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    median: round(sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    n: sorted.length,
    unit,
  };
}

/** subject / baseline, of medians, to two decimals; NaN (null in the JSON, "n/a" in the report) for a baseline of 0. */
export function ratio(subject: Metric, baseline: Metric): number {
  if (baseline.median === 0) return NaN;
  return Math.round((subject.median / baseline.median) * 100) / 100;
}

/**
 * CPU time a process has used, in nanoseconds: the sum over its threads of
 * /proc/<pid>/task/<tid>/schedstat (run time, ns), not the 10 ms ticks of
 * /proc/<pid>/stat, which round a quiet second to 0 or 1 tick.
 */
export async function cpuNanos(pid: number): Promise<number> {
  const tasks = await readdir(`/proc/${pid}/task`);
  let total = 0;
  for (const tid of tasks) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "0");
    total += Number(text.split(" ")[0]);
  }
  return total;
}

/** A command's standard output, trimmed; throws if it fails. */
function outputOf(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" }).trim();
}

/**
 * The commit of the tree, "-dirty" when its tracked files have changes
 * other than the benchmarks' own results (run.ts reads it once, before the
 * benchmarks write theirs).
 */
export function commitStamp(): string {
  try {
    const git = (...args: string[]) => outputOf("git", ["-C", repoRoot, ...args]);
    const results = ["bench/results", "bench/results.json", "bench/REPORT.md"].map((p) => `:(exclude)${p}`);
    const changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ...results) !== "";
    return `${git("rev-parse", "--short=12", "HEAD")}${changed ? "-dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

export function machine(): Record<string, string | number> {
  const version = (cmd: string, args: string[]) => {
    try {
      return outputOf(cmd, args).split("\n")[0]!;
    } catch {
      return "unknown";
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    go: version("go", ["version"]),
    // What was measured: results of another commit are marked so in the report.
    commit: process.env.CORRAL_BENCH_COMMIT ?? commitStamp(),
    date: new Date().toISOString(),
  };
}

export async function writeResult(name: string, result: BenchResult): Promise<string> {
  const dir = path.join(repoRoot, "bench/results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function printTable(title: string, result: BenchResult): void {
  const rows = Object.entries(result.metrics).map(([name, m]) =>
    [name, String(m.n), `${m.median} ${m.unit}`, `${m.p95} ${m.unit}`, `${m.min} ${m.unit}`, `${m.max} ${m.unit}`],
  );
  const header = ["metric", "n", "median", "p95", "min", "max"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(`\n${title}\n${line(header)}\n${rows.map(line).join("\n")}`);
  for (const [name, value] of Object.entries(result.ratios)) console.log(`ratio ${name}: ${value}`);
}

/**
 * A client certificate for calling `plugin` (a host application's, scoped
 * to it), issued by the supervisor's CA in `stateDir`, written to `dir` as
 * ca.pem, cert.pem and key.pem for the Go clients; the PEMs are returned too,
 * for the Node client.
 */
export async function clientCredentials(stateDir: string, trustDomain: string, plugin: string, dir: string) {
  const ca = await loadOrCreateCA(stateDir, { trustDomain });
  const leaf = await issueClientLeaf(ca, { trustDomain, ttlMs: 3600_000 }, "bench", [plugin]);
  const files = { ca: path.join(dir, "ca.pem"), cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") };
  await writeFile(files.ca, ca.certPem);
  await writeFile(files.cert, leaf.certPem);
  await writeFile(files.key, leaf.keyPem, { mode: 0o600 });
  return { files, pems: { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem } };
}
