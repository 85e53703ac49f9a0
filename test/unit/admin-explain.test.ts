// corralctl's reading of a deadline that passed: a daemon that had the call
// and is slow with it "did not answer in time" (exit 1); one it never reached
// is "cannot reach" (exit 3). Told apart by the errors grpc-js really gives,
// from a server that holds a call and from one that never finishes a TLS
// handshake, so neither case hangs on how fast the machine is.
import {
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServiceDefinition,
  type ServiceError,
} from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { explain } from "../../supervisor/admin/client.ts";
import { ExitCode } from "../../supervisor/cli/exit-codes.ts";

const bytes = (b: Buffer) => b;
const service: ServiceDefinition = {
  Hold: { path: "/test.Slow/Hold", requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
};
const SlowClient = makeGenericClientConstructor(service, "Slow");

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "corral-explain-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Calls Hold with a deadline of `ms` and resolves the error it ends with. */
function holdCall(client: InstanceType<typeof SlowClient>, ms: number): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest("/test.Slow/Hold", bytes, bytes, Buffer.from("x"), { deadline: Date.now() + ms }, (err: ServiceError | null) =>
      err ? resolve(err) : reject(new Error("the call was answered")),
    );
  });
}

describe("explain, for a deadline that passed", () => {
  it("says a daemon that had the call did not answer in time, and exits 1", async () => {
    const dir = await tempDir();
    const socket = path.join(dir, "admin.sock");
    const held: Array<sendUnaryData<Buffer>> = [];
    const server = new Server();
    server.addService(service, { Hold: (_call: unknown, done: sendUnaryData<Buffer>) => held.push(done) });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    cleanups.push(() => held.forEach((done) => done(null, Buffer.alloc(0))));
    const client = new SlowClient(`unix:${socket}`, credentials.createInsecure());
    cleanups.push(() => client.close());
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));

    const err = await holdCall(client, 200);
    expect(held).toHaveLength(1);
    const told = explain(err, { socket, credentials: path.join(dir, "admin-credentials") });
    expect(told.exitCode).toBe(ExitCode.failed);
    expect(told.message).toMatch(new RegExp(`^the Corral daemon at ${socket} did not answer in time \\(it may still be carrying the request out; corralctl status shows where it is\\): Deadline exceeded`));
  });

  it("says a daemon whose TLS handshake never ended cannot be reached, and exits 3", async () => {
    const dir = await tempDir();
    const socket = path.join(dir, "admin.sock");
    // Accepts, then says nothing: the handshake never ends, no call is sent.
    const accepted: net.Socket[] = [];
    const silent = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    cleanups.push(() => accepted.forEach((s) => s.destroy()));
    const client = new SlowClient(`unix:${socket}`, credentials.createSsl());
    cleanups.push(() => client.close());

    const err = await holdCall(client, 200);
    expect(accepted.length).toBeGreaterThan(0);
    const told = explain(err, { socket, credentials: path.join(dir, "admin-credentials") });
    expect(told.exitCode).toBe(ExitCode.unreachable);
    expect(told.message).toMatch(new RegExp(`^cannot reach the Corral daemon at ${socket}: Deadline exceeded`));
  });
});
