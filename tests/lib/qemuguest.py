"""The example Debian guest (examples/debian-i386) under QEMU's TCG, for the
benchmarks that compare vmpack with QEMU: the pieces come from prepare.sh,
and argv() gives the qemu-system-i386 command line for one of three
machines:

  microvm  QEMU's microvm with its own firmware and ACPI tables; the
           virtio-mmio devices described in ACPI (LNRO0005).
  pc       the classic PC with virtio-blk-pci, to check the init script alone.
  loader   vmpack's own loader (vmm/loader.c, via loader-dump.c) writes the
           guest RAM - zero page, e820, GDT, ACPI tables, kernel, initrd -
           and a 64 KiB stub BIOS (qemu-stub.S) enters the kernel with the
           boot state of spec/machine.md 5, on microvm with the legacy PIC,
           PIT and RTC, virtio-mmio transports on IRQ 5 and 6 (the DSDT's
           windows moved to QEMU's 0xFEB00000), and a debug-exit port at
           PM1a_CNT (0x604) that ends QEMU when the guest powers off through
           ACPI S5 (exit status 1). The closest to vmpack's machine.
"""

import os
import shutil
import subprocess

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE = os.path.join(TOP, "examples", "debian-i386")
MACHINES = ("microvm", "pc", "loader")


def prepare(disk_mb=None):
    """Build (or reuse) the kernel, initramfs and disk; returns the cache
    folder ($VMP_CACHE or ~/.cache/vmpack/debian-i386)."""
    cmd = [os.path.join(EXAMPLE, "prepare.sh")]
    if disk_mb:
        cmd += ["--disk-mb", str(disk_mb)]
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout.decode().strip()


def argv(machine, cache, work, memory_mb=256, disk=None):
    """The qemu-system-i386 command line booting the guest on `machine`,
    with the console on stdio (-nographic). work: a scratch folder for the
    loader's output. disk: the raw disk QEMU opens read-write (default: a
    fresh copy of the cache's disk.img in work)."""
    if machine not in MACHINES:
        raise ValueError("machine: one of %s, not %r" % (", ".join(MACHINES), machine))
    if disk is None:
        disk = os.path.join(work, "disk.img")
        shutil.copyfile(os.path.join(cache, "disk.img"), disk)
    drive = "id=d0,file=%s,format=raw,if=none" % disk
    # QEMU's TSC is the host's, so none of vmpack's TSC settings; microvm's
    # ACPI is hardware-reduced with an IOAPIC, so no noapic/nolapic either.
    append = "console=ttyS0,115200 panic=-1"
    base = ["qemu-system-i386", "-accel", "tcg", "-m", str(memory_mb), "-nographic", "-no-reboot"]
    if machine == "microvm":
        return base + ["-kernel", os.path.join(cache, "vmlinuz"),
                       "-initrd", os.path.join(cache, "initrd.gz"), "-append", append,
                       "-M", "microvm,acpi=on,rtc=on",
                       "-drive", drive, "-device", "virtio-blk-device,drive=d0",
                       "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                       "-device", "virtio-rng-device"]
    if machine == "pc":
        return base + ["-kernel", os.path.join(cache, "vmlinuz"),
                       "-initrd", os.path.join(cache, "initrd.gz"), "-append", append,
                       "-M", "pc", "-drive", drive, "-device", "virtio-blk-pci,drive=d0",
                       "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
    # loader: the machine's command line less what only fits vmpack: QEMU's
    # TSC is not 1 GHz, and microvm's PIC needs the local APIC in virtual
    # wire mode.
    append = "console=ttyS0,115200 noapic tsc=reliable panic=-1"
    dump = os.path.join(work, "loader-dump")
    subprocess.run(["cc", "-O2", "-I", os.path.join(TOP, "vmm"),
                    "-I", os.path.join(TOP, "format", "include"), "-o", dump,
                    os.path.join(EXAMPLE, "loader-dump.c"), os.path.join(TOP, "vmm", "loader.c")],
                   check=True)
    subprocess.run(["as", "--32", "-o", os.path.join(work, "stub.o"),
                    os.path.join(EXAMPLE, "qemu-stub.S")], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", os.path.join(work, "stub.o"),
                    os.path.join(work, "stub.bin")], check=True)
    # Slots 0 and 1 (blk, net): IRQ 5 and 6, as microvm's transports 0 and 1.
    initrd_gpa = subprocess.run(
        [dump, os.path.join(cache, "vmlinuz"), os.path.join(cache, "initrd.gz"), append,
         str(memory_mb), "3", work, "0xFEB00000"],
        check=True, stdout=subprocess.PIPE).stdout.decode().strip()
    return base + [
        "-M", "microvm,acpi=off,pic=on,pit=on,rtc=on,isa-serial=on,ioapic2=off,"
              "x-option-roms=off,auto-kernel-cmdline=off",
        "-bios", os.path.join(work, "stub.bin"),
        "-device", "loader,file=%s,addr=0,force-raw=on" % os.path.join(work, "low.bin"),
        "-device", "loader,file=%s,addr=0x100000,force-raw=on" % os.path.join(work, "kernel.bin"),
        "-device", "loader,file=%s,addr=%s,force-raw=on" % (os.path.join(work, "initrd.bin"),
                                                             initrd_gpa),
        "-device", "isa-debug-exit,iobase=0x604,iosize=2",
        "-drive", drive, "-device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0",
        "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0,bus=virtio-mmio-bus.1"]


# isa-debug-exit exits with (value << 1) | 1: the first PM1a_CNT write of
# ACPI S5 is SLP_TYP 5 (0x1400), so status 1.
LOADER_POWEROFF_STATUS = 1


class Monitor:
    """QEMU's human monitor (HMP) on a unix socket (-monitor
    unix:PATH,server=on,wait=off): cmd() types one command and returns
    what QEMU printed before its next "(qemu) " prompt, the typed line's
    echo and terminal escapes included."""

    PROMPT = b"(qemu) "

    def __init__(self, path, timeout=30):
        import socket
        import time
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self._buf = b""
        self._read_prompt(timeout)

    def _read_prompt(self, timeout):
        import time
        deadline = time.monotonic() + timeout
        while self.PROMPT not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("QEMU monitor: no prompt within %g s: %r" % (timeout, self._buf[-300:]))
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QEMU monitor closed: %r" % self._buf[-300:])
            self._buf += chunk
        text, self._buf = self._buf.split(self.PROMPT, 1)
        return text.decode(errors="replace")

    def cmd(self, line, timeout=60):
        self.sock.sendall(line.encode() + b"\n")
        return self._read_prompt(timeout)

    def close(self):
        self.sock.close()
