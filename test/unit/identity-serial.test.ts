import { describe, expect, it } from "vitest";
import { newSerial } from "../../supervisor/identity/serial.ts";

const fixed =
  (...draws: number[][]) =>
  (size: number): Uint8Array => {
    const head = draws.shift() ?? [];
    return Uint8Array.from({ length: size }, (_, i) => head[i] ?? 0x11);
  };

describe("serial numbers", () => {
  it("clears the high bit so the serial is positive without padding", () => {
    const s = newSerial(fixed([0xff, 0xee]));
    expect(s.content.length).toBe(16);
    expect(s.content[0]).toBe(0x7f);
    expect(s.hex).toBe("7FEE" + "11".repeat(14));
  });

  it("drops leading zero bytes DER does not allow", () => {
    const s = newSerial(fixed([0x80, 0x00, 0x05]));
    expect(s.content.toString("hex")).toBe("05" + "11".repeat(13));
    expect(s.hex).toBe("05" + "11".repeat(13));
  });

  it("keeps the zero byte that keeps a high-bit value positive, and omits it from the hex", () => {
    const s = newSerial(fixed([0x80, 0x90]));
    expect(s.content.toString("hex")).toBe("0090" + "11".repeat(14));
    expect(s.hex).toBe("90" + "11".repeat(14));
  });

  it("redraws a zero serial", () => {
    const s = newSerial(fixed(new Array<number>(16).fill(0x80).map((b, i) => (i === 0 ? b : 0)), [0x01]));
    expect(s.hex).toBe("01" + "11".repeat(15));
  });

  it("is 16 fresh random bytes by default", () => {
    const a = newSerial();
    const b = newSerial();
    expect(a.hex).not.toBe(b.hex);
    expect(a.content[0]! & 0x80).toBe(0);
  });

  it("refuses a random source of the wrong size", () => {
    expect(() => newSerial(() => new Uint8Array(8))).toThrow(/8 bytes, expected 16/);
  });
});
