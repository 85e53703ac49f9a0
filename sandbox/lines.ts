import type { Readable } from "node:stream";

/**
 * Calls onLine for each line of a text stream until it ends. Lines longer
 * than maxLength are cut into pieces, so that a plugin writing without
 * newlines cannot make the supervisor buffer without bound.
 */
export async function forEachLine(stream: Readable, onLine: (line: string) => void, maxLength = 64 * 1024): Promise<void> {
  stream.setEncoding("utf8");
  let pending = "";
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      pending += chunk;
      // One pass over the buffer, one slice per line: a chatty plugin's
      // output costs time linear in its size.
      let start = 0;
      let newline: number;
      while ((newline = pending.indexOf("\n", start)) !== -1) {
        onLine(pending.slice(start, pending[newline - 1] === "\r" ? newline - 1 : newline));
        start = newline + 1;
      }
      pending = start === 0 ? pending : pending.slice(start);
      while (pending.length > maxLength) {
        onLine(pending.slice(0, maxLength));
        pending = pending.slice(maxLength);
      }
    }
  } catch {
    // A pipe that breaks ends the output just as EOF does; the process's
    // exit tells what happened.
  }
  if (pending !== "") onLine(pending);
}
