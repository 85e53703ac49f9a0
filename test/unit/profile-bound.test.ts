// A profile's stream, as the supervisor collects it: the plugin is not
// trusted to keep to the bytes it was asked for (a hostile one streamed
// 800 MB into the supervisor's memory and disk), and a dump go-shim cut at
// the bound is kept, cut, rather than thrown away.
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { ProfileChunk__Output } from "../../proto/gen/ts/corral/plugin/v1/ProfileChunk.ts";
import { collectProfile } from "../../supervisor/plugin/control-channel.ts";

/** A stream of `chunks` KiB-sized chunks, then `end` (an error, or none); it records whether it was cancelled, and how far it was read. */
function stream(chunks: number, end?: { code: status; details: string }) {
  const state = { cancelled: false, read: 0 };
  const iterable = {
    cancel: () => void (state.cancelled = true),
    async *[Symbol.asyncIterator](): AsyncGenerator<ProfileChunk__Output> {
      for (let i = 0; i < chunks; i++) {
        if (state.cancelled) return;
        state.read += 1;
        yield { data: Buffer.alloc(1024, i), contentType: "text/plain", kind: "GOROUTINE" } as unknown as ProfileChunk__Output;
      }
      if (end) throw Object.assign(new Error(end.details), end);
    },
  };
  return { iterable, state };
}

describe("collecting a profile", () => {
  it("keeps a profile within its bound whole", async () => {
    const { iterable } = stream(4);
    expect(await collectProfile(iterable, "HEAP", 4 * 1024)).toMatchObject({ truncated: false, contentType: "text/plain", data: expect.any(Buffer) });
  });

  it("cancels, and keeps nothing of, a stream that goes past the bytes asked for", async () => {
    const { iterable, state } = stream(1_000_000); // a gigabyte, were it read
    await expect(collectProfile(iterable, "HEAP", 16 * 1024)).rejects.toThrow("the plugin's heap profile is over the 16384 bytes asked for; not kept");
    expect(state.cancelled).toBe(true);
    expect(state.read).toBe(17);
  });

  it("keeps a dump go-shim cut at the bound, as truncated", async () => {
    const { iterable } = stream(16, { code: status.RESOURCE_EXHAUSTED, details: "the GOROUTINE profile exceeds max_bytes" });
    const got = await collectProfile(iterable, "GOROUTINE", 16 * 1024);
    expect(got.truncated).toBe(true);
    expect(got.data.length).toBe(16 * 1024);
    // Other errors, and a cut with nothing before it, are failures.
    await expect(collectProfile(stream(0, { code: status.RESOURCE_EXHAUSTED, details: "x" }).iterable, "GOROUTINE", 1024)).rejects.toThrow("x");
    await expect(collectProfile(stream(2, { code: status.DEADLINE_EXCEEDED, details: "late" }).iterable, "CPU", 1 << 20)).rejects.toThrow("late");
  });
});
