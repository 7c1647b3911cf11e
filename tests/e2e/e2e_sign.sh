#!/usr/bin/env bash
# keygen, sign, verify with the right key, the wrong key, and a tampered
# container; key files and their modes.
. "$(dirname "$0")/lib.sh"

make_disk d.raw $((1 << 20)) mixed
vmpack create -o c.vmpk --memory 64M --cpu pentium3 --disk d.raw

vmpack keygen -o alice > keygen.txt
vmpack keygen -o mallory > /dev/null
[ -f alice.key ] && [ -f alice.pub ] || fail "keygen files"
[ "$(stat -c %a alice.key)" = 600 ] || fail "secret key mode is $(stat -c %a alice.key)"
id=$(sed -n 's/^key \([0-9a-f]\{16\}\):.*/\1/p' keygen.txt)
[ -n "$id" ] || fail "keygen printed no key id"
ok "keygen writes NAME.key (0600) and NAME.pub, prints key id $id"
expect_fail 1 "File exists" vmpack keygen -o alice
vmpack keygen -o alice --force > /dev/null
vmpack keygen -o alice2 > /dev/null
ok "keygen refuses to overwrite without --force"

expect_fail 1 "signature" vmpack verify c.vmpk --key alice.pub
vmpack sign c.vmpk --key alice.key | grep -q 'signed by key' || fail "sign output"
vmpack verify c.vmpk --key alice.pub | grep -q "OK" || fail "verify with the right key"
ok "sign, then verify with the right key"
vmpack inspect --json c.vmpk > i.json
[ "$(json_get i.json 'len(j["signatures"])')" = 1 ] || fail "inspect: one signature"

expect_fail 1 "signature" vmpack verify c.vmpk --key mallory.pub
vmpack sign c.vmpk --key mallory.key > /dev/null
vmpack verify c.vmpk --key alice.pub > /dev/null || fail "alice's signature lost when mallory signed"
vmpack verify c.vmpk --key mallory.pub > /dev/null || fail "mallory's signature"
vmpack export-disk c.vmpk 0 -o d.out && cmp d.raw d.out || fail "disk changed by signing"
ok "two signatures coexist; signing keeps the data"

printf 'hello\n' > junk.pub
expect_fail 1 "not a vmpack public key" vmpack verify c.vmpk --key junk.pub
expect_fail 1 "larger than" vmpack verify c.vmpk --key d.raw
expect_fail 1 "not a vmpack secret key" vmpack sign c.vmpk --key alice.pub
expect_fail 1 "No such file" vmpack verify c.vmpk --key nothere.pub
expect_fail 2 "--key" vmpack sign c.vmpk

# a signature blob does not survive a changed manifest: re-create with a
# different command line, then graft the old index.json (with alice's
# signature) onto the new container's blobs
mkdir a b
tar -xf c.vmpk -C a
vmpack create -o c3.vmpk --memory 64M --cpu pentium3 --cmdline other --disk d.raw
tar -xf c3.vmpk -C b
python3 - a/index.json b/index.json <<'PY'
import json, sys
old, new = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
if "org.vmpack.signatures" not in old.get("annotations", {}):
    sys.exit("no signatures listed in index.json")
new["annotations"] = old["annotations"]
json.dump(new, open(sys.argv[2], "w"))
PY
cp -n a/blobs/sha256/* b/blobs/sha256/
(cd b && tar --format=ustar -cf ../forged.vmpk oci-layout blobs index.json)
rc=0; vmpack verify forged.vmpk --key alice.pub > /dev/null 2> forged.err || rc=$?
[ "$rc" = 1 ] || { cat forged.err; fail "a signature moved to another manifest verified (rc $rc)"; }
grep -q '^vmpack: ' forged.err || fail "forged: no message"
ok "a signature moved onto another manifest does not verify: $(head -1 forged.err)"

echo "e2e_sign: $CHECKS checks passed"
