#!/usr/bin/env bash
# Deterministic mode with the example Debian i386 guest (spec/machine.md 7):
# the guest boots and runs a job given on its kernel command line
# (vmpack.run=, examples/debian-i386/init) that reads /dev/hwrng and
# /dev/urandom, loops in the shell and prints the time, then powers off;
# no console input.
#   1. an uninterrupted `vmpack run --deterministic` prints the job's lines,
#      the RTC says the fixed 2024-01-01, and the RAM digest and icount
#      are taken;
#   2. the same run suspended and resumed three times at random moments
#      (mostly during the kernel's boot) ends with the same job lines, RAM
#      digest and instruction count;
#   3. the first suspended container resumed twice gives them again.
# Exits 77 (skipped) when the example guest cannot be built (no Debian
# mirror). DET_LINUX_ROUNDS: suspend/resume cycles (3).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

ROUNDS=${DET_LINUX_ROUNDS:-3}

if ! cache=$("$top/examples/debian-i386/prepare.sh" 2> prepare.log); then
  tail -5 prepare.log >&2
  echo "det_linux: cannot build the example guest: skipped" >&2
  exit 77
fi
mkdir job
cat > job/job.sh <<'EOF'
echo "job: hwrng $(head -c 65536 /dev/hwrng | sha256sum | cut -c1-16)"
echo "job: urandom $(head -c 4096 /dev/urandom | sha256sum | cut -c1-16)"
i=0; s=0
while [ $i -lt 20000 ]; do s=$(( (s * 31 + i) % 1000000007 )); i=$((i + 1)); done
echo "job: loop $s"
echo "job: uptime $(cat /proc/uptime)"
echo "job: date $(date -u +%FT%T)"
echo "job: irqs $(grep -c . /proc/interrupts) $(sha256sum /proc/interrupts | cut -c1-16)"
echo "job: done"
EOF
mke2fs -q -t ext4 -d job job.img 8M > mke2fs.log 2>&1 || fail "making the job's disk"
vmpack create -o deb.vmpk --memory 128M --cpu i686 --kernel "$cache/vmlinuz" \
  --initrd "$cache/initrd.gz" --cmdline "$(cat "$cache/cmdline") vmpack.run=/mnt/job.sh" \
  --disk job.img > /dev/null || fail "vmpack create"
ok "guest with a job on its command line"

# result PREFIX: the job's lines, the RAM digest and icount of a finished run
result() {
  grep -q '^job: done' "$1.out" || { tail -20 "$1.out" "$1.err" >&2; fail "$1: the job did not finish"; }
  grep '^job: ' "$1.out" | tr -d '\r'
  grep -E '^(ram sha256|icount) ' "$1.err"
}

t0=$(date +%s.%N)
vmpack run --deterministic --ram-digest deb.vmpk < /dev/null > a.out 2> a.err ||
  { tail -20 a.out a.err >&2; fail "deterministic run"; }
t1=$(date +%s.%N)
result a > a.res
grep -q '^job: date 2024-01-01T' a.res || { cat a.res >&2; fail "the RTC is not the fixed 2024-01-01"; }
dur=$(python3 -c "print(round($t1 - $t0, 2))")
ok "deterministic run in $dur s: $(grep -E 'icount|hwrng' a.res | tr '\n' ' ')"

suspend_rounds dl deb.vmpk "$ROUNDS" "$(python3 -c "print(0.05 * $dur)")" \
  "$(python3 -c "print($dur / (3 * $ROUNDS))")" '^job: done'
ok "$ROUNDS suspends at random moments"
vmpack resume --ram-digest "$cur" < /dev/null > c.out 2> c.err || { tail -20 c.err >&2; fail "final resume"; }
# the job's lines are in the output of whichever round ran them
cat s*.out c.out > all.out
cp c.err all.err
result all > c.res
diff a.res c.res >&2 || fail "suspended and resumed $ROUNDS times: results differ from the uninterrupted run"
ok "suspended and resumed $ROUNDS times: same job output, RAM digest and icount"

for x in d e; do
  vmpack resume --ram-digest s1.vmpk < /dev/null > $x.out 2> $x.err || { tail -20 $x.err >&2; fail "resume of s1"; }
  cat s1.out $x.out > $x.all.out
  cp $x.err $x.all.err
  result $x.all > $x.res
  diff a.res $x.res >&2 || fail "resume $x of s1 differs from the uninterrupted run"
done
ok "one suspended container resumed twice: the uninterrupted run's results both times"
echo "det_linux: $CHECKS checks passed"
