#!/usr/bin/env bash
# diff of two containers that differ in one chunk reports exactly that
# chunk; the two share every other blob (dedupe across containers).
. "$(dirname "$0")/lib.sh"

make_disk a.raw $((4 << 20)) mixed
cp a.raw b.raw
# change 100 bytes inside chunk 37 of 64 (64 KiB chunks)
python3 - b.raw <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(37 * 65536 + 1000); f.write(b"\x5a" * 100)
PY
vmpack create -o a.vmpk --memory 128M --cpu core2-32 --chunk-size 64K --disk a.raw
vmpack create -o b.vmpk --memory 128M --cpu core2-32 --chunk-size 64K --disk b.raw

vmpack diff a.vmpk a.vmpk > same.txt
[ "$(cat same.txt)" = identical ] || fail "diff of a container with itself: $(cat same.txt)"
vmpack diff --exit-code a.vmpk a.vmpk > /dev/null || fail "--exit-code on identical"
ok "diff A A: identical"

vmpack diff a.vmpk b.vmpk > d.txt || fail "diff exited non-zero without --exit-code"
cat d.txt
grep -qx 'image disk0: chunk 37 differs (offset 0x250000)' d.txt || fail "chunk 37 not reported"
[ "$(grep -c 'differ' d.txt)" = 2 ] || fail "diff reports more than that chunk"
grep -qx 'image disk0: 1 of 64 chunks differ' d.txt || fail "diff summary"
rc=0; vmpack diff --exit-code a.vmpk b.vmpk > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "--exit-code with a difference gave $rc"
ok "diff A B reports exactly chunk 37"

vmpack create -o c.vmpk --memory 256M --cpu nehalem-32 --cmdline x --chunk-size 64K --disk a.raw
vmpack diff a.vmpk c.vmpk > cfg.txt || true
grep -q '^config.memory: 134217728 -> 268435456' cfg.txt || fail "memory difference"
grep -q '^config.cpu.name: core2-32 -> nehalem-32' cfg.txt || fail "cpu difference"
grep -q '^config.cmdline' cfg.txt || fail "cmdline difference"
grep -q 'chunk' cfg.txt && fail "same disk reported as different"
ok "diff reports config fields (memory, cpu, cmdline) and no chunks for the same disk"

# dedupe: every blob is shared but four: the changed chunk, the image's
# chunk index, the config (its OCI rootfs.diff_ids list the layers) and the
# manifest
tar -tf a.vmpk | grep '^blobs/' | sort > la.txt
tar -tf b.vmpk | grep '^blobs/' | sort > lb.txt
only_a=$(comm -23 la.txt lb.txt | wc -l)
only_b=$(comm -13 la.txt lb.txt | wc -l)
shared=$(comm -12 la.txt lb.txt | wc -l)
echo "blobs: $shared shared, $only_a only in A, $only_b only in B"
[ "$only_a" -le 4 ] && [ "$only_b" -le 4 ] || fail "too many distinct blobs ($only_a, $only_b)"
[ "$shared" -ge 10 ] || fail "only $shared blobs shared"
ok "dedupe across containers: $shared blobs shared, $only_a/$only_b distinct"

echo "e2e_diff: $CHECKS checks passed"
