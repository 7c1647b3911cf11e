#!/usr/bin/env bash
# Suspended containers with state sections (made by mkfixture through
# libvmpack, since the CLI makes only powered-off ones): inspect shows power,
# RAM image and sections; diff names the section and RAM chunk that differ.
# usage: e2e_state.sh VMPACK MKFIXTURE
MKFIXTURE=$(realpath "${2:?usage: $0 vmpack mkfixture}")
. "$(dirname "$0")/lib.sh"

"$MKFIXTURE" a.vmpk "state one"
"$MKFIXTURE" b.vmpk "state two" extra-info

vmpack inspect a.vmpk > a.txt
grep -q '^power: *suspended' a.txt || fail "inspect: power"
grep -q '^  test-state: version 1, required, 9 B' a.txt || fail "inspect: section"
grep -q '^  ram: ram, 1 MiB, chunk 64 KiB' a.txt || fail "inspect: RAM image"
vmpack inspect --json b.vmpk > b.json
[ "$(json_get b.json '[(s["id"], s["version"], s["required"]) for s in j["sections"]]')" = \
  "[('x86-cpu', 1, True), ('test-state', 1, True), ('extra-info', 2, False)]" ] || fail "inspect --json: sections"
[ "$(json_get b.json 'j["images"][0]["chunks_stored"]')" = 1 ] || fail "inspect --json: RAM chunks"
ok "inspect shows a suspended container's RAM image and sections"

vmpack diff a.vmpk b.vmpk > d.txt || true
cat d.txt
grep -qx 'image ram: chunk 2 differs (offset 0x20000)' d.txt || fail "diff: RAM chunk"
grep -qx 'section test-state: content differs (9 -> 9 bytes)' d.txt || fail "diff: section content"
grep -qx 'section extra-info: only in b.vmpk' d.txt || fail "diff: extra section"
[ "$(grep -c . d.txt)" = 4 ] || fail "diff: unexpected lines"
ok "diff names the RAM chunk and the sections that differ"

vmpack verify b.vmpk > /dev/null || fail "verify of a suspended container"
vmpack export-disk b.vmpk ram -o ram.out
python3 -c "import sys; d=open('ram.out','rb').read(); sys.exit(not (len(d)==1048576 and d[131072:131081]==b'state two' and d.count(0)==1048576-9))" \
  || fail "RAM image content"
ok "verify and export of a suspended container's RAM image"
echo "e2e_state: $CHECKS checks passed"
