#!/usr/bin/env bash
# `vmpack stop NAME`: a running VM (a tiny guest that loops, e2e_guest_rng.sh)
# ends through its control socket's quit without saving: `vmpack run` exits
# 0, the container is byte for byte as before, `vmpack ps` no longer lists
# it, a second stop finds nothing. A VM resumed from a suspend (of a
# container made with --deterministic: the suspended one keeps its seed and
# RTC start) stops the same way.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/e2e_guest_rng.sh"

export XDG_RUNTIME_DIR=$WORK/xdg
mkdir -m 700 -p "$XDG_RUNTIME_DIR"

vmpack stop --help > help.txt || fail "stop --help"
grep -q 'usage: vmpack stop NAME' help.txt && grep -q 'without saving' help.txt ||
  { cat help.txt >&2; fail "stop --help text"; }
vmpack --help | grep -q '^  stop ' || fail "stop is not in vmpack's command list"
ok "stop --help"

build_rng_guest spin.bzImage spin
vmpack create -o s.vmpk --memory 32M --cpu i686 --kernel spin.bzImage --deterministic --seed 5a \
  --rtc 2031-01-02 > /dev/null
before=$(sha256sum < s.vmpk)

# start NAME FILE [run|resume]: in the background until the guest loops; PID in $pid
start() {
  "$VMPACK" "${3:-run}" --name "$1" "$2" < /dev/null > "$1.out" 2> "$1.err" &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q 'spin: looping' "$1.out" 2>/dev/null && vmpack ps | grep -q "$1" && return 0
    [ "${3:-run}" = resume ] && vmpack ps | grep -q "$1" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$1.out" "$1.err" >&2; fail "$1 ended early"; }
    sleep 0.1
  done
  cat "$1.out" "$1.err" >&2
  fail "$1: the guest did not start looping"
}

start st1 s.vmpk
vmpack stop st1 > stop.txt 2> stop.err || { cat stop.txt stop.err >&2; fail "vmpack stop st1"; }
grep -q "^stopped VM 'st1' (process $pid)" stop.txt || { cat stop.txt >&2; fail "stop's message"; }
kill -0 "$pid" 2>/dev/null && fail "the VM process still runs after stop returned"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat st1.err >&2; fail "vmpack run exited $rc after a stop"; }
grep -q 'quit' st1.err || { cat st1.err >&2; fail "run did not say it quit"; }
ok "stop ends the VM; vmpack run exits 0"
[ "$(sha256sum < s.vmpk)" = "$before" ] || fail "stop changed the container"
vmpack ps | grep -q st1 && fail "ps still lists st1"
ok "the container is unchanged and ps no longer lists the VM"
expect_fail 1 "stop" vmpack stop st1
expect_fail 2 "not a VM name" vmpack stop ../x
expect_fail 2 "expected one VM name" vmpack stop

# a deterministic VM suspended, resumed, stopped
start st2 s.vmpk
vmpack suspend st2 -o sus.vmpk > susp.txt 2>&1 || { cat susp.txt >&2; fail "suspend st2"; }
wait "$pid" || fail "run of st2 did not exit 0 after the suspend"
vmpack inspect sus.vmpk > sus.txt
grep -q '^power: *suspended' sus.txt &&
  grep -q '^mode: *deterministic, 1 ns per instruction, RTC from 2031-01-02T00:00:00Z$' sus.txt &&
  grep -q "^seed: *0\{62\}5a$" sus.txt && grep -q '^clock: .* [1-9][0-9]* instructions$' sus.txt ||
  { cat sus.txt >&2; fail "the suspended container lost create's seed or RTC"; }
ok "a suspend keeps create's seed and RTC start, and records its clock"
start st3 sus.vmpk resume
sleep 0.3
kill -0 "$pid" 2>/dev/null || { cat st3.err >&2; fail "the resumed VM ended by itself"; }
vmpack stop st3 > /dev/null || fail "stop of a resumed VM"
wait "$pid" || fail "resume of st3 did not exit 0 after stop"
ok "a resumed VM stops too"
echo "e2e_stop: $CHECKS checks passed"
