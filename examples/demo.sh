#!/usr/bin/env bash
# The main job, end to end: build vmpack, make a container from a sample
# disk, inspect, sign and verify it, get the disk back byte for byte, and
# see two snapshots share every unchanged chunk; then fetch the example
# Debian i386 guest, boot it under the binary translator and talk to it.
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
echo "== boot it (binary translation, no KVM), run two commands, power off =="
# The console is the guest's COM1. Commands go in once the guest says it is
# ready (input sent before its serial driver listens would be lost).
coproc VM { exec "$vmpack" run "$out/linux.vmpk" 2>&1; }
vm_pid=$VM_PID # bash unsets VM_PID when the coprocess ends
sent=0
while IFS= read -r line <&"${VM[0]}"; do
  printf '%s\n' "$line"
  if [ $sent = 0 ] && [[ $line == *"vmpack-guest: ready"* ]]; then
    sleep 1
    printf 'uname -a; grep -m1 flags /proc/cpuinfo\npoweroff -f\n' >&"${VM[1]}"
    sent=1
  fi
done
wait "$vm_pid" && echo "guest powered off; vmpack exited 0"
echo "demo: done"
