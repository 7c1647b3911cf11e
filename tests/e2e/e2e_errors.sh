#!/usr/bin/env bash
# Every error a user can hit: a clear "vmpack: <what>: <why>" message, exit
# 1 for failures and 2 for usage errors, never a crash.
. "$(dirname "$0")/lib.sh"

make_disk d.raw $((2 << 20)) mixed
vmpack create -o good.vmpk --memory 64M --cpu i686 --chunk-size 64K --disk d.raw
size=$(stat -c %s good.vmpk)

# usage errors (exit 2)
expect_fail 2 "not a vmpack command" vmpack frobnicate
expect_fail 2 "unknown option '--bogus'" vmpack inspect --bogus good.vmpk
expect_fail 2 "option '--memory' needs a value" vmpack create -o x.vmpk --cpu i686 --memory
expect_fail 2 "-o OUT.vmpk is required" vmpack create --memory 64M --cpu i686
expect_fail 2 "--memory is required" vmpack create -o x.vmpk --cpu i686
expect_fail 2 "--cpu is required" vmpack create -o x.vmpk --memory 64M
expect_fail 2 "bad --memory '12X'" vmpack create -o x.vmpk --memory 12X --cpu i686
expect_fail 2 "bad --memory 'lots'" vmpack create -o x.vmpk --memory lots --cpu i686
expect_fail 2 "bad --memory '99999999999999999999999G'" vmpack create -o x.vmpk --memory 99999999999999999999999G --cpu i686
expect_fail 2 "from 1M to 4G" vmpack create -o x.vmpk --memory 8G --cpu i686
expect_fail 2 "from 1M to 4G" vmpack create -o x.vmpk --memory 1000 --cpu i686
expect_fail 2 "bad --chunk-size '3000'" vmpack create -o x.vmpk --memory 64M --cpu i686 --chunk-size 3000
expect_fail 2 "bad --chunk-size '32M'" vmpack create -o x.vmpk --memory 64M --cpu i686 --chunk-size 32M
expect_fail 2 "--cmdline is not valid UTF-8" vmpack create -o x.vmpk --memory 64M --cpu i686 --cmdline "$(printf 'a\xffb')"
expect_fail 2 "expected one container file" vmpack inspect
expect_fail 2 "expected two container files" vmpack diff good.vmpk
expect_fail 2 "-o RAW is required" vmpack export-disk good.vmpk 0
expect_fail 2 "-o NAME is required" vmpack keygen
[ ! -e x.vmpk ] || fail "a failed create left x.vmpk"

# bad CPU profiles (exit 1)
expect_fail 1 "unknown CPU profile 'pentium9'" vmpack create -o x.vmpk --memory 64M --cpu pentium9
expect_fail 1 "i686, pentium3, core2-32, nehalem-32, host" vmpack create -o x.vmpk --memory 64M --cpu pentium9
expect_fail 1 "No such file" vmpack create -o x.vmpk --memory 64M --cpu ./nothere.json
printf '{"name": "bad", "leaves": [{"leaf": "0x0", "eax": 7}]}' > bad1.json
expect_fail 1 'leaves[0].eax: expected a string' vmpack create -o x.vmpk --memory 64M --cpu bad1.json
printf '{"name": "bad", "leaves": [' > bad2.json
expect_fail 1 "bad CPU profile" vmpack create -o x.vmpk --memory 64M --cpu bad2.json
printf '{"name": "bad", "leaves": [], "colour": "red"}' > bad3.json
expect_fail 1 'unknown field "colour"' vmpack create -o x.vmpk --memory 64M --cpu bad3.json
vmpack profile i686 --json > avx.json
python3 - avx.json <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "i686-avx"
for l in p["leaves"]:
    if l["leaf"] == "0x1":
        l["ecx"] = hex(int(l["ecx"], 16) | (1 << 28))
json.dump(p, open(sys.argv[1], "w"))
PY
expect_fail 1 "the translator cannot run: avx" vmpack create -o x.vmpk --memory 64M --cpu avx.json
[ ! -e x.vmpk ] || fail "a failed create left x.vmpk"

# missing input files (exit 1)
expect_fail 1 "nothere.raw: No such file" vmpack create -o x.vmpk --memory 64M --cpu i686 --disk nothere.raw
expect_fail 1 "nothere.bz: No such file" vmpack create -o x.vmpk --memory 64M --cpu i686 --kernel nothere.bz
expect_fail 1 "not a regular file" vmpack create -o x.vmpk --memory 64M --cpu i686 --disk .
expect_fail 1 "RAM image is" vmpack create -o x.vmpk --memory 64M --cpu i686 --ram-image d.raw
expect_fail 1 "No such file" vmpack create -o /nonexistent-dir/x.vmpk --memory 64M --cpu i686
[ ! -e x.vmpk ] || fail "a failed create left x.vmpk"
ls | grep -v '^\(good.vmpk\|d.raw\|k.key\|k.pub\|bad[123].json\|avx.json\|out.txt\|err.txt\)$' && fail "a failed create left a temporary file"
ok "failed creates leave no file behind"
expect_fail 1 "nothere.vmpk" vmpack inspect nothere.vmpk
expect_fail 1 "nothere.vmpk" vmpack verify nothere.vmpk
expect_fail 1 "nothere.vmpk" vmpack export-disk nothere.vmpk 0 -o o.raw
expect_fail 1 "nothere.vmpk" vmpack diff good.vmpk nothere.vmpk
vmpack keygen -o k > /dev/null
expect_fail 1 "nothere.vmpk" vmpack sign nothere.vmpk --key k.key
expect_fail 1 "no disk 1 (the container has 1 disk)" vmpack export-disk good.vmpk 1 -o o.raw
expect_fail 1 "no image named 'ram'" vmpack export-disk good.vmpk ram -o o.raw
[ ! -e o.raw ] || fail "a failed export left o.raw"

# not a container at all
expect_fail 1 "d.raw" vmpack inspect d.raw
: > empty.vmpk
expect_fail 1 "empty.vmpk" vmpack inspect empty.vmpk

# truncated: at several points, inspect or verify must fail cleanly
# (cutting only the two zero end blocks leaves a valid tar: spec/container.md 2.2)
for cut in 512 $((size / 3)) $((size / 2)) $((size - 1100)) $((size - 1536)); do
  head -c "$cut" good.vmpk > cut.vmpk
  rc=0; vmpack verify cut.vmpk > /dev/null 2> err.txt || rc=$?
  [ "$rc" = 1 ] || { cat err.txt; fail "verify of a file cut at $cut exited $rc"; }
  grep -q '^vmpack: cut.vmpk: ' err.txt || fail "truncated at $cut: message $(cat err.txt)"
  ok "truncated at $cut: $(head -1 err.txt)"
done

# corrupt: flip one byte in the middle (inside chunk data), and in a few
# other places; verify must name what failed, and export-disk must refuse
# the byte flipped is the middle one of the largest member (a chunk blob),
# found by walking the tar headers, so it never lands in padding
python3 - good.vmpk flip.vmpk <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
pos, best = 0, (0, 0)
while pos + 512 <= len(data) and any(data[pos:pos + 512]):
    size = int(data[pos + 124:pos + 136].rstrip(b"\0 ") or b"0", 8)
    best = max(best, (size, pos + 512))
    pos += 512 + (size + 511) // 512 * 512
size, start = best
data[start + size // 2] ^= 0xff
open(sys.argv[2], "wb").write(data)
PY
expect_fail 1 "flip.vmpk: " vmpack verify flip.vmpk
grep -qiE 'digest|sha|checksum|mismatch|corrupt' err.txt || fail "corrupt: message does not say digest: $(cat err.txt)"
rc=0; vmpack export-disk flip.vmpk 0 -o flip.raw 2> err.txt > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "export-disk of a corrupt container exited $rc"
[ ! -e flip.raw ] || fail "export-disk of a corrupt container left flip.raw"
ok "export-disk refuses a corrupt chunk: $(head -1 err.txt)"
for pos in 100 700 $((size / 4)) $((size * 3 / 4)) $((size - 3000)); do
  python3 - good.vmpk flip.vmpk $pos <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[int(sys.argv[3])] ^= 0x01
open(sys.argv[2], "wb").write(data)
PY
  rc=0; vmpack verify flip.vmpk > /dev/null 2> err.txt || rc=$?
  # a flipped bit in tar padding changes nothing the container means; the
  # rest must be caught. Either way: no crash, and a message on failure.
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "flip at $pos: exit $rc"
  [ "$rc" = 0 ] || grep -q '^vmpack: flip.vmpk: ' err.txt || fail "flip at $pos: no message"
  ok "byte flipped at $pos: exit $rc $(head -1 err.txt)"
done

echo "e2e_errors: $CHECKS checks passed"
