import { describe, expect, it } from "vitest";
import { describeExit, LastWords } from "../../supervisor/plugin/exit-reason.ts";

const MiB = 1024 * 1024;
const none = { oomKills: 0, pidsLimitHits: 0 };

describe("exit reasons", () => {
  it("names an OOM kill from the cgroup's counter, not from the signal", () => {
    expect(describeExit({ signal: "SIGKILL" }, { oomKills: 1, pidsLimitHits: 0 }, 64 * MiB)).toBe(
      "killed by the kernel's OOM killer (memory limit 64MiB)",
    );
    expect(describeExit({ signal: "SIGKILL" }, none, 64 * MiB)).toBe("killed by SIGKILL");
  });

  it("does not call an exit of the plugin's own an OOM kill, when the kernel killed another process of the instance", () => {
    expect(describeExit({ code: 0 }, { oomKills: 1, pidsLimitHits: 0 }, 32 * MiB)).toBe(
      "exited with status 0, after the kernel's OOM killer killed 1 of its processes (memory limit 32MiB)",
    );
    expect(describeExit({ signal: "SIGTERM" }, { oomKills: 2, pidsLimitHits: 0 }, 32 * MiB)).toBe(
      "killed by SIGTERM, after the kernel's OOM killer killed 2 of its processes (memory limit 32MiB)",
    );
  });

  it("names the syscall seccomp refused", () => {
    expect(describeExit({ signal: "SIGSYS", syscall: "ptrace" }, none, MiB)).toBe("killed by SIGSYS: seccomp refused syscall ptrace");
    expect(describeExit({ signal: "SIGSYS" }, none, MiB)).toBe("killed by SIGSYS");
  });

  it("reports exits and setup failures", () => {
    expect(describeExit({ code: 3 }, none, MiB)).toBe("exited with status 3");
    expect(describeExit({ code: 125, error: { stage: "rootfs", message: "no /tmp" } }, undefined, MiB)).toBe(
      "sandbox setup failed at rootfs: no /tmp",
    );
  });
});

describe("a plugin's last words", () => {
  const said = (lines: Array<[string, string]>, end: { code?: number; signal?: string; error?: { stage: string; message: string } }) => {
    const words = new LastWords();
    for (const [stream, line] of lines) words.see(stream, line);
    return words.after(end);
  };

  it("quote go-shim's refusal, or a panic's first line, over what followed it", () => {
    expect(said([["stderr", "corral go-shim: serving"], ["stderr", "sayer: corral go-shim: the plugin registers grpc.health.v1.Health, which go-shim serves itself"]], { code: 1 })).toBe(
      "; it said: sayer: corral go-shim: the plugin registers grpc.health.v1.Health, which go-shim serves itself",
    );
    expect(said([["stderr", "panic: boom"], ["stderr", "goroutine 1 [running]:"], ["stderr", "main.main()"], ["stderr", "\t/src/main.go:12 +0x1d"]], { code: 2 })).toBe("; it said: panic: boom");
    expect(said([["stderr", "fatal error: concurrent map writes"], ["stderr", "goroutine 7 [running]:"]], { code: 2 })).toBe("; it said: fatal error: concurrent map writes");
  });

  it("quote the last line of stderr otherwise (log.Fatal's), not stdout's, and not go-shim's own log lines", () => {
    expect(said([["stderr", "corral go-shim: draining"], ["stderr", "2026/11/28 db: connection refused"], ["stdout", "bye"], ["stderr", ""]], { code: 1 })).toBe(
      "; it said: 2026/11/28 db: connection refused",
    );
    expect(said([["stderr", "2026/11/28 db: connection refused"], ["stderr", "corral go-shim: revocation list loaded: number 3"]], { code: 1 })).toBe(
      "; it said: 2026/11/28 db: connection refused",
    );
    expect(said([["stderr", "corral go-shim: the plugin registers no service of its own: every call to it fails with Unimplemented"]], { code: 1 })).toBe("");
  });

  it("say nothing of an exit with status 0, a signal or a setup failure, or of a plugin that said nothing", () => {
    const lines: Array<[string, string]> = [["stderr", "panic: boom"]];
    expect(said(lines, { code: 0 })).toBe("");
    expect(said(lines, { signal: "SIGKILL" })).toBe("");
    expect(said(lines, { code: 125, error: { stage: "exec", message: "x" } })).toBe("");
    expect(said([["stdout", "hello"]], { code: 1 })).toBe("");
  });

  it("quote at most 500 characters of a line", () => {
    expect(said([["stderr", `panic: ${"x".repeat(1000)}`]], { code: 2 })).toBe(`; it said: panic: ${"x".repeat(493)}…`);
  });
});
