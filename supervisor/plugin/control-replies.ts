// What the supervisor takes from go-shim on the instance socket, bounded
// before it is decoded. A reply is decoded whole into objects, every field
// filled in (the loader's `defaults`), so its size on the wire says little
// of its cost: 16 MB of empty CallStats entries (two bytes each) decoded
// into 8.4 million objects, 3.3 GB of the supervisor's heap and 15 s of its
// event loop, at every metrics scrape and every drain, and a heap limit of
// 2 GB ended the supervisor. The bounds after decoding (metrics/calls.ts,
// compatibility.ts) came too late. So each reply is held to a size suited
// to what go-shim really sends, and the entries of its repeated field are
// counted from their tags (protobufjs's Reader, which the loader itself
// decodes with) before anything is made of them. A reply past a bound
// fails its call, INTERNAL, with REFUSED_REPLY and the bound in its
// details.
import { makeClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import protobuf from "protobufjs/minimal.js";
import type { ControlClient } from "../../proto/gen/ts/corral/plugin/v1/Control.ts";
import { protos } from "../rpc/protos.ts";
import { MAX_METHODS } from "./compatibility.ts";

/** Begins the details of a call whose reply was refused unread (grpc-js puts its own words before them). */
export const REFUSED_REPLY = "reply refused unread:";

const KiB = 1024;
const MiB = 1024 * KiB;

interface ReplyBound {
  /** Bytes, at most. */
  maxBytes: number;
  /** The repeated field of the reply's top level, and how many entries it may have. */
  entries?: { field: number; max: number };
}

/**
 * Per method. The largest: a handshake naming MAX_METHODS methods, and the
 * call counts of as many (go-shim's answer for a method is some 700 bytes;
 * the metrics take 4000 series, some 200 methods' worth, of it anyway).
 * A sample of the Stats stream is 7 numbers; a profile comes in chunks of
 * at most 64 KiB.
 */
export const CONTROL_REPLY_BOUNDS: Record<string, ReplyBound> = {
  Handshake: { maxBytes: 2 * MiB, entries: { field: 5, max: MAX_METHODS } },
  CallStats: { maxBytes: 4 * MiB, entries: { field: 1, max: MAX_METHODS } },
  Drained: { maxBytes: 4 * MiB, entries: { field: 1, max: MAX_METHODS } },
  Stats: { maxBytes: 1 * KiB },
  Profile: { maxBytes: 128 * KiB },
};
/** Every other Control reply: a few fields. */
const OTHER_REPLY: ReplyBound = { maxBytes: 64 * KiB };

/** The largest reply of all: what the channel need take (grpc-js refuses more before it is buffered whole). */
export const CONTROL_MAX_REPLY_BYTES = Math.max(OTHER_REPLY.maxBytes, ...Object.values(CONTROL_REPLY_BOUNDS).map((b) => b.maxBytes));

/** Throws when `reply`, the answer to `method`, is past its bound; reads no more than its tags. */
export function checkControlReply(method: string, reply: Buffer): void {
  const bound = CONTROL_REPLY_BOUNDS[method] ?? OTHER_REPLY;
  if (reply.length > bound.maxBytes) throw new Error(`${REFUSED_REPLY} ${method} answered ${reply.length} bytes, over the ${bound.maxBytes} taken`);
  if (!bound.entries) return;
  const { field, max } = bound.entries;
  const reader = protobuf.Reader.create(reply);
  let entries = 0;
  try {
    while (reader.pos < reader.len && entries <= max) {
      const tag = reader.uint32();
      if (tag >>> 3 === field) entries++;
      reader.skipType(tag & 7);
    }
  } catch (err) {
    throw new Error(`${REFUSED_REPLY} ${method} answered no protobuf message (${(err as Error).message})`);
  }
  if (entries > max) throw new Error(`${REFUSED_REPLY} ${method} answered more than ${max} entries of field ${field}`);
}

let bounded: (new (...args: ConstructorParameters<ReturnType<typeof protos>["control"]["corral"]["plugin"]["v1"]["Control"]>) => ControlClient) | undefined;

/** The Control client, its replies checked by checkControlReply before they are decoded. */
export function boundedControlClient(): NonNullable<typeof bounded> {
  if (bounded) return bounded;
  const service = protos().control.corral.plugin.v1.Control.service;
  const definition: ServiceDefinition = Object.fromEntries(
    Object.entries(service).map(([method, call]) => [
      method,
      {
        ...call,
        responseDeserialize: (reply: Buffer) => {
          checkControlReply(method, reply);
          return call.responseDeserialize(reply);
        },
      },
    ]),
  );
  bounded = makeClientConstructor(definition, "corral.plugin.v1.Control") as unknown as NonNullable<typeof bounded>;
  return bounded;
}
