// Publishing an instance's data socket (dataplane/published-socket.ts) on
// real sockets in a temp directory, and the stable address that leads to
// it: what the plugin puts in its directory after the publication changes
// nothing, and what it put there before is refused, with a reason callers
// see. (End to end, with a plugin that plants a symlink, in
// test/supervisor.instance-dir.test.ts.)
import { Client, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { lstat, readlink, rename, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { PluginRefusal } from "../../supervisor/dataplane/plugin-refusal.ts";
import { publishSocket } from "../../supervisor/dataplane/published-socket.ts";
import { StableAddress } from "../../supervisor/dataplane/stable-address.ts";
import { issueClientLeaf } from "../../supervisor/identity/index.ts";
import { greeterRefusalServer, TEST_TRUST_DOMAIN, useTempCa } from "../helpers/temp-ca.ts";
import { NotASocket } from "../../supervisor/socket-inode.ts";

const TD = TEST_TRUST_DOMAIN;
const HOUR = 3600_000;
const t = useTempCa("corral-published-");
const cleanups = t.cleanups;

/** A stable address at <dir>/<name>.sock, refusing through a refusal server of its own until told an instance serves. */
async function stableAddress(name: string): Promise<StableAddress> {
  const refusal = await greeterRefusalServer(t, `${name}-refusal`);
  const log = pino({ level: "silent" });
  const address = new StableAddress({ path: path.join(t.dir, `${name}.sock`), refusal: new PluginRefusal(refusal, log), log, reason: refusal.reason });
  cleanups.push(() => address.close()); // the refusal server's too
  return address;
}

/** A listening socket at `file` that says `name` to whoever connects. */
async function server(file: string, name: string): Promise<net.Server> {
  const s = net.createServer((c) => c.end(name));
  await new Promise<void>((resolve) => s.listen(file, resolve));
  cleanups.push(() => new Promise((resolve) => s.close(resolve)));
  return s;
}

/** What the socket at `file` says to a connection. */
function greeting(file: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    let said = "";
    c.on("data", (d) => (said += String(d)));
    c.on("end", () => resolve(said));
    c.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("publishSocket", () => {
  it("links the socket itself: what the plugin then puts at its name leads nowhere new", async () => {
    const own = path.join(t.dir, "a-data.sock");
    const published = path.join(t.dir, "a.data.sock");
    await server(own, "plugin");
    await server(path.join(t.dir, "victim.sock"), "victim");
    publishSocket(own, published);
    expect((await lstat(published)).isSocket()).toBe(true);
    expect(await greeting(published)).toBe("plugin");
    await rename(own, path.join(t.dir, "a-real.sock"));
    await symlink(path.join(t.dir, "victim.sock"), own);
    expect(await greeting(published)).toBe("plugin");
  });

  it("refuses a symlink or a file in the socket's place, and publishes nothing", async () => {
    await server(path.join(t.dir, "victim2.sock"), "victim");
    const linked = path.join(t.dir, "b-data.sock");
    await symlink(path.join(t.dir, "victim2.sock"), linked);
    const published = path.join(t.dir, "b.data.sock");
    const refused = (() => {
      try {
        publishSocket(linked, published);
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(NotASocket);
    expect((refused as NotASocket).symlink).toBe(true);
    expect((refused as Error).message).toBe(`${linked} is not a socket but a symlink: not followed`);
    const file = path.join(t.dir, "c-data.sock");
    await writeFile(file, "");
    expect(() => publishSocket(file, path.join(t.dir, "c.data.sock"))).toThrow(`${file} is not a socket: not followed`);
    await expect(lstat(published)).rejects.toThrow(/ENOENT/);
    await expect(lstat(path.join(t.dir, "c.data.sock"))).rejects.toThrow(/ENOENT/);
  });

  it("replaces an earlier publication whole: a park's new socket is the one reached", async () => {
    const own = path.join(t.dir, "d-data.sock");
    const published = path.join(t.dir, "d.data.sock");
    const first = await server(own, "first");
    publishSocket(own, published);
    await new Promise((resolve) => first.close(resolve)); // parked: Node removes the socket file, as go-shim does
    await server(own, "second"); // unparked: a new socket
    publishSocket(own, published);
    expect(await greeting(published)).toBe("second");
  });
});

describe("StableAddress", () => {
  it("refuses calls, saying why, when the instance's data socket cannot be published; and leads to it once it can", async () => {
    const address = await stableAddress("greeter");
    let planted = true;
    const own = path.join(t.dir, "e-data.sock");
    const published = path.join(t.dir, "e.data.sock");
    const instance = {
      id: "e",
      publishDataSocket: () => {
        if (planted) throw new NotASocket(`${own} is not a socket but a symlink: not followed`, true);
        publishSocket(own, published);
        return published;
      },
    };
    address.serve(instance);
    expect(address.route).toEqual({ kind: "refused", reason: "the plugin put something else in the place of its data socket: not served" });
    expect(await readlink(address.path)).toBe(path.join(t.dir, "greeter-refusal.sock"));

    const app = await issueClientLeaf(t.ca, { trustDomain: TD, ttlMs: HOUR }, "app", ["greeter"]);
    const creds = credentials.createSsl(Buffer.from(t.ca.certPem), Buffer.from(app.keyPem), Buffer.from(app.certPem), { checkServerIdentity: () => undefined });
    const client = new Client(`unix://${address.path}`, creds);
    cleanups.push(() => client.close());
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest("/greeter.v1.Greeter/Greet", (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (e) => resolve(e)),
    );
    expect([err?.code, err?.details]).toEqual([status.UNAVAILABLE, "the plugin put something else in the place of its data socket: not served"]);

    // A breaker's hold and release publish again: now it can.
    await server(own, "plugin");
    planted = false;
    address.hold("e", "held");
    address.release("e");
    expect(address.route).toEqual({ kind: "instance", id: "e", socket: published });
    expect(await readlink(address.path)).toBe(published);
    expect(await greeting(address.path)).toBe("plugin");
  });

  it("tries a publication that failed for a passing reason (out of fds) again by itself: nothing else would while the instance serves on", async () => {
    const address = await stableAddress("greeter2");
    const own = path.join(t.dir, "f-data.sock");
    const published = path.join(t.dir, "f.data.sock");
    await server(own, "plugin");
    let failures = 2;
    address.serve({
      id: "f",
      publishDataSocket: () => {
        if (failures-- > 0) throw Object.assign(new Error("EMFILE: too many open files, open"), { code: "EMFILE" });
        publishSocket(own, published);
        return published;
      },
    });
    expect(address.route).toEqual({ kind: "refused", reason: "the plugin's data socket cannot be served (EMFILE)" });
    // Tried again after 100 ms, then 200 ms.
    const deadline = Date.now() + 5000;
    while (address.route.kind !== "instance" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(address.route).toEqual({ kind: "instance", id: "f", socket: published });
    expect(failures).toBe(-1);
    expect(await greeting(address.path)).toBe("plugin");
  });
});
