#!/usr/bin/env bash
# CPU profiles on the command line: list, show, JSON out and back in via
# --cpu FILE, and the host profile.
. "$(dirname "$0")/lib.sh"

vmpack profile > list.txt
for n in i686 pentium3 core2-32 nehalem-32 host; do
  grep -q "^$n " list.txt || fail "profile list lacks $n"
done
ok "profile lists the five built-in profiles"

vmpack profile nehalem-32 > n.txt
grep -q '^features:.* sse4_2 popcnt' n.txt || fail "nehalem-32 features: $(cat n.txt)"
vmpack profile host | grep -q '^features:' || fail "host profile"
vmpack profile host | grep -qw avx && fail "host profile exposes avx"
ok "profile shows features; host is masked (no avx)"

vmpack profile core2-32 --json > mine.json
python3 - mine.json <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "my-core2"
json.dump(p, open(sys.argv[1], "w"), indent=1)
PY
make_disk d.raw $((1 << 20)) zeros
vmpack create -o c.vmpk --memory 32M --cpu mine.json --disk d.raw
vmpack inspect --json c.vmpk > i.json
[ "$(json_get i.json 'j["cpu"]["name"]')" = my-core2 ] || fail "JSON profile name"
[ "$(json_get i.json '"ssse3" in j["cpu"]["features"]')" = True ] || fail "JSON profile features"
ok "create --cpu FILE.json records the file's profile"

vmpack create -o h.vmpk --memory 32M --cpu host
vmpack inspect h.vmpk | grep -q '^cpu: *host' || fail "host profile container"
ok "create --cpu host"

echo "e2e_profile: $CHECKS checks passed"
