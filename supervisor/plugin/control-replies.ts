// What the supervisor takes from go-shim on the instance socket, bounded
// before it is decoded. A reply is decoded whole into objects, every field
// filled in (the loader's `defaults`), so its size on the wire says little
// of its cost: 16 MB of empty CallStats entries (two bytes each) decoded
// into 8.4 million objects, 3.3 GB of the supervisor's heap and 15 s of its
// event loop, at every metrics scrape and every drain, and a heap limit of
// 2 GB ended the supervisor. The bounds after decoding (metrics/calls.ts,
// compatibility.ts) came too late. So each reply is held to a size suited
// to what go-shim really sends, and the entries of its repeated field (in
// the call counts, what each entry holds too) are counted from their tags
// (protobufjs's Reader, which the loader itself decodes with) before
// anything is made of them. A reply past a bound fails its call, INTERNAL,
// with REFUSED_REPLY and the bound in its details.
import { makeClientConstructor, status as grpcStatus, type ServiceDefinition } from "@grpc/grpc-js";
import protobuf from "protobufjs/minimal.js";
import type { ControlClient } from "../../proto/gen/ts/corral/plugin/v1/Control.ts";
import { protos } from "../rpc/protos.ts";
import { MAX_METHODS } from "./compatibility.ts";

/** Begins the details of a call whose reply was refused unread (grpc-js puts its own words before them). */
export const REFUSED_REPLY = "reply refused unread:";

/**
 * Why a failed call's reply was refused: past its bound here, or past the
 * channel's own limit (grpc-js's RESOURCE_EXHAUSTED, before it is buffered);
 * undefined when the call failed for another reason.
 */
export function refusedReply(err: { code: number; message: string }): string | undefined {
  if (err.code === grpcStatus.INTERNAL && err.message.includes(REFUSED_REPLY)) return err.message.slice(err.message.indexOf(REFUSED_REPLY));
  if (err.code === grpcStatus.RESOURCE_EXHAUSTED && err.message.startsWith("Received message larger than max")) return `${REFUSED_REPLY} ${err.message}`;
  return undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;

interface ReplyBound {
  /** Bytes, at most. */
  maxBytes: number;
  /** The repeated field of the reply's top level, and how many entries it may have. */
  entries?: { field: number; max: number; each?: EntryBound };
}

/** Within each entry (a message): how many times each of its repeated fields may occur, and how long a packed one may be. */
interface EntryBound {
  fields: Record<number, { max: number; maxPackedBytes?: number }>;
}

/**
 * A method's call counts (MethodCalls): go-shim reports 1 to 17 codes and
 * 15 buckets; the metrics take 32 codes and 64 buckets of them. Beyond
 * these, an entry is no answer of go-shim's: 4 MiB of codes in one entry
 * took 0.9 s to decode, and as long again to look through.
 */
const METHOD_CALLS: EntryBound = {
  fields: {
    2: { max: 64 }, // codes, a map: an entry each
    3: { max: 64, maxPackedBytes: 64 * 8 }, // bucket bounds, doubles
    4: { max: 64, maxPackedBytes: 64 * 10 }, // bucket counts, varints
  },
};

/**
 * Per method. The largest: a handshake naming MAX_METHODS methods of the
 * longest names a method may have (385 characters: 3.9 MB), and the call
 * counts of as many (go-shim's answer for a method with 17 codes is some
 * 560 bytes: 5.6 MB for 10 000; the metrics take 4000 series, some 200
 * methods' worth, of it anyway). A sample of the Stats stream is 7
 * numbers; a profile comes in chunks of at most 64 KiB.
 */
export const CONTROL_REPLY_BOUNDS: Record<string, ReplyBound> = {
  Handshake: { maxBytes: 4 * MiB, entries: { field: 5, max: MAX_METHODS } },
  CallStats: { maxBytes: 8 * MiB, entries: { field: 1, max: MAX_METHODS, each: METHOD_CALLS } },
  Drained: { maxBytes: 8 * MiB, entries: { field: 1, max: MAX_METHODS, each: METHOD_CALLS } },
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
  const { field, max, each } = bound.entries;
  const reader = protobuf.Reader.create(reply);
  let entries = 0;
  let over: string | undefined;
  try {
    while (reader.pos < reader.len && over === undefined) {
      const tag = reader.uint32();
      if (tag >>> 3 !== field) {
        reader.skipType(tag & 7);
        continue;
      }
      if (++entries > max) over = `more than ${max} entries of field ${field}`;
      else if (each && (tag & 7) === 2) over = overEntry(reader, each, `entry ${entries} of field ${field}`);
      else reader.skipType(tag & 7);
    }
  } catch (err) {
    throw new Error(`${REFUSED_REPLY} ${method} answered no protobuf message (${(err as Error).message})`);
  }
  if (over !== undefined) throw new Error(`${REFUSED_REPLY} ${method} answered ${over}`);
}

/** Reads one length-delimited entry's fields by their tags; says what of it is past `bound`, if anything. */
function overEntry(reader: protobuf.Reader, bound: EntryBound, what: string): string | undefined {
  const end = reader.uint32() + reader.pos;
  if (end > reader.len) throw new RangeError(`${what} runs past the reply's end`);
  const seen = new Map<number, number>();
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const limit = bound.fields[field];
    if (limit) {
      const count = (seen.get(field) ?? 0) + 1;
      seen.set(field, count);
      if (count > limit.max) return `more than ${limit.max} of field ${field} in ${what}`;
      if ((tag & 7) === 2 && limit.maxPackedBytes !== undefined) {
        const length = reader.uint32();
        if (length > limit.maxPackedBytes) return `${length} bytes of field ${field} in ${what}, over ${limit.maxPackedBytes}`;
        reader.skip(length);
        continue;
      }
    }
    reader.skipType(tag & 7);
  }
  if (reader.pos !== end) throw new RangeError(`${what} ends inside a field`);
  return undefined;
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
