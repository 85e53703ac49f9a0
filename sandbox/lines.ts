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
 * What a line costs the pace beyond its bytes. Each line is split off,
 * counted and limited, kept or dropped, whatever its length: paced by
 * bytes alone, a plugin writing nothing but newlines made the supervisor
 * handle 4 million lines a second at the default 4 MiB/s, 70 % of its core
 * for one such plugin and all of it for two (admin calls timed out). At 64
 * bytes more a line, that is 64 thousand lines a second; a log line of 100
 * bytes is paced as 164.
 */
export const LINE_PACE_BYTES = 64;

/**
 * Calls onLine for each line of a text stream until it ends. A line longer
 * than the limit is kept to its first maxLength units, and the rest of it,
 * up to its newline, is counted and thrown away (cutBytes, in UTF-8 bytes):
 * a plugin writing without newlines cannot make the supervisor buffer
 * without bound, and its long line is still one line. A line's \r before
 * its \n is not the line's, wherever the chunks split them. With a pace,
 * the next chunk is read only when the pace lets it (its bytes, and
 * LINE_PACE_BYTES for each line ended in it).
 *
 * Time is linear in the output: each chunk is searched once for newlines,
 * and a line that spans chunks is kept as its pieces until it ends.
 */
export async function forEachLine(
  stream: Readable,
  onLine: (line: string, cutBytes: number) => void,
  { limit = { maxLength: DEFAULT_MAX_LINE_LENGTH }, pace }: { limit?: LineLimit; pace?: OutputPace } = {},
): Promise<void> {
  // Bytes in, decoded here: the pace counts bytes (a character of CJK text
  // is three), and a character split across chunks is joined.
  const decoder = new StringDecoder("utf8");
  const line = new LineBuffer(limit);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      let start = 0;
      let newline: number;
      let lines = 0;
      while ((newline = text.indexOf("\n", start)) !== -1) {
        line.append(text.slice(start, newline));
        line.end(onLine);
        start = newline + 1;
        lines++;
      }
      line.append(start === 0 ? text : text.slice(start));
      const wait = pace?.take(chunk.length + lines * LINE_PACE_BYTES);
      if (wait) await wait;
    }
  } catch {
    // A pipe that breaks ends the output just as EOF does; the process's
    // exit tells what happened.
  }
  line.append(decoder.end());
  if (!line.empty) line.end(onLine, { final: true });
}

/** The line being read: its pieces while within the limit, then its head and what was thrown away. */
class LineBuffer {
  readonly #limit: LineLimit;
  #pieces: string[] = [];
  #length = 0;
  #cut: { head: string; bytes: number } | undefined;
  /** Whether the last unit appended was a \r: not the line's if a \n comes next. */
  #endsInCr = false;

  constructor(limit: LineLimit) {
    this.#limit = limit;
  }

  get empty(): boolean {
    return this.#cut === undefined && this.#length === 0;
  }

  append(text: string): void {
    if (text === "") return;
    this.#endsInCr = text.endsWith("\r");
    if (this.#cut) {
      this.#cut.bytes += Buffer.byteLength(text);
      return;
    }
    this.#pieces.push(text);
    this.#length += text.length;
    // A \r at the end may be the line's end, not its content: not counted yet.
    if (this.#length - (this.#endsInCr ? 1 : 0) <= this.#limit.maxLength) return;
    const whole = this.#pieces.join("");
    let at = this.#limit.maxLength;
    const last = whole.charCodeAt(at - 1);
    if (last >= 0xd800 && last <= 0xdbff) at -= 1; // not between a surrogate pair's halves
    this.#cut = { head: whole.slice(0, at), bytes: Buffer.byteLength(whole.slice(at)) };
    this.#pieces = [];
    this.#length = 0;
  }

  /** Hands on the line, ended by a \n (its \r dropped) or by the stream's end (kept), and starts the next. */
  end(onLine: (line: string, cutBytes: number) => void, { final = false } = {}): void {
    // At the stream's end a last \r is the line's own: counted against the limit after all.
    if (final && this.#endsInCr && !this.#cut && this.#length > this.#limit.maxLength) {
      const whole = this.#pieces.join("");
      this.#cut = { head: whole.slice(0, -1), bytes: 1 };
    }
    const cr = this.#endsInCr && !final ? 1 : 0;
    if (this.#cut) {
      onLine(this.#cut.head, this.#cut.bytes - cr);
    } else {
      const whole = this.#pieces.join("");
      onLine(cr ? whole.slice(0, -1) : whole, 0);
    }
    this.#pieces = [];
    this.#length = 0;
    this.#cut = undefined;
    this.#endsInCr = false;
  }
}
