// /proc/<pid>/stat: fields counted from the last ")", so that a command
// name holding spaces and parentheses cannot shift them.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseProcStat, readProcStat } from "../../supervisor/proc-stat.ts";

describe("parseProcStat", () => {
  it("reads the fields after a command name that holds ') ' and spaces", () => {
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = "4242 (evil) 1 2 (x) R 7 4242 4242 34816 4250 4194304 10 0 0 0 123 45 0 0 20 0 1 0 99 0 0\n";
    expect(parseProcStat(line)).toEqual({
      comm: "evil) 1 2 (x",
      state: "R",
      ppid: 7,
      pgrp: 4242,
      session: 4242,
      tpgid: 4250,
      utime: 123,
      stime: 45,
      startTime: 99,
    });
  });

  it("refuses a line that is not a stat line, quoting it", () => {
    expect(() => parseProcStat("no parentheses here")).toThrow(/^not a \/proc\/<pid>\/stat line: "no parentheses here"$/);
  });
});

describe("readProcStat", () => {
  it("reads a live process, and undefined once it is gone", async () => {
    const self = readProcStat(process.pid)!;
    expect(self.ppid).toBe(process.ppid);
    expect(self.pgrp).toBe(readProcStat("self")!.pgrp);

    // A command whose name would break a split on ") ".
    const dir = await mkdtemp(path.join(tmpdir(), "corral-proc-stat-"));
    try {
      const odd = path.join(dir, "a) S 1");
      await copyFile("/bin/sleep", odd);
      const child = spawn(odd, ["30"], { stdio: "ignore" });
      try {
        await once(child, "spawn");
        const stat = readProcStat(child.pid!)!;
        expect(stat).toMatchObject({ comm: "a) S 1", ppid: process.pid });
        expect(["S", "R"]).toContain(stat.state);
        child.kill("SIGSTOP");
        for (let i = 0; i < 100 && readProcStat(child.pid!)?.state !== "T"; i++) await new Promise((r) => setTimeout(r, 5));
        expect(readProcStat(child.pid!)?.state).toBe("T");
      } finally {
        child.kill("SIGKILL");
        await once(child, "exit").catch(() => {});
      }
      expect(readProcStat(child.pid!)).toBeUndefined(); // reaped
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
