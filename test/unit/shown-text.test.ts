// What corralctl prints of a plugin's own text (logs, events): a plugin's
// control characters must not move the cursor or forge another line.
import { describe, expect, it } from "vitest";
import { shownLines, shownText } from "../../supervisor/cli/shown-text.ts";

describe("shownText", () => {
  it("escapes every control character but tab", () => {
    // A carriage return moved the cursor back over the real timestamp and instance.
    expect(shownText("innocent\r2030-01-01T00:00:00.000Z FORGED [corral] note")).toBe("innocent\\r2030-01-01T00:00:00.000Z FORGED [corral] note");
    expect(shownText("\u001b[2K\u001b[1Gcleared")).toBe("\\x1b[2K\\x1b[1Gcleared");
    expect(shownText("nul\u0000 bell\u0007 del\u007f c1\u0085 sep\u2028")).toBe("nul\\x00 bell\\x07 del\\x7f c1\\x85 sep\\u2028");
    expect(shownText("a\nb")).toBe("a\\nb");
  });

  it("leaves text alone: tabs, and any script", () => {
    expect(shownText("col\tcol — 漢字 ✓")).toBe("col\tcol — 漢字 ✓");
  });

  it("keeps the line breaks of a message of several lines, and escapes the rest", () => {
    expect(shownLines("invalid config:\n  a.yaml:1:1: x\u001b]0;t\u0007\r")).toBe("invalid config:\n  a.yaml:1:1: x\\x1b]0;t\\x07\\r");
  });
});
