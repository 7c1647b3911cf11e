#!/usr/bin/env bash
# create from sample disks (zeros, random, mixed, a size that is not a
# multiple of the chunk), inspect (text and JSON), verify, export-disk gives
# identical bytes, and the file is a plain tar that tar lists and extracts.
. "$(dirname "$0")/lib.sh"

chunk=$((64 << 10))
make_disk zeros.raw $((4 << 20)) zeros
make_disk random.raw $((1 << 20)) random
make_disk mixed.raw $((3 << 20)) mixed
make_disk odd.raw $((2 << 20 | 12345)) mixed       # not a chunk multiple
printf 'not really a kernel\n' > bzImage
printf 'not really an initrd\n' > initrd.img

vmpack create -o c.vmpk --memory 256M --cpu i686 --kernel bzImage --initrd initrd.img \
  --cmdline 'console=ttyS0 "quoted" arg' --chunk-size 64K \
  --disk zeros.raw --disk random.raw --disk mixed.raw --disk odd.raw
[ -s c.vmpk ] || fail "no container written"
ok "create with four disks, kernel, initrd and command line"

vmpack inspect c.vmpk > inspect.txt
grep -q '^power: *off' inspect.txt || fail "inspect: power"
grep -q '^memory: *256 MiB' inspect.txt || fail "inspect: memory"
grep -q '^cpu: *i686 (GenuineIntel family 6 model 1 stepping 9' inspect.txt || fail "inspect: cpu"
grep -q '^features:.* cmov' inspect.txt || fail "inspect: features"
grep -q '^images: *4' inspect.txt || fail "inspect: image count"
ok "inspect (text) shows power, memory, CPU, features, images"

vmpack inspect --json c.vmpk > inspect.json
python3 -m json.tool inspect.json > /dev/null || fail "inspect --json is not JSON"
[ "$(json_get inspect.json 'j["memory_bytes"]')" = $((256 << 20)) ] || fail "json memory"
[ "$(json_get inspect.json 'j["power"]')" = off ] || fail "json power"
[ "$(json_get inspect.json 'j["cpu"]["name"]')" = i686 ] || fail "json cpu name"
[ "$(json_get inspect.json '"sse" in j["cpu"]["features"]')" = False ] || fail "i686 has no sse"
[ "$(json_get inspect.json 'j["cmdline"]')" = 'console=ttyS0 "quoted" arg' ] || fail "json cmdline"
[ "$(json_get inspect.json 'j["kernel"]["bytes"]')" = 20 ] || fail "json kernel size"
[ "$(json_get inspect.json 'len(j["images"])')" = 4 ] || fail "json images"
# the zero disk stores nothing; the random one stores every chunk
[ "$(json_get inspect.json 'j["images"][0]["chunks_stored"]')" = 0 ] || fail "zeros disk stored chunks"
[ "$(json_get inspect.json 'j["images"][0]["chunks_zero"]')" = 64 ] || fail "zeros disk zero chunks"
[ "$(json_get inspect.json 'j["images"][1]["chunks_stored"]')" = 16 ] || fail "random disk chunks"
[ "$(json_get inspect.json 'j["images"][3]["size_bytes"]')" = $((2 << 20 | 12345)) ] || fail "odd size"
[ "$(json_get inspect.json 'j["images"][3]["chunks_total"]')" = 33 ] || fail "odd disk chunk count"
# mixed: the text region dedupes (identical 64K chunks of a repeating line
# are rare, but the 0xab tail and text are compressible)
[ "$(json_get inspect.json 'j["images"][2]["bytes_compressed"] < j["images"][2]["bytes_uncompressed"]')" = True ] \
  || fail "mixed disk did not compress"
ok "inspect --json parses and reports sizes, chunks, zero chunks, compression"

vmpack verify c.vmpk > verify.txt
grep -q 'OK' verify.txt || fail "verify output"
ok "verify passes on a fresh container"

i=0
for d in zeros random mixed odd; do
  vmpack export-disk c.vmpk $i -o $d.out
  cmp $d.raw $d.out || fail "export-disk $i ($d) differs"
  i=$((i + 1))
done
vmpack export-disk c.vmpk disk2 -o - > mixed.stdout
cmp mixed.raw mixed.stdout || fail "export-disk to stdout differs"
ok "export-disk gives identical bytes for every disk (and to stdout)"

tar -tf c.vmpk > list.txt
grep -qx 'oci-layout' list.txt || fail "tar: no oci-layout"
grep -qx 'index.json' list.txt || fail "tar: no index.json"
grep -q '^blobs/sha256/[0-9a-f]\{64\}$' list.txt || fail "tar: no blobs"
mkdir x && tar -xf c.vmpk -C x
python3 -m json.tool x/index.json > /dev/null || fail "index.json is not JSON"
# every blob's name is its content's SHA-256
(cd x/blobs/sha256 && for f in *; do echo "$f  $f"; done | sha256sum -c --quiet) || fail "blob names are not their digests"
ok "tar -tf lists and tar -xf extracts an OCI layout; blobs named by digest"

# the same inputs give the same file
vmpack create -o c2.vmpk --memory 256M --cpu i686 --kernel bzImage --initrd initrd.img \
  --cmdline 'console=ttyS0 "quoted" arg' --chunk-size 64K \
  --disk zeros.raw --disk random.raw --disk mixed.raw --disk odd.raw
cmp c.vmpk c2.vmpk || fail "create is not deterministic"
ok "create is deterministic"

# a command line with UTF-8, a control character, quotes and a backslash
# survives into inspect --json
cl=$(printf 'caf\xc3\xa9 \x01 "q" \\ end')
vmpack create -o u.vmpk --memory 16M --cpu i686 --cmdline "$cl"
vmpack inspect --json u.vmpk > u.json
python3 - u.json "$cl" <<'PY' || fail "cmdline through inspect --json"
import json, sys
sys.exit(json.load(open(sys.argv[1]))["cmdline"] != sys.argv[2])
PY
ok "inspect --json escapes the command line correctly"

# a RAM image (kind ram, the library's default RAM chunk size) beside a disk
make_disk ram.raw $((4 << 20)) mixed
vmpack create -o r.vmpk --memory 4M --cpu pentium3 --disk mixed.raw --ram-image ram.raw
vmpack inspect --json r.vmpk > r.json
[ "$(json_get r.json '[i["kind"] for i in j["images"]]')" = "['disk', 'ram']" ] || fail "ram image kind"
[ "$(json_get r.json 'j["images"][1]["chunks_total"] == -(-(4 << 20) // j["images"][1]["chunk_bytes"])')" = True ] \
  || fail "ram chunk count"
vmpack export-disk r.vmpk ram -o ram.out
cmp ram.raw ram.out || fail "RAM image differs"
ok "create --ram-image stores a RAM image that comes back identical"

echo "e2e_create: $CHECKS checks passed"
