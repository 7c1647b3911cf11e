#!/usr/bin/env bash
# vmpack run in a script: commands piped into stdin (not a terminal) reach
# the guest's shell through COM1 with flow control, even though they all
# arrive before the guest boots; `poweroff -f` ends vmpack with status 0.
#   printf 'uname -m\npoweroff -f\n' | vmpack run linux.vmpk
# Exits 77 (skipped) when the example guest cannot be built here.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

example_guest run_pipe linux.vmpk
rc=0
printf 'echo pi''pe-$((6*7))-$(uname -m)\npoweroff -f\n' |
    timeout "${VMP_BOOT_TIMEOUT:-600}" "$VMPACK" run linux.vmpk > console.log 2> stderr.log || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -20 console.log >&2
    cat stderr.log >&2
    fail "printf ... | vmpack run exited $rc"
fi
grep -q 'pipe-42-i686' console.log || { tail -20 console.log >&2; fail "the piped command's answer is missing"; }
ok "piped commands ran in the guest (uname -m: i686) and poweroff -f ended vmpack with 0"
