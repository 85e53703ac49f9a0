import type { Readable } from "node:stream";
import type { OutputPace } from "./output-pace.ts";

/**
 * Calls onLine for each line of a text stream until it ends. Lines longer
 * than maxLength are cut into pieces, so that a plugin writing without
 * newlines cannot make the supervisor buffer without bound. With a pace,
 * the next chunk is read only when the pace lets it.
 */
export async function forEachLine(
  stream: Readable,
  onLine: (line: string) => void,
  { maxLength = 64 * 1024, pace }: { maxLength?: number; pace?: OutputPace } = {},
): Promise<void> {
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
      const wait = pace?.take(chunk.length); // characters for bytes: near enough, and no second pass
      if (wait) await wait;
    }
  } catch {
    // A pipe that breaks ends the output just as EOF does; the process's
    // exit tells what happened.
  }
  if (pending !== "") onLine(pending);
}
