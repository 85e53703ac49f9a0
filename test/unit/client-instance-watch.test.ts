// The client library's watch on the instance each connection reached,
// against a temp directory laid out as a runtime directory: a stable
// address linking to an instance's data socket, which the supervisor
// removes when the instance dies. (End to end, with kill -9, in
// test/dataplane.crash.test.ts.)
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, mkdirSync } from "node:fs";
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

/** A stable address linking to the data socket in instance `id`'s directory (a plain file stands in for it). */
function instance(id: string): { address: string; socket: string; instanceDir: string } {
  const instanceDir = path.join(dir, id);
  mkdirSync(instanceDir);
  const socket = path.join(instanceDir, "data.sock");
  writeFileSync(socket, "");
  const address = path.join(dir, `address-${id}`);
  symlinkSync(socket, address);
  return { address, socket, instanceDir };
}

const settle = () => new Promise((r) => setTimeout(r, INSTANCE_CHECK_MS * 2 + 50));

describe("watchInstance", () => {
  it("closes a connection once the instance it reached is gone (its directory removed), and only that one", async () => {
    const a = instance("a");
    const b = instance("b");
    const toA = new FakeConnection();
    const toB = new FakeConnection();
    watchInstance(toA as unknown as TLSSocket, a.address);
    watchInstance(toB as unknown as TLSSocket, b.address);
    await settle();
    expect([toA.destroyed, toB.destroyed]).toEqual([false, false]);
    rmSync(a.instanceDir, { recursive: true }); // instance a died: the supervisor removed its directory
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
    symlinkSync(b.socket, a.address); // the address now leads to b
    unlinkSync(a.socket); // a drains: its listener closed (which removes the socket file), its calls in flight finishing
    await settle();
    expect(connection.destroyed).toBe(false);
    rmSync(a.instanceDir, { recursive: true }); // a's drain over, it exited
    await settle();
    expect(connection.destroyed).toBe(true);
  });
});
