// The byte budget a sandbox's output is read within: a second's worth at
// once, then the rate; waits are announced and end at once on release.
import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { forEachLine } from "../../sandbox/lines.ts";
import { OutputPace } from "../../sandbox/output-pace.ts";

describe("OutputPace", () => {
  it("does not pace until given a rate", () => {
    expect(new OutputPace().take(1e9)).toBeUndefined();
  });

  it("lets a second's worth through, then has reading wait the time the excess takes at the rate", async () => {
    let now = 0;
    const waits: number[] = [];
    const pace = new OutputPace({ now: () => now });
    pace.setRate(1000, (ms) => waits.push(ms));
    expect(pace.take(800)).toBeUndefined();
    const wait = pace.take(220); // 20 bytes over: 20 ms at 1000 B/s
    expect(wait).toBeInstanceOf(Promise);
    expect(waits).toEqual([20]);
    await wait;
    now += 20; // the wait paid the debt
    expect(pace.take(0)).toBeUndefined();
    now += 1000; // refilled, to a second's worth and no more
    expect(pace.take(1000)).toBeUndefined();
    expect(pace.take(1)).toBeInstanceOf(Promise);
  });

  it("ends a wait at once when released, and paces no more", async () => {
    const pace = new OutputPace({ now: () => 0 });
    pace.setRate(1); // a byte a second
    const wait = pace.take(3601); // an hour's wait
    pace.release();
    await wait; // resolves now (the test would time out otherwise)
    expect(pace.take(1e9)).toBeUndefined();
    pace.setRate(1);
    expect(pace.take(1e9)).toBeUndefined();
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new OutputPace().setRate(0)).toThrow(/^output pace must be positive, got 0$/);
  });

  it("counts bytes as they are read, not characters: three for a character of CJK text", async () => {
    const waits: number[] = [];
    const pace = new OutputPace();
    pace.setRate(1000, (ms) => waits.push(ms));
    // 400 characters, 1200 bytes, in chunks that split characters.
    const bytes = Buffer.from("漢".repeat(400) + "\n");
    const chunks = [bytes.subarray(0, 500), bytes.subarray(500)];
    const lines: string[] = [];
    await forEachLine(Readable.from(chunks), (line) => lines.push(line), { pace });
    expect(lines).toEqual(["漢".repeat(400)]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(195); // 201 bytes over a second's 1000
  });
});

describe("forEachLine", () => {
  it("keeps the head of a line over the limit and counts the rest, across chunks, as one line", async () => {
    const got: [string, number][] = [];
    const chunks = ["ab\n0123", "456789", "漢漢\r\nshort\nxyzxyzxyz", "xyz"].map((c) => Buffer.from(c));
    await forEachLine(Readable.from(chunks), (line, cut) => got.push([line, cut]), { limit: { maxLength: 5 } });
    expect(got).toEqual([
      ["ab", 0],
      ["01234", 5 + 6], // "56789" and two 3-byte characters; the \r is not the line's
      ["short", 0],
      ["xyzxy", 7], // the last line has no newline: it ends with the stream
    ]);
  });

  it("does not count a \\r split from its \\n as cut, and never cuts between a surrogate pair's halves", async () => {
    const lines = async (chunks: string[]) => {
      const got: [string, number][] = [];
      await forEachLine(Readable.from(chunks.map((c) => Buffer.from(c))), (line, cut) => got.push([line, cut]), { limit: { maxLength: 16 } });
      return got;
    };
    expect(await lines(["a".repeat(16) + "\r", "\n"])).toEqual([["a".repeat(16), 0]]);
    expect(await lines(["a".repeat(26) + "\r", "\n"])).toEqual([["a".repeat(16), 10]]);
    // 😀 is two UTF-16 units (four bytes): kept whole or not at all.
    expect(await lines(["a".repeat(15) + "😀b", "\n"])).toEqual([["a".repeat(15), 5]]);
    // A \r that is not at the line's end is its content; one at the stream's end too.
    expect(await lines(["a\rb\n", "c\r"])).toEqual([["a\rb", 0], ["c\r", 0]]);
    // At the stream's end that \r counts against the limit.
    expect(await lines(["a".repeat(16) + "\r"])).toEqual([["a".repeat(16), 1]]);
  });

  it("reads a changed limit from the next chunk on", async () => {
    const got: string[] = [];
    const limit = { maxLength: 4 };
    async function* chunks() {
      yield Buffer.from("aaaaaaaa\n");
      limit.maxLength = 100;
      yield Buffer.from("bbbbbbbb");
      yield Buffer.from("\n");
    }
    await forEachLine(Readable.from(chunks()), (line) => got.push(line), { limit });
    expect(got).toEqual(["aaaaaaaa", "bbbbbbbb"]);
  });
});
