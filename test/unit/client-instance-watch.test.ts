// The client library's watch on the instance each connection reached,
// against a temp directory laid out as a runtime directory: a stable
// address linking to an instance's published data socket (a hard link of
// the socket in its instance directory), which the supervisor removes when
// the instance dies. (End to end, with kill -9, in
// test/dataplane.crash.test.ts.)
import { EventEmitter } from "node:events";
import { linkSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INSTANCE_CHECK_MS, watchInstance } from "../../client/instance-watch.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "corral-instance-watch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A connection as the watch sees it: destroyed or not. */
class FakeConnection extends EventEmitter {
  destroyed = false;
  destroy() {
    this.destroyed = true;
    return this;
  }
}

/**
 * A stable address linking to instance `id`'s data socket as published, in
 * a directory of the supervisor's beside the plugin's own (plain files
 * stand in for the sockets); with `layout: "own"`, as a supervisor before
 * that published it: in the plugin's own directory.
 */
function instance(id: string, layout: "published" | "own" = "published"): { address: string; socket: string; published: string; dirs: string[] } {
  const instanceDir = path.join(dir, id);
  mkdirSync(instanceDir);
  const socket = path.join(instanceDir, "data.sock");
  writeFileSync(socket, "");
  const dirs = [instanceDir];
  let published = socket;
  if (layout === "published") {
    mkdirSync(`${instanceDir}.d`);
    published = path.join(`${instanceDir}.d`, "data.sock");
    linkSync(socket, published);
    dirs.push(`${instanceDir}.d`);
  }
  const address = path.join(dir, `address-${id}`);
  symlinkSync(published, address);
  return { address, socket, published, dirs };
}

/** The supervisor's clean-up of a dead instance: its directories. */
function remove(i: { dirs: string[] }): void {
  for (const d of i.dirs) rmSync(d, { recursive: true });
}

const settle = () => new Promise((r) => setTimeout(r, INSTANCE_CHECK_MS * 2 + 50));

describe("watchInstance", () => {
  it("closes a connection once the instance it reached is gone (its directories removed), and only that one", async () => {
    const a = instance("a");
    const b = instance("b");
    const toA = new FakeConnection();
    const toB = new FakeConnection();
    watchInstance(toA as unknown as TLSSocket, a.address);
    watchInstance(toB as unknown as TLSSocket, b.address);
    await settle();
    expect([toA.destroyed, toB.destroyed]).toEqual([false, false]);
    remove(a); // instance a died
    await settle();
    expect([toA.destroyed, toB.destroyed]).toEqual([true, false]);
    toB.destroy();
  });

  it("follows the link as it was at the connect: a hot update (the address swapped, the old instance draining) closes nothing until the old instance is gone", async () => {
    const a = instance("a");
    const b = instance("b");
    const connection = new FakeConnection();
    watchInstance(connection as unknown as TLSSocket, a.address);
    unlinkSync(a.address);
    symlinkSync(b.published, a.address); // the address now leads to b
    unlinkSync(a.socket); // a drains: its listener closed (which removes its socket file), its calls in flight finishing
    await settle();
    expect(connection.destroyed).toBe(false);
    remove(a); // a's drain over, it exited
    await settle();
    expect(connection.destroyed).toBe(true);
  });

  it("watches, from a supervisor that published the data socket in the plugin's own directory, that directory alike", async () => {
    const a = instance("a", "own");
    const b = instance("b", "own");
    const connection = new FakeConnection();
    watchInstance(connection as unknown as TLSSocket, a.address);
    unlinkSync(a.address);
    symlinkSync(b.socket, a.address);
    unlinkSync(a.socket); // a drains
    await settle();
    expect(connection.destroyed).toBe(false);
    remove(a);
    await settle();
    expect(connection.destroyed).toBe(true);
  });
});
