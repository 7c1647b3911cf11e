#!/usr/bin/env bash
# tests/bench/cpu.sh [BUILD_DIR]: the translator speed benchmark (not in
# ctest). CPU-bound static i386 programs (tests/bench/progs/, built with
# gcc -m32 -static -O2) run natively, under BUILD_DIR/x86run and under
# qemu-i386 when it is installed. Prints each CPU time, each ratio
# native_time / translated_time (1.0 = native speed; higher is faster), and
# the geometric mean of the ratios. A run whose output differs from the
# native one is reported as wrong and left out of the mean. Native and
# x86run times are the best of BENCH_REPS runs (the machine may be shared);
# qemu-i386 runs once.
# Environment: X86RUN (default BUILD_DIR/x86run), BENCH_TIMEOUT (s, 300),
# BENCH_REPS (3), BENCH_QEMU=0 to leave qemu-i386 out.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
build=$(cd "$build" && pwd) || { echo "cpu.sh: no build directory $1" >&2; exit 2; }
x86run=${X86RUN:-$build/x86run}
limit=${BENCH_TIMEOUT:-300}
reps=${BENCH_REPS:-3}
clock=${BENCH_CLOCK:-cpu}
[ -x /usr/bin/time ] || clock=wall     # GNU time (Debian package "time") measures CPU
out=$build/bench-cpu
mkdir -p "$out"

progs=(int_hash branchy fp_nbody strings)
for p in "${progs[@]}"; do
    flags=()
    [ "$p" = fp_nbody ] && flags=(-mfpmath=387)
    if [ ! -x "$out/$p" ] || [ "$here/progs/$p.c" -nt "$out/$p" ]; then
        gcc -m32 -static -O2 "${flags[@]}" -o "$out/$p" "$here/progs/$p.c" -lm ||
            { echo "cpu.sh: cannot build $p (gcc-multilib?)" >&2; exit 2; }
    fi
done

have_x86run=0; [ -x "$x86run" ] && have_x86run=1
have_qemu=0; command -v qemu-i386 >/dev/null && [ "${BENCH_QEMU:-1}" != 0 ] && have_qemu=1

# timed TAG CMD...: sets t (seconds) and ok (1 when the output matches
# native). t is the CPU time (user + system) of the run, which other jobs on
# a shared machine disturb far less than wall time; BENCH_CLOCK=wall for
# wall time.
timed() {
    local tag=$1 s e rc
    shift
    s=$(date +%s.%N)
    if [ "$clock" = cpu ]; then
        /usr/bin/time -f '%U %S' -o "$out/$tag.time" timeout "$limit" "$@" \
            >"$out/$tag.out" 2>"$out/$tag.err"
        rc=$?
        t=$(awk '{ printf "%.3f", $1 + $2 }' "$out/$tag.time" 2>/dev/null | tail -1)
    else
        timeout "$limit" "$@" >"$out/$tag.out" 2>"$out/$tag.err"
        rc=$?
        e=$(date +%s.%N)
        t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
    fi
    ok=1
    if [ $rc -ne 0 ]; then
        ok=0; why="exit status $rc"
    elif [ "$tag" != native ] && ! cmp -s "$out/native.out" "$out/$tag.out"; then
        ok=0; why="wrong output"
    fi
}

# best TAG CMD...: the fastest of $reps timed runs; stops at the first failure
best() {
    local tag=$1 i b=
    shift
    for ((i = 0; i < reps; i++)); do
        timed "$tag" "$@"
        [ $ok = 1 ] || return
        if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
    done
    t=$b
}

echo "times: $clock seconds, best of $reps (qemu-i386: one run)"
printf '%-10s %9s %11s %8s %11s %8s\n' benchmark native_s x86run_s ratio qemu_s ratio
xr_ratios=(); q_ratios=()
for p in "${progs[@]}"; do
    best native "$out/$p"; tn=$t
    line=$(printf '%-10s %9.3f' "$p" "$tn")
    if [ $have_x86run = 1 ]; then
        best x86run "$x86run" "$out/$p"
        if [ $ok = 1 ]; then
            r=$(awk -v a="$tn" -v b="$t" 'BEGIN { printf "%.3f", a / b }')
            xr_ratios+=("$r")
            line+=$(printf ' %11.3f %8s' "$t" "$r")
        else
            line+=$(printf ' %11s %8s' "FAIL" "-")
            echo "  x86run $p: $why: $(grep -m1 '^x86run:' "$out/x86run.err")" >&2
        fi
    else
        line+=$(printf ' %11s %8s' "absent" "-")
    fi
    if [ $have_qemu = 1 ]; then
        timed qemu qemu-i386 "$out/$p"
        if [ $ok = 1 ]; then
            r=$(awk -v a="$tn" -v b="$t" 'BEGIN { printf "%.3f", a / b }')
            q_ratios+=("$r")
            line+=$(printf ' %11.3f %8s' "$t" "$r")
        else
            line+=$(printf ' %11s %8s' "FAIL" "-")
        fi
    else
        line+=$(printf ' %11s %8s' "absent" "-")
    fi
    echo "$line"
done

geomean() {
    [ $# -eq 0 ] && { echo "-"; return; }
    printf '%s\n' "$@" | awk '{ s += log($1); n++ } END { printf "%.3f", exp(s / n) }'
}
echo "geometric mean of native/translated: x86run $(geomean "${xr_ratios[@]}") (${#xr_ratios[@]} of ${#progs[@]} ran correctly), qemu-i386 $(geomean "${q_ratios[@]}") (${#q_ratios[@]} of ${#progs[@]})"
