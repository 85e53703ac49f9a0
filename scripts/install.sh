#!/usr/bin/env bash
# Installs Corral from this (built) checkout as a systemd service:
#
#   /usr/local/lib/corral/             the supervisor, its Node 24 runtime (node_modules), the Go
#                                      binaries (build/bin, build/plugins), README, deploy/
#   /usr/local/bin/corral, corralctl   links to the wrappers in /usr/local/lib/corral/bin
#   /etc/corral/corral.yaml            an example config, only if there is none
#   /etc/systemd/system/corral.service deploy/corral.service
#
# then reloads systemd. It enables and starts nothing: it prints the commands.
# Run as root after `scripts/setup.sh && npm run build`. Again to upgrade: the
# tree is replaced whole, and the config is never overwritten. Restart a
# running service at once (`systemctl restart corral`): its code stays the old
# one, but it finds its launcher and helpers by path, so every plugin start
# meanwhile runs the new tree's launcher under the old supervisor.
#
#   scripts/install.sh [--dry-run]     --dry-run prints what it would do
#   DESTDIR=/tmp/stage scripts/install.sh   installs beneath a staging root
#                                      (no root needed; systemd is not touched)
#
# scripts/uninstall.sh removes it again.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

dry_run=false
case "${1:-}" in
  "") ;;
  --dry-run) dry_run=true ;;
  *) echo "usage: scripts/install.sh [--dry-run]   (DESTDIR=DIR to install beneath a staging root)" >&2; exit 2 ;;
esac

destdir=${DESTDIR:-}
prefix=/usr/local
lib=$prefix/lib/corral
unit=/etc/systemd/system/corral.service
config=/etc/corral/corral.yaml

# Prints, then runs (unless --dry-run).
run() {
  echo "+ $*"
  $dry_run || "$@"
}

for need in build/bin/corral-sandbox build/bin/corral-notify node_modules/.bin/node; do
  if [[ ! -e $need ]]; then
    echo "install: $need is missing: run scripts/setup.sh && npm run build first" >&2
    exit 1
  fi
done
if [[ -z $destdir && $(id -u) != 0 ]] && ! $dry_run; then
  echo "install: run as root (or set DESTDIR to stage the files elsewhere)" >&2
  exit 1
fi

echo "installing Corral from $src${destdir:+ beneath $destdir}"

# The tree, assembled beside the old one and swapped in by rename.
stage=$destdir$lib.new
run rm -rf "$stage"
run mkdir -p "$(dirname "$stage")"
# Root's alone to enter until it is root's alone to write (below): the copies
# are the builder's meanwhile, and a descriptor opened for writing then would
# outlive the chown.
run mkdir -m 0700 "$stage"
run mkdir "$stage/build"
run cp -a bin supervisor sandbox client proto deploy examples package.json package-lock.json README.md "$stage/"
run cp -a build/bin "$stage/build/bin"
if [[ -d build/plugins ]]; then run cp -a build/plugins "$stage/build/plugins"; fi
# All of node_modules: the pinned Node 24 binary (the npm package `node`) is a
# devDependency, and the tree installed is then exactly the one built and tested.
run cp -a node_modules "$stage/node_modules"
# Root runs all of it (the unit's ExecStart, the launcher): it must be root's
# and no one else's to write, whoever owns the checkout it was built in (cp -a
# keeps the builder's ownership, and the builder would then own root).
if [[ $(id -u) == 0 ]]; then run chown -R 0:0 "$stage"; fi
run chmod -R go-w "$stage"
run chmod 0755 "$stage"
if [[ -e $destdir$lib ]]; then
  run rm -rf "$destdir$lib.old"
  run mv "$destdir$lib" "$destdir$lib.old"
fi
run mv "$stage" "$destdir$lib"
run rm -rf "$destdir$lib.old"

run mkdir -p "$destdir$prefix/bin"
for cmd in corral corralctl; do
  # The wrappers find their tree through the link (readlink -f).
  run ln -sfn "$lib/bin/$cmd" "$destdir$prefix/bin/$cmd"
done

if [[ -e $destdir$config ]]; then
  echo "  keeping $destdir$config"
else
  run mkdir -p "$destdir$(dirname "$config")"
  if $dry_run; then
    echo "+ write $destdir$config (an example: one plugin, the greeter)"
  else
    cat >"$destdir$config" <<EOF
# Corral's config, written by scripts/install.sh as an example: edit it, then
# systemctl restart corral. Every field and its default: $lib/supervisor/config/schema.ts
stateDir: /var/lib/corral   # CA, releases, diagnostics (the unit's StateDirectory)
runtimeDir: /run/corral     # admin socket, plugin sockets, instances (its RuntimeDirectory)
trustDomain: corral.local

sandbox:
  cgroupParent: corral      # beneath the service's own cgroup (Delegate=yes)
  uidBase: 2000000000       # sandboxes run as host uids 2000000000-2000000999: no account's, nor subordinate
  uidCount: 1000

plugins:
  - name: greeter
    binary: $lib/build/plugins/greeter
    apiVersion: "1.0"
    env:
      GREETING: Hello from a sandbox
EOF
    echo "+ wrote $destdir$config"
  fi
fi

run mkdir -p "$destdir$(dirname "$unit")"
run install -m 0644 deploy/corral.service "$destdir$unit"
if [[ -z $destdir && -d /run/systemd/system ]]; then
  run systemctl daemon-reload
else
  echo "  (systemd is not running here${destdir:+, or DESTDIR is set}: no daemon-reload)"
fi

if [[ -z $destdir ]] && systemctl is-active --quiet corral 2>/dev/null; then
  echo "corral is running the tree replaced: restart it now (systemctl restart corral), before a plugin starts with the new launcher"
fi
cat <<EOF
installed. Next:
  systemctl enable --now corral      # start now and at boot
  systemctl status corral            # "supervising N plugins" once all are ready
  journalctl -u corral -f            # the JSON log
  corralctl --config $config status
EOF
