#!/usr/bin/env bash
# Pack benchmark: vmpack create / export-disk on a 1 GiB disk image (half
# zeros, half mixed compressible and incompressible data) and a 256 MiB RAM
# image, beside `tar --zstd -cf` and `zstd -T0` of the same bytes, measured
# in the same run on the same machine. Not part of ctest (it takes a while
# and its figures are for people, not for a pass/fail).
#
# usage: tests/bench/pack.sh [path/to/vmpack]    (default: build/vmpack)
# env:   VMP_BENCH_DIR (scratch space, needs ~4 GiB; default a mktemp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
vmpack=$(realpath "${1:-build/vmpack}")
[ -x "$vmpack" ] || { echo "pack.sh: no vmpack at $vmpack (build first)" >&2; exit 2; }
dir=${VMP_BENCH_DIR:-$(mktemp -d /tmp/vmpack-bench.XXXXXX)}
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT

echo "== making the data in $dir =="
# Mixed data: 1 MiB blocks taking turns: random (incompressible), text-like
# (compresses about 4:1), and a repeating binary pattern (compresses far).
python3 - "$dir/disk.raw" $((1024 << 20)) 50 "$dir/ram.raw" $((256 << 20)) 40 <<'PY'
import os, random, sys
def make(path, size, zero_pct):
    rnd = random.Random(size)
    words = [b"vmpack", b"kernel", b"block", b"the", b"page", b"0x%08x", b"struct",
             b"return", b"if", b"else", b"=", b"{", b"}", b"\n"]
    mib = 1 << 20
    nblocks = size // mib
    zero_blocks = nblocks * zero_pct // 100
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(zero_blocks * mib)
        for i in range(zero_blocks, nblocks):
            kind = i % 3
            if kind == 0:
                blk = os.urandom(mib)
            elif kind == 1:
                parts = []
                n = 0
                while n < mib:
                    w = rnd.choice(words)
                    if b"%" in w:
                        w = w % rnd.getrandbits(32)
                    parts.append(w + b" ")
                    n += len(w) + 1
                blk = b"".join(parts)[:mib]
            else:
                pat = bytes(rnd.getrandbits(8) for _ in range(64))
                blk = (pat + i.to_bytes(4, "little")) * (mib // 68) + b"\0" * (mib % 68)
            f.write(blk)
make(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
make(sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
PY
sync

mb() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.1f}')" "$1"; }
rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6 / float(sys.argv[2]):.1f}')" "$1" "$2"; }
timeit() { # prints seconds taken by "$@"
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t0" "$t1"
}
size() { stat -c %s "$1"; }
row() { printf '%-34s %9s s %9s MB/s %10s MB\n' "$1" "$2" "$(rate "$3" "$2")" "$(mb "$4")"; }

disk_bytes=$(size "$dir/disk.raw")
ram_bytes=$(size "$dir/ram.raw")
both=$((disk_bytes + ram_bytes))
echo "disk: $(mb "$disk_bytes") MB, RAM image: $(mb "$ram_bytes") MB, $(nproc) CPUs"
echo
printf '%-34s %11s %14s %13s\n' "what" "time" "input rate" "output size"

# vmpack: the disk alone, then export it back
t=$(timeit "$vmpack" create -o "$dir/disk.vmpk" --memory 256M --cpu i686 --disk "$dir/disk.raw")
row "vmpack create (1 GiB disk)" "$t" "$disk_bytes" "$(size "$dir/disk.vmpk")"
t=$(timeit "$vmpack" export-disk "$dir/disk.vmpk" 0 -o "$dir/disk.out")
row "vmpack export-disk (unpack)" "$t" "$disk_bytes" "$(size "$dir/disk.out")"
cmp "$dir/disk.raw" "$dir/disk.out" || { echo "pack.sh: export-disk differs" >&2; exit 1; }
rm -f "$dir/disk.out"

# vmpack: disk + RAM image
if "$vmpack" create --help | grep -q -- '--ram-image'; then
  ramopt=(--ram-image "$dir/ram.raw"); ramwhat="RAM image"
else
  ramopt=(--disk "$dir/ram.raw"); ramwhat="RAM as a 2nd disk"
fi
t=$(timeit "$vmpack" create -o "$dir/both.vmpk" --memory 256M --cpu i686 --disk "$dir/disk.raw" "${ramopt[@]}")
row "vmpack create (disk + $ramwhat)" "$t" "$both" "$(size "$dir/both.vmpk")"

# references, same bytes
t=$(timeit tar --zstd -cf "$dir/ref.tar.zst" -C "$dir" disk.raw ram.raw)
row "tar --zstd -cf (disk + RAM)" "$t" "$both" "$(size "$dir/ref.tar.zst")"
t=$(timeit tar -I 'zstd -T0' -cf "$dir/ref-t0.tar.zst" -C "$dir" disk.raw ram.raw)
row "tar -I 'zstd -T0' (disk + RAM)" "$t" "$both" "$(size "$dir/ref-t0.tar.zst")"
t=$(timeit zstd -q -T0 -f "$dir/disk.raw" -o "$dir/disk.raw.zst")
row "zstd -T0 (disk)" "$t" "$disk_bytes" "$(size "$dir/disk.raw.zst")"
t=$(timeit zstd -q -d -T0 -f "$dir/disk.raw.zst" -o "$dir/disk.unz")
row "zstd -d (disk, unpack)" "$t" "$disk_bytes" "$(size "$dir/disk.unz")"
echo
echo "rates are input bytes / wall time; MB = 10^6 bytes"
