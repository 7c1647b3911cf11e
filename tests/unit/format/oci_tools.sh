#!/usr/bin/env bash
# The container is a tar that tar lists and extracts, holding an OCI image
# layout that skopeo accepts (spec/container.md 2, 3). Exit 77 (skipped)
# only when skopeo is not installed.
set -euo pipefail
sample=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sample" "$dir/c.vmpack"
tar -tf "$dir/c.vmpack" > "$dir/list"
grep -qx 'oci-layout' "$dir/list"
grep -qx 'index.json' "$dir/list"
[ "$(grep -c '^blobs/sha256/[0-9a-f]\{64\}$' "$dir/list")" -gt 5 ]
mkdir "$dir/x"
tar -xf "$dir/c.vmpack" -C "$dir/x"
# every extracted blob's name is its digest
for f in "$dir"/x/blobs/sha256/*; do
  [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "bad blob $f"; exit 1; }
done
if ! command -v skopeo >/dev/null; then
  echo "skopeo not installed: OCI check skipped"
  exit 77
fi
skopeo inspect "oci-archive:$dir/c.vmpack" > "$dir/inspect.json"
grep -q '"Architecture": "386"' "$dir/inspect.json"
skopeo copy -q "oci-archive:$dir/c.vmpack" "oci:$dir/copy:latest"
[ -f "$dir/copy/index.json" ]
echo "tar and skopeo accept the container"
