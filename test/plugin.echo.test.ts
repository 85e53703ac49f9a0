// The echo test plugin and its client helper (test/helpers/echo.ts) end to
// end under a real supervisor, on the instance's own socket: each reply names
// the release that answered, and deadlines, cancellation, metadata, status
// details, streams and large messages pass through. A copy made by
// makeRelease runs as a second plugin and names its own release.
import type { ChannelCredentials } from "@grpc/grpc-js";
import { status as Status } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoClient, echoErrorDomain, makeRelease, sha256File, statusDetails, type EchoClient } from "./helpers/echo.ts";
import { scopedCredentials } from "./helpers/greeter.ts";
import { repoRoot, TestSupervisor } from "./helpers/supervisor.ts";

const echoBinary = path.join(repoRoot, "build/test-plugins/echo");
const trustDomain = "test.corral.local";

let supervisor: TestSupervisor;
let copyDir: string;
let copyBinary: string;
const clients: EchoClient[] = [];

beforeAll(async () => {
  copyDir = await mkdtemp(path.join(tmpdir(), "corral-echo-release-"));
  copyBinary = await makeRelease(echoBinary, copyDir, "b");
  supervisor = await TestSupervisor.start({
    plugins: [
      { name: "echo", binary: echoBinary, apiVersion: "1.0" },
      { name: "echo-b", binary: copyBinary, apiVersion: "1.0" },
    ],
  });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await supervisor?.cleanup();
  if (copyDir) await rm(copyDir, { recursive: true, force: true });
});

/** A client on the plugin's current instance socket, and that instance's status. */
async function connect(name: string) {
  const status = await supervisor.plugin(name);
  expect(status.state).toBe("ready");
  const instance = status.instance!;
  const socket = path.join(supervisor.runtimeDir, "instances", instance.id, "plugin.sock");
  const creds: ChannelCredentials = await scopedCredentials(supervisor.stateDir, trustDomain, name);
  const client = echoClient(socket, creds);
  clients.push(client);
  return { client, instance };
}

/** Polls until the plugin's count of cancelled calls reaches `atLeast`. */
async function cancelledReaches(client: EchoClient, atLeast: number, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await client.cancelled();
    if (n >= atLeast || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the echo test plugin", () => {
  it("names the release, instance and process that answered", async () => {
    const { client, instance } = await connect("echo");
    const { reply } = await client.unary({ message: "hi", replySize: 16 });
    expect(reply.message).toBe("hi");
    expect(reply.release).toBe(await sha256File(echoBinary));
    expect(reply.release).toBe(instance.release);
    expect(reply.instance).toBe(instance.id);
    expect(reply.pid).toBeGreaterThan(0);
    expect(reply.payload).toHaveLength(16);
    expect(reply.receivedBytes).toBe(0);
  });

  it("echoes x-echo-* metadata as response headers and trailers, and nothing else", async () => {
    const { client } = await connect("echo");
    const { headers, trailers } = await client.unary(
      { message: "md" },
      { metadata: { "x-echo-one": "1", "x-echo-many": ["a", "b"], "x-echo-raw-bin": Buffer.from([0, 1, 2]), "x-other": "no" } },
    );
    for (const md of [headers, trailers]) {
      expect(md.get("x-echo-one")).toEqual(["1"]);
      // Node's HTTP/2 joins a repeated header's values into one, as HTTP allows.
      expect(md.get("x-echo-many").join(", ")).toBe("a, b");
      expect(md.get("x-echo-raw-bin")).toEqual([Buffer.from([0, 1, 2])]);
      expect(md.get("x-other")).toEqual([]);
    }
  });

  it("fails a call past its deadline with DEADLINE_EXCEEDED, and counts it as cancelled on the plugin's side", async () => {
    const { client } = await connect("echo");
    const before = await client.cancelled();
    await expect(client.unary({ message: "slow", sleepMs: 5000 }, { deadlineMs: 200 })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(await cancelledReaches(client, before + 1)).toBe(before + 1);

    // A client's cancellation reaches the plugin too.
    const abort = new AbortController();
    const call = client.unary({ message: "slow", sleepMs: 5000 }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    await expect(call).rejects.toMatchObject({ code: Status.CANCELLED });
    expect(await cancelledReaches(client, before + 2)).toBe(before + 2);

    // A call that ends in time is not counted.
    await client.unary({ message: "quick", sleepMs: 50 });
    expect(await client.cancelled()).toBe(before + 2);
  });

  it("fails with the requested code and message, with a google.rpc.ErrorInfo detail", async () => {
    const { client, instance } = await connect("echo");
    const err = await client.fail({ code: Status.FAILED_PRECONDITION, message: "not now", detailReason: "BUSY" });
    expect(err.code).toBe(Status.FAILED_PRECONDITION);
    expect(err.details).toBe("not now");
    const details = statusDetails(err)!;
    expect(details).toMatchObject({ code: Status.FAILED_PRECONDITION, message: "not now" });
    expect(details.details).toHaveLength(1);
    expect(details.details[0]!.errorInfo).toEqual({
      reason: "BUSY",
      domain: echoErrorDomain,
      metadata: { release: instance.release, instance: instance.id, pid: expect.stringMatching(/^\d+$/) },
    });

    const plain = await client.fail({ code: Status.NOT_FOUND, message: "gone" });
    expect(plain).toMatchObject({ code: Status.NOT_FOUND, details: "gone" });
    expect(statusDetails(plain)).toBeUndefined();
  });

  it("streams: server, client and bidi", async () => {
    const { client, instance } = await connect("echo");
    const server = await client.serverStream({ message: "tick", count: 4, intervalMs: 20, replySize: 3 }, { metadata: { "x-echo-s": "s" } });
    expect(server.replies.map((r) => [r.message, r.seq, r.payload.length, r.release])).toEqual(
      [0, 1, 2, 3].map((i) => ["tick", i, 3, instance.release]),
    );
    expect(server.headers.get("x-echo-s")).toEqual(["s"]);
    expect(server.trailers.get("x-echo-s")).toEqual(["s"]);

    const up = await client.clientStream([
      { message: "a", payload: Buffer.alloc(10) },
      { message: "b" },
      { message: "c", payload: Buffer.alloc(5) },
    ]);
    expect(up.reply).toMatchObject({ message: "a,b,c", seq: 3, receivedBytes: 15, release: instance.release });

    const both = await client.bidi([{ message: "x" }, { message: "y", sleepMs: 20 }, { message: "z", payload: Buffer.alloc(7) }]);
    expect(both.replies.map((r) => [r.message, r.seq, r.receivedBytes])).toEqual([
      ["x", 0, 0],
      ["y", 1, 0],
      ["z", 2, 7],
    ]);
    expect(new Set(both.replies.map((r) => r.release))).toEqual(new Set([instance.release]));
  });

  it("passes a 3 MiB message each way", async () => {
    const { client } = await connect("echo");
    const size = 3 * 1024 * 1024;
    const { reply } = await client.unary({ message: "big", payload: Buffer.alloc(size, 7), replySize: size });
    expect(reply.receivedBytes).toBe(size);
    expect(reply.payload).toHaveLength(size);
  });

  it("a makeRelease copy is another release that behaves the same and names itself", async () => {
    const original = await sha256File(echoBinary);
    const copy = await sha256File(copyBinary);
    expect(copy).not.toBe(original);
    const { client, instance } = await connect("echo-b");
    expect(instance.release).toBe(copy);
    const { reply } = await client.unary({ message: "from b" });
    expect(reply).toMatchObject({ message: "from b", release: copy, instance: instance.id });
  });
});
