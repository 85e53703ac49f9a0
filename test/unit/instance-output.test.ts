// An instance's output through its limits (instance-output.ts), against a
// stand-in for the sandbox: the rate limit's bucket fills on the steady
// clock, so a step of the wall clock drops nothing.
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import type { SandboxProcess } from "../../sandbox/launcher.ts";
import { parseConfig } from "../../supervisor/config/load.ts";
import { OutputCounts } from "../../supervisor/observe/output-counts.ts";
import { forwardOutput } from "../../supervisor/plugin/instance-output.ts";

const plugin = parseConfig('plugins:\n  - name: talker\n    binary: /bin/true\n    apiVersion: "1"\n    output: { rate: 20, burst: 5 }\n', "/tmp/c.yaml").plugins[0]!;

/** A sandbox that emits the lines a test gives it. */
function talkingSandbox() {
  let listener: ((stream: "stdout" | "stderr", line: string, cutBytes: number) => void) | undefined;
  const sandbox = {
    exited: new Promise(() => {}),
    limitLineLength: () => {},
    onOutput: (l: typeof listener) => void (listener = l),
    paceOutput: () => {},
  } as unknown as SandboxProcess;
  return { sandbox, say: (line: string) => listener!("stdout", line, 0) };
}

describe("forwardOutput", () => {
  it("keeps its rate limit on the steady clock: after the wall clock steps back, lines within the rate still come through", async () => {
    vi.useFakeTimers({ toFake: ["Date"] }); // the wall clock only
    try {
      const { sandbox, say } = talkingSandbox();
      const counts = new OutputCounts();
      forwardOutput(sandbox, { plugin, instance: "talker-1", log: pino({ level: "silent" }), ring: undefined, counts });
      say("one");
      vi.setSystemTime(Date.now() - 60_000); // NTP's makestep, say
      await new Promise((r) => setTimeout(r, 300)); // 6 lines' worth of rate, on any clock that does not step
      for (let i = 0; i < 4; i++) say(`line ${i}`);
      // On the wall clock, the step took 60 s × 20 lines of tokens away: nothing more came through for a minute.
      expect({ logged: counts.logged, dropped: counts.dropped }).toEqual({ logged: 5, dropped: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
