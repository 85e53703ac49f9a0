// The admin's alert calls: an acknowledgement names a kind that exists, or
// it is refused, rather than acknowledging nothing and reporting success.
import { status } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { healthAdmin } from "../../supervisor/admin/health.ts";
import { AdminError } from "../../supervisor/admin/server.ts";
import { AlertBook } from "../../supervisor/breakers/alerts.ts";
import { DiagnosticsStore } from "../../supervisor/diagnostics/store.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("healthAdmin.ack", () => {
  it("acknowledges alerts of a known kind, and refuses an unknown kind with INVALID_ARGUMENT naming the kinds", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-admin-health-"));
    const alerts = new AlertBook({ history: 10 });
    const admin = healthAdmin({ alerts, diagnostics: new DiagnosticsStore(dir), plugins: () => ["leaky"], instance: () => undefined });
    alerts.raise({ kind: "goroutines", plugin: "leaky", at: 0, message: "too many", evidence: {}, acknowledged: false });

    let refused: unknown;
    try {
      await admin.ack("leaky", "goroutine");
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AdminError);
    expect((refused as AdminError).code).toBe(status.INVALID_ARGUMENT);
    expect((refused as AdminError).message).toBe('no alert kind "goroutine": one of fd-growth, goroutine-rise, heap-growth, goroutines, restart-loop, update-failed, not-served');
    expect(alerts.open("leaky")).toHaveLength(1);

    expect(await admin.ack("leaky", "goroutines")).toBe(1);
    expect(alerts.open("leaky")).toEqual([]);
  });
});

describe("healthAdmin.diagnostics and capture", () => {
  it("refuse an empty plugin name with INVALID_ARGUMENT, where the list gave the diagnostics directory itself as a file", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "corral-admin-health-"));
    const store = new DiagnosticsStore(dir);
    const saved = await store.save("leaky", "leaky-1", "goroutines.txt", Buffer.from("goroutine 1"));
    const admin = healthAdmin({ alerts: new AlertBook({ history: 10 }), diagnostics: store, plugins: () => ["leaky"], instance: () => undefined });
    for (const call of [() => admin.diagnostics(""), () => admin.capture("", 0)]) {
      const refused = await Promise.resolve().then(call).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(AdminError);
      expect((refused as AdminError).code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await admin.diagnostics("leaky")).map((d) => d.path)).toEqual([saved]);
    // Files only: the store's listing of its own directory has none.
    expect(await store.list("")).toEqual([]);
  });
});
