#!/usr/bin/env bash
# run_prog.sh X86RUN PROGRAM [ARGS...]: run a static i386 program natively
# and under x86run; fail unless stdout, stderr and the exit status are the
# same. An argument @TMP@ becomes a fresh empty directory for each run.
# Lines that x86run itself writes to stderr (prefix "x86run:") are dropped
# before comparing. X86RUN_FLAGS (e.g. "--cpu i686") are passed to x86run.
set -u
x86run=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # tag cmd...
    local tag=$1 a args=()
    shift
    mkdir -p "$work/$tag.tmp"
    for a in "$@"; do
        args+=("${a//@TMP@/$work/$tag.tmp}")
    done
    timeout 120 "${args[@]}" >"$work/$tag.out" 2>"$work/$tag.err" </dev/null
    echo $? >"$work/$tag.rc"
}

run native "$@"
# shellcheck disable=SC2086
run x86run "$x86run" ${X86RUN_FLAGS:-} "$@"
grep -v '^x86run:' "$work/x86run.err" >"$work/x86run.err.f" || true
# A path of the temporary directory may appear in messages: normalise it.
sed -i "s#$work/x86run.tmp#@TMP@#g" "$work/x86run.out" "$work/x86run.err.f"
sed -i "s#$work/native.tmp#@TMP@#g" "$work/native.out" "$work/native.err"

fail=0
if ! cmp -s "$work/native.out" "$work/x86run.out"; then
    echo "stdout differs (native vs x86run):"
    diff "$work/native.out" "$work/x86run.out" | head -20
    fail=1
fi
if ! cmp -s "$work/native.err" "$work/x86run.err.f"; then
    echo "stderr differs (native vs x86run):"
    diff "$work/native.err" "$work/x86run.err.f" | head -20
    fail=1
fi
nrc=$(cat "$work/native.rc")
xrc=$(cat "$work/x86run.rc")
if [ "$nrc" != "$xrc" ]; then
    echo "exit status differs: native $nrc, x86run $xrc"
    fail=1
fi
if [ $fail -ne 0 ]; then
    echo "x86run's own messages:"
    grep '^x86run:' "$work/x86run.err" | head -10
    echo "FAIL: $*"
    exit 1
fi
echo "ok: $* (status $nrc, $(wc -c <"$work/native.out") bytes of stdout)"
