/*
 * loader.h - boot a Linux bzImage by the 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst), on the machine of spec/machine.md.
 *
 * Lifecycle (no handle; each call is self-contained):
 *   1. Optionally loader_parse_bzimage() to look at a kernel's header.
 *   2. loader_boot_linux(ram, ram_bytes, &linux, &state, &info, err, errlen)
 *      writes into guest RAM: the protected-mode kernel at 1 MiB, the zero
 *      page (boot_params) with the e820 map, the command line, the initrd
 *      (high, below initrd_addr_max), the boot GDT and the ACPI tables that
 *      describe the virtio-mmio devices and the power-off register; and
 *      fills *state with the CPU state for the kernel's 32-bit entry.
 *   3. The board loads *state into the vCPU and runs it.
 *
 * Everything read from the bzImage is untrusted: every field is checked and
 * a bad image is refused with a message naming the field and its offset.
 * The functions never print, allocate, or touch memory outside what they
 * are given. Thread safety: they share no state.
 */
#ifndef VMP_LOADER_H
#define VMP_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/x86state.h>

/* Status codes: 0 is success. */
enum {
    LOADER_OK = 0,
    LOADER_ERR_ARG = -1,         /* bad argument (NULL, RAM size, slot mask) */
    LOADER_ERR_FORMAT = -2,      /* the bzImage is malformed or truncated */
    LOADER_ERR_UNSUPPORTED = -3, /* well formed but not bootable here (old
                                    protocol, not LOADED_HIGH, ...) */
    LOADER_ERR_TOO_BIG = -4,     /* kernel, initrd or command line do not fit */
};

/* The oldest boot protocol accepted: 2.06 has cmdline_size. */
#define LOADER_MIN_PROTOCOL 0x0206

/* What loader_parse_bzimage() found (host-endian copies of header fields). */
struct loader_bzimage {
    uint16_t protocol;   /* 0x206 = 2.06 */
    uint8_t setup_sects; /* 0 in the file means 4 */
    uint8_t loadflags;
    uint8_t relocatable;
    uint32_t code32_start;
    uint32_t initrd_addr_max; /* highest byte address the initrd may use */
    uint32_t kernel_alignment;
    uint32_t cmdline_size; /* longest command line, without the NUL */
    uint64_t pref_address; /* 2.10+, else MACHINE_KERNEL_GPA */
    uint32_t init_size;    /* 2.10+, else 0 */
    size_t header_end;     /* file offset just past the setup header */
    size_t pm_offset;      /* file offset of the protected-mode kernel */
    size_t pm_bytes;       /* its size */
};

/* Parse and validate the header of a bzImage (image, image_bytes: a host
 * buffer the caller owns). 0 or a LOADER_ERR_* with a message in err. */
int loader_parse_bzimage(const uint8_t *image, size_t image_bytes, struct loader_bzimage *out,
                         char *err, size_t errlen);

struct loader_linux {
    const uint8_t *kernel; /* the bzImage; required */
    size_t kernel_bytes;
    const uint8_t *initrd; /* NULL for none */
    size_t initrd_bytes;
    const char *cmdline;   /* NUL-terminated; NULL for "" */
    uint32_t virtio_slots; /* bit n: virtio-mmio slot n is populated
                              (machine.h); only these go in the DSDT */
};

/* Where things went, for logs and tests. */
struct loader_info {
    struct loader_bzimage image;
    uint32_t kernel_gpa, kernel_bytes;
    uint32_t runtime_start_gpa; /* where the kernel decompresses itself */
    uint32_t runtime_end_gpa;   /* runtime_start + init_size */
    uint32_t initrd_gpa, initrd_bytes;
    uint32_t cmdline_gpa, cmdline_bytes; /* without the NUL */
    uint32_t boot_params_gpa;
    uint32_t acpi_rsdp_gpa, acpi_bytes;
    unsigned e820_entries;
};

/* Load a Linux guest into RAM (ram: host pointer to guest physical address
 * 0, ram_bytes long, between MACHINE_RAM_MIN_BYTES and MACHINE_RAM_MAX_BYTES;
 * the caller owns it and should pass it zeroed) and fill *state (zeroed
 * first) for the 32-bit entry. info may be NULL. On error, RAM may have been
 * partly written; *state is unspecified. */
int loader_boot_linux(void *ram, uint64_t ram_bytes, const struct loader_linux *guest,
                      struct vmp_x86_state *state, struct loader_info *info, char *err,
                      size_t errlen);

#endif
