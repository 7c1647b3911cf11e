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
[ -x "$vmpack" ] || { echo "boot.sh: no vmpack at $vmpack (build it, or --vmpack PATH)" >&2; exit 2; }
vmpack=$(realpath "$vmpack")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
VMPACK=$vmpack examples/debian-i386/make-image.sh "$work/linux.vmpk" > "$work/make-image.log" 2>&1 ||
    { tail -5 "$work/make-image.log" >&2; echo "boot.sh: cannot build the example guest" >&2; exit 1; }

status=0
python3 - "$vmpack" "$work/linux.vmpk" "$work/console.log" "${VMP_BOOT_TIMEOUT:-600}" <<'PY' || status=$?
import os, re, select, subprocess, sys, time

vmpack, image, log_path, boot_timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t0 = time.monotonic()
p = subprocess.Popen([vmpack, "run", image], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
out = b""
log = open(log_path, "wb")

def wait_for(marker, timeout):
    global out
    start = len(out)
    deadline = time.monotonic() + timeout
    while marker not in out[start:]:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([p.stdout], [], [], left)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return None
            out += chunk
            log.write(chunk)
    return time.monotonic() - t0

def send(line):
    p.stdin.write(line.encode() + b"\n")
    p.stdin.flush()

def cpu_s():
    with open("/proc/%d/stat" % p.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def fail(why):
    if p.poll() is None:
        p.kill()
    p.wait()
    rest = p.stdout.read()
    lines = [l for l in (out + rest).decode(errors="replace").splitlines() if l.strip()]
    print("bench: vmpack FAILED: %s" % why)
    print("bench: vmpack last console lines: %r" % lines[-3:])
    sys.exit(1)

t_ready = wait_for(b"vmpack-guest: ready", boot_timeout)
if t_ready is None:
    try:
        p.wait(timeout=5)  # the console closed: let vmpack's status arrive
    except subprocess.TimeoutExpired:
        pass
    fail("no ready marker (vmpack exit status %s; None: still running after %d s)" % (p.poll(), boot_timeout))
send("echo vmpack-echo-$((6*7))")
t_shell = wait_for(b"vmpack-echo-42", 60)
if t_shell is None:
    fail("the shell did not answer")
c0 = cpu_s()
time.sleep(2)
idle = (cpu_s() - c0) / 2
t_off0 = time.monotonic()
send("poweroff -f")
try:
    status = p.wait(timeout=60)
except subprocess.TimeoutExpired:
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
