#!/usr/bin/env bash
# Boot time of the example guest (examples/debian-i386) under vmpack run,
# beside QEMU's TCG booting the same kernel and initramfs
# (tests/bench/boot-qemu.sh), in one run. Prints "bench:" lines: wall time
# from launch to the guest's "vmpack-guest: ready" marker, to the shell
# answering a command, and to the end after `poweroff -f`; and the host CPU
# time vmpack used while the booted guest sat idle for 2 s.
#
# usage: tests/bench/boot.sh [--vmpack PATH] [--qemu-machine loader|microvm|pc] [--no-qemu]
#   QEMU boots with vmpack's own loader and boot state by default (loader):
#   the closest to vmpack's machine; microvm stalled in TSC calibration on
#   the loaded 2-core development host.
#   PATH defaults to build/vmpack. VMP_BOOT_TIMEOUT: seconds to wait (600).
set -euo pipefail
cd "$(dirname "$0")/../.."
vmpack=build/vmpack
qmachine=loader
qemu=1
while [ $# -gt 0 ]; do
    case $1 in
    --vmpack) vmpack=${2:?}; shift 2 ;;
    --qemu-machine) qmachine=${2:?}; shift 2 ;;
    --no-qemu) qemu=0; shift ;;
    *) echo "boot.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
. tests/lib/bench.sh
vmpack=$(bench_vmpack boot.sh "$vmpack")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench_image boot.sh "$vmpack" "$work/linux.vmpk"

status=0
python3 - "$vmpack" "$work/linux.vmpk" "$work/console.log" "${VMP_BOOT_TIMEOUT:-600}" <<'PY' || status=$?
import sys, time
sys.path.insert(0, "tests/lib")
from vmconsole import Console, ConsoleTimeout

vmpack, image, log_path, boot_timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Console([vmpack, "run", image], log=log_path)

def fail(why):
    c.kill()
    print("bench: vmpack FAILED: %s" % why)
    print("bench: vmpack last console lines: %r" % c.last_lines(3))
    sys.exit(1)

try:
    t_ready = c.ready(boot_timeout)
except ConsoleTimeout:
    try:
        c.wait(5)  # the console closed: let vmpack's status arrive
    except ConsoleTimeout:
        pass
    fail("no ready marker (vmpack exit status %s; None: still running after %d s)" % (c.poll(), boot_timeout))
try:
    c.run("echo vmpack-echo-$((6*7))", rb"vmpack-echo-42", 60)
except ConsoleTimeout:
    fail("the shell did not answer")
t_shell = c.elapsed()
c0 = c.cpu_seconds()
time.sleep(2)
idle = (c.cpu_seconds() - c0) / 2
t_off0 = time.monotonic()
c.send(b"poweroff -f\n")
try:
    status = c.wait(60)
except ConsoleTimeout:
    fail("poweroff -f did not end vmpack")
if status != 0:
    fail("vmpack exited with %d after poweroff -f" % status)
t_off = time.monotonic() - t_off0
print("bench: vmpack time_to_ready_s %.2f" % t_ready)
print("bench: vmpack time_to_shell_echo_s %.2f" % t_shell)
print("bench: vmpack idle_host_cpu_percent %.1f" % (idle * 100))
print("bench: vmpack poweroff_s %.2f" % t_off)
PY
if [ "$qemu" = 1 ]; then
    tests/bench/boot-qemu.sh --machine "$qmachine" || status=$?
fi
exit "$status"
