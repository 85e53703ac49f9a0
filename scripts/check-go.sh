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
# Plugins run on Linux, but their authors write and test them elsewhere too:
# go-shim and its client must build there (a Linux-only file without its
# build tag broke that once, unseen).
GOOS=darwin go vet ./go-shim/... ./examples/...
GOOS=windows go build ./go-shim/... ./examples/...
go test ./...
