// The goroutine breaker and the alerts: a plugin that leaks goroutines gets a
// forced GC, a goroutine dump and a heap profile as evidence, and an alert
// that stays until an operator acknowledges it.
import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

interface AlertJson {
  kind: string;
  plugin: string;
  message: string;
  acknowledged: boolean;
  evidence: Record<string, number>;
}

describe("goroutine breaker and alerts", () => {
  it("forces a GC, captures evidence and raises an alert until acknowledged", async () => {
    const supervisor = await TestSupervisor.start({
      plugins: [
        {
          name: "leaky",
          binary: plugins.crasher,
          apiVersion: "1.0",
          env: { CRASH_AFTER_MS: "100", CRASH_MODE: "goroutines", GOROUTINES: "1500" },
          sampleInterval: "200ms",
          breakers: { goroutines: { threshold: 1000 } },
        },
      ],
    });
    running.push(supervisor);
    const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);

    await supervisor.waitForLog((l) => l.msg === "goroutine breaker: forced a GC" && l.plugin === "leaky");
    const captured = await supervisor.waitForLog((l) => l.msg === "captured diagnostics" && l.why === "goroutine breaker");
    const files = captured.files as string[];
    expect(files.map((f) => f.replace(/^.*-/, ""))).toEqual(["goroutines.txt", "heap.pprof"]);
    expect(await readFile(files[0]!, "utf8")).toContain("main.storm");
    expect((await readFile(files[1]!)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip: pprof

    const alerts = JSON.parse((await ctl("alerts", "--json")).stdout) as { alerts: AlertJson[] };
    const alert = alerts.alerts.find((a) => a.kind === "goroutines");
    expect(alert).toMatchObject({ plugin: "leaky", acknowledged: false });
    expect(alert!.evidence.goroutines).toBeGreaterThan(1000);
    expect(alert!.message).toMatch(/goroutines, above the limit of 1000/);

    const diag = JSON.parse((await ctl("diag", "leaky", "--json")).stdout) as { diagnostics: Array<{ path: string }> };
    expect(diag.diagnostics.map((d) => d.path).sort()).toEqual([...files].sort());

    // Stays until acknowledged, then only in --all.
    await new Promise((r) => setTimeout(r, 600));
    expect((JSON.parse((await ctl("alerts", "leaky", "--json")).stdout) as { alerts: AlertJson[] }).alerts.some((a) => a.kind === "goroutines")).toBe(true);
    expect(await ctl("ack", "leaky")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^acknowledged [1-9]\d* alert\(s\) of leaky\n$/) });
    expect((JSON.parse((await ctl("alerts", "leaky", "--json")).stdout) as { alerts: AlertJson[] }).alerts).toEqual([]);
    const all = JSON.parse((await ctl("alerts", "--all", "--json")).stdout) as { alerts: AlertJson[] };
    expect(all.alerts.find((a) => a.kind === "goroutines")?.acknowledged).toBe(true);
    expect((await ctl("ack", "nosuch")).code).toBe(4);

    // An operator can capture evidence on demand, with a CPU profile.
    const now = JSON.parse((await ctl("diag", "leaky", "--capture", "--cpu", "200", "--json")).stdout) as { diagnostics: Array<{ path: string }> };
    expect(now.diagnostics.map((d) => d.path.replace(/^.*-/, "")).sort()).toEqual(["cpu.pprof", "goroutines.txt", "heap.pprof"]);

    // Two at once (one connection, so they reach the supervisor together):
    // the second asks for a CPU profile the first does not take, and gets it.
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    const capture = (cpuMs: number) =>
      new Promise<string[]>((resolve, reject) =>
        admin.CaptureDiagnostics({ plugin: "leaky", cpuMs }, { deadline: new Date(Date.now() + 30_000) }, (err, r) =>
          err ? reject(err) : resolve(r!.diagnostics.map((d) => d.path.replace(/^.*-/, "")).sort()),
        ),
      );
    try {
      const [plain, withCpu] = await Promise.all([capture(0), capture(300)]);
      expect(plain).toEqual(["goroutines.txt", "heap.pprof"]);
      expect(withCpu).toEqual(["cpu.pprof", "goroutines.txt", "heap.pprof"]);
    } finally {
      admin.close();
    }
  });
});
