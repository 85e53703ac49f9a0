#!/usr/bin/env bash
# Installs everything Corral needs to build and test on a fresh Debian/Ubuntu
# machine: protoc (for the generated-code check), the npm dependencies (which
# include the Node 24 runtime itself, npm package `node`) and the Go modules.
# Idempotent; run as root (Corral's sandboxes need root).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v openssl >/dev/null || missing+=(openssl)
# The sandbox's init is static C (scripts/build-go.sh: gcc -static): gcc and
# glibc's static library.
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v gcc >/dev/null && [[ ! -e "$(gcc -print-file-name=libc.a)" ]] && missing+=(libc6-dev)
command -v prlimit >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "setup: Go 1.26+ is required (https://go.dev/dl)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm is required to install Node 24 and the dependencies" >&2; exit 1; }

npm ci --no-audit --no-fund --loglevel=error
go mod download
echo "setup: done (node $(node_modules/.bin/node --version), $(go version | cut -d' ' -f3), $(protoc --version))"
