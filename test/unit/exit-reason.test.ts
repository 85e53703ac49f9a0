import { describe, expect, it } from "vitest";
import { describeExit } from "../../supervisor/plugin/exit-reason.ts";

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
