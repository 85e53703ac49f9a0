// A plugin killed (kill -9) under calls from a Node host application
// (the client library's connect()): the calls in flight on the dead
// instance's connection end at once, retried onto what serves next or
// failed with the reason, rather than waiting for the keepalive to give up.
import { loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { execa } from "execa";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type ServiceClientConstructor } from "../client/index.ts";
import type { EchoGrpcClient } from "./helpers/echo.ts";
import { echoProto } from "./helpers/echo.ts";
import { corralctl, repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

let supervisor: TestSupervisor | undefined;
afterEach(async () => {
  await supervisor?.cleanup();
  supervisor = undefined;
});

const Echo = (loadPackageDefinition(loadSync(echoProto, { longs: Number, defaults: true })) as unknown as {
  corral: { test: { echo: { v1: { Echo: ServiceClientConstructor<EchoGrpcClient> } } } };
}).corral.test.echo.v1.Echo;

describe("a plugin killed under a Node client's calls", () => {
  it("ends the calls in flight on the dead connection at once, not at the keepalive's end", async () => {
    supervisor = await TestSupervisor.start({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", restart: { initialBackoff: "100ms", quarantineAfter: 50 } }],
    });
    const s = supervisor;
    const client = connect("echo", Echo, { credentials: await s.clientPems("crash-test", ["echo"]), runtimeDir: s.runtimeDir });
    let running = true;
    /** Each call: when it began and how long it took. */
    const calls: Array<{ start: number; ms: number }> = [];
    const caller = async () => {
      while (running) {
        const start = performance.now();
        await new Promise<ServiceError | null>((done) => client.Unary({ message: "x" }, new Metadata(), { deadline: Date.now() + 8000 }, (err) => done(err)));
        calls.push({ start, ms: performance.now() - start });
      }
    };
    const callers = Array.from({ length: 8 }, caller);
    try {
      // Before the fix, 6 kills in 8 left the callers waiting 2.2-3.4 s (the keepalive's 2 s + 2 s).
      for (let kill = 0; kill < 5; kill++) {
        await new Promise((r) => setTimeout(r, 700));
        const victim = (await s.plugin("echo")).instance!;
        const killedAt = performance.now();
        process.kill(victim.pid, "SIGKILL");
        await s.waitForPlugin("echo", (p) => p.state === "ready" && p.instance?.pid !== victim.pid);
        await new Promise((r) => setTimeout(r, 2500));
        const inFlight = calls.filter((c) => c.start < killedAt && c.start + c.ms > killedAt);
        expect(inFlight.length, `kill ${kill}`).toBeGreaterThan(0);
        expect(Math.max(...inFlight.map((c) => c.start + c.ms - killedAt)), `kill ${kill}`).toBeLessThan(1500);
      }
    } finally {
      running = false;
      await Promise.all(callers);
      client.close();
    }
  }, 90_000);
});

describe("a stable address that cannot be pointed anew (the runtime directory's file system full or read-only)", () => {
  it("keeps the supervisor and its plugins up, says so, and points it once it can", async () => {
    supervisor = await TestSupervisor.start({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0", restart: { initialBackoff: "100ms" } }],
    });
    const s = supervisor;
    const links = path.join(s.runtimeDir, "plugins"); // where the stable addresses are
    await execa("mount", ["--bind", links, links]);
    try {
      await execa("mount", ["-o", "remount,bind,ro", links]);
      const victim = (await s.plugin("echo")).instance!;
      process.kill(victim.pid, "SIGKILL"); // the address is to lead to the refusal now, and to the next instance after
      await s.waitForLog((l) => l.msg === "the stable address could not be pointed anew; it is tried again" && String(l.err).includes("EROFS"));
      await execa("umount", [links]);
      // The next instance serves through the address once the link can be made again.
      const client = connect("echo", Echo, { credentials: await s.clientPems("readonly-test", ["echo"]), runtimeDir: s.runtimeDir });
      try {
        let answered: ServiceError | null = new Error("not called") as ServiceError;
        for (let tries = 0; tries < 50 && answered; tries++) {
          answered = await new Promise<ServiceError | null>((done) => client.Unary({ message: "x" }, new Metadata(), { deadline: Date.now() + 2000 }, (err) => done(err)));
          if (answered) await new Promise((r) => setTimeout(r, 200));
        }
        expect(answered).toBeNull();
      } finally {
        client.close();
      }
      // It ended the supervisor (exit 70, a bug no code handled) with every plugin.
      expect(s.logs.filter((l) => l.level === "fatal")).toEqual([]);
      expect((await s.plugin("echo")).state).toBe("ready");
    } finally {
      await execa("umount", ["-l", links], { reject: false });
    }
  }, 60_000);
});

describe("a refusal server whose socket was removed", () => {
  it("listens again once the address is to refuse, and its callers are told why", async () => {
    supervisor = await TestSupervisor.start({
      plugins: [{ name: "echo", binary: path.join(repoRoot, "build/test-plugins/echo"), apiVersion: "1.0" }],
    });
    const s = supervisor;
    await rm(path.join(s.runtimeDir, "refusals", "echo.sock")); // by hand, or a cleaner of /tmp
    expect((await corralctl(["--config", s.configFile, "stop", "echo"])).code).toBe(0);
    await s.waitForLog((l) => l.msg === "the refusal server's socket was gone: it listens again");
    const client = connect("echo", Echo, { credentials: await s.clientPems("refusal-gone", ["echo"]), runtimeDir: s.runtimeDir, retry: false });
    try {
      // Until now: connect ENOENT, said nowhere, whenever the plugin was down.
      let refused: ServiceError | null = null;
      for (let tries = 0; tries < 30; tries++) {
        refused = await new Promise<ServiceError | null>((done) => client.Unary({ message: "x" }, new Metadata(), { deadline: Date.now() + 2000 }, (err) => done(err)));
        if (refused?.details.includes("plugin echo is stopped")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused?.code).toBe(14); // UNAVAILABLE
      expect(refused?.details).toContain("plugin echo is stopped");
    } finally {
      client.close();
    }
  }, 60_000);
});
