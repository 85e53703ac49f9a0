#!/usr/bin/env bash
# Builds every Go binary into build/: the sandbox launcher, the example
# plugins, the test plugins and the tests' Go host applications. Plugins are static (CGO_ENABLED=0), as
# DESIGN.md asks of plugin authors: the sandbox root holds nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
mkdir -p build/bin build/plugins build/test-plugins build/test-hosts

go vet ./...
go build -trimpath -o build/bin/corral-sandbox ./sandbox/cmd/corral-sandbox; gcc -static -Os -Wall -Wextra -Werror -o build/bin/corral-sandbox-init sandbox/cmd/corral-sandbox-init/init.c
go build -trimpath -o build/bin/corral-notify ./supervisor/systemd/cmd/corral-notify

for dir in examples/*/; do
  [[ -f "$dir/main.go" ]] || continue
  name=$(basename "$dir")
  go build -trimpath -o "build/plugins/$name" "./$dir"
done

for dir in test/plugins/*/; do
  [[ -f "$dir/main.go" ]] || continue
  name=$(basename "$dir")
  flags=()
  # A plugin directory may ask for extra linker flags (e.g. to pose as a
  # plugin built against another protocol version).
  [[ -f "$dir/ldflags" ]] && flags=(-ldflags "$(cat "$dir/ldflags")")
  go build -trimpath "${flags[@]}" -o "build/test-plugins/$name" "./$dir"
  # It may also ask for variants of itself, one a line, "NAME LDFLAGS...":
  # the same code built with other linker flags (e.g. one that crashes at
  # start), so tests need no near-copies of a plugin.
  [[ -f "$dir/variants" ]] || continue
  while read -r variant ldflags || [[ -n "$variant" ]]; do
    [[ -n "$variant" ]] || continue
    go build -trimpath -ldflags "$ldflags" -o "build/test-plugins/$variant" "./$dir"
  done <"$dir/variants"
done
for dir in test/hosts/*/; do
  go build -trimpath -o "build/test-hosts/$(basename "$dir")" "./$dir"
done
echo "built: $(ls build/bin build/plugins build/test-plugins build/test-hosts | grep -v ':$' | grep -v '^$' | tr '\n' ' ')"
