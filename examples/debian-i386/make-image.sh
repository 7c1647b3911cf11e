#!/usr/bin/env bash
# Build the example guest as a powered-off vmpack container: Debian's i386
# kernel, a busybox initramfs that loads the virtio drivers and opens a shell
# on the console, and a small ext4 disk.
#
# usage: examples/debian-i386/make-image.sh OUT.vmpk [--disk-mb N] [--memory SIZE] [--extra DIR]
#   --disk-mb N    size of the ext4 disk (default 16)
#   --memory SIZE  guest RAM (default 256M)
#   --extra DIR    also put DIR's regular files (top level) on the disk, in
#                  /extra (the guest sees /mnt/extra); without it the disk is
#                  the cache's disk.img unchanged
# Environment: VMP_CACHE (download cache, default ~/.cache/vmpack/debian-i386),
# VMPACK (the vmpack binary, default build/vmpack, built here if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=
disk_mb=16
memory=256M
extra=
while [ $# -gt 0 ]; do
    case $1 in
    --disk-mb) disk_mb=${2:?--disk-mb needs a number}; shift 2 ;;
    --memory) memory=${2:?--memory needs a size}; shift 2 ;;
    --extra) extra=${2:?--extra needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "make-image.sh: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "make-image.sh: one output only" >&2; exit 2; }; out=$1; shift ;;
    esac
done
[ -n "$out" ] || { echo "usage: make-image.sh OUT.vmpk [--disk-mb N] [--memory SIZE]" >&2; exit 2; }

[ -z "$extra" ] || [ -d "$extra" ] || { echo "make-image.sh: --extra: no folder $extra" >&2; exit 2; }

cache=$("$here/prepare.sh" --disk-mb "$disk_mb")
disk=$cache/disk.img

# --extra: a copy of the disk with the files written in by debugfs (no
# root or loop device needed), so the cache's disk stays as prepare.sh made it.
if [ -n "$extra" ]; then
    xwork=$(mktemp -d)
    trap 'rm -rf "$xwork"' EXIT
    cp "$cache/disk.img" "$xwork/disk.img"
    disk=$xwork/disk.img
    echo "mkdir /extra" > "$xwork/debugfs.cmd"
    for f in "$extra"/*; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        case $b in *[!A-Za-z0-9._-]*) echo "make-image.sh: --extra: skipping $b (name)" >&2; continue ;; esac
        echo "write $f /extra/$b"
        echo "set_inode_field /extra/$b mode 0100755"
    done >> "$xwork/debugfs.cmd"
    debugfs -w -f "$xwork/debugfs.cmd" "$disk" > "$xwork/debugfs.log" 2>&1
    for f in "$extra"/*; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        case $b in *[!A-Za-z0-9._-]*) continue ;; esac
        debugfs -R "stat /extra/$b" "$disk" 2>/dev/null | grep -q "Size: $(stat -c %s "$f")\b" ||
            { cat "$xwork/debugfs.log" >&2; echo "make-image.sh: --extra: $b did not fit on the disk (--disk-mb?)" >&2; exit 1; }
    done
fi

vmpack=${VMPACK:-$top/build/vmpack}
if [ ! -x "$vmpack" ]; then
    echo "make-image.sh: building vmpack in $top/build" >&2
    cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$top/build" --target vmpack -j"$(nproc)" >&2
    vmpack=$top/build/vmpack
fi

"$vmpack" create -o "$out" --memory "$memory" --cpu i686 \
    --kernel "$cache/vmlinuz" --initrd "$cache/initrd.gz" \
    --cmdline "$(cat "$cache/cmdline")" --disk "$disk"
"$vmpack" inspect "$out" || echo "make-image.sh: warning: $out was written but vmpack inspect failed on it" >&2
