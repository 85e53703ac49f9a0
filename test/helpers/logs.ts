// The supervisor's JSON log lines, as tests read them.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export interface LogLine {
  level: string;
  time: string;
  msg: string;
  plugin?: string;
  instance?: string;
  [field: string]: unknown;
}

export function forEachLogLine(stream: Readable, onLine: (line: LogLine) => void): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on("line", (text) => {
    try {
      onLine(JSON.parse(text) as LogLine);
    } catch {
      onLine({ level: "raw", time: new Date().toISOString(), msg: text });
    }
  });
}
