/*
 * loader-dump.c - run vmpack's Linux loader (vmm/loader.c) into a RAM
 * buffer and write what it produced as files, so that another machine
 * emulator can start from exactly that memory (tests/bench/boot-qemu.sh
 * --machine loader):
 *   OUTDIR/low.bin     RAM from 0 to 0xF0000 (GDT, zero page, command line,
 *                      ACPI tables; stops below QEMU's BIOS area)
 *   OUTDIR/kernel.bin  the protected-mode kernel (at 0x100000)
 *   OUTDIR/initrd.bin  the initrd; its address is printed on stdout
 * usage: loader-dump VMLINUZ INITRD CMDLINE RAM_MIB SLOTMASK OUTDIR [WINDOW_BASE]
 * WINDOW_BASE, if given, moves the virtio-mmio windows in the DSDT to
 * WINDOW_BASE + slot * 0x200 (QEMU's microvm has its transports at
 * 0xFEB00000) and fixes the checksum; nothing else changes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "machine.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void move_windows(uint8_t *ram, uint32_t new_base)
{
    const uint8_t *fadt = ram + rd32(ram + rd32(ram + MACHINE_ACPI_GPA + 16) + 36);
    uint8_t *dsdt = ram + rd32(fadt + 40);
    uint32_t len = rd32(dsdt + 4);
    for (unsigned slot = 0; slot < MACHINE_VIRTIO_SLOTS; slot++) {
        uint8_t want[8] = {0x86, 9, 0, 1};
        uint32_t old = machine_virtio_gpa(slot), now = new_base + slot * 0x200;
        memcpy(want + 4, &old, 4);
        for (uint32_t i = 0; i + 8 <= len; i++)
            if (!memcmp(dsdt + i, want, 8))
                memcpy(dsdt + i + 4, &now, 4);
    }
    uint8_t sum = 0;
    dsdt[9] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + dsdt[i]);
    dsdt[9] = (uint8_t)-sum;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(
            stderr,
            "usage: loader-dump VMLINUZ INITRD CMDLINE RAM_MIB SLOTMASK OUTDIR [WINDOW_BASE]\n");
        return 2;
    }
    size_t kernel_bytes, initrd_bytes;
    uint8_t *kernel = slurp(argv[1], &kernel_bytes);
    uint8_t *initrd = slurp(argv[2], &initrd_bytes);
    uint64_t ram_bytes = strtoull(argv[4], NULL, 0) << 20;
    uint8_t *ram = calloc(1, ram_bytes);
    if (!ram)
        return 1;
    struct loader_linux g = {.kernel = kernel,
                             .kernel_bytes = kernel_bytes,
                             .initrd = initrd,
                             .initrd_bytes = initrd_bytes,
                             .cmdline = argv[3],
                             .virtio_slots = (uint32_t)strtoul(argv[5], NULL, 0)};
    struct vmp_x86_state st;
    struct loader_info info;
    char err[256];
    if (loader_boot_linux(ram, ram_bytes, &g, &st, &info, err, sizeof err)) {
        fprintf(stderr, "loader-dump: %s\n", err);
        return 1;
    }
    if (argc > 7)
        move_windows(ram, (uint32_t)strtoul(argv[7], NULL, 0));
    spill(argv[6], "low.bin", ram, 0xF0000);
    spill(argv[6], "kernel.bin", ram + info.kernel_gpa, info.kernel_bytes);
    spill(argv[6], "initrd.bin", ram + info.initrd_gpa, info.initrd_bytes);
    printf("0x%x\n", info.initrd_gpa);
    free(ram);
    return 0;
}
