#!/usr/bin/env bash
# Reference boot: the example guest's kernel and initramfs under QEMU's TCG
# (a binary translator too), for comparison with vmpack's own boot times.
# Measures the wall time from launch to the guest's "vmpack-guest: ready"
# marker, to a shell answering a command, and to power-off; checks that the
# guest is i686, that its virtio disk and network came up and that
# `poweroff -f` ends the machine. Prints one "bench:" line per figure.
#
# usage: tests/bench/boot-qemu.sh [--machine microvm|pc] [--runs N]
#   microvm (default): QEMU's microvm with virtio-mmio devices described in
#     ACPI (LNRO0005), the same discovery path as vmpack's machine.
#   pc: the classic PC with virtio-blk-pci, to check the init script alone.
# The kernel and initramfs come from examples/debian-i386/prepare.sh (run
# here; cached in $VMP_CACHE or ~/.cache/vmpack/debian-i386).
set -euo pipefail
cd "$(dirname "$0")/../.."
machine=microvm
runs=1
while [ $# -gt 0 ]; do
    case $1 in
    --machine) machine=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    *) echo "boot-qemu.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v qemu-system-i386 >/dev/null ||
    { echo "boot-qemu.sh: qemu-system-i386 not found (apt-get install qemu-system-x86)" >&2; exit 2; }
cache=$(examples/debian-i386/prepare.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The disk is opened read-write by QEMU: use a copy.
cp "$cache/disk.img" "$work/disk.img"

# QEMU's TSC is the host's, so none of vmpack's TSC settings; microvm's ACPI
# is hardware-reduced with an IOAPIC, so no noapic/nolapic either.
append="console=ttyS0,115200 panic=-1"
qemu=(qemu-system-i386 -accel tcg -m 256 -nographic -no-reboot
      -kernel "$cache/vmlinuz" -initrd "$cache/initrd.gz" -append "$append")
case $machine in
microvm)
    qemu[0]=qemu-system-i386
    qemu+=(-M microvm,acpi=on,rtc=on
           -drive "id=d0,file=$work/disk.img,format=raw,if=none" -device virtio-blk-device,drive=d0
           -netdev user,id=n0 -device virtio-net-device,netdev=n0
           -device virtio-rng-device) ;;
pc)
    qemu+=(-M pc -drive "id=d0,file=$work/disk.img,format=raw,if=none"
           -device virtio-blk-pci,drive=d0 -netdev user,id=n0 -device virtio-net-pci,netdev=n0) ;;
*) echo "boot-qemu.sh: --machine: microvm or pc" >&2; exit 2 ;;
esac

for run in $(seq 1 "$runs"); do
python3 - "$work/console-$run.log" "$machine" "${qemu[@]}" <<'PY'
import os, select, subprocess, sys, time

log_path, machine, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.monotonic()
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
out = b""
log = open(log_path, "wb")

def wait_for(marker, timeout):
    """Read the console until marker shows up after the current point."""
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

def fail(why):
    p.kill()
    log.flush()
    tail = out[-1500:].decode(errors="replace")
    sys.exit("boot-qemu.sh: %s\n--- console tail ---\n%s" % (why, tail))

t_ready = wait_for(b"vmpack-guest: ready", 300)
if t_ready is None:
    fail("no ready marker within 300 s")
# The shell computes 6*7, so the typed command's echo cannot match.
send("echo vmpack-echo-$((6*7))")
t_shell = wait_for(b"vmpack-echo-42", 60)
if t_shell is None:
    fail("the shell did not answer")
checks = [
    ("uname -m", b"i686"),
    ("cat /mnt/hello.txt", b"hello from the vmpack example disk"),
    ("cat /sys/class/net/eth0/address", b"52:54:00"),
    ("ls /sys/bus/virtio/devices | wc -l; echo :count", b":count"),
]
if machine == "microvm":
    checks.append(("cat /sys/bus/platform/drivers/virtio-mmio/*/virtio*/device | sort | tr '\\n' ' ' ; echo :ids",
                   b"0x0001 0x0002 0x0004 :ids"))
for cmd, want in checks:
    send(cmd)
    if wait_for(want, 30) is None:
        fail("%r did not print %r" % (cmd, want))
t_off0 = time.monotonic()
send("poweroff -f")
try:
    p.wait(timeout=60)
except subprocess.TimeoutExpired:
    fail("poweroff -f did not end the machine")
while True:
    chunk = p.stdout.read()
    if not chunk:
        break
    out += chunk
    log.write(chunk)
t_off = time.monotonic() - t_off0
kver = out.split(b"Linux version ", 1)[1].split(b" ", 1)[0].decode() if b"Linux version " in out else "?"
print("bench: qemu-%s kernel %s" % (machine, kver))
print("bench: qemu-%s time_to_ready_s %.2f" % (machine, t_ready))
print("bench: qemu-%s time_to_shell_echo_s %.2f" % (machine, t_shell))
print("bench: qemu-%s poweroff_s %.2f" % (machine, t_off))
print("bench: qemu-%s checks uname=i686 disk=mounted net=eth0%s poweroff=ok"
      % (machine, " virtio-mmio=net,blk,rng" if machine == "microvm" else ""))
PY
done
