#!/usr/bin/env bash
# An OCI tool accepts a container: skopeo inspect oci-archive:FILE.
# Skipped (exit 77) when skopeo is not installed.
. "$(dirname "$0")/lib.sh"

command -v skopeo > /dev/null || { echo "skopeo not installed: skipped"; exit 77; }
make_disk d.raw $((1 << 20)) mixed
vmpack create -o c.vmpk --memory 64M --cpu i686 --disk d.raw
skopeo inspect --raw "oci-archive:$WORK/c.vmpk" > raw.json || fail "skopeo inspect --raw"
python3 -m json.tool raw.json > /dev/null || fail "skopeo's manifest is not JSON"
skopeo inspect "oci-archive:$WORK/c.vmpk" > info.json || fail "skopeo inspect"
ok "skopeo inspect oci-archive: accepts the container"
echo "e2e_skopeo: $CHECKS checks passed"
