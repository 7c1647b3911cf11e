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
# here; cached in $VMP_CACHE or ~/.cache/vmpack/debian-i386); the QEMU
# command lines are tests/lib/qemuguest.py's, the console is driven by
# tests/lib/vmconsole.py.
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
case $machine in microvm|pc|loader) ;; *) echo "boot-qemu.sh: --machine: microvm, pc or loader" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$machine" "$runs" <<'PY'
import os, re, sys, time
sys.path.insert(0, "tests/lib")
import qemuguest
from vmconsole import Console, ConsoleTimeout

work, machine, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache = qemuguest.prepare()
# The disk is opened read-write by QEMU: a copy, made once (as before).
argv = qemuguest.argv(machine, cache, work)

def fail(why):
    c.kill()
    sys.exit("boot-qemu.sh: %s\n--- console tail ---\n%s" % (why, c.tail(1500).decode(errors="replace")))

for run in range(1, runs + 1):
    c = Console(argv, log=os.path.join(work, "console-%d.log" % run))
    try:
        t_ready = c.ready(300)
        # The shell computes 6*7, so the typed command's echo cannot match.
        c.run("echo vmpack-echo-$((6*7))", rb"vmpack-echo-42", 60)
        t_shell = c.elapsed()
    except ConsoleTimeout as e:
        fail(e.what)
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
        try:
            c.run(cmd, re.escape(want), 30)
        except ConsoleTimeout as e:
            fail("%r did not print %r: %s" % (cmd, want, e.what))
    t_off0 = time.monotonic()
    c.send(b"poweroff -f\n")
    try:
        status = c.wait(60)
    except ConsoleTimeout as e:
        fail("poweroff -f did not end the machine: %s" % e.what)
    t_off = time.monotonic() - t_off0
    out = c.output
    if machine == "loader":
        if status != qemuguest.LOADER_POWEROFF_STATUS:
            fail("QEMU exited with %d, not through the PM1a_CNT port" % status)
        if b"Preparing to enter system sleep state S5" not in out:
            fail("no ACPI S5 power-off in the log")
    kver = out.split(b"Linux version ", 1)[1].split(b" ", 1)[0].decode() if b"Linux version " in out else "?"
    print("bench: qemu-%s kernel %s" % (machine, kver))
    print("bench: qemu-%s time_to_ready_s %.2f" % (machine, t_ready))
    print("bench: qemu-%s time_to_shell_echo_s %.2f" % (machine, t_shell))
    print("bench: qemu-%s poweroff_s %.2f" % (machine, t_off))
    print("bench: qemu-%s checks uname=i686 disk=mounted net=eth0%s poweroff=ok"
          % (machine, {"microvm": " virtio-mmio=net,blk,rng",
                       "loader": " acpi=vmpack-tables virtio-mmio=blk@irq5,net@irq6 power-off=PM1a_CNT-S5"}
             .get(machine, "")), flush=True)
PY
