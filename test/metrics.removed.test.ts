// A plugin removed from the config by a reload takes its open alerts and
// its metric series with it: nothing is left that no one could acknowledge
// or that would be served for good.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { corralctl, plugins, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor;
let url: string;

beforeAll(async () => {
  supervisor = await TestSupervisor.start({
    config: { metrics: { listen: "127.0.0.1:0" } },
    plugins: [
      { name: "greeter", binary: plugins.greeter, apiVersion: "1.0" },
      { name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", startTimeout: "3s" },
    ],
  });
  url = await supervisor.metricsUrl();
}, 60_000);

afterAll(async () => {
  await supervisor?.cleanup();
});

const ctl = (...args: string[]) => corralctl(["--config", supervisor.configFile, ...args]);
const seriesOf = async (plugin: string) => (await (await fetch(url)).text()).split("\n").filter((l) => l.includes(`plugin="${plugin}"`));

describe("a plugin removed by a reload", () => {
  it("closes its open alerts and drops its metric series", async () => {
    // A failed deploy raises an alert for echo.
    const failed = await ctl("deploy", "echo", path.join(repoRoot, "build/test-plugins/echo-crash"));
    expect(failed.code).toBe(1);
    const open = JSON.parse((await ctl("alerts", "echo", "--json")).stdout) as { alerts: Array<{ kind: string }> };
    expect(open.alerts.map((a) => a.kind)).toContain("update-failed");
    const before = await seriesOf("echo");
    expect(before.some((l) => l.startsWith("corral_alerts_open{"))).toBe(true);
    expect(before.some((l) => l.startsWith("corral_plugin_transitions_total{"))).toBe(true);

    const config = parse(await readFile(supervisor.configFile, "utf8")) as { plugins: Array<{ name: string }> };
    config.plugins = config.plugins.filter((p) => p.name !== "echo");
    await writeFile(supervisor.configFile, stringify(config));
    const reloaded = await ctl("reload", "--json");
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(JSON.parse(reloaded.stdout)).toMatchObject({ removed: ["echo"] });

    expect(await seriesOf("echo")).toEqual([]);
    expect((await seriesOf("greeter")).some((l) => l.startsWith("corral_plugin_transitions_total{"))).toBe(true);
    // Open alerts of no plugin: closed (only in --all, acknowledged).
    const stillOpen = JSON.parse((await ctl("alerts", "--json")).stdout) as { alerts: Array<{ plugin: string }> };
    expect(stillOpen.alerts.filter((a) => a.plugin === "echo")).toEqual([]);
    const all = JSON.parse((await ctl("alerts", "--all", "--json")).stdout) as { alerts: Array<{ plugin: string; kind: string; acknowledged: boolean }> };
    expect(all.alerts.find((a) => a.plugin === "echo" && a.kind === "update-failed")?.acknowledged).toBe(true);
  }, 60_000);
});
