// The supervisor's Control client against a server that answers as a
// hostile plugin could, over a real gRPC connection on a Unix socket: its
// replies are held to their bounds before they are decoded
// (supervisor/plugin/control-replies.ts), so 16 MB of empty CallStats
// entries, 8.4 million objects once decoded, cost nothing. (A server of
// raw bytes: go-shim cannot be made to send these.)
import { credentials, Server, ServerCredentials, status, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundedControlClient, CONTROL_MAX_REPLY_BYTES, REFUSED_REPLY, refusedReply } from "../../supervisor/plugin/control-replies.ts";
import { protos } from "../../supervisor/rpc/protos.ts";

let dir: string;
let server: Server;
let target: string;
/** What each method answers next, as bytes on the wire. */
const answers: Record<string, Buffer> = {};

/** A field of length-delimited type: its tag, length and bytes. */
function field(number: number, bytes: Buffer): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "corral-control-replies-"));
  target = `unix://${path.join(dir, "plugin.sock")}`;
  const service = protos().control.corral.plugin.v1.Control.service;
  // The same paths, with replies written as they are.
  const raw = Object.fromEntries(Object.entries(service).map(([name, call]) => [name, { ...call, responseSerialize: (b: Buffer) => b }]));
  const implementation: UntypedServiceImplementation = {
    CallStats: (_call: unknown, callback: (err: null, reply: Buffer) => void) => callback(null, answers.CallStats!),
    Handshake: (_call: unknown, callback: (err: null, reply: Buffer) => void) => callback(null, answers.Handshake!),
    Stats: (call: { write(b: Buffer): void; end(): void }) => {
      call.write(answers.Stats!);
      call.end();
    },
  };
  server = new Server({ "grpc.max_send_message_length": 64 * 1024 * 1024 });
  server.addService(raw as typeof service, implementation);
  await new Promise<void>((resolve, reject) => server.bindAsync(target, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

function client() {
  return new (boundedControlClient())(target, credentials.createInsecure(), { "grpc.max_receive_message_length": CONTROL_MAX_REPLY_BYTES });
}

function callStats(): Promise<{ err: ServiceError | null; methods?: unknown[] }> {
  const c = client();
  return new Promise((resolve) =>
    c.CallStats({}, (err, reply) => {
      c.close();
      resolve({ err, methods: reply?.methods });
    }),
  );
}

describe("the Control client's replies", () => {
  it("are decoded as ever within their bounds", async () => {
    answers.CallStats = Buffer.concat([field(1, field(1, Buffer.from("/a.v1.A/Get"))), field(1, field(1, Buffer.from("/a.v1.A/Put")))]);
    const { err, methods } = await callStats();
    expect(err).toBeNull();
    expect((methods as { method: string }[]).map((m) => m.method)).toEqual(["/a.v1.A/Get", "/a.v1.A/Put"]);
  });

  it("are refused unread past the entries a reply may have: 2 MB of empty CallStats entries cost no heap", async () => {
    answers.CallStats = Buffer.alloc(2_000_000, Buffer.from([0x0a, 0x00])); // 1 000 000 empty MethodCalls
    const heapBefore = process.memoryUsage().heapUsed;
    const { err } = await callStats();
    expect(err?.code).toBe(status.INTERNAL);
    expect(err?.details).toContain(`${REFUSED_REPLY} CallStats answered more than 10000 entries of field 1`);
    // Decoded, each empty entry is an object with its fields filled in: some 300 MB here.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);
  });

  it("are refused unread past what an entry may hold: a method's codes, its buckets", async () => {
    const method = field(1, Buffer.from("/a.v1.A/Get"));
    const code = (name: string) => field(2, Buffer.concat([field(1, Buffer.from(name)), Buffer.from([0x10, 0x01])]));
    const doubles = (n: number) => field(3, Buffer.alloc(n * 8));
    // What go-shim sends at most: 17 codes, 15 buckets.
    const codes = Array.from({ length: 17 }, (_, i) => code(`CODE_${i}`));
    answers.CallStats = field(1, Buffer.concat([method, ...codes, doubles(15), field(4, Buffer.alloc(15, 1))]));
    expect((await callStats()).err).toBeNull();

    answers.CallStats = field(1, Buffer.concat([method, ...Array.from({ length: 65 }, (_, i) => code(`C${i}`))]));
    const manyCodes = (await callStats()).err;
    expect([manyCodes?.code, manyCodes?.details]).toEqual([status.INTERNAL, expect.stringContaining(`${REFUSED_REPLY} CallStats answered more than 64 of field 2 in entry 1 of field 1`)]);
    answers.CallStats = field(1, Buffer.concat([method, field(4, Buffer.alloc(1000, 1))]));
    const packed = (await callStats()).err;
    expect(packed?.details).toContain(`${REFUSED_REPLY} CallStats answered 1000 bytes of field 4 in entry 1 of field 1, over 640`);
  });

  it("are refused unread past their size: a Stats sample of more than 1 KiB, a CallStats of more than 8 MiB", async () => {
    answers.Stats = Buffer.alloc(2048, Buffer.from([0x10, 0x01])); // goroutines, again and again
    const c = client();
    const stream = c.Stats({ intervalMs: 1000 });
    const samples: unknown[] = [];
    stream.on("data", (s) => samples.push(s)); // read, as the sampler reads: grpc-js decodes what is read
    const err = await Promise.race([
      new Promise<ServiceError>((resolve) => stream.on("error", resolve)),
      new Promise<ServiceError>((resolve) => setTimeout(() => resolve({ code: -1, details: `no error in 10 s; ${samples.length} samples` } as unknown as ServiceError), 10_000)),
    ]);
    expect(samples).toEqual([]);
    c.close();
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toContain(`${REFUSED_REPLY} Stats answered 2048 bytes, over the 1024 taken`);

    answers.CallStats = Buffer.concat([field(1, field(1, Buffer.alloc(8 * 1024 * 1024, "a")))]);
    const { err: big } = await callStats();
    expect(big?.code).toBe(status.RESOURCE_EXHAUSTED); // grpc-js's own limit, at the largest bound: never buffered whole
    expect(refusedReply({ code: big!.code, message: big!.details })).toMatch(/^reply refused unread: Received message larger than max/);
  });

  it("are refused unread when they are no protobuf message", async () => {
    answers.Handshake = Buffer.from([0x2a, 0x10]); // a string of 16 bytes, with none
    const c = client();
    const err = await new Promise<ServiceError | null>((resolve) => c.Handshake({}, (e) => resolve(e)));
    c.close();
    expect(err?.code).toBe(status.INTERNAL);
    expect(err?.details).toContain(`${REFUSED_REPLY} Handshake answered no protobuf message`);
  });
});
