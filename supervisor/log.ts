// Structured logs: one JSON object per line on stdout (journald keeps them),
// with level, time and, where it applies, plugin and instance.
import { pino, type Logger } from "pino";

export type { Logger };

/** The most log output held for a stdout that cannot keep up; more is dropped. */
const LOG_BUFFER_BYTES = 64 * 1024 * 1024;

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.CORRAL_LOG_LEVEL ?? "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Its buffer bounded: a stdout slower than the lines (a flood of them,
    // journald behind) drops lines rather than grow the heap until the
    // supervisor dies with every plugin.
    options.destination ?? pino.destination({ fd: 1, sync: false, maxLength: LOG_BUFFER_BYTES }),
  );
}
