// A plugin removed by a reload while an operator's Start opens its stable
// address (not served at the supervisor's start: its TCP port was taken).
// What that open makes is closed, not left behind for a plugin no longer in
// the set: its refusal socket, its link, its TCP port (which the plugin,
// added back, could then not listen on) and its certificate's renewal.
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { corralctl, plugins, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor | undefined;
const held: net.Server[] = [];
afterEach(async () => {
  await supervisor?.cleanup();
  supervisor = undefined;
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
});

type ConfigDoc = { plugins: Array<{ name: string }> } & Record<string, unknown>;

async function hold(port: number): Promise<net.Server> {
  const server = net.createServer().listen(port, "127.0.0.1");
  await once(server, "listening");
  held.push(server);
  return server;
}

async function release(server: net.Server): Promise<void> {
  held.splice(held.indexOf(server), 1);
  await new Promise((r) => server.close(r));
}

/** Whether something may listen on `port` now. */
async function free(port: number): Promise<boolean> {
  const server = net.createServer().listen(port, "127.0.0.1");
  try {
    await once(server, "listening");
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe("a reload that removes a plugin while a Start opens its address", () => {
  it("closes what the Start opened: no refusal socket, link or TCP port is left, and the plugin can be added back", async () => {
    const probe = await hold(0);
    const port = (probe.address() as net.AddressInfo).port;
    supervisor = await TestSupervisor.create({
      plugins: [
        { name: "bystander", binary: plugins.greeter, apiVersion: "1.0" },
        { name: "greeter", binary: plugins.greeter, apiVersion: "1.0", dataPlane: { tcp: `127.0.0.1:${port}` } },
      ],
    });
    const sup = supervisor;
    const withGreeter = await readFile(sup.configFile, "utf8");
    const doc = parse(withGreeter) as ConfigDoc;
    doc.plugins = doc.plugins.filter((p) => p.name !== "greeter");
    const withoutGreeter = stringify(doc);
    const refusal = path.join(sup.runtimeDir, "refusals", "greeter.sock");
    const link = path.join(sup.runtimeDir, "plugins", "greeter.sock");

    // The Start's open and the removal overlap at some of these offsets (ms of the Start after the Reload).
    let taken = probe;
    const outcomes: string[] = [];
    for (const offset of [-6, -3, 0, 2, 4, 8]) {
      await writeFile(sup.configFile, withGreeter);
      await sup.start();
      expect((await sup.plugin("greeter")).state, "not served: its port is taken").toBe("stopped");
      await release(taken);
      await writeFile(sup.configFile, withoutGreeter);

      const admin = await connectAdmin(await resolveEndpoint({ config: sup.configFile }));
      try {
        const deadline = () => ({ deadline: new Date(Date.now() + 20_000) });
        const answer = (rpc: string, resolve: (outcome: string) => void) => (err: { code?: number; details?: string } | null) =>
          resolve(err ? `${rpc} ${err.code}: ${err.details}` : `${rpc} ok`);
        const call = (rpc: "Start" | "Reload") =>
          new Promise<string>((resolve) =>
            rpc === "Start" ? admin.Start({ plugin: "greeter" }, deadline(), answer(rpc, resolve)) : admin.Reload({}, deadline(), answer(rpc, resolve)),
          );
        const later = (ms: number, rpc: "Start" | "Reload") => new Promise<string>((r) => setTimeout(() => r(call(rpc)), ms));
        outcomes.push(...(await Promise.all([later(Math.max(0, -offset), "Reload"), later(Math.max(0, offset), "Start")])));
      } finally {
        admin.close();
      }
      expect(existsSync(refusal), `offset ${offset}: the removed plugin's refusal socket`).toBe(false);
      expect(existsSync(link), `offset ${offset}: the removed plugin's stable address`).toBe(false);
      expect(await free(port), `offset ${offset}: the removed plugin's TCP port`).toBe(true);
      // Refused as the daemon's answer (FAILED_PRECONDITION), never INTERNAL.
      expect(outcomes.filter((o) => o.startsWith("Start 13"))).toEqual([]);

      // Added back: it listens on its port again.
      await writeFile(sup.configFile, withGreeter);
      const added = await corralctl(["--config", sup.configFile, "reload", "--json"]);
      expect(added.code, added.stdout + added.stderr).toBe(0);
      expect((await sup.plugin("greeter")).tcpAddress).toBe(`127.0.0.1:${port}`);
      await sup.stop("SIGTERM");
      taken = await hold(port);
    }
  }, 180_000);
});
