#!/usr/bin/env bash
# The Go side's checks (npm run test:go): every file gofmt'ed, then the Go
# tests. (go vet runs with the build: scripts/build-go.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
# The main module's packages, and bench/goplugin, a module of its own.
unformatted=$(gofmt -l $(go list -f '{{.Dir}}' ./...) bench/goplugin)
if [ -n "$unformatted" ]; then
	echo "not gofmt'ed (run gofmt -w on them):" >&2
	echo "$unformatted" >&2
	exit 1
fi
go test ./...
