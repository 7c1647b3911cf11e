#!/usr/bin/env bash
# vmpack check: a container this host can run passes; one whose CPU profile
# claims features the host (or the translator) lacks is refused with each
# feature named; a newer format version and an unknown required section are
# refused. The refused containers are made by rewriting a good one's config
# or manifest with Python (vmpack create refuses such profiles itself).
# usage: e2e_check.sh VMPACK MKFIXTURE
MKFIXTURE=$(realpath "${2:?usage: $0 vmpack mkfixture}") # before lib.sh changes folder
. "$(dirname "$0")/lib.sh"

# rewrite IN OUT KIND: tests/lib/vmpkedit.py (cpu: 3DNow! and AVX-512F in
# the profile; version: format version 2), every digest recomputed.
rewrite() { python3 "$E2E_TOP/tests/lib/vmpkedit.py" "$@"; }

make_disk d.raw $((1 << 20)) mixed
vmpack create -o good.vmpk --memory 32M --cpu i686 --disk d.raw
vmpack check good.vmpk > out.txt
grep -q 'OK: this host can run it' out.txt || fail "good container: $(cat out.txt)"
vmpack check -q good.vmpk > out.txt
[ ! -s out.txt ] || fail "check -q printed $(cat out.txt)"
ok "a powered-off i686 container passes (exit 0)"

vmpack create -o host.vmpk --memory 32M --cpu host
vmpack check host.vmpk | grep -q "profile 'host'" || fail "host profile container"
ok "a container with this host's own profile passes"

rewrite good.vmpk cpu.vmpk cpu
vmpack verify cpu.vmpk > /dev/null || fail "the rewritten container does not verify"
expect_fail 1 "3dnow" vmpack check cpu.vmpk
grep -qF "feature" err.txt || fail "no features message: $(cat err.txt)"
grep -qE "cpuid word 2 bit 16|avx512f" err.txt || fail "AVX-512F not named: $(cat err.txt)"
grep -qF "with-3dnow" err.txt || fail "profile not named: $(cat err.txt)"
grep -qF "cannot run it" err.txt || fail "no verdict: $(cat err.txt)"
ok "a profile with 3DNow! and AVX-512F is refused, each feature named"

rewrite good.vmpk v2.vmpk version
expect_fail 1 "version" vmpack check v2.vmpk
grep -q "2" err.txt || fail "the found version is not named: $(cat err.txt)"
ok "format version 2 is refused"

"$MKFIXTURE" fx.vmpk hello
expect_fail 1 "test-state" vmpack check fx.vmpk
grep -qF "cannot resume it" err.txt || fail "no verdict: $(cat err.txt)"
ok "an unknown required section is refused, named"

expect_fail 1 "missing.vmpk" vmpack check missing.vmpk
expect_fail 2 "expected one container file" vmpack check
ok "a missing file and a missing argument fail"

echo "e2e_check: $CHECKS checks passed"
