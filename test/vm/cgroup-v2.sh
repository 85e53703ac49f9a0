#!/usr/bin/env bash
# Runs Corral on a pure cgroup v2 host: a Debian kernel booted under QEMU
# (software emulation: no KVM needed) whose root is this machine's own file
# system, read-only over 9p with a tmpfs on top, and cgroup2 alone mounted at
# /sys/fs/cgroup with every controller. This machine's cgroup v1 hierarchies
# hold the controllers, so its own empty v2 tree cannot show what a v2 host
# does. Not part of `npm test` (it takes minutes, and packages): run it by hand
# after changing the cgroup code.
#
#   test/vm/cgroup-v2.sh        (root; installs qemu-system-x86 and busybox-static if missing)
#
# In the VM, as systemd would lay it out for the service: the supervisor
# alone in corral.service, through bin/corral (sandbox/run-delegated.sh); a
# shell's shared cgroup refused with the reason; an OOM kill of a plugin's
# child reported as the instance's; and the v2 driver's tests in a fresh
# cgroup of their own. Prints what the VM printed; exits 0 if every
# check passed. The VM's writes vanish with it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "cgroup-v2.sh: run as root" >&2; exit 1; }
for need in build/bin/corral-sandbox node_modules/.bin/node; do
  [[ -e $repo/$need ]] || { echo "cgroup-v2.sh: $need is missing: run scripts/setup.sh && npm run build first" >&2; exit 1; }
done
if ! command -v qemu-system-x86_64 >/dev/null || [[ ! -x /bin/busybox ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-system-x86 busybox-static >/dev/null
fi

work=$(mktemp -d /var/tmp/corral-vm-XXXXXX) # not /tmp: a checkout there must stay visible in the VM
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"

# The kernel: Debian's, whatever linux-image-amd64 depends on now.
image=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
apt-get download -q "$image" >/dev/null 2>&1
dpkg-deb -x ./"$image"_*.deb kernel
vmlinuz=$(ls kernel/boot/vmlinuz-*)
modules=$(ls -d kernel/lib/modules/*/kernel)

# The initramfs: busybox, the modules for 9p and overlayfs, and an init that
# mounts this machine's root read-only with a tmpfs over it.
mkdir -p initrd/bin initrd/mods initrd/proc initrd/sys initrd/dev initrd/lower initrd/upper initrd/newroot
cp /bin/busybox initrd/bin/
mods="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fscache netfs 9pnet 9pnet_virtio 9p overlay"
for m in $mods; do find "$modules" -name "$m.ko*" -exec cp {} initrd/mods/ \;; done
cat > initrd/init <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for pass in 1 2; do for m in $mods; do insmod /mods/\$m.ko 2>/dev/null; done; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo "VM: 9p mount failed"; poweroff -f; }
mount -t tmpfs -o size=8g upper /upper && mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot || { echo "VM: overlay failed"; poweroff -f; }
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/sh $work/inside.sh
EOF
chmod +x initrd/init
(cd initrd && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > ../initrd.gz)

cat > inside.sh <<EOF
#!/bin/sh
# PID 1 of the VM: a pure cgroup v2 host.
mount -t proc proc /proc; mount -t sysfs sys /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run   # (/tmp is the overlay's, which is tmpfs already)
ip link set lo up
export PATH=$repo/node_modules/.bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true
echo "VM: kernel \$(uname -r); cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
echo "+cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
cd $repo
sh $work/checks.sh
echo o > /proc/sysrq-trigger
EOF

cat > checks.sh <<'EOF'
cg=/sys/fs/cgroup
echo "== a cgroup shared with another process, and no systemd: refused, saying why"
mkdir $cg/shared
sh -c "echo \$\$ > $cg/shared/cgroup.procs; sleep 60 & sandbox/run-delegated.sh echo RAN; echo \"rc=\$?\"; kill \$!" > /tmp/shared.out 2>&1
cat /tmp/shared.out
if grep -q "rc=1" /tmp/shared.out && grep -q "holds other processes" /tmp/shared.out; then echo "CHECK shared: ok"; else echo "CHECK shared: FAILED"; fi

echo "== the example, alone in corral.service as systemd starts it"
mkdir $cg/corral.service
sh -c "echo \$\$ > $cg/corral.service/cgroup.procs; exec bin/corral serve --config examples/corral.yaml" > /tmp/serve.log 2>&1 &
serve=$!
for i in $(seq 1 300); do grep -q '"plugin ready"' /tmp/serve.log && break; grep -q '"level":"fatal"' /tmp/serve.log && break; sleep 2; done
bin/corralctl --config examples/corral.yaml status
for d in $cg/corral.service/corral-example/*/; do
  echo "$d: memory.max $(cat $d/memory.max), memory.swap.max $(cat $d/memory.swap.max), pids.max $(cat $d/pids.max), cpu.max $(cat $d/cpu.max), memory.oom.group $(cat $d/memory.oom.group)"
done
ready=$(grep -c '"plugin ready"' /tmp/serve.log)
kill -TERM $serve; wait $serve; code=$?
left=$(find $cg/corral.service -mindepth 1 -type d ! -name supervisor | wc -l)
grep -E '"level":"(error|fatal)"' /tmp/serve.log | cut -c1-300
if [ "$ready" -ge 1 ] && [ "$code" = 0 ] && [ "$left" = 0 ]; then echo "CHECK serve: ok"; else echo "CHECK serve: FAILED (ready $ready, exit $code, cgroups left $left)"; fi

echo "== an OOM kill of a plugin's child ends the whole instance (memory.oom.group)"
mkdir -p /tmp/oom $cg/oom.service
cat > /tmp/oom/corral.yaml <<YAML
stateDir: /tmp/oom/state
runtimeDir: /tmp/oom/run
sandbox: { cgroupParent: corral-oom, uidBase: 2000300000, uidCount: 10 }
plugins:
  - name: parent
    binary: $PWD/build/test-plugins/crasher
    apiVersion: "1.0"
    env: { CRASH_AFTER_MS: "200", CRASH_MODE: oom-child }
    limits: { memory: 32MiB }
    restart: { initialBackoff: 10s }
YAML
sh -c "echo \$\$ > $cg/oom.service/cgroup.procs; exec bin/corral serve --config /tmp/oom/corral.yaml" > /tmp/oom.log 2>&1 &
oom=$!
for i in $(seq 1 300); do grep -q '"to":"crashed"' /tmp/oom.log && break; sleep 2; done
grep '"to":"crashed"' /tmp/oom.log | head -1 | cut -c1-300
kill -TERM $oom; wait $oom
if grep '"to":"crashed"' /tmp/oom.log | head -1 | grep -q "killed by the kernel's OOM killer"; then echo "CHECK oom: ok"; else echo "CHECK oom: FAILED"; fi

echo "== the v2 driver's tests, in a cgroup of their own"
mkdir $cg/tests.scope
sh -c "echo \$\$ > $cg/tests.scope/cgroup.procs; exec sandbox/run-delegated.sh vitest run test/sandbox.cgroups-v2.test.ts --testTimeout 900000 --hookTimeout 900000" > /tmp/tests.out 2>&1
code=$?
grep -vE '^\s*$' /tmp/tests.out | tail -25
if [ "$code" = 0 ]; then echo "CHECK tests: ok"; else echo "CHECK tests: FAILED"; fi
EOF

echo "booting a pure cgroup v2 kernel ($image) under QEMU; this takes a few minutes"
timeout 3000 qemu-system-x86_64 -accel tcg,thread=single -cpu Nehalem -m 6G -smp 2 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd initrd.gz -append "console=ttyS0 quiet panic=-1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,id=hostroot,multidevs=remap > vm.log 2>&1 || true
cp vm.log /var/tmp/corral-vm-last.log # the whole console, for when a check fails
# (Multi-threaded emulation crashed Node's V8 at random here; a single thread does not.)
# (The console's first line starts with the BIOS's escape sequences; its lines end in \r.)
sed -n '/VM: kernel/,/CHECK tests/p' vm.log | grep -avE 'Memory cgroup out of memory' | tr -d '\r' || true
checks=$(grep -ac '^CHECK .*: ok' vm.log || true)
if [[ $checks == 4 ]]; then echo "all 4 checks passed"; else echo "cgroup-v2.sh: $checks of 4 checks passed" >&2; exit 1; fi
