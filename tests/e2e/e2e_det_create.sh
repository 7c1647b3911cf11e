#!/usr/bin/env bash
# `vmpack create --deterministic [--seed HEX] [--rtc WHEN]` (spec/machine.md
# 7) with a tiny guest that reads 16 bytes from virtio-rng and the CMOS
# clock (e2e_guest_rng.sh):
#   1. inspect (text and JSON) shows the recorded mode, seed and RTC start;
#   2. two `vmpack run` without --deterministic print the same random bytes,
#      RTC, RAM digest and instruction count, and say "(deterministic)";
#   3. another --seed changes the guest's random bytes, another --rtc its
#      clock; a container made without --seed gets a seed of its own;
#   4. a real-time container's two runs give different random bytes (the
#      comparison above can fail);
#   5. --cpu-stats prints the view counters and icount;
#   6. bad --seed / --rtc, and either without --deterministic, are refused.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/e2e_guest_rng.sh"

build_rng_guest rng.bzImage
mk() { vmpack create -o "$1" --memory 32M --cpu i686 --kernel rng.bzImage "${@:2}" > /dev/null; }
mk a.vmpk --deterministic --seed 1 --rtc 2030-05-06T07:08:09Z
mk b.vmpk --deterministic --seed 2 --rtc 2030-05-06T07:08:09Z
mk c.vmpk --deterministic --seed 0001 --rtc 1700000000
mk d.vmpk --deterministic
mk e.vmpk --deterministic
mk rt.vmpk
ok "guest built; containers made"

vmpack inspect a.vmpk > a.txt
grep -q '^mode: *deterministic, 1 ns per instruction, RTC from 2030-05-06T07:08:09Z$' a.txt ||
  { cat a.txt >&2; fail "inspect: no deterministic mode line"; }
grep -q "^seed: *0\{63\}1$" a.txt || { cat a.txt >&2; fail "inspect: seed 1 not shown"; }
grep -q '^mode: *real time$' <(vmpack inspect rt.vmpk) || fail "inspect: real-time container"
python3 - <(vmpack inspect --json c.vmpk) <(vmpack inspect --json rt.vmpk) <<'PY' || fail "inspect --json"
import json, sys
d = json.load(open(sys.argv[1]))["determinism"]
assert d["seed"] == "0" * 63 + "1", d
assert d["rtc_unix_seconds"] == 1700000000 and d["rtc"] == "2023-11-14T22:13:20Z", d
assert d["ns_per_insn"] == 1 and d["icount"] == 0 and d["clock_ns"] == 0, d
assert json.load(open(sys.argv[2]))["determinism"] is None
PY
ok "inspect shows mode, seed and RTC start (text and JSON)"

# run NAME FILE [options]: "rng|rtc|ram|icount" of a finished run
run() {
  local n=$1 f=$2
  shift 2
  vmpack run --ram-digest "$@" "$f" < /dev/null > "$n.out" 2> "$n.err" ||
    { cat "$n.out" "$n.err" >&2; fail "run of $f"; }
  local g r t i
  g=$(grep -o '^rng: [0-9A-F]\{32\}' "$n.out") || { cat "$n.out" "$n.err" >&2; fail "$f: no rng line"; }
  t=$(grep -o '^rtc: [0-9A-F]\{14\}' "$n.out") || { cat "$n.out" >&2; fail "$f: no rtc line"; }
  r=$(grep -o '^ram sha256 [0-9a-f]*' "$n.err") || { cat "$n.err" >&2; fail "$f: no RAM digest"; }
  i=$(grep '^icount ' "$n.err") || { cat "$n.err" >&2; fail "$f: no icount"; }
  echo "$g|$t|$r|$i"
}
A1=$(run a1 a.vmpk)
A2=$(run a2 a.vmpk)
[ "$A1" = "$A2" ] || fail "two runs of a --deterministic container differ: $A1 / $A2"
case "$A1" in *"(deterministic)"*) ;; *) fail "run without --deterministic was not deterministic: $A1" ;; esac
case "$A1" in *"rtc: 20300506070809"*) ;; *) fail "the guest's RTC is not --rtc's: $A1" ;; esac
ok "two runs without --deterministic: same random bytes, RTC, RAM and icount ($A1)"

B=$(run b b.vmpk)
[ "${A1%%|*}" != "${B%%|*}" ] || fail "--seed 2 gave the random bytes of --seed 1: $B"
ok "another --seed changes the guest's random bytes (${A1%%|*} / ${B%%|*})"
C=$(run c c.vmpk)
[ "${C%%|*}" = "${A1%%|*}" ] || fail "--seed 0001 and --seed 1 differ: $C / $A1"
case "$C" in *"rtc: 20231114221320"*) ;; *) fail "--rtc 1700000000: $C" ;; esac
ok "another --rtc changes the guest's clock; --seed is a number (0001 = 1)"

D=$(run d d.vmpk)
E=$(run e e.vmpk)
[ "${D%%|*}" != "${E%%|*}" ] || fail "two containers made without --seed got the same seed"
[ "$(run d2 d.vmpk)" = "$D" ] || fail "a container with a random seed does not run alike twice"
ok "without --seed each container gets a seed of its own, runs alike"

R1=$(run r1 rt.vmpk)
R2=$(run r2 rt.vmpk)
[ "${R1%%|*}" != "${R2%%|*}" ] || fail "a real-time container's two runs read the same random bytes"
case "$R1" in *"(deterministic)"*) fail "a real-time container ran deterministically" ;; esac
ok "a real-time container's runs differ (${R1%%|*} / ${R2%%|*})"

vmpack run --cpu-stats a.vmpk < /dev/null > s.out 2> s.err || { cat s.err >&2; fail "run --cpu-stats"; }
grep -q '^vmpack: cpu-stats: view maps [1-9][0-9]*, view flushes [0-9]*, view resets [0-9]*, icount [1-9][0-9]* (deterministic)$' s.err ||
  { cat s.err >&2; fail "--cpu-stats: no view counters line"; }
ok "--cpu-stats prints the view counters and icount"

# --rtc's calendar: what inspect shows back is the date given
for w in 0=1970-01-01T00:00:00Z 2000-02-29=2000-02-29T00:00:00Z 2024-12-31T23:59:59=2024-12-31T23:59:59Z \
  "2038-01-19 03:14:08=2038-01-19T03:14:08Z" 4102444800=2100-01-01T00:00:00Z \
  9999-12-31T23:59:59Z=9999-12-31T23:59:59Z; do
  vmpack create -o w.vmpk --memory 32M --cpu i686 --deterministic --seed 0 --rtc "${w%%=*}" ||
    fail "--rtc ${w%%=*} refused"
  vmpack inspect w.vmpk | grep -q "^mode: .*RTC from ${w#*=}$" ||
    { vmpack inspect w.vmpk >&2; fail "--rtc ${w%%=*}: inspect does not show ${w#*=}"; }
done
rm -f w.vmpk
ok "--rtc: Unix seconds and dates (leap days, 2038, 9999) come back as given"

expect_fail 2 "--seed needs --deterministic" vmpack create -o x.vmpk --memory 32M --cpu i686 --seed 1
expect_fail 2 "--rtc needs --deterministic" vmpack create -o x.vmpk --memory 32M --cpu i686 --rtc 0
expect_fail 2 "bad --seed" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --seed 12g4
expect_fail 2 "bad --seed" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic \
  --seed "$(printf '1%.0s' $(seq 65))"
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 2023-02-29
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 1969-12-31
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 2100-02-29
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 253402300800
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 2024-1-1
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 2024-01-01T00:00:00+01
expect_fail 2 "bad --rtc" vmpack create -o x.vmpk --memory 32M --cpu i686 --deterministic --rtc 2024-01-01T24:00:00Z
[ ! -e x.vmpk ] || fail "a refused create left x.vmpk"
echo "e2e_det_create: $CHECKS checks passed"
