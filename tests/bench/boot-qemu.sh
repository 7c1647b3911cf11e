#!/usr/bin/env bash
# Reference boot: the example guest's kernel and initramfs under QEMU's TCG
# (a binary translator too), for comparison with vmpack's own boot times.
# Measures the wall time from launch to the guest's "vmpack-guest: ready"
# marker, to a shell answering a command, and to power-off; checks that the
# guest is i686, that its virtio disk and network came up and that
# `poweroff -f` ends the machine. Prints one "bench:" line per figure.
#
# usage: tests/bench/boot-qemu.sh [--machine microvm|pc|loader] [--runs N]
#   microvm (default): QEMU's microvm with its own firmware and ACPI tables;
#     virtio-mmio devices described in ACPI (LNRO0005).
#   pc: the classic PC with virtio-blk-pci, to check the init script alone.
#   loader: vmpack's own loader (vmm/loader.c, via loader-dump.c) writes the
#     guest RAM - zero page, e820, GDT, ACPI tables, kernel, initrd - and a
#     64 KiB stub BIOS (qemu-stub.S) enters the kernel with the boot state
#     of spec/machine.md 5, on microvm with the legacy PIC, PIT and RTC,
#     virtio-mmio transports on IRQ 5 and 6 (the DSDT's windows moved to
#     QEMU's 0xFEB00000), and a debug-exit port at PM1a_CNT (0x604) that ends
#     QEMU when the guest powers off through ACPI S5. This checks the
#     machine contract with a real kernel before vmpack's own VMM runs it.
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
loader)
    # The machine's command line less what only fits vmpack: QEMU's TSC is
    # not 1 GHz, and microvm's PIC needs the local APIC in virtual wire mode.
    append="console=ttyS0,115200 noapic tsc=reliable panic=-1"
    ex=examples/debian-i386
    cc -O2 -I vmm -I format/include -o "$work/loader-dump" "$ex/loader-dump.c" vmm/loader.c
    as --32 -o "$work/stub.o" "$ex/qemu-stub.S"
    objcopy -O binary -j .text "$work/stub.o" "$work/stub.bin"
    # Slots 0 and 1 (blk, net): IRQ 5 and 6, as microvm's transports 0 and 1.
    initrd_gpa=$("$work/loader-dump" "$cache/vmlinuz" "$cache/initrd.gz" "$append" 256 3 "$work" 0xFEB00000)
    qemu=(qemu-system-i386 -accel tcg -m 256 -nographic -no-reboot
          -M microvm,acpi=off,pic=on,pit=on,rtc=on,isa-serial=on,ioapic2=off,x-option-roms=off,auto-kernel-cmdline=off
          -bios "$work/stub.bin"
          -device "loader,file=$work/low.bin,addr=0,force-raw=on"
          -device "loader,file=$work/kernel.bin,addr=0x100000,force-raw=on"
          -device "loader,file=$work/initrd.bin,addr=$initrd_gpa,force-raw=on"
          -device isa-debug-exit,iobase=0x604,iosize=2
          -drive "id=d0,file=$work/disk.img,format=raw,if=none" -device virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0
          -netdev user,id=n0 -device virtio-net-device,netdev=n0,bus=virtio-mmio-bus.1) ;;
*) echo "boot-qemu.sh: --machine: microvm, pc or loader" >&2; exit 2 ;;
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
if machine == "loader":
    # The DSDT's IRQs reached the guest, through the PIC (ACPI PIC mode).
    checks.append(("grep -cE '^ *(5|6): +[0-9]+ +XT-PIC +virtio[01]' /proc/interrupts", b"\n2\r"))
    checks.append(("dmesg | grep -c 'ACPI: RSDP 0x00000000000E0000 000024 (v02 VMPACK)'", b"\n1\r"))
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
    status = p.wait(timeout=60)
except subprocess.TimeoutExpired:
    fail("poweroff -f did not end the machine")
if machine == "loader":
    # isa-debug-exit exits with (value << 1) | 1: the first PM1a_CNT write
    # of ACPI S5 is SLP_TYP 5 (0x1400), so status 1; and the kernel says so.
    if status != 1:
        fail("QEMU exited with %d, not through the PM1a_CNT port" % status)
while True:
    chunk = p.stdout.read()
    if not chunk:
        break
    out += chunk
    log.write(chunk)
t_off = time.monotonic() - t_off0
if machine == "loader" and b"Preparing to enter system sleep state S5" not in out:
    fail("no ACPI S5 power-off in the log")
kver = out.split(b"Linux version ", 1)[1].split(b" ", 1)[0].decode() if b"Linux version " in out else "?"
print("bench: qemu-%s kernel %s" % (machine, kver))
print("bench: qemu-%s time_to_ready_s %.2f" % (machine, t_ready))
print("bench: qemu-%s time_to_shell_echo_s %.2f" % (machine, t_shell))
print("bench: qemu-%s poweroff_s %.2f" % (machine, t_off))
print("bench: qemu-%s checks uname=i686 disk=mounted net=eth0%s poweroff=ok"
      % (machine, {"microvm": " virtio-mmio=net,blk,rng",
                   "loader": " acpi=vmpack-tables virtio-mmio=blk@irq5,net@irq6 power-off=PM1a_CNT-S5"}
         .get(machine, "")))
PY
done
