import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
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
  // Bytes in, decoded here: the pace counts bytes (a character of CJK text
  // is three), and a character split across chunks is joined.
  const decoder = new StringDecoder("utf8");
  let pending = "";
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending += decoder.write(chunk);
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
      const wait = pace?.take(chunk.length);
      if (wait) await wait;
    }
  } catch {
    // A pipe that breaks ends the output just as EOF does; the process's
    // exit tells what happened.
  }
  pending += decoder.end();
  if (pending !== "") onLine(pending);
}
