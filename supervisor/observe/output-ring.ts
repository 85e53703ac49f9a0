// A plugin's output as `corralctl logs` shows it: the most recent lines in a
// ring bounded by count and bytes, and followers that get each new line.
// Lines reach it through an OutputLimiter (output-limiter.ts), so a chatty
// plugin cannot grow it, or the journal, beyond its bounds.
export interface OutputLine {
  at: number;
  plugin: string;
  instance: string;
  /** stdout, stderr, or "corral" for the supervisor's own notes (lines dropped). */
  stream: string;
  line: string;
}

export class OutputRing {
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #lines: OutputLine[] = [];
  #bytes = 0;
  readonly #followers = new Map<(line: OutputLine) => void, (why: string) => void>();
  /** Why the ring was closed (its plugin removed); undefined while open. */
  #closed: string | undefined;

  constructor(options: { maxLines?: number; maxBytes?: number } = {}) {
    this.#maxLines = options.maxLines ?? 2000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  push(line: OutputLine): void {
    this.#lines.push(line);
    this.#bytes += line.line.length;
    while (this.#lines.length > this.#maxLines || (this.#bytes > this.#maxBytes && this.#lines.length > 1)) {
      this.#bytes -= this.#lines.shift()!.line.length;
    }
    for (const follow of this.#followers.keys()) follow(line);
  }

  /** The last `n` lines (all when n is 0), oldest first. */
  tail(n: number): OutputLine[] {
    return n > 0 ? this.#lines.slice(-n) : [...this.#lines];
  }

  /**
   * Calls follower with each line from now on, until the returned function
   * is called or the ring is closed, when onClose hears why (at once, if it
   * is closed already).
   */
  follow(follower: (line: OutputLine) => void, onClose: (why: string) => void = () => {}): () => void {
    if (this.#closed !== undefined) {
      onClose(this.#closed);
      return () => {};
    }
    this.#followers.set(follower, onClose);
    return () => this.#followers.delete(follower);
  }

  /**
   * Ends every follow, saying why (the plugin was removed): a follower of a
   * plugin added back would otherwise wait on this ring, which no line
   * reaches any more, for good.
   */
  close(why: string): void {
    this.#closed ??= why;
    const ends = [...this.#followers.values()];
    this.#followers.clear();
    for (const end of ends) end(why);
  }

  get size(): { lines: number; bytes: number } {
    return { lines: this.#lines.length, bytes: this.#bytes };
  }
}
