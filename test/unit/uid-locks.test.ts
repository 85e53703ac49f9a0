// The uid locks a supervisor and `corral sandbox` runs share, against a
// temp directory: taken once, given back, stale ones (owner gone) taken
// over, and the supervisor's pool passing over uids a run holds.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UidLocks } from "../../supervisor/plugin/uid-locks.ts";
import { UidPool } from "../../supervisor/plugin/uid-pool.ts";
import { readProcStat } from "../../supervisor/proc-stat.ts";
import { nodeBin, repoRoot } from "../helpers/supervisor.ts";

let dir: string;
let lockDir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "corral-uid-locks-"));
  lockDir = path.join(dir, "uids");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that was a process and is no more. */
function deadPid(): number {
  const child = spawnSync("/bin/sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

describe("UidLocks", () => {
  it("takes a uid once, writing its owner's pid, and gives it back", () => {
    const locks = new UidLocks(lockDir);
    expect(locks.take(500_001)).toBe(true);
    expect(readFileSync(path.join(lockDir, "500001"), "utf8")).toBe(`${process.pid} ${readProcStat(process.pid)!.startTime}\n`);
    expect(locks.take(500_001)).toBe(false); // held by a live owner: this process
    expect(new UidLocks(lockDir, 1).take(500_001)).toBe(false);
    locks.give(500_001);
    expect(readdirSync(lockDir)).toEqual([]);
    expect(locks.take(500_001)).toBe(true);
  });

  it("takes over a lock whose owner is gone, or that holds no pid", () => {
    const locks = new UidLocks(lockDir);
    new UidLocks(lockDir, deadPid()).take(500_002);
    expect(locks.take(500_002)).toBe(true);
    expect(readFileSync(path.join(lockDir, "500002"), "utf8")).toBe(`${process.pid} ${readProcStat(process.pid)!.startTime}\n`);

    writeFileSync(path.join(lockDir, "500003"), "garbage\n");
    expect(locks.take(500_003)).toBe(true);
  });

  it("lets one of several processes that find the same stale lock take it over, never two", async () => {
    const uid = 500_123;
    const racers = Array.from({ length: 3 }, () => {
      const child = spawn(nodeBin, [path.join(repoRoot, "test/helpers/uid-lock-racer.ts"), lockDir, String(uid)], { stdio: ["pipe", "pipe", "inherit"] });
      const answers: string[] = [];
      createInterface({ input: child.stdout! }).on("line", (line) => answers.push(line));
      return { child, answers };
    });
    try {
      const lock = path.join(lockDir, String(uid));
      let doubled = 0;
      for (let round = 0; round < 300; round++) {
        mkdirSync(lockDir, { recursive: true });
        writeFileSync(lock, `${deadPid()} 1\n`); // stale: its owner is gone
        for (const r of racers) r.child.stdin!.write(`${round}\n`);
        while (racers.some((r) => r.answers.length <= round)) await new Promise((resolve) => setTimeout(resolve, 1));
        const took = racers.filter((r) => r.answers[round] === `${round} 1`).length;
        expect(took, `round ${round}`).toBeGreaterThanOrEqual(1);
        if (took > 1) doubled += 1;
      }
      expect(doubled, "rounds in which two or three took the uid").toBe(0);
    } finally {
      for (const r of racers) r.child.kill("SIGKILL");
    }
  }, 60_000);

  it("counts an empty lock as being written, until it has stayed empty for seconds", () => {
    const locks = new UidLocks(lockDir);
    locks.take(1); // makes the directory
    const file = path.join(lockDir, "500004");
    writeFileSync(file, "");
    expect(locks.take(500_004)).toBe(false);
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    expect(locks.take(500_004)).toBe(true);
  });

  it("makes its directory again if it was removed meanwhile", () => {
    const locks = new UidLocks(lockDir);
    expect(locks.take(500_005)).toBe(true);
    locks.give(500_005);
    rmSync(lockDir, { recursive: true });
    expect(locks.take(500_006)).toBe(true);
    expect(existsSync(path.join(lockDir, "500006"))).toBe(true);
  });

  it("takes a live pid for another owner when its start time is not the lock's: a supervisor restarted with its predecessor's pid (a container) sweeps the predecessor's locks", () => {
    const locks = new UidLocks(lockDir);
    const { startTime } = readProcStat(process.pid)!;
    locks.take(1); // makes the directory
    writeFileSync(path.join(lockDir, "500010"), `${process.pid} ${startTime - 1}\n`); // this pid, an earlier process
    writeFileSync(path.join(lockDir, "500011"), `${process.pid}\n`); // a pid alone (an older Corral's lock): held while it lives
    writeFileSync(path.join(lockDir, "500012"), `${process.pid} ${startTime}\n`); // this very process
    expect(locks.sweep()).toEqual([500_010]);
    expect(locks.take(500_011)).toBe(false);
    expect(locks.take(500_012)).toBe(false);
  });

  it("sweeps the locks of owners that are gone, and only those", () => {
    const locks = new UidLocks(lockDir);
    locks.take(500_007);
    new UidLocks(lockDir, deadPid()).take(500_008);
    expect(locks.sweep()).toEqual([500_008]);
    expect(readdirSync(lockDir)).toEqual([".takeover", "500007"]); // the lock the sweep judged under stays, as lock files do
    expect(new UidLocks(path.join(dir, "missing")).sweep()).toEqual([]);
  });
});

describe("UidPool with locks", () => {
  it("passes over a uid another owner holds, and gives back only what it handed out", () => {
    const held = new UidLocks(lockDir, 1); // PID 1 lives as long as the machine
    held.take(600_001);
    const pool = new UidPool(600_000, 3, new UidLocks(lockDir));
    expect(pool.allocate()).toBe(600_000);
    expect(pool.allocate()).toBe(600_002);
    expect(() => pool.allocate()).toThrow(/all 3 sandbox uids from 600000 are in use/);
    expect(readdirSync(lockDir).sort()).toEqual(["600000", "600001", "600002"]);

    pool.release(600_001); // not the pool's: the other owner's lock stays
    expect(existsSync(path.join(lockDir, "600001"))).toBe(true);
    pool.release(600_000);
    expect(existsSync(path.join(lockDir, "600000"))).toBe(false);
    expect(pool.allocate()).toBe(600_000);
  });

  it("withholds a uid a stuck process may still run as, and ignores one outside its range", () => {
    const pool = new UidPool(600_000, 2, new UidLocks(lockDir));
    pool.withhold(600_000);
    pool.withhold(700_000);
    expect(pool.allocate()).toBe(600_001);
    expect(() => pool.allocate()).toThrow(/all 2 sandbox uids/);
    expect(existsSync(path.join(lockDir, "600000"))).toBe(true);
  });
});
