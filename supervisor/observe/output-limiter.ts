// Bounds what one instance's output may cost: lines are cut to a maximum
// length, and a token bucket admits at most `ratePerSecond` lines on average
// (bursts up to `burst`). What it drops is counted and reported in a note at
// most once a second, before the line it comes with, so the journal shows
// that lines are missing without being flooded by the notes either (a flood
// that never pauses lets a line through whenever a token is back: a note
// with each of those would double what reaches the journal). Drops that no
// line follows (the plugin fell quiet, or ended) are reported by flush(),
// which the owner calls when noteDueIn() says. Pure: time comes in.
export interface LimiterOptions {
  ratePerSecond: number;
  burst: number;
  maxLineBytes: number;
}

/**
 * A copy of `text` that shares no memory with the string it was cut from.
 * A line sliced out of the read buffer keeps that whole buffer alive in V8;
 * kept in a ring of 2000 lines, that is megabytes per line held for nothing.
 */
function detached(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

export type Admitted = { kind: "line"; line: string } | { kind: "note"; line: string };

export class OutputLimiter {
  readonly #options: LimiterOptions;
  #tokens: number;
  #refilledAt: number;
  #dropped = 0;
  #droppedSince = 0;

  constructor(options: LimiterOptions, now: number) {
    this.#options = options;
    this.#tokens = options.burst;
    this.#refilledAt = now;
  }

  /**
   * What to record for a line at `now`: the line (cut to length), a note
   * about dropped lines first, or nothing. cutBytes: how much of the line was
   * already thrown away before it came here (sandbox/lines.ts).
   */
  admit(line: string, now: number, cutBytes = 0): Admitted[] {
    const { ratePerSecond, burst, maxLineBytes } = this.#options;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) / 1000) * ratePerSecond);
    this.#refilledAt = now;
    const out: Admitted[] = [];
    if (this.#tokens < 1 - 1e-9) { // (tenths of a token added up may fall short of 1 by rounding)
      if (this.#dropped === 0) this.#droppedSince = now;
      this.#dropped += 1;
      if (now - this.#droppedSince >= 1000) out.push(this.#note(now));
      return out;
    }
    this.#tokens -= 1;
    if (this.#dropped > 0 && now - this.#droppedSince >= 1000) out.push(this.#note(now));
    out.push({ kind: "line", line: detached(cutToBytes(line, maxLineBytes, cutBytes)) });
    return out;
  }

  /** In how many ms a note about the lines dropped so far is due; undefined if none were. */
  noteDueIn(now: number): number | undefined {
    return this.#dropped === 0 ? undefined : Math.max(0, this.#droppedSince + 1000 - now);
  }

  /** The note about the lines dropped so far, if one is due (or `final`: the output has ended); else undefined. */
  flush(now: number, { final = false } = {}): Admitted | undefined {
    const due = this.noteDueIn(now);
    return due === undefined || (due > 0 && !final) ? undefined : this.#note(now);
  }

  /** Lines dropped and not yet reported. */
  get dropped(): number {
    return this.#dropped;
  }

  #note(now: number): Admitted {
    const note = { kind: "note" as const, line: `dropped ${this.#dropped} lines of output in ${now - this.#droppedSince} ms (limit ${this.#options.ratePerSecond} lines/s)` };
    this.#dropped = 0;
    this.#droppedSince = now;
    return note;
  }
}

/**
 * `line` cut to at most maxBytes of UTF-8, between characters, saying how
 * many bytes were cut: here, and the cutBytes cut before.
 */
function cutToBytes(line: string, maxBytes: number, cutBytes: number): string {
  // At most 3 bytes a UTF-16 unit: a line this short fits, without encoding it.
  if (line.length * 3 <= maxBytes && cutBytes === 0) return line;
  const bytes = Buffer.from(line);
  if (bytes.length <= maxBytes && cutBytes === 0) return line;
  let end = Math.min(maxBytes, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--; // not within a character's bytes
  return `${bytes.toString("utf8", 0, end)}…[truncated ${bytes.length - end + cutBytes} bytes]`;
}
