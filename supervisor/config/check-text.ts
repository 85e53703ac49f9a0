// Config text an admin sent (ValidateConfig), checked on a worker thread
// unless it is small: parsing and checking 256 KiB of YAML takes up to 2 s
// of CPU, which on the event loop would stall the supervision of every
// plugin (breakers, health, hot updates) for as long, once per call. One
// check at a time, a few waiting; a check that outlasts its time is
// stopped.
import { Worker } from "node:worker_threads";
import { ConfigError, parseConfig, type ConfigProblem } from "./load.ts";
import type { Config } from "./schema.ts";

export type CheckedText = { plugins: string[]; config: Config } | { problems: ConfigProblem[] } | { failure: string };

/**
 * Text up to this size is checked on the event loop: 50 ms at most (a
 * worker takes longer than that to start), and what configs usually are.
 * Not text with a "*" (an alias, or perhaps not): expanding aliases, 8 KiB
 * took 130-200 ms.
 */
const INLINE_MAX_BYTES = 8 * 1024;

function checkedInline(content: string): boolean {
  return Buffer.byteLength(content) <= INLINE_MAX_BYTES && !content.includes("*");
}
/** Checks waiting for the one under way, at most: each holds its text. */
const MAX_WAITING = 3;
/** How long one check may take. */
const CHECK_TIMEOUT_MS = 10_000;
/** The worker's heap: a document's aliases are bounded by the yaml library, its size by the caller. */
const WORKER_HEAP_MB = 256;

export class ChecksBusy extends Error {}

let waiting = 0;
let last: Promise<unknown> = Promise.resolve();

/**
 * Validates `content` as if it were read from `file` (relative paths and
 * messages), without looking at host paths: the plugins it names, or its
 * problems, or why it could not be checked. Throws ChecksBusy when
 * MAX_WAITING checks wait already.
 */
export function checkConfigText(content: string, file: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckedText> {
  if (checkedInline(content)) return Promise.resolve(check(content, file));
  if (waiting >= MAX_WAITING) throw new ChecksBusy(`${waiting} validations are waiting already; try again`);
  waiting++;
  const run = last.then(() => {
    waiting--;
    return inWorker(content, file, timeoutMs);
  });
  last = run.catch(() => {});
  return run;
}

function inWorker(content: string, file: string, timeoutMs: number): Promise<CheckedText> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./check-text-worker.ts", import.meta.url), {
      workerData: { content, file },
      execArgv: [], // not the supervisor's own flags: a program of its own
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: true, // nothing of it reaches the supervisor's log
      stderr: true,
    });
    let settled = false;
    const finish = (result: CheckedText) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ failure: `not checked within ${timeoutMs / 1000} s` }), timeoutMs);
    worker.once("message", (result: CheckedText) => finish(result));
    worker.once("error", (err) => finish({ failure: `the check failed: ${err.message}` }));
    worker.once("exit", (code) => finish({ failure: `the check ended (exit ${code}) without an answer` }));
  });
}

/** The check itself, on whichever thread runs it. */
export function check(content: string, file: string): CheckedText {
  try {
    const config = parseConfig(content, file, { hostPaths: false });
    return { plugins: config.plugins.map((p) => p.name), config };
  } catch (err) {
    return err instanceof ConfigError ? { problems: err.problems } : { failure: (err as Error).message };
  }
}
