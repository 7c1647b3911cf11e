#!/usr/bin/env bash
# Install what vmpack needs to build, test and run, from Debian's packages.
# Idempotent and quick when everything is already there.
set -euo pipefail

pkgs=(build-essential cmake pkg-config git
      libzstd-dev zstd libarchive-dev libsodium-dev libcmocka-dev libslirp-dev libglib2.0-dev
      gcc-multilib clang libclang-rt-14-dev
      libssl-dev skopeo time cpio xz-utils e2fsprogs tar python3)
# Optional: reference tools that tests and benchmarks compare against.
optional=(qemu-user qemu-system-x86)

missing=()
for p in "${pkgs[@]}" ${VMP_WITH_OPTIONAL:+"${optional[@]}"}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "vmpack: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
