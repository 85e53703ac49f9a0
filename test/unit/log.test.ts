// The supervisor's log: its stdout failing (EIO after a terminal hangs up,
// ENOSPC or EFBIG for a file) must neither end the supervisor nor hang it:
// the log is given up, said once on stderr, and the process goes on and
// exits as it would. A level that is not one is said so, not with a stack.
import { execa } from "execa";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, LogLevelError } from "../../supervisor/log.ts";
import { nodeBin, repoRoot } from "../helpers/supervisor.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("the log's stdout", () => {
  it("is given up when a write fails with EFBIG: the process goes on and exits, where it retried the write for good", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "corral-log-"));
    dirs.push(dir);
    const script = path.join(dir, "logs.ts");
    await writeFile(
      script,
      [
        `import { createLogger } from ${JSON.stringify(path.join(repoRoot, "supervisor/log.ts"))};`,
        "const log = createLogger({ level: 'info' });",
        "for (let i = 0; i < 50; i++) log.info({ pad: 'x'.repeat(1000) }, 'line');",
        "setTimeout(() => { log.info('after'); log.flush(); console.error('still running'); process.exit(0); }, 300);",
      ].join("\n"),
    );
    const out = path.join(dir, "log.jsonl");
    // A file of at most 8 KiB: the writes past it fail with EFBIG (Node ignores SIGXFSZ).
    const run = await execa("bash", ["-c", 'ulimit -S -f 8; exec "$0" "$1" > "$2"', nodeBin, script, out], { reject: false, timeout: 10_000 });
    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr.split("\n").filter((l) => l === "corral: the log cannot be written to stdout (EFBIG): it is given up; the supervisor goes on")).toHaveLength(1);
    expect(run.stderr).toContain("still running");
    expect((await readFile(out)).length).toBeLessThanOrEqual(8192);
  });
});

describe("CORRAL_LOG_LEVEL", () => {
  it("is refused, naming the levels, when it is not one; empty is unset", async () => {
    const saved = process.env.CORRAL_LOG_LEVEL;
    try {
      process.env.CORRAL_LOG_LEVEL = "verbose";
      expect(() => createLogger()).toThrow(new LogLevelError('CORRAL_LOG_LEVEL "verbose" is not one of trace, debug, info, warn, error, fatal, silent'));
      process.env.CORRAL_LOG_LEVEL = "";
      expect(createLogger({ destination: new PassThrough() }).level).toBe("info");
    } finally {
      if (saved === undefined) delete process.env.CORRAL_LOG_LEVEL;
      else process.env.CORRAL_LOG_LEVEL = saved;
    }
    // corral serve says so and exits 2, as for a config that does not load, before it reads one.
    const serve = await execa(nodeBin, [path.join(repoRoot, "supervisor/cli/corral.ts"), "serve", "--config", "/nonexistent.yaml"], {
      env: { CORRAL_LOG_LEVEL: "verbose" },
      reject: false,
    });
    expect(serve.exitCode).toBe(2);
    expect(serve.stderr).toBe('corral: CORRAL_LOG_LEVEL "verbose" is not one of trace, debug, info, warn, error, fatal, silent');
  });
});
