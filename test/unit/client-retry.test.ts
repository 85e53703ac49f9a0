// The Node client's retry policy (client/index.ts), against a local grpc-js
// server whose one method does its work and then fails UNAVAILABLE: how many
// times the work is done is how many attempts were made.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelOptions, type ConnectOptions } from "../../client/index.ts";

const identity = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = {
  path: "/test.Work/Do",
  requestStream: false,
  responseStream: false,
  requestSerialize: identity.serialize,
  requestDeserialize: identity.deserialize,
  responseSerialize: identity.serialize,
  responseDeserialize: identity.deserialize,
};

let dir: string;
let server: grpc.Server;
let address: string;
let done = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-client-retry-"));
  address = `unix://${path.join(dir, "s.sock")}`;
  server = new grpc.Server();
  server.addService({ Do: method }, {
    Do: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      done += 1; // the work, begun, then the plugin goes away
      callback({ code: grpc.status.UNAVAILABLE, details: "going away" });
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** How many times the work was done for one call made with `retry`. */
async function attempts(retry: ConnectOptions["retry"]): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions(retry === undefined ? {} : { retry }));
  const before = done;
  try {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(method.path, identity.serialize, identity.deserialize, Buffer.from("x"), (e) => resolve(e)),
    );
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
  } finally {
    client.close();
  }
  return done - before;
}

describe("the Node client's retry policy", () => {
  it("makes as many attempts as asked, 1 being none again, and at most 5", async () => {
    expect(await attempts(false)).toBe(1);
    expect(await attempts({ maxAttempts: 1 })).toBe(1);
    expect(await attempts({ maxAttempts: 2 })).toBe(2);
    expect(await attempts(undefined)).toBe(3);
    expect(await attempts({ maxAttempts: 9 })).toBe(5);
  });
});
