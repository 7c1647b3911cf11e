/*
 * machine.h - the guest-visible machine: physical memory map, I/O ports,
 * IRQ lines and boot-time tables. spec/machine.md is the normative text;
 * this header is its one copy in code. The loader, the board and the
 * devices take their addresses from here and nowhere else.
 *
 * GPA = guest physical address. All values are fixed by the machine
 * contract: changing one changes what a saved guest has seen, so a new
 * value needs a new machine version (spec/machine.md 1).
 */
#ifndef VMP_MACHINE_H
#define VMP_MACHINE_H

#include <stdint.h>

#define MACHINE_VERSION 1

/* ---- RAM (spec/machine.md 2) ------------------------------------------ */
/* RAM is one block from GPA 0; the guest's e820 hides the legacy hole. */
#define MACHINE_RAM_MIN_BYTES   (32ull << 20)
#define MACHINE_RAM_MAX_BYTES   0xC0000000ull /* 3 GiB: MMIO lives above */
#define MACHINE_RAM_ALIGN_BYTES (1ull << 20)

#define MACHINE_LOWMEM_END_GPA 0x0009FC00u /* e820 RAM [0, this) */
#define MACHINE_EBDA_GPA       0x0009FC00u /* e820 reserved from here */
#define MACHINE_HIGHMEM_GPA    0x00100000u /* ... to here; RAM again */

/* BIOS data area words the kernel reads (there is no BIOS). */
#define MACHINE_BDA_EBDA_SEG_GPA 0x0000040Eu /* u16: EBDA segment */
#define MACHINE_BDA_BASEMEM_GPA  0x00000413u /* u16: base memory in KiB */

/* ---- Boot-time structures the loader writes (spec/machine.md 5) ------- */
#define MACHINE_BOOT_GDT_GPA           0x00001000u /* 4 descriptors */
#define MACHINE_BOOT_STACK_TOP_GPA     0x00007000u /* initial ESP (grows down) */
#define MACHINE_BOOT_PARAMS_GPA        0x00007000u /* Linux zero page, 4 KiB */
#define MACHINE_BOOT_CMDLINE_GPA       0x00020000u
#define MACHINE_BOOT_CMDLINE_MAX_BYTES 0x1000u     /* with the NUL */
#define MACHINE_KERNEL_GPA             0x00100000u /* protected-mode kernel */
#define MACHINE_ACPI_GPA               0x000E0000u /* RSDP, then the tables */
#define MACHINE_ACPI_MAX_BYTES         0x10000u    /* up to 0xF0000 */

/* Boot GDT selectors the 32-bit boot protocol names (boot.rst). */
#define MACHINE_BOOT_CS 0x10
#define MACHINE_BOOT_DS 0x18

/* ---- Legacy devices: ports and ISA IRQs (spec/machine.md 3) ----------- */
#define MACHINE_PIC_MASTER_PORT 0x20  /* 0x20-0x21, IRQ 0-7 */
#define MACHINE_PIC_SLAVE_PORT  0xA0  /* 0xA0-0xA1, IRQ 8-15, cascade IRQ 2 */
#define MACHINE_PIC_ELCR_PORT   0x4D0 /* 0x4D0-0x4D1 */
#define MACHINE_PIT_PORT        0x40  /* 0x40-0x43 */
#define MACHINE_PORT61          0x61  /* PIT channel 2 gate and output */
#define MACHINE_I8042_DATA_PORT 0x60
#define MACHINE_I8042_CMD_PORT  0x64
#define MACHINE_RTC_PORT        0x70 /* 0x70-0x71 */
#define MACHINE_POST_PORT       0x80
#define MACHINE_COM1_PORT       0x3F8 /* 0x3F8-0x3FF */

#define MACHINE_IRQ_PIT       0
#define MACHINE_IRQ_I8042_KBD 1
#define MACHINE_IRQ_CASCADE   2
#define MACHINE_IRQ_COM1      4
#define MACHINE_IRQ_RTC       8
#define MACHINE_IRQ_ACPI_SCI  9
#define MACHINE_IRQ_I8042_AUX 12

/* ---- ACPI fixed hardware (spec/machine.md 4) --------------------------- */
#define MACHINE_ACPI_PM1A_EVT_PORT         0x600 /* 4 bytes: PM1_STS u16, PM1_EN u16 */
#define MACHINE_ACPI_PM1A_CNT_PORT         0x604 /* 2 bytes: PM1_CNT */
#define MACHINE_ACPI_PM1_CNT_SCI_EN        0x0001u
#define MACHINE_ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define MACHINE_ACPI_PM1_CNT_SLP_TYP_MASK  0x1C00u
#define MACHINE_ACPI_PM1_CNT_SLP_EN        0x2000u
#define MACHINE_ACPI_SLP_TYP_S5            5 /* the value in \_S5 */

/* ---- virtio-mmio (spec/machine.md 3.2) --------------------------------- */
/* Slot n is a virtio-mmio (version 2) window at BASE + n * STRIDE with its
 * own edge-triggered ISA IRQ, described to the guest in the ACPI DSDT. */
#define MACHINE_VIRTIO_MMIO_BASE_GPA     0xD0000000u
#define MACHINE_VIRTIO_MMIO_STRIDE_BYTES 0x200u
#define MACHINE_VIRTIO_MMIO_SIZE_BYTES   0x200u
#define MACHINE_VIRTIO_SLOTS             6
#define MACHINE_VIRTIO_IRQS                                                                        \
    {                                                                                              \
        5, 6, 10, 11, 3, 14                                                                        \
    }

/* Recommended use of the slots; the board may populate any subset. */
enum machine_virtio_slot {
    MACHINE_SLOT_BLK0 = 0,
    MACHINE_SLOT_NET0 = 1,
    MACHINE_SLOT_RNG = 2,
    MACHINE_SLOT_CONSOLE = 3,
    MACHINE_SLOT_BLK1 = 4,
    MACHINE_SLOT_BLK2 = 5,
};

static inline uint32_t machine_virtio_gpa(unsigned slot)
{
    return MACHINE_VIRTIO_MMIO_BASE_GPA + slot * MACHINE_VIRTIO_MMIO_STRIDE_BYTES;
}

static inline unsigned machine_virtio_irq(unsigned slot)
{
    static const unsigned char irqs[MACHINE_VIRTIO_SLOTS] = MACHINE_VIRTIO_IRQS;
    return slot < MACHINE_VIRTIO_SLOTS ? irqs[slot] : 0;
}

/* ---- Time (spec/machine.md 6) ------------------------------------------ */
/* The guest TSC counts one tick per nanosecond of the virtual clock. */
#define MACHINE_TSC_KHZ 1000000u

#endif
