// `npm run bench [-- NAME...]`: runs the named benchmarks (all without names),
// each printing a table and writing bench/results/NAME.json. Several run
// one after another, each in a Node process of its own: in one process,
// grown by the benchmarks before it, every process it spawned (a plain exec,
// bwrap, a launcher) took some 15 ms longer, the same for a baseline and for
// Corral, which pulled their ratios towards 1 (sandbox_vs_bwrap_start 1.2
// in the suite, 1.4 alone). The commit is read once, before any: a
// benchmark rewrites its result file, which git then calls a change.
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { commitStamp, printTable, writeResult, type BenchResult } from "./lib.ts";
import { sweepDeadBenchRuns } from "./leftovers.ts";
import { writeReport } from "./report.ts";

const benchmarks: Record<string, () => Promise<BenchResult>> = {
  start: async () => (await import("./start.ts")).run(),
  identity: async () => (await import("./identity.ts")).run(),
  sampling: async () => (await import("./sampling.ts")).run(),
  sandbox: async () => (await import("./sandbox.ts")).run(),
  breakers: async () => (await import("./breakers.ts")).run(),
  goplugin: async () => (await import("./goplugin.ts")).run(),
  scale: async () => (await import("./scale.ts")).run(),
  dataplane: async () => (await import("./dataplane.ts")).run(),
  output: async () => (await import("./output.ts")).run(),
};

const names = process.argv.slice(2);
for (const name of names) {
  if (!(name in benchmarks)) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(", ")}`);
    process.exit(2);
  }
}
const ran = names.length ? names : Object.keys(benchmarks);
/** Set for the processes this one runs a benchmark in: the report is this one's to write. */
const child = process.env.CORRAL_BENCH_CHILD === "1";
process.env.CORRAL_BENCH_COMMIT ??= commitStamp();
const failed: string[] = [];
if (ran.length === 1) {
  for (const left of await sweepDeadBenchRuns()) console.log(`removed ${left}, left by a benchmark that was killed`);
  const result = await benchmarks[ran[0]!]!();
  printTable(`benchmark ${ran[0]}`, result);
  console.log(`wrote ${await writeResult(ran[0]!, result)}`);
} else {
  for (const name of ran) {
    // One that fails does not stop the others; the run fails at its end.
    const r = await execa(process.execPath, [fileURLToPath(import.meta.url), name], { stdio: "inherit", env: { CORRAL_BENCH_CHILD: "1" }, reject: false });
    if (r.failed) failed.push(name);
  }
}
if (!child) {
  // The whole suite (or any part of it) refreshes bench/results.json and bench/REPORT.md.
  const report = await writeReport(ran.filter((name) => !failed.includes(name)));
  console.log(`wrote ${report.json} and ${report.markdown}`);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.join(", ")} (their results are an earlier run's, and the report says so)`);
  process.exitCode = 1;
}
