// The one-supervisor locks (state directory, cgroup parent), held by real
// processes: the kernel's lock decides, not a pid a file names.
import { execa, type ResultPromise } from "execa";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockCgroupParent, lockStateDir, STATE_LOCK_NAME, STATE_OWNER_NAME } from "../../supervisor/exclusive-lock.ts";
import { nodeBin, repoRoot } from "../helpers/supervisor.ts";

let dir: string;
const children: ResultPromise[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "corral-lock-"));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Another process that takes a lock (`take`, an expression of the module's
 * exports, awaited) and says whether it got it, then holds it until stdin ends.
 */
function lockHolder(take: string): ResultPromise {
  const script = `
    import * as locks from ${JSON.stringify(path.join(repoRoot, "supervisor/exclusive-lock.ts"))};
    try {
      const release = await ${take};
      process.stdout.write("locked\\n");
      process.stdin.resume();
      process.stdin.on("end", async () => { await release(); process.exit(0); });
    } catch (err) {
      process.stdout.write("refused: " + err.message + "\\n");
    }`;
  const child = execa(nodeBin, ["--input-type=module", "-e", script], { stdin: "pipe", reject: false });
  children.push(child);
  return child;
}

/** Another process that takes the state directory's lock. */
const contender = () => lockHolder(`locks.lockStateDir(${JSON.stringify(dir)})`);

/** Another process that takes the locks of a cgroup parent's directories. */
const cgroupContender = (parentPaths: string[]) => lockHolder(`locks.lockCgroupParent(${JSON.stringify(parentPaths)}, "corral", ${JSON.stringify(dir)})`);

/** The first line a contender writes. */
async function firstLine(child: ResultPromise): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0]!);
    });
    void child.then(() => reject(new Error(`exited without a line: ${text}`)));
  });
}

describe("the state directory's lock", () => {
  it("refuses a second process, naming the owner's pid, and is taken once released", async () => {
    const release = await lockStateDir(dir);
    expect(statSync(path.join(dir, STATE_LOCK_NAME)).mode & 0o777).toBe(0o600);
    // No journal beside it, to be left behind by a supervisor killed.
    expect(readdirSync(dir).sort()).toEqual([STATE_LOCK_NAME, STATE_OWNER_NAME].sort());
    const second = contender();
    expect(await firstLine(second)).toBe(`refused: another Corral supervisor (pid ${process.pid}) uses the state directory ${dir}; stop it first`);
    await release();
    const third = contender();
    expect(await firstLine(third)).toBe("locked");
    await expect(lockStateDir(dir)).rejects.toThrow(`another Corral supervisor (pid ${third.pid}) uses the state directory ${dir}`);
    third.stdin!.end();
    await third;
  });

  it("is free once its holder is killed, even when the pid it named now runs something called corral", async () => {
    const holder = contender();
    expect(await firstLine(holder)).toBe("locked");
    holder.kill("SIGKILL");
    await holder;
    // The dead holder's pid, reused by an unrelated process with corral in its command line.
    const impostor = execa("bash", ["-c", 'exec -a "less /etc/corral/corral.yaml" sleep 60'], { reject: false });
    children.push(impostor);
    const cmdline = () => readFileSync(`/proc/${impostor.pid}/cmdline`, "utf8");
    while (!cmdline().startsWith("less /etc/corral/corral.yaml")) await new Promise((r) => setTimeout(r, 5));
    writeFileSync(path.join(dir, STATE_OWNER_NAME), `${impostor.pid}\n`);
    const release = await lockStateDir(dir);
    await release();
  });

  it("goes to exactly one of processes that start together", async () => {
    for (let round = 0; round < 8; round++) {
      const contenders = [contender(), contender(), contender()];
      const lines = await Promise.all(contenders.map(firstLine));
      expect(lines.filter((l) => l === "locked"), lines.join("\n")).toHaveLength(1);
      for (const c of contenders) c.stdin!.end();
      await Promise.all(contenders);
    }
  });
});

describe("the cgroup parent's locks", () => {
  it("are one per directory: supervisors whose memory cgroups differ but share another hierarchy's parent exclude each other, and a refused one keeps none", async () => {
    const shared = "/sys/fs/cgroup/cpu/corral";
    const first = cgroupContender(["/sys/fs/cgroup/memory/process_api/a/corral", shared]);
    expect(await firstLine(first)).toBe("locked");
    const own = "/sys/fs/cgroup/memory/process_api/b/corral";
    await expect(lockCgroupParent([own, shared], "corral", dir)).rejects.toThrow(`uses the cgroup parent ${shared} (sandbox.cgroupParent: corral)`);
    // The lock of its own memory directory, taken first, was let go.
    const other = cgroupContender([own]);
    expect(await firstLine(other)).toBe("locked");
    first.stdin!.end();
    other.stdin!.end();
    await Promise.all([first, other]);
  });
});
