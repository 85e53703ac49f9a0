// A typed client of the example greeter plugin's API for tests, with a client
// certificate from the supervisor's CA scoped to the plugin.
import { loadPackageDefinition, type ChannelCredentials, type Client, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import path from "node:path";
import { clientCredentials, issueClientLeaf, loadOrCreateCA } from "../../supervisor/identity/index.ts";
import { repoRoot } from "./supervisor.ts";

export interface HelloReply {
  message: string;
  instance: string;
}

interface GreeterClient extends Client {
  SayHello(req: { name: string }, options: { deadline: Date }, cb: (err: ServiceError | null, reply?: HelloReply) => void): void;
  Countdown(req: { from: number; intervalMs: number }): ClientReadableStream<{ n: number }>;
}

type GreeterConstructor = new (target: string, creds: ChannelCredentials) => GreeterClient;

const definition = loadSync(path.join(repoRoot, "examples/greeter/api/greeter.proto"), { longs: Number, defaults: true });
/** The Greeter service's client constructor (for the client library's connect()). */
export const Greeter = (loadPackageDefinition(definition) as unknown as {
  corral: { examples: { greeter: { v1: { Greeter: GreeterConstructor } } } };
}).corral.examples.greeter.v1.Greeter;

/** Credentials of a host application allowed to call `plugin`, expecting to reach `expectPlugin`. */
export async function scopedCredentials(stateDir: string, trustDomain: string, plugin: string, expectPlugin = plugin) {
  const ca = await loadOrCreateCA(stateDir, { trustDomain });
  const leaf = await issueClientLeaf(ca, { trustDomain, ttlMs: 3600_000 }, "integration-test", [plugin]);
  return clientCredentials(ca, leaf, expectPlugin);
}

/** A greeter client on one channel, for callers that keep their connection open. */
export function greeterClient(socket: string, creds: ChannelCredentials, deadlineMs = 5000) {
  const client = new Greeter(`unix://${socket}`, creds);
  return {
    sayHello: (name: string) =>
      new Promise<HelloReply>((resolve, reject) =>
        client.SayHello({ name }, { deadline: new Date(Date.now() + deadlineMs) }, (err, reply) => (err ? reject(err) : resolve(reply!))),
      ),
    close: () => client.close(),
  };
}

/** One call on a channel of its own. */
export async function sayHello(socket: string, creds: ChannelCredentials, name: string, deadlineMs = 5000): Promise<HelloReply> {
  const client = greeterClient(socket, creds, deadlineMs);
  try {
    return await client.sayHello(name);
  } finally {
    client.close();
  }
}
