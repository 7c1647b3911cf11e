#!/usr/bin/env bash
# The main job, end to end: build vmpack, make a container from a sample
# disk, inspect, sign and verify it, get the disk back byte for byte, and
# see two snapshots share every unchanged chunk; then fetch the example
# Debian i386 guest, boot it under the binary translator, talk to it,
# suspend it into a container mid-count and resume it in a new process.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
build=${VMP_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target vmpack

out=${VMP_DEMO_DIR:-out/demo}
mkdir -p "$out"
vmpack=$build/vmpack

echo "== a 64 MiB sample disk: a little data, mostly zeros =="
python3 - "$out/disk.raw" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(64 << 20)
    f.seek(0); f.write(b"vmpack sample disk\n" * 1000)
    f.seek(32 << 20); f.write(os.urandom(3 << 20))
PY

echo "== the CPU profiles a container can carry =="
$vmpack profile
echo "== create =="
$vmpack create -o "$out/sample.vmpk" --memory 256M --cpu i686 \
    --cmdline "console=ttyS0" --disk "$out/disk.raw"
echo "== inspect =="
$vmpack inspect "$out/sample.vmpk"
echo "== tar sees a plain tar =="
tar -tf "$out/sample.vmpk" | head -5
echo "== keygen, sign, verify =="
$vmpack keygen -o "$out/demo" --force
$vmpack sign "$out/sample.vmpk" --key "$out/demo.key"
$vmpack verify "$out/sample.vmpk" --key "$out/demo.pub"
echo "== export the disk and compare =="
$vmpack export-disk "$out/sample.vmpk" 0 -o "$out/disk.out"
cmp "$out/disk.raw" "$out/disk.out" && echo "disk 0: identical"
echo "== change 4 KiB of the disk, snapshot again, diff =="
python3 - "$out/disk.raw" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5 << 20); f.write(b"changed " * 512)
PY
$vmpack create -o "$out/sample2.vmpk" --memory 256M --cpu i686 \
    --cmdline "console=ttyS0" --disk "$out/disk.raw"
$vmpack diff "$out/sample.vmpk" "$out/sample2.vmpk"
shared=$(comm -12 <(tar -tf "$out/sample.vmpk" | grep '^blobs/' | sort) \
                  <(tar -tf "$out/sample2.vmpk" | grep '^blobs/' | sort) | wc -l)
echo "blobs shared by the two snapshots: $shared of $(tar -tf "$out/sample2.vmpk" | grep -c '^blobs/sha256/.')"
echo "== a tampered copy fails verification =="
cp "$out/sample.vmpk" "$out/tampered.vmpk"
python3 - "$out/tampered.vmpk" <<'PY'
import os, sys
n = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "r+b") as f:
    f.seek(n // 2); b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 0xff]))
PY
if $vmpack verify "$out/tampered.vmpk" --key "$out/demo.pub"; then
  echo "demo: a tampered container verified" >&2; exit 1
fi

echo "== the example guest: Debian's i386 kernel and busybox (fetched with apt) =="
VMPACK="$vmpack" examples/debian-i386/make-image.sh "$out/linux.vmpk"
$vmpack inspect "$out/linux.vmpk" | head -12
echo "== boot it (binary translation, no KVM) under the name 'demo' and start a count =="
# The console is the guest's COM1. Commands go in once the guest says it is
# ready (input sent before its serial driver listens would be lost). The
# count goes on from one process to the next: suspended at n=3, the resumed
# guest prints n=4 next, then the file it wrote before the suspension.
coproc VM { exec "$vmpack" run --name demo "$out/linux.vmpk" 2>&1; }
vm_pid=$VM_PID # bash unsets VM_PID and VM when the coprocess ends:
exec {vm_out}<&"${VM[0]}" {vm_in}>&"${VM[1]}" # keep its pipes under our own names
sent=0 suspended_at=
while IFS= read -r line <&$vm_out; do
  printf '%s\n' "$line"
  if [ $sent = 0 ] && [[ $line == *"vmpack-guest: ready"* ]]; then
    sleep 1
    printf '%s\n' 'uname -a; grep -m1 flags /proc/cpuinfo; date > /tmp/mark; for i in $(seq 1 8); do echo n=$i; sleep 1; done; echo mark: $(cat /tmp/mark); poweroff -f' >&$vm_in
    sent=1
  fi
  if [ -z "$suspended_at" ] && [[ $line =~ ^n=3 ]]; then
    suspended_at=3
    $vmpack ps
    $vmpack suspend demo -o "$out/linux-suspended.vmpk"
  fi
done
exec {vm_out}<&- {vm_in}>&-
wait "$vm_pid" && echo "the VM process ended after the suspend (exit 0)"
[ "$suspended_at" = 3 ] || { echo "demo: the guest never counted to 3" >&2; exit 1; }
echo "== the suspended container: RAM, CPU and device state inside, checked =="
$vmpack inspect "$out/linux-suspended.vmpk" | head -12
$vmpack verify "$out/linux-suspended.vmpk"
$vmpack check "$out/linux-suspended.vmpk"
echo "== resume it in a new process, from another folder =="
mkdir -p "$out/elsewhere"
cp "$out/linux-suspended.vmpk" "$out/elsewhere/moved.vmpk"
next=
vmpack_abs=$(realpath "$vmpack")
coproc VM { cd "$out/elsewhere" && exec "$vmpack_abs" resume moved.vmpk 2>&1 </dev/null; }
vm_pid=$VM_PID
exec {vm_out}<&"${VM[0]}"
while IFS= read -r line <&$vm_out; do
  printf '%s\n' "$line"
  if [ -z "$next" ] && [[ $line =~ ^n=([0-9]+) ]]; then next=${BASH_REMATCH[1]}; fi
done
exec {vm_out}<&-
wait "$vm_pid" && echo "guest powered off; vmpack exited 0"
[ "$next" = 4 ] || { echo "demo: the resumed guest went on at n=$next, not n=4" >&2; exit 1; }
echo "the resumed guest went on at n=4: same instruction stream, no repeat, no gap"
echo "demo: done"
