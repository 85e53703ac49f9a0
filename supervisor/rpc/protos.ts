// Loads the wire contracts from proto/ at run time, typed by the code that
// proto/generate.sh produced from the same files (proto/gen/ts). The loader
// options here must match the generator's flags there.
import { loadPackageDefinition, type GrpcObject } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ProtoGrpcType as AdminProto } from "../../proto/gen/ts/admin.ts";
import type { ProtoGrpcType as ControlProto } from "../../proto/gen/ts/control.ts";
import type { ProtoGrpcType as HealthProto } from "../../proto/gen/ts/health.ts";

const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../proto");

export const loaderOptions: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

function load<T>(file: string): T {
  return loadPackageDefinition(loadSync(file, loaderOptions)) as GrpcObject as unknown as T;
}

let cache: { control: ControlProto; admin: AdminProto; health: HealthProto } | undefined;

/** The typed service definitions, loaded once per process. */
export function protos() {
  cache ??= {
    control: load<ControlProto>("corral/plugin/v1/control.proto"),
    admin: load<AdminProto>("corral/admin/v1/admin.proto"),
    health: load<HealthProto>("grpc/health/v1/health.proto"),
  };
  return cache;
}
