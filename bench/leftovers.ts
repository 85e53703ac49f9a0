// What benchmarks make outside the repository is named after the benchmark
// process: cgroup parents `corral-bench-<pid>-<hex>` (beneath this process's
// own cgroup) and temporary directories `<tmp>/corral-bench-<pid>-...`. A
// benchmark that is killed cannot remove them; the next `npm run bench`
// does, for every pid that is gone.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { detectCgroups } from "../sandbox/cgroups/detect.ts";
import { openCgroupDriver } from "../sandbox/cgroups/open.ts";
import { processAlive } from "../supervisor/process-alive.ts";

const PREFIX = "corral-bench-";
const LEFT_BY = /^corral-bench-(\d+)-/;

/** A cgroup parent name of this benchmark process's own. */
export function benchCgroupParent(): string {
  return `${PREFIX}${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** A temporary directory of this benchmark process's own: <tmp>/corral-bench-<pid>-<what>-XXXXXX. */
export function benchTempDir(what: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-${what}-`));
}

/** Removes what benchmark processes that are gone left; returns what it removed. */
export async function sweepDeadBenchRuns(): Promise<string[]> {
  const dead = (name: string) => {
    const pid = LEFT_BY.exec(name)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
  };
  const removed: string[] = [];
  for (const name of (await cgroupCandidates()).filter(dead)) {
    // The driver finds the parent where it is, and kills what is left in it first.
    await (await openCgroupDriver({ parent: name })).removeParent();
    removed.push(`cgroup ${name}`);
  }
  for (const name of (await readdir(tmpdir())).filter(dead)) {
    await rm(path.join(tmpdir(), name), { recursive: true, force: true });
    removed.push(path.join(tmpdir(), name));
  }
  return removed;
}

/** Names beneath this process's cgroup (and, on v2, beside the supervisor leaf it may be in) that a benchmark made. */
async function cgroupCandidates(): Promise<string[]> {
  const layout = await detectCgroups();
  const dirs =
    layout.mode === "v2" ? [layout.own, path.dirname(layout.own)] : [...new Set(Object.values(layout.controllers).map((h) => h!.own))];
  const names = new Set<string>();
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && entry.name.startsWith(PREFIX)) names.add(entry.name);
    }
  }
  return [...names];
}
