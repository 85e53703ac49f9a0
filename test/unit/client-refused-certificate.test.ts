// The Node client's mapping of a refused certificate (client/index.ts,
// refusedCertificate): only a call that got no connection is one; a
// plugin that passes on a TLS refusal of its own backend is answering.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedCertificate } from "../../client/index.ts";

const identity = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = { path: "/test.Work/Do", requestStream: false, responseStream: false, requestSerialize: identity.serialize, requestDeserialize: identity.deserialize, responseSerialize: identity.serialize, responseDeserialize: identity.deserialize };
// What OpenSSL says of an alert, as a plugin's backend client may pass it on.
const backendRefusal = "the backend refused us: error:0A000412:SSL routines::sslv3 alert bad certificate";

let dir: string;
let server: grpc.Server;
let address: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-client-refused-"));
  address = `unix://${path.join(dir, "s.sock")}`;
  server = new grpc.Server();
  server.addService({ Do: method }, {
    Do: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback({ code: grpc.status.UNAVAILABLE, details: backendRefusal }),
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe("the Node client's refused-certificate mapping", () => {
  it("leaves a plugin's own UNAVAILABLE that quotes a TLS alert alone", async () => {
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), { interceptors: [refusedCertificate] });
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(method.path, identity.serialize, identity.deserialize, Buffer.from("x"), (e) => resolve(e)),
      );
      expect([err?.code, err?.details]).toEqual([grpc.status.UNAVAILABLE, backendRefusal]);
    } finally {
      client.close();
    }
  });
});
