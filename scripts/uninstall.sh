#!/usr/bin/env bash
# Removes what scripts/install.sh installed:
#
#   /etc/systemd/system/corral.service  stopped and disabled first (systemctl disable --now,
#                                       which drains every plugin), then removed
#   /usr/local/bin/corral, corralctl    only while they are still install.sh's links
#   /usr/local/lib/corral/              the tree (and a .new or .old an interrupted install left)
#
# It keeps the config (/etc/corral) and the state (/var/lib/corral: the CA, the releases,
# diagnostics) unless --purge is given; --purge removes those and /run/corral too. It refuses,
# changing nothing, while a process still runs from the installed tree (a supervisor or a
# launcher started by hand, or a service systemd could not stop): stop it first.
#
#   scripts/uninstall.sh [--dry-run] [--purge]
#   DESTDIR=/tmp/stage scripts/uninstall.sh   beneath a staging root (systemd is not touched)
set -euo pipefail

dry_run=false
purge=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    --purge) purge=true ;;
    *) echo "usage: scripts/uninstall.sh [--dry-run] [--purge]   (DESTDIR=DIR beneath a staging root)" >&2; exit 2 ;;
  esac
done

destdir=${DESTDIR:-}
prefix=/usr/local
lib=$prefix/lib/corral
unit=/etc/systemd/system/corral.service
config_dir=/etc/corral
state_dir=/var/lib/corral
runtime_dir=/run/corral

# Prints, then runs (unless --dry-run).
run() {
  echo "+ $*"
  $dry_run || "$@"
}

if [[ -z $destdir && $(id -u) != 0 ]] && ! $dry_run; then
  echo "uninstall: run as root (or set DESTDIR to remove a staged install)" >&2
  exit 1
fi

echo "uninstalling Corral${destdir:+ from beneath $destdir}"

systemd=false
if [[ -z $destdir && -d /run/systemd/system ]] && command -v systemctl >/dev/null; then systemd=true; fi
if $systemd && [[ -e $unit ]]; then
  # Stops the supervisor the way `systemctl stop` does: it drains its plugins and exits.
  run systemctl disable --now corral.service
fi

# Whatever still runs from the tree would lose its files (and its plugins their launcher).
# Found by the executable the kernel ran, not by name: another Corral elsewhere is not ours.
# Also from a tree an upgrade replaced (install.sh renames it .old, then removes it: the
# kernel then says "(deleted)"), or one an interrupted install left as .new. And by its
# command line: a supervisor started by hand with another Node (node .../corral.ts serve)
# runs the tree's code from an executable outside it.
running=()
tree=$(realpath -m "$destdir$lib")
in_tree() {
  case "${1% (deleted)}" in
    "$tree"/* | "$tree.old"/* | "$tree.new"/*) return 0 ;;
  esac
  return 1
}
for proc in /proc/[0-9]*; do
  pid=${proc#/proc/}
  [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
  target=$(readlink "$proc/exe" 2>/dev/null) || continue
  if in_tree "$target"; then
    running+=("$pid ($target)")
    continue
  fi
  while IFS= read -r -d '' arg; do
    if in_tree "$arg"; then
      running+=("$pid ($target $arg)")
      break
    fi
  done < "$proc/cmdline" 2>/dev/null || true
done
if ((${#running[@]})); then
  echo "uninstall: processes still run from $tree; stop them first (systemctl stop corral, or end them by pid):" >&2
  printf '  pid %s\n' "${running[@]}" >&2
  exit 1
fi

if [[ -e $destdir$unit ]]; then
  run rm -f "$destdir$unit"
  if $systemd; then run systemctl daemon-reload; fi
fi

for cmd in corral corralctl; do
  link=$destdir$prefix/bin/$cmd
  if [[ -L $link && $(readlink "$link") == "$lib/bin/$cmd" ]]; then
    run rm -f "$link"
  elif [[ -e $link || -L $link ]]; then
    echo "  keeping $link: not install.sh's link to $lib/bin/$cmd"
  fi
done

for tree in "$destdir$lib" "$destdir$lib.new" "$destdir$lib.old"; do
  if [[ -e $tree ]]; then run rm -rf "$tree"; fi
done

if $purge; then
  # Instance directories live on a tmpfs of Corral's beneath the runtime directory;
  # a supervisor killed with SIGKILL leaves it mounted.
  if [[ -d $destdir$runtime_dir ]]; then
    while read -r mount; do
      [[ -n $mount ]] && run umount "$mount"
    done < <(findmnt -rn -o TARGET | awk -v top="$(realpath "$destdir$runtime_dir")" 'index($0, top "/") == 1' | sort -r)
  fi
  # /run/lock/corral: the supervisors' locks on their cgroup parents (supervisor/exclusive-lock.ts).
  for dir in "$destdir$config_dir" "$destdir$state_dir" "$destdir$runtime_dir" "$destdir/run/lock/corral"; do
    if [[ -e $dir ]]; then run rm -rf "$dir"; fi
  done
  echo "purged. A config that named another stateDir or runtimeDir left those: remove them by hand."
else
  for dir in "$destdir$config_dir" "$destdir$state_dir"; do
    if [[ -e $dir ]]; then echo "  keeping $dir (--purge removes it)"; fi
  done
  echo "uninstalled."
fi
