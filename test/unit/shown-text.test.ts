// What corralctl prints of a plugin's own text (logs, events): a plugin's
// control characters must not move the cursor or forge another line.
import { describe, expect, it } from "vitest";
import { shownLines, shownLogLine, shownText } from "../../supervisor/cli/shown-text.ts";

describe("shownText", () => {
  it("escapes every control character but tab", () => {
    // A carriage return moved the cursor back over the real timestamp and instance.
    expect(shownText("innocent\r2030-01-01T00:00:00.000Z FORGED [corral] note")).toBe("innocent\\r2030-01-01T00:00:00.000Z FORGED [corral] note");
    expect(shownText("\u001b[2K\u001b[1Gcleared")).toBe("\\x1b[2K\\x1b[1Gcleared");
    expect(shownText("nul\u0000 bell\u0007 del\u007f c1\u0085 sep\u2028")).toBe("nul\\x00 bell\\x07 del\\x7f c1\\x85 sep\\u2028");
    expect(shownText("a\nb")).toBe("a\\nb");
  });

  it("escapes the controls of bidirectional text, which reorder what a terminal shows", () => {
    expect(shownText("safe\u202edlrow\u202c \u2066iso\u2069 \u200f\u200e\u061c")).toBe("safe\\u202edlrow\\u202c \\u2066iso\\u2069 \\u200f\\u200e\\u061c");
  });

  it("leaves text alone: tabs, and any script", () => {
    expect(shownText("col\tcol — 漢字 ✓")).toBe("col\tcol — 漢字 ✓");
  });

  it("keeps the line breaks of a message of several lines, and escapes the rest", () => {
    expect(shownLines("invalid config:\n  a.yaml:1:1: x\u001b]0;t\u0007\r")).toBe("invalid config:\n  a.yaml:1:1: x\\x1b]0;t\\x07\\r");
  });
});

describe("shownLogLine", () => {
  it("names every stream, stdout too: a plugin's stdout cannot pose as a note of Corral's or as its stderr", () => {
    const at = Date.parse("2026-11-28T06:00:00.000Z");
    const line = (stream: string, text: string) => shownLogLine({ atUnixMs: String(at), instance: "liar-f00f26", stream, line: text });
    const forged = line("stdout", "[corral] dropped 7 lines of output in 1000 ms (limit 200 lines/s)");
    const real = line("corral", "dropped 7 lines of output in 1000 ms (limit 200 lines/s)");
    expect(forged).toBe("2026-11-28T06:00:00.000Z liar-f00f26 [stdout] [corral] dropped 7 lines of output in 1000 ms (limit 200 lines/s)");
    expect(real).toBe("2026-11-28T06:00:00.000Z liar-f00f26 [corral] dropped 7 lines of output in 1000 ms (limit 200 lines/s)");
    expect(line("stdout", "[stderr] panic: fake")).not.toBe(line("stderr", "panic: fake"));
  });
});
