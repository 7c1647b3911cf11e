#!/usr/bin/env bash
# The in-guest CPU benchmark, in one run: the CPU-bound programs of
# tests/bench/progs (gcc -m32 -static -O2, as cpu.sh builds them) run natively
# on the host and inside the example Debian guest (examples/debian-i386)
# booted under `vmpack run`. Prints per program the native seconds, the
# in-guest seconds and the ratio native/guest (1.0 = native speed; higher is
# faster), then the geometric mean of the ratios. Not part of ctest.
#
# Native: wall seconds, best of BENCH_REPS runs (the host may be shared).
# Guest: /proc/uptime read just before and after the program, in the same
# shell command line (the guest clock follows the host's monotonic clock);
# best of BENCH_GUEST_REPS runs (default 1). Each program runs once in the
# guest before it is timed so that the time does not include reading it from
# the disk. A guest run whose output (md5sum) differs from the native one is
# reported as wrong and left out of the mean; one that does not end within
# BENCH_TIMEOUT is interrupted with ^C, reported as NO-END and left out.
#
# usage: tests/bench/guest-cpu.sh [--vmpack PATH]     (default build/vmpack)
# Environment: BENCH_REPS (3), BENCH_GUEST_REPS (1), BENCH_TIMEOUT (s per
# guest run, 120), VMP_BOOT_TIMEOUT (s, 600).
set -euo pipefail
cd "$(dirname "$0")/../.."
vmpack=build/vmpack
while [ $# -gt 0 ]; do
    case $1 in
    --vmpack) vmpack=${2:?}; shift 2 ;;
    *) echo "guest-cpu.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
. tests/lib/bench.sh
vmpack=$(bench_vmpack guest-cpu.sh "$vmpack")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

progs=(int_hash branchy fp_nbody strings)
mkdir -p "$work/progs"
for p in "${progs[@]}"; do
    flags=()
    [ "$p" = fp_nbody ] && flags=(-mfpmath=387)
    gcc -m32 -static -O2 "${flags[@]}" -o "$work/progs/$p" "tests/bench/progs/$p.c" -lm ||
        { echo "guest-cpu.sh: cannot build $p (gcc-multilib?)" >&2; exit 2; }
done
disk_mb=$(( $(du -sm "$work/progs" | cut -f1) + 16 ))
bench_image guest-cpu.sh "$vmpack" "$work/guest.vmpk" --disk-mb "$disk_mb" --extra "$work/progs"

python3 - "$vmpack" "$work" "${BENCH_REPS:-3}" "${BENCH_GUEST_REPS:-1}" \
    "${BENCH_TIMEOUT:-120}" "${VMP_BOOT_TIMEOUT:-600}" "${progs[@]}" <<'PY'
import hashlib, math, os, subprocess, sys, time
sys.path.insert(0, "tests/lib")
from vmconsole import Console, ConsoleTimeout

vmpack, work = sys.argv[1], sys.argv[2]
reps, greps, run_timeout, boot_timeout = (int(x) for x in sys.argv[3:7])
progs = sys.argv[7:]

# Native first, while no guest runs beside it.
native = {}
for p in progs:
    best = None
    for _ in range(reps):
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(work, "progs", p)], stdout=subprocess.PIPE, check=True)
        t = time.monotonic() - t0
        best = t if best is None or t < best else best
    native[p] = (best, hashlib.md5(r.stdout).hexdigest())

c = Console([vmpack, "run", os.path.join(work, "guest.vmpk")],
            log=os.path.join(work, "console.log"))

def wait_for(pattern, timeout):
    """The match of the regex pattern, or None after timeout."""
    try:
        return c.expect(pattern, timeout)
    except ConsoleTimeout:
        return None

def send(line):
    c.send(line.encode() + b"\n")

def fail(why):
    c.kill()
    print("guest-cpu: FAILED: %s; last console lines: %r" % (why, c.last_lines(3)))
    sys.exit(1)

try:
    c.ready(boot_timeout)
except ConsoleTimeout:
    fail("no ready marker in %d s" % boot_timeout)

# The console echoes what we type, so the result line is told apart by a
# value the shell computes: "gb:$((40+2))" only reads "gb:42" in output.
guest, wrong, stuck = {}, {}, {}

def interrupt(p):
    """A run that did not end: ^C, then check that the shell answers."""
    stuck[p] = True
    c.interrupt()
    send("echo gb:$((40+2)):back:%s" % p)
    if not wait_for(rb"gb:42:back:" + p.encode(), 30):
        report()
        fail("%s: no end in %d s, and the shell did not come back after ^C" % (p, run_timeout))

def report():
    print("native: wall s, best of %d; guest: /proc/uptime s, best of %d (after one warm-up run)" % (reps, greps))
    print("%-10s %9s %9s %12s" % ("benchmark", "native_s", "guest_s", "native/guest"))
    ratios = []
    for p in progs:
        if p in stuck or p not in guest:
            print("%-10s %9.3f %9s %12s" % (p, native[p][0], "-", "NO-END(%ds)" % run_timeout if p in stuck else "not-run"))
            continue
        if p in wrong:
            print("%-10s %9.3f %9.3f %12s" % (p, native[p][0], guest[p], "WRONG-OUTPUT"))
            continue
        r = native[p][0] / guest[p] if guest[p] > 0 else float("inf")
        ratios.append(r)
        print("%-10s %9.3f %9.3f %12.4f" % (p, native[p][0], guest[p], r))
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else float("nan")
    print("geometric mean native/guest: %.4f (%d of %d correct); guest is %.1fx slower than native"
          % (gm, len(ratios), len(progs), 1 / gm if ratios else float("nan")))

for p in progs:
    exe = "/mnt/extra/" + p
    send("%s > /dev/null; echo gb:$((40+2)):warm:%s" % (exe, p))
    if not wait_for(rb"gb:42:warm:" + p.encode(), run_timeout):
        interrupt(p)
        continue
    for _ in range(greps):
        send("a=$(cut -d' ' -f1 /proc/uptime); %s > /tmp/out; b=$(cut -d' ' -f1 /proc/uptime); "
             "echo gb:$((40+2)):%s $a $b $(md5sum < /tmp/out)" % (exe, p))
        m = wait_for(rb"gb:42:" + p.encode() + rb" ([0-9.]+) ([0-9.]+) ([0-9a-f]{32})", run_timeout)
        if not m:
            interrupt(p)
            break
        t = float(m.group(2)) - float(m.group(1))
        if m.group(3).decode() != native[p][1]:
            wrong[p] = True
        if p not in guest or t < guest[p]:
            guest[p] = t

send("poweroff -f")
try:
    status = c.wait(60)
except ConsoleTimeout:
    fail("poweroff -f did not end vmpack")

report()
if status != 0:
    print("guest-cpu: vmpack exited with %d after poweroff -f" % status)
    sys.exit(1)
sys.exit(1 if wrong or stuck else 0)
PY
