#!/usr/bin/env bash
# Fetch Debian's i386 kernel and busybox (without installing them) and build
# the example guest's pieces into the cache folder:
#   $cache/vmlinuz      Debian's 686 bzImage
#   $cache/initrd.gz    busybox + /init + the virtio and ext4 modules
#   $cache/disk.img     a small ext4 disk with a test file (--disk-mb N)
#   $cache/cmdline      the kernel command line for vmpack's machine
# usage: prepare.sh [--disk-mb N]      (prints the cache folder on stdout)
# The cache is $VMP_CACHE or ~/.cache/vmpack/debian-i386; downloads are
# reused when present, the initramfs and disk are rebuilt every time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
disk_mb=16
while [ $# -gt 0 ]; do
    case $1 in
    --disk-mb) disk_mb=${2:?--disk-mb needs a number}; shift 2 ;;
    *) echo "prepare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $disk_mb in ''|*[!0-9]*) echo "prepare.sh: --disk-mb: not a number: $disk_mb" >&2; exit 2 ;; esac
[ "$disk_mb" -ge 2 ] || { echo "prepare.sh: --disk-mb must be at least 2" >&2; exit 2; }

cache=${VMP_CACHE:-$HOME/.cache/vmpack/debian-i386}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
log() { echo "prepare.sh: $*" >&2; }
# Tests run in parallel (ctest -j) may prepare at once: one at a time per
# cache, and every file replaced by a rename, so a make-image.sh reading the
# cache sees the old file or the new one, never a half-written one.
exec 9>"$cache/.lock"
flock 9

# 1. Download the packages with apt for i386, into our own apt state.
apt_state=$cache/apt
debs=$cache/debs
mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial" "$debs"
apt_opts=(-o APT::Architecture=i386 -o APT::Architectures=i386
          -o Dir::State::Lists="$apt_state/lists" -o Dir::Cache="$apt_state/cache"
          -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -q)
if ! ls "$debs"/linux-image-*-686-unsigned_*.deb >/dev/null 2>&1 ||
   ! ls "$debs"/busybox-static_*.deb >/dev/null 2>&1; then
    log "fetching the i386 package lists"
    # A partial failure (one mirror mid-sync) is fine as long as the main
    # archive's list came through; the look-ups below say if it did not.
    apt-get "${apt_opts[@]}" update >&2 || log "apt-get update reported errors; going on"
    kpkg=$(apt-cache "${apt_opts[@]}" depends linux-image-686 2>/dev/null |
           sed -n 's/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-686\)$/\1-unsigned/p' | head -1)
    if [ -z "$kpkg" ]; then
        kpkg=$(apt-cache "${apt_opts[@]}" pkgnames linux-image- 2>/dev/null |
               grep -E '^linux-image-6\.1\.0-[0-9]+-686-unsigned$' | sort -V | tail -1)
    fi
    [ -n "$kpkg" ] || { log "no linux-image-6.1.0-*-686-unsigned in the i386 lists"; exit 1; }
    log "downloading $kpkg and busybox-static"
    (cd "$debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download "$kpkg" busybox-static >&2)
fi

# 2. Unpack them (once per set of .deb files).
root=$cache/root
stamp=$(cd "$debs" && ls ./*.deb | sort | tr '\n' ' ')
if [ ! -f "$root/.stamp" ] || [ "$(cat "$root/.stamp")" != "$stamp" ]; then
    log "unpacking"
    rm -rf "$root"
    mkdir -p "$root"
    for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
    echo "$stamp" > "$root/.stamp"
fi
kver=$(ls "$root/lib/modules" | head -1)
cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz.new"
mv "$cache/vmlinuz.new" "$cache/vmlinuz"

# 3. The initramfs.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ir=$work/initramfs
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,root,etc,lib/modules}
cp "$root/bin/busybox" "$ir/bin/busybox"
cp "$here/init" "$ir/init"
chmod 755 "$ir/init" "$ir/bin/busybox"
cat > "$ir/etc/profile" <<'PROFILE'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='vmpack:\w# '
PROFILE
echo "root:x:0:0:root:/root:/bin/sh" > "$ir/etc/passwd"
echo "root:x:0:" > "$ir/etc/group"

# The modules we want (virtio_pci only serves the QEMU "pc" reference
# boot; vmpack's machine has no PCI), then their dependencies (the "depends=" field of
# each module's .modinfo section), loaded depth first.
wanted=(virtio virtio_ring virtio_mmio virtio_blk virtio_net virtio-rng
        virtio_console virtio_pci crc16 crc32c_generic mbcache jbd2 ext4)
moddir=$root/lib/modules/$kver/kernel
declare -A modpath done
while IFS= read -r f; do
    b=$(basename "$f"); b=${b%.ko}; b=${b%.ko.xz}
    modpath[$b]=$f
    modpath[${b//-/_}]=$f
done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz')
order=()
add_module() {
    local m=$1 f deps d
    [ -z "${done[$m]:-}" ] || return 0
    f=${modpath[$m]:-}
    if [ -z "$f" ]; then
        # Not a module: built into the kernel (modules.builtin) is fine.
        grep -qE "/${m//_/[-_]}\.ko$" "$root/lib/modules/$kver/modules.builtin" &&
            { done[$m]=1; return 0; }
        log "module $m is neither a module nor built in"; exit 1
    fi
    done[$m]=1
    local name; name=$(basename "$f"); name=${name%.xz}; name=${name%.ko}
    case $f in *.xz) xz -dc "$f" > "$ir/lib/modules/$name.ko" ;; *) cp "$f" "$ir/lib/modules/$name.ko" ;; esac
    deps=$(objcopy -O binary --only-section=.modinfo "$ir/lib/modules/$name.ko" /dev/stdout |
           tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
    for d in $deps; do add_module "$d"; done
    order+=("$name")
}
for m in "${wanted[@]}"; do add_module "$m"; done
printf '%s\n' "${order[@]}" > "$ir/lib/modules/load-order"
log "modules: ${order[*]}"

python3 "$here/mkcpio.py" "$ir" "$work/initrd.cpio" \
    --dev dev/console:c:5:1:600 --dev dev/null:c:1:3:666 --dev dev/ttyS0:c:4:64:600
gzip -9 -n -c "$work/initrd.cpio" > "$cache/initrd.gz.new"
mv "$cache/initrd.gz.new" "$cache/initrd.gz"

# 4. The disk: ext4 from a folder, no root or loop device needed.
mkdir -p "$work/disk"
echo "hello from the vmpack example disk" > "$work/disk/hello.txt"
echo "$kver" > "$work/disk/kernel-version"
# Fixed UUID, hash seed and times make the disk byte-for-byte reproducible,
# so two containers built from it share every chunk.
uuid=5f1d0c3e-7a52-4b8e-9a0e-766d7061636b
find "$work/disk" -exec touch -h -d @1700000000 {} +
rm -f "$cache/disk.img.new"
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -L vmpack -U "$uuid" \
    -E "root_owner=0:0,hash_seed=$uuid" -d "$work/disk" "$cache/disk.img.new" "${disk_mb}M" >&2
# mkfs copies each file's ctime, which touch cannot set: pin it afterwards.
{
    for f in / /lost+found $(cd "$work/disk" && find . -mindepth 1 | sed 's|^\.||'); do
        echo "set_inode_field $f ctime @1700000000"
        echo "set_inode_field $f crtime @1700000000"
    done
} > "$work/debugfs.cmd"
debugfs -w -f "$work/debugfs.cmd" "$cache/disk.img.new" >/dev/null 2>&1
mv "$cache/disk.img.new" "$cache/disk.img"

# 5. The kernel command line for vmpack's machine (spec/machine.md 6).
cat "$here/cmdline" > "$cache/cmdline.new"
mv "$cache/cmdline.new" "$cache/cmdline"
log "ready in $cache (kernel $kver)"
echo "$cache"
