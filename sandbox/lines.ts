import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { OutputPace } from "./output-pace.ts";

/**
 * How long a line may grow while it is read. Read on every chunk, so that a
 * sandbox launched before its plugin was known (a warm launcher) takes that
 * plugin's limit once it is.
 */
export interface LineLimit {
  maxLength: number;
}

/** The longest line kept whole where no limit is given, in UTF-16 units. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/**
 * Calls onLine for each line of a text stream until it ends. A line longer
 * than the limit is kept to its first maxLength units, and the rest of it,
 * up to its newline, is counted and thrown away (cutBytes, in UTF-8 bytes):
 * a plugin writing without newlines cannot make the supervisor buffer
 * without bound, and its long line is still one line. With a pace, the next
 * chunk is read only when the pace lets it.
 */
export async function forEachLine(
  stream: Readable,
  onLine: (line: string, cutBytes: number) => void,
  { limit = { maxLength: DEFAULT_MAX_LINE_LENGTH }, pace }: { limit?: LineLimit; pace?: OutputPace } = {},
): Promise<void> {
  // Bytes in, decoded here: the pace counts bytes (a character of CJK text
  // is three), and a character split across chunks is joined.
  const decoder = new StringDecoder("utf8");
  let pending = "";
  // The line being read, once it is over the limit: its head and what of it was thrown away.
  let cut: { head: string; bytes: number } | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending += decoder.write(chunk);
      // One pass over the buffer, one slice per line: a chatty plugin's
      // output costs time linear in its size.
      let start = 0;
      let newline: number;
      while ((newline = pending.indexOf("\n", start)) !== -1) {
        const end = pending[newline - 1] === "\r" ? newline - 1 : newline;
        if (cut) {
          onLine(cut.head, cut.bytes + Buffer.byteLength(pending.slice(start, end)));
          cut = undefined;
        } else {
          onLine(pending.slice(start, end), 0);
        }
        start = newline + 1;
      }
      pending = start === 0 ? pending : pending.slice(start);
      if (cut) {
        cut.bytes += Buffer.byteLength(pending);
        pending = "";
      } else if (pending.length > limit.maxLength) {
        cut = { head: pending.slice(0, limit.maxLength), bytes: Buffer.byteLength(pending.slice(limit.maxLength)) };
        pending = "";
      }
      const wait = pace?.take(chunk.length);
      if (wait) await wait;
    }
  } catch {
    // A pipe that breaks ends the output just as EOF does; the process's
    // exit tells what happened.
  }
  pending += decoder.end();
  if (cut) onLine(cut.head, cut.bytes + Buffer.byteLength(pending));
  else if (pending !== "") onLine(pending, 0);
}
