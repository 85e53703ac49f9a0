#!/bin/sh
# Runs a command (the supervisor, `corral sandbox`, the test runner) where it
# may make cgroups for sandboxes on a pure cgroup v2 host, as a systemd
# service with Delegate=yes gets; elsewhere it just runs it.
#
# On v2 a cgroup can hand its controllers to cgroups beneath it only while
# it holds no process itself (the kernel's no-internal-process rule). So the
# command runs in a leaf, "supervisor", of a cgroup that is its own, whose
# controllers are enabled for the leaf's siblings: the layout the supervisor
# makes for itself under systemd (sandbox/cgroups/delegation.ts), and finds
# already made here. Processes the command starts (test workers, test
# supervisors) share the leaf, and each makes its sandboxes' cgroups beside
# it.
#
#   - cgroup v1 or hybrid (cgroupfs is not cgroup2): nothing to do;
#   - already in such a leaf: nothing to do;
#   - alone in its cgroup (a systemd service, or a scope made below): the
#     leaf is made, this process moves into it, the controllers are enabled;
#   - sharing its cgroup (a login shell's session scope, say), with systemd:
#     run again in a transient scope of its own with Delegate=yes
#     (systemd-run --scope keeps the terminal and the environment);
#   - otherwise it cannot be done without moving processes that are not
#     ours: it says so and fails.
#
# Only this process is ever moved, and only cgroups beneath its own are made.
#
#   sandbox/run-delegated.sh COMMAND [ARG...]
set -eu

leaf=supervisor
cgroupfs=/sys/fs/cgroup

if [ "$(stat -fc %T "$cgroupfs" 2>/dev/null)" != cgroup2fs ]; then exec "$@"; fi

own=$(sed -n 's/^0:://p' /proc/self/cgroup)
dir=$cgroupfs${own%/}
has_controllers() { # the controllers the supervisor needs are enabled for $1's children
  for c in memory pids cpu; do
    grep -qw "$c" "$1/cgroup.subtree_control" 2>/dev/null || return 1
  done
}
# Read with builtins: a command substitution's subshell would be one more process in it.
alone() {
  while read -r pid; do [ "$pid" = "$$" ] || return 1; done < "$dir/cgroup.procs"
}

if [ "$(basename "$dir")" = "$leaf" ] && has_controllers "$(dirname "$dir")"; then exec "$@"; fi

# The true root (no cgroup.type) may hold processes and enable controllers at once.
if [ ! -e "$dir/cgroup.type" ] || has_controllers "$dir"; then exec "$@"; fi

if alone; then
  # Checked before anything changes; then enabled in one write, which the
  # kernel applies whole or not at all: once one controller is enabled,
  # this process could not move back into $dir.
  for c in memory pids cpu; do
    if ! grep -qw "$c" "$dir/cgroup.controllers"; then
      echo "run-delegated: the $c controller is not available in $dir (is it delegated, Delegate=yes, and enabled above it?)" >&2
      exit 1
    fi
  done
  if ! { mkdir -p "$dir/$leaf" && echo $$ > "$dir/$leaf/cgroup.procs"; } 2>/dev/null; then
    rmdir "$dir/$leaf" 2>/dev/null || true
    echo "run-delegated: cannot make $dir/$leaf and move into it (is $dir delegated to this user?)" >&2
    exit 1
  fi
  if ! echo "+memory +pids +cpu" > "$dir/cgroup.subtree_control" 2>/dev/null; then
    echo $$ > "$dir/cgroup.procs" 2>/dev/null || true
    rmdir "$dir/$leaf" 2>/dev/null || true
    echo "run-delegated: cannot enable the memory, pids and cpu controllers in $dir (is it delegated to this user?)" >&2
    exit 1
  fi
  exec "$@"
fi

if [ -z "${CORRAL_DELEGATED_SCOPE:-}" ] && [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then
  export CORRAL_DELEGATED_SCOPE=1
  exec systemd-run --scope --quiet --collect -p Delegate=yes -- "$0" "$@"
fi

echo "run-delegated: cgroup $dir holds other processes besides this one ($$), and there is no systemd to make a scope of its own:" >&2
echo "  on cgroup v2 sandboxes need a delegated cgroup; run this as a service with Delegate=yes, or from a cgroup of its own" >&2
exit 1
