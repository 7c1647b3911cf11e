#!/usr/bin/env bash
# The main job, end to end: build vmpack, make a container from a sample
# disk, inspect, sign and verify it, and get the disk back byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

out=${VMP_DEMO_DIR:-out/demo}
mkdir -p "$out"
vmpack=build/vmpack

echo "== a 64 MiB sample disk: a little data, mostly zeros =="
python3 - "$out/disk.raw" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(64 << 20)
    f.seek(0); f.write(b"vmpack sample disk\n" * 1000)
    f.seek(32 << 20); f.write(os.urandom(3 << 20))
PY

echo "== create =="
$vmpack create -o "$out/sample.vmpk" --memory 256M --cpu i686 \
    --cmdline "console=ttyS0" --disk "$out/disk.raw"
echo "== inspect =="
$vmpack inspect "$out/sample.vmpk"
echo "== tar sees a plain tar =="
tar -tf "$out/sample.vmpk" | head -5
echo "== keygen, sign, verify =="
$vmpack keygen -o "$out/demo"
$vmpack sign "$out/sample.vmpk" --key "$out/demo.key"
$vmpack verify "$out/sample.vmpk" --key "$out/demo.pub"
echo "== export the disk and compare =="
$vmpack export-disk "$out/sample.vmpk" 0 -o "$out/disk.out"
cmp "$out/disk.raw" "$out/disk.out" && echo "disk 0: identical"
