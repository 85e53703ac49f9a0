// `npm run bench [-- NAME...]`: runs the named benchmarks (all without names),
// each printing a table and writing bench/results/NAME.json.
import { printTable, writeResult, type BenchResult } from "./lib.ts";
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
for (const left of await sweepDeadBenchRuns()) console.log(`removed ${left}, left by a benchmark that was killed`);
const ran = names.length ? names : Object.keys(benchmarks);
for (const name of ran) {
  const result = await benchmarks[name]!();
  printTable(`benchmark ${name}`, result);
  console.log(`wrote ${await writeResult(name, result)}`);
}
// The whole suite (or any part of it) refreshes bench/results.json and bench/REPORT.md.
const report = await writeReport(ran);
console.log(`wrote ${report.json} and ${report.markdown}`);
