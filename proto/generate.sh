#!/usr/bin/env bash
# Generates code from the .proto files, the one source of truth for the wire:
#   Go:         proto/gen/go/...   (protoc + protoc-gen-go + protoc-gen-go-grpc, pinned in go.mod as tools)
#   TypeScript: proto/gen/ts/...   (proto-loader-gen-types; runtime loading uses supervisor/rpc/protos.ts
#                                   with the same options)
# With --check it generates into a temporary directory and fails if the
# committed code differs, so stale generated code cannot land.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[[ "${1:-}" == "--check" ]] && check=true

command -v protoc >/dev/null || { echo "proto/generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

out=proto/gen
if $check; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
mkdir -p "$out/go" "$out/ts"

bindir=$(mktemp -d)
trap 'rm -rf "$bindir"; [[ $check == true ]] && rm -rf "$out"' EXIT
go build -o "$bindir/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bindir/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc

# Go: everything under corral/ plus the example plugin's own API.
go_protos=$(cd proto && find corral -name '*.proto' | sort)
rm -rf "$out/go/corral"
PATH="$bindir:$PATH" protoc -I proto \
  --go_out="$out/go" --go_opt=paths=source_relative \
  --go-grpc_out="$out/go" --go-grpc_opt=paths=source_relative \
  $go_protos

# The example plugins, and the test plugins with an API of their own, keep
# it beside their code.
for dir in examples/*/api test/plugins/*/api; do
  [[ -d "$dir" ]] || continue
  dest="$dir"
  if $check; then dest="$out/$(dirname "$dir")"; mkdir -p "$dest"; cp "$dir"/*.proto "$dest/"; fi
  (cd "$dest" && PATH="$bindir:$PATH" protoc -I . \
    --go_out=. --go_opt=paths=source_relative \
    --go-grpc_out=. --go-grpc_opt=paths=source_relative \
    *.proto)
done

# TypeScript types for everything the supervisor loads.
rm -rf "$out/ts"
node_modules/.bin/proto-loader-gen-types \
  --longs Number --enums String --defaults --oneofs --keepCase=false \
  --grpcLib @grpc/grpc-js --importFileExtension .ts \
  -I proto -O "$out/ts" \
  corral/plugin/v1/control.proto corral/admin/v1/admin.proto grpc/health/v1/health.proto >/dev/null

if $check; then
  status=0
  diff -r proto/gen/go "$out/go" >/dev/null || { echo "stale: proto/gen/go differs from proto/*.proto; run npm run proto:gen" >&2; diff -r proto/gen/go "$out/go" | head -20 >&2; status=1; }
  diff -r proto/gen/ts "$out/ts" >/dev/null || { echo "stale: proto/gen/ts differs from proto/*.proto; run npm run proto:gen" >&2; diff -r proto/gen/ts "$out/ts" | head -20 >&2; status=1; }
  for dir in examples/*/api test/plugins/*/api; do
    [[ -d "$dir" ]] || continue
    for f in "$out/$(dirname "$dir")"/*.go; do
      cmp -s "$f" "$dir/$(basename "$f")" || { echo "stale: $dir/$(basename "$f"); run npm run proto:gen" >&2; status=1; }
    done
  done
  [[ $status == 0 ]] && echo "generated code is up to date"
  exit $status
fi
echo "generated proto/gen/go, proto/gen/ts, examples/*/api and test/plugins/*/api"
