// The bounded parts behind `corralctl logs` and `corralctl events`: the
// output limiter (rate and line length), the output ring, the event log.
import { describe, expect, it } from "vitest";
import { EventLog } from "../../supervisor/observe/event-log.ts";
import { OutputLimiter } from "../../supervisor/observe/output-limiter.ts";
import { OutputRing } from "../../supervisor/observe/output-ring.ts";

describe("output limiter", () => {
  it("lets a burst through, then the rate, and reports what it dropped at most once a second", () => {
    const limiter = new OutputLimiter({ ratePerSecond: 10, burst: 5, maxLineBytes: 100 }, 0);
    const at0 = Array.from({ length: 20 }, (_, i) => limiter.admit(`line ${i}`, 0));
    expect(at0.flat().filter((a) => a.kind === "line")).toHaveLength(5);
    expect(limiter.dropped).toBe(15);
    // 100 ms later one token is back: the line, the 15 still counted.
    expect(limiter.admit("soon", 100)).toEqual([{ kind: "line", line: "soon" }]);
    expect(limiter.dropped).toBe(15);
    // A second after the first drop the note comes first, then the line.
    expect(limiter.admit("late", 1000)).toEqual([
      { kind: "note", line: "dropped 15 lines of output in 1000 ms (limit 10 lines/s)" },
      { kind: "line", line: "late" },
    ]);
    expect(limiter.dropped).toBe(0);
  });

  it("notes a flood that never pauses once a second, not once a line let through", () => {
    const limiter = new OutputLimiter({ ratePerSecond: 100, burst: 1, maxLineBytes: 100 }, 0);
    let lines = 0;
    const notes: string[] = [];
    for (let t = 0; t <= 3000; t += 1) {
      for (let k = 0; k < 10; k++) for (const a of limiter.admit("x", t)) a.kind === "note" ? notes.push(a.line) : (lines += 1);
    }
    // 3 s at 100 lines/s: about 300 lines through, and a note a second.
    expect(lines).toBeGreaterThanOrEqual(299);
    expect(notes.length).toBeGreaterThanOrEqual(3);
    expect(notes.length).toBeLessThanOrEqual(4);
  });

  it("cuts long lines and says how much it cut", () => {
    const limiter = new OutputLimiter({ ratePerSecond: 10, burst: 5, maxLineBytes: 8 }, 0);
    expect(limiter.admit("0123456789abcdef", 0)).toEqual([{ kind: "line", line: "01234567…[truncated 8 bytes]" }]);
    // Bytes, not characters, and never within a character: 漢 is 3 bytes.
    expect(limiter.admit("漢漢漢漢", 0)).toEqual([{ kind: "line", line: "漢漢…[truncated 6 bytes]" }]);
    expect(limiter.admit("a😀😀", 0)).toEqual([{ kind: "line", line: "a😀…[truncated 4 bytes]" }]);
    // What the sandbox already threw away of a line counts too, even when the rest fits.
    expect(limiter.admit("0123", 0, 100)).toEqual([{ kind: "line", line: "0123…[truncated 100 bytes]" }]);
    expect(limiter.admit("0123456789", 0, 100)).toEqual([{ kind: "line", line: "01234567…[truncated 102 bytes]" }]);
  });

  it("tells of drops that no line follows when flushed: not before a second has passed, unless the output has ended", () => {
    const limiter = new OutputLimiter({ ratePerSecond: 1, burst: 1, maxLineBytes: 100 }, 0);
    expect(limiter.noteDueIn(0)).toBeUndefined();
    limiter.admit("kept", 0);
    limiter.admit("dropped", 200);
    limiter.admit("dropped", 300);
    expect(limiter.noteDueIn(700)).toBe(500);
    expect(limiter.flush(700)).toBeUndefined();
    expect(limiter.flush(1200)).toEqual({ kind: "note", line: "dropped 2 lines of output in 1000 ms (limit 1 lines/s)" });
    expect(limiter.noteDueIn(1200)).toBeUndefined();
    expect(limiter.flush(5000, { final: true })).toBeUndefined();
    limiter.admit("kept", 5000);
    limiter.admit("dropped", 5010);
    expect(limiter.flush(5020, { final: true })).toEqual({ kind: "note", line: "dropped 1 lines of output in 10 ms (limit 1 lines/s)" });
  });
});

describe("output ring", () => {
  const line = (n: number, text = `line ${n}`) => ({ at: n, plugin: "p", instance: "p-1", stream: "stdout", line: text });

  it("keeps the last lines within its count and byte bounds", () => {
    const ring = new OutputRing({ maxLines: 3, maxBytes: 1000 });
    for (let i = 0; i < 10; i++) ring.push(line(i));
    expect(ring.tail(0).map((l) => l.at)).toEqual([7, 8, 9]);
    expect(ring.tail(2).map((l) => l.at)).toEqual([8, 9]);
    const small = new OutputRing({ maxLines: 100, maxBytes: 10 });
    for (let i = 0; i < 5; i++) small.push(line(i, "abcd"));
    expect(small.size).toEqual({ lines: 2, bytes: 8 });
  });

  it("tells followers about every new line until they stop following", () => {
    const ring = new OutputRing();
    const seen: number[] = [];
    const stop = ring.follow((l) => seen.push(l.at));
    ring.push(line(1));
    stop();
    ring.push(line(2));
    expect(seen).toEqual([1]);
  });

  it("ends every follow when closed (its plugin removed), saying why, and any follow begun after at once", () => {
    const ring = new OutputRing();
    const ends: string[] = [];
    ring.follow(() => {}, (why) => ends.push(`first: ${why}`));
    ring.close("removed from the config");
    ring.follow(() => {}, (why) => ends.push(`later: ${why}`));
    expect(ends).toEqual(["first: removed from the config", "later: removed from the config"]);
  });
});

describe("event log", () => {
  it("keeps the most recent events, per plugin on request, and tells subscribers", () => {
    const log = new EventLog(3);
    const seen: string[] = [];
    const unsubscribe = log.subscribe((e) => seen.push(e.message));
    for (const [i, plugin] of ["a", "b", "a", "b", "a"].entries()) log.emit({ at: i, plugin, kind: "transition", message: `m${i}` });
    expect(log.recent(10).map((e) => e.message)).toEqual(["m2", "m3", "m4"]);
    expect(log.recent(10, "a").map((e) => e.message)).toEqual(["m2", "m4"]);
    expect(log.recent(0)).toEqual([]);
    unsubscribe();
    log.emit({ at: 9, plugin: "a", kind: "alert", message: "late" });
    expect(seen).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(log.subscribers).toBe(0);
  });
});
