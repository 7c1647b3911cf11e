#!/usr/bin/env bash
# Builds the seed corpus of fuzz_container_open in $2 from the sample
# writer $1: small containers (plain and signed) and a few truncations and
# prefixes, so that the fuzzer starts from valid structure.
set -euo pipefail
sample=$1 out=$2
rm -rf "$out"
mkdir -p "$out"
"$sample" "$out/small.vmpack" small
"$sample" "$out/small-signed.vmpack" small-signed
size=$(stat -c %s "$out/small.vmpack")
for cut in 512 1024 $((size / 2)) $((size - 1024)); do
  head -c "$cut" "$out/small.vmpack" > "$out/small-cut-$cut"
done
