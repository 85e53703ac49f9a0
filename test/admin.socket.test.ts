// The admin socket's permissions: root only by default; with admin.group,
// that group may connect too (mode 0660). The certificate decides the rest.
import { status, type CallOptions, type ServiceError } from "@grpc/grpc-js";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { connectAdmin, resolveEndpoint } from "../supervisor/admin/client.ts";
import { plugins, TestSupervisor } from "./helpers/supervisor.ts";

const running: TestSupervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.cleanup()));
});

describe("admin socket", () => {
  it("is 0600 root:root without a group", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [] });
    running.push(supervisor);
    const st = await stat(supervisor.adminSocket);
    expect(st.mode & 0o777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([0, 0]);
  });

  it("is 0660 with the configured group, by name or gid", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [], config: { admin: { group: "nogroup" } } });
    running.push(supervisor);
    const st = await stat(supervisor.adminSocket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(65534);
  });

  it("refuses to start with a group that does not exist, naming it", async () => {
    const supervisor = await TestSupervisor.create({ plugins: [], config: { admin: { group: "no-such-group" } } });
    running.push(supervisor);
    await expect(supervisor.start()).rejects.toThrow(/admin\.group: no group named "no-such-group"/);
  });
});

describe("the admin socket's TLS", () => {
  it("is TLS 1.3 only: a TLS 1.2 handshake with valid admin credentials is refused", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [] });
    running.push(supervisor);
    const creds = path.join(supervisor.runtimeDir, "admin-credentials");
    const [ca, cert, key] = await Promise.all(["ca.pem", "cert.pem", "key.pem"].map((f) => readFile(path.join(creds, f))));
    const handshake = (version: tls.SecureVersion) =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ path: supervisor.adminSocket, ca, cert, key, minVersion: version, maxVersion: version, checkServerIdentity: () => undefined, ALPNProtocols: ["h2"] });
        socket.once("secureConnect", () => {
          resolve(String(socket.getProtocol()));
          socket.destroy();
        });
        socket.once("error", (err: NodeJS.ErrnoException) => resolve(String(err.code)));
      });
    expect(await handshake("TLSv1.2")).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
  });
});

describe("admin calls made directly over gRPC", () => {
  it("refuse fields out of range with INVALID_ARGUMENT, and quote no megabytes back", async () => {
    const supervisor = await TestSupervisor.start({ plugins: [{ name: "greeter", binary: plugins.greeter, apiVersion: "1.0" }] });
    running.push(supervisor);
    const admin = await connectAdmin(await resolveEndpoint({ config: supervisor.configFile }));
    try {
      const answer = <Req, Res>(method: (req: Req, options: CallOptions, done: (err: ServiceError | null, res?: Res) => void) => unknown, req: Req) =>
        new Promise<string>((resolve) => method.call(admin, req, { deadline: new Date(Date.now() + 10_000) }, (err) => resolve(err ? `${status[err.code]}: ${err.details}` : "OK")));
      const issue = (ttlMs: string) => answer(admin.IssueCertificate, { role: "admin", name: "brief", ttlMs });
      expect(await issue("1")).toBe("INVALID_ARGUMENT: ttl_ms 1 is not between 60000 (a minute) and 315360000000 (ten years)");
      expect(await issue("18446744073709551615")).toMatch(/^INVALID_ARGUMENT: ttl_ms \d+ is not between/);
      expect(await issue("3600000")).toBe("OK");
      const revoke = (req: Record<string, string>) => answer(admin.RevokeCertificate, req);
      expect(await revoke({ serial: "" })).toBe('INVALID_ARGUMENT: serial "" is not a positive hex number of at most 20 octets');
      expect(await revoke({ serial: "0" })).toBe('INVALID_ARGUMENT: serial "0" is not a positive hex number of at most 20 octets');
      expect(await revoke({ identity: "junk" })).toBe('INVALID_ARGUMENT: "junk" is not a Corral identity (spiffe://<trust-domain>/<plugin|admin|client>/<name>)');
      expect(await revoke({ identity: "spiffe://elsewhere.local/admin/x" })).toBe("INVALID_ARGUMENT: spiffe://elsewhere.local/admin/x is not of this CA's trust domain test.corral.local");
      // A name of megabytes is not quoted back whole (the error would end the connection), and the channel serves on.
      const huge = await answer(admin.Status, { plugins: ["x".repeat(3_000_000), "y"] });
      expect(huge).toBe(`NOT_FOUND: no such plugin: ${"x".repeat(64)}..., y`);
      expect(await answer(admin.Status, { plugins: [] })).toBe("OK");
      // Every error is cut, whatever the call quotes back.
      for (const [method, req] of [
        [admin.Deploy, { plugin: "greeter", binary: `/${"b".repeat(3_000_000)}` }],
        [admin.Rollback, { plugin: "greeter", release: "r".repeat(3_000_000) }],
        [admin.IssueCertificate, { role: "client", name: "n".repeat(3_000_000), plugins: ["greeter"] }],
        [admin.AckAlerts, { plugin: "", kind: "k".repeat(3_000_000) }],
      ] as const) {
        const refused = await answer(method as never, req);
        expect(refused.length).toBeLessThan(5000);
        expect(refused).toMatch(/^(NOT_FOUND|INVALID_ARGUMENT|FAILED_PRECONDITION): /);
      }
      expect(await answer(admin.Status, { plugins: [] })).toBe("OK");
      // Cut where a character's two halves meet: the supervisor answered with half an emoji, and
      // grpc-js's encoding of it threw and ended the supervisor.
      for (const repeat of [3000, 20]) {
        const refused = await answer(admin.Rollback as never, { plugin: "greeter", release: "😀".repeat(repeat) });
        expect(refused).toMatch(/^(NOT_FOUND|INVALID_ARGUMENT|FAILED_PRECONDITION): /);
        expect(refused.toWellFormed()).toBe(refused);
        const named = await answer(admin.Status as never, { plugins: ["a" + "😀".repeat(repeat)] });
        expect(named).toMatch(/^NOT_FOUND: no such plugin: a(😀)+(\.\.\.)?$/u);
      }
      expect(await answer(admin.Status, { plugins: [] })).toBe("OK");
    } finally {
      admin.close();
    }
  }, 30_000);
});
