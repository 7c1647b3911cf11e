#!/usr/bin/env bash
# cpu_profile.sh X86RUN BIN_DIR: the --cpu profile is what the guest sees
# and masking is strict. glibc picks its i686 / SSE2 code paths from CPUID,
# so a program runs the same under every profile that has what it needs,
# and an SSE2 program under the i686 profile (no SSE) dies of SIGILL (#UD)
# where the host itself would have run it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
x86run=$1
bin=$2
fail=0
X86RUN_FLAGS="--cpu i686" "$here/run_prog.sh" "$x86run" "$bin/fp_x87" || fail=1
X86RUN_FLAGS="--cpu i686" "$here/run_prog.sh" "$x86run" "$bin/strings" || fail=1
X86RUN_FLAGS="--cpu pentium3" "$here/run_prog.sh" "$x86run" "$bin/ints" || fail=1
X86RUN_FLAGS="--cpu core2-32" "$here/run_prog.sh" "$x86run" "$bin/fp_sse2" || fail=1

err=$(mktemp)
"$x86run" --cpu i686 "$bin/fp_sse2" >/dev/null 2>"$err"
rc=$?
if [ $rc -eq 132 ] && grep -q '^x86run: guest exception 6 ' "$err"; then
    echo "ok: fp_sse2 under --cpu i686 ends with SIGILL (#UD)"
else
    echo "FAIL: fp_sse2 under --cpu i686: status $rc (want 132), stderr:"
    head -3 "$err"
    fail=1
fi
rm -f "$err"
if "$x86run" --cpu no-such-profile "$bin/ints" >/dev/null 2>&1; then
    echo "FAIL: an unknown profile was accepted"
    fail=1
else
    echo "ok: unknown profile refused"
fi
exit $fail
