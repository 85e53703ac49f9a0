// Structured logs: one JSON object per line on stdout (journald keeps them),
// with level, time and, where it applies, plugin and instance.
import { writeSync } from "node:fs";
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** The most log output held for a stdout that cannot keep up; more is dropped. */
const LOG_BUFFER_BYTES = 64 * 1024 * 1024;

/** The levels CORRAL_LOG_LEVEL may name. */
const LEVELS = [...Object.keys(pino.levels.values), "silent"];

/** Thrown for a CORRAL_LOG_LEVEL that is not a level: a message, not pino's stack. */
export class LogLevelError extends Error {}

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  // Empty means unset, as for the shell's `CORRAL_LOG_LEVEL= corral serve`.
  const level = options.level ?? (process.env.CORRAL_LOG_LEVEL || "info");
  if (!LEVELS.includes(level)) throw new LogLevelError(`CORRAL_LOG_LEVEL ${JSON.stringify(level)} is not one of ${LEVELS.join(", ")}`);
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Its buffer bounded: a stdout slower than the lines (a flood of them,
    // journald behind) drops lines rather than grow the heap until the
    // supervisor dies with every plugin.
    options.destination ?? stdoutLog(),
  );
}

/**
 * stdout as the log's destination, bounded, and given up when it fails.
 * pino gives up on a broken pipe itself; any other error (EIO once a
 * terminal hangs up, ENOSPC or EFBIG for a file) it re-emits, which no one
 * handled: it ended the supervisor as a bug, and the exit's synchronous
 * flush then retried the failing write every 100 ms for good, the process
 * alive, its event loop gone and its plugins unsupervised.
 */
function stdoutLog(): DestinationStream {
  const stream = pino.destination({ fd: 1, sync: false, maxLength: LOG_BUFFER_BYTES });
  let givenUp = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    // pino's listener re-emits the error while this one runs for it: once is enough.
    if (err.code === "EPIPE" || givenUp) return; // pino's own listener has silenced a broken pipe
    givenUp = true;
    const noop = () => true;
    Object.assign(stream, { write: noop, flushSync: noop, end: noop, destroy: noop, flush: (cb?: () => void) => cb?.() });
    try {
      writeSync(2, `corral: the log cannot be written to stdout (${err.code ?? err.message}): it is given up; the supervisor goes on\n`);
    } catch {
      // stderr is gone too
    }
  });
  return stream;
}
