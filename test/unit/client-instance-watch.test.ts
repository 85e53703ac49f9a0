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

/** A stable address linking to instance `id`'s data socket (a plain file stands in for it). */
function instance(id: string): { address: string; socket: string } {
  mkdirSync(path.join(dir, id));
  const socket = path.join(dir, id, "data.sock");
  writeFileSync(socket, "");
  const address = path.join(dir, `address-${id}`);
  symlinkSync(socket, address);
  return { address, socket };
}

const settle = () => new Promise((r) => setTimeout(r, INSTANCE_CHECK_MS * 2 + 50));

describe("watchInstance", () => {
  it("closes a connection once the data socket it reached is gone, and only that one", async () => {
    const a = instance("a");
    const b = instance("b");
    const toA = new FakeConnection();
    const toB = new FakeConnection();
    watchInstance(toA as unknown as TLSSocket, a.address);
    watchInstance(toB as unknown as TLSSocket, b.address);
    await settle();
    expect([toA.destroyed, toB.destroyed]).toEqual([false, false]);
    unlinkSync(a.socket); // instance a died: its directory removed
    await settle();
    expect([toA.destroyed, toB.destroyed]).toEqual([true, false]);
    toB.destroy();
  });

  it("follows the link as it was at the connect: a later swap of the address (a hot update) closes nothing", async () => {
    const a = instance("a");
    const b = instance("b");
    const connection = new FakeConnection();
    watchInstance(connection as unknown as TLSSocket, a.address);
    unlinkSync(a.address);
    symlinkSync(b.socket, a.address); // the address now leads to b; a drains, its socket still there
    await settle();
    expect(connection.destroyed).toBe(false);
    unlinkSync(a.socket); // a's drain over, it exited
    await settle();
    expect(connection.destroyed).toBe(true);
  });
});
