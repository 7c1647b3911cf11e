/*
 * loader.c - the Linux loader: a bzImage booted by the 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "32-bit boot protocol"), with the boot
 * tables of the machine in spec/machine.md: zero page, e820, boot GDT and
 * the ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, DSDT).
 *
 * Why ACPI on a machine without a BIOS: Debian's 686 kernel builds
 * virtio_mmio without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES and without a
 * flattened device tree, so the only way it finds a virtio-mmio device is
 * an ACPI device with _HID "LNRO0005"; and ACPI S5 gives the guest a clean
 * "power off" register (spec/machine.md 4).
 *
 * The bzImage is untrusted input: every field is range-checked and all
 * arithmetic on file offsets is done in 64 bits before it is compared.
 */
#include "loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "machine.h"

/* ---- byte access -------------------------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- the setup header (boot.rst, "The real-mode kernel header") --------- */

enum {
    HDR_SETUP_SECTS = 0x1F1,
    HDR_SYSSIZE = 0x1F4,
    HDR_VID_MODE = 0x1FA,
    HDR_BOOT_FLAG = 0x1FE,
    HDR_JUMP = 0x200,
    HDR_MAGIC = 0x202,
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21C,
    HDR_HEAP_END_PTR = 0x224,
    HDR_EXT_LOADER_VER = 0x226,
    HDR_EXT_LOADER_TYPE = 0x227,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22C,
    HDR_KERNEL_ALIGNMENT = 0x230,
    HDR_RELOCATABLE = 0x234,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_HARDWARE_SUBARCH = 0x23C,
    HDR_HARDWARE_SUBARCH_DATA = 0x240,
    HDR_SETUP_DATA = 0x250,
    HDR_PREF_ADDRESS = 0x258,
    HDR_INIT_SIZE = 0x260,
    HDR_END_206 = 0x23C, /* just past cmdline_size */
    HDR_END_210 = 0x264, /* just past init_size */
    HDR_END_MAX = 0x290, /* boot_params.edd_mbr_sig_buffer starts here */
};

#define BOOT_FLAG_MAGIC          0xAA55u
#define HDRS_MAGIC               0x53726448u /* "HdrS" little-endian */
#define LOADFLAGS_LOADED_HIGH    0x01u
#define LOADFLAGS_CAN_USE_HEAP   0x80u
#define TYPE_OF_LOADER_UNDEFINED 0xFFu
/* heap_end_ptr is relative to the real-mode code minus 0x200 (boot.rst);
 * the real-mode setup does not run in the 32-bit protocol, so any value
 * inside the 64 KiB setup segment will do. */
#define HEAP_END_PTR 0xFE00u

int loader_parse_bzimage(const uint8_t *image, size_t image_bytes, struct loader_bzimage *out,
                         char *err, size_t errlen)
{
    if (!image || !out)
        return fail(err, errlen, LOADER_ERR_ARG, "bzImage: no image given");
    memset(out, 0, sizeof *out);
    if (image_bytes < HDR_VERSION + 2)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: %zu bytes: too short for a setup header (needs 0x%x at least)",
                    image_bytes, HDR_VERSION + 2);

    uint16_t boot_flag = rd16(image + HDR_BOOT_FLAG);
    if (boot_flag != BOOT_FLAG_MAGIC)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: boot_flag at 0x%x: expected 0x%04x, found 0x%04x", HDR_BOOT_FLAG,
                    BOOT_FLAG_MAGIC, boot_flag);
    uint32_t magic = rd32(image + HDR_MAGIC);
    if (magic != HDRS_MAGIC)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: header magic at 0x%x: expected 0x%08x (\"HdrS\"), found 0x%08x",
                    HDR_MAGIC, HDRS_MAGIC, magic);
    uint16_t version = rd16(image + HDR_VERSION);
    if (version < LOADER_MIN_PROTOCOL)
        return fail(err, errlen, LOADER_ERR_UNSUPPORTED,
                    "bzImage: boot protocol version at 0x%x is %u.%02u; this loader needs %u.%02u "
                    "or later (cmdline_size)",
                    HDR_VERSION, version >> 8, version & 0xFF, LOADER_MIN_PROTOCOL >> 8,
                    LOADER_MIN_PROTOCOL & 0xFF);

    /* boot.rst: the header ends at 0x202 + the byte at 0x201. */
    size_t header_end = (size_t)HDR_MAGIC + image[HDR_JUMP + 1];
    size_t needed = version >= 0x020A ? HDR_END_210 : HDR_END_206;
    if (header_end < needed)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: setup header end (0x202 + byte 0x%02x at 0x201) is 0x%zx; protocol "
                    "%u.%02u needs it to reach 0x%zx",
                    image[HDR_JUMP + 1], header_end, version >> 8, version & 0xFF, needed);
    if (header_end > HDR_END_MAX)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: setup header end (byte at 0x201) is 0x%zx, past 0x%x where "
                    "boot_params ends its header",
                    header_end, HDR_END_MAX);
    if (header_end > image_bytes)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: setup header runs to 0x%zx but the file is %zu bytes", header_end,
                    image_bytes);

    uint8_t setup_sects = image[HDR_SETUP_SECTS];
    /* boot.rst: "If this field is 0, the real value is 4." */
    unsigned sects = setup_sects ? setup_sects : 4;
    uint64_t pm_offset = ((uint64_t)sects + 1) * 512;
    if (pm_offset > image_bytes)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: setup_sects at 0x%x is %u: the protected-mode kernel would start at "
                    "0x%llx, past the end of the %zu-byte file",
                    HDR_SETUP_SECTS, sects, (unsigned long long)pm_offset, image_bytes);

    uint8_t loadflags = image[HDR_LOADFLAGS];
    if (!(loadflags & LOADFLAGS_LOADED_HIGH))
        return fail(err, errlen, LOADER_ERR_UNSUPPORTED,
                    "bzImage: loadflags at 0x%x is 0x%02x: LOADED_HIGH is clear (a zImage, which "
                    "loads at 0x10000; only bzImages are supported)",
                    HDR_LOADFLAGS, loadflags);

    uint32_t syssize = rd32(image + HDR_SYSSIZE);
    uint64_t pm_bytes = (uint64_t)syssize * 16;
    if (syssize == 0 || pm_bytes > image_bytes - pm_offset)
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: syssize at 0x%x is 0x%x paragraphs (%llu bytes), but %llu bytes "
                    "follow the setup code at 0x%llx",
                    HDR_SYSSIZE, syssize, (unsigned long long)pm_bytes,
                    (unsigned long long)(image_bytes - pm_offset), (unsigned long long)pm_offset);

    uint32_t align = rd32(image + HDR_KERNEL_ALIGNMENT);
    uint8_t relocatable = image[HDR_RELOCATABLE];
    if (relocatable && (align == 0 || (align & (align - 1)) != 0 || align > (1u << 30)))
        return fail(err, errlen, LOADER_ERR_FORMAT,
                    "bzImage: kernel_alignment at 0x%x is 0x%x: not a power of two up to 1 GiB",
                    HDR_KERNEL_ALIGNMENT, align);

    out->protocol = version;
    out->setup_sects = setup_sects;
    out->loadflags = loadflags;
    out->relocatable = relocatable;
    out->code32_start = rd32(image + HDR_CODE32_START);
    out->initrd_addr_max = rd32(image + HDR_INITRD_ADDR_MAX);
    out->kernel_alignment = align;
    out->cmdline_size = rd32(image + HDR_CMDLINE_SIZE);
    if (version >= 0x020A) {
        out->pref_address = rd64(image + HDR_PREF_ADDRESS);
        out->init_size = rd32(image + HDR_INIT_SIZE);
    } else {
        out->pref_address = MACHINE_KERNEL_GPA;
    }
    out->header_end = header_end;
    out->pm_offset = (size_t)pm_offset;
    out->pm_bytes = (size_t)pm_bytes;
    return LOADER_OK;
}

/* ---- e820 (boot_params.e820_table, struct boot_e820_entry) -------------- */

enum {
    BP_ACPI_RSDP_ADDR = 0x070,
    BP_EXT_RAMDISK_IMAGE = 0x0C0,
    BP_EXT_RAMDISK_SIZE = 0x0C4,
    BP_EXT_CMD_LINE_PTR = 0x0C8,
    BP_ALT_MEM_K = 0x1E0,
    BP_E820_ENTRIES = 0x1E8,
    BP_SENTINEL = 0x1EF,
    BP_E820_TABLE = 0x2D0,
    BP_E820_ENTRY_BYTES = 20,
    BP_E820_MAX = 128,
    BP_BYTES = 0x1000,
};

enum { E820_RAM = 1, E820_RESERVED = 2 };

static unsigned write_e820(uint8_t *bp, uint64_t ram_bytes)
{
    static const struct {
        uint64_t start, end;
        uint32_t type;
    } fixed[] = {
        {0, MACHINE_LOWMEM_END_GPA, E820_RAM},
        /* EBDA, VGA hole, option ROMs, the ACPI tables and the BIOS area */
        {MACHINE_EBDA_GPA, MACHINE_HIGHMEM_GPA, E820_RESERVED},
    };
    unsigned n = 0;
    for (; n < sizeof fixed / sizeof fixed[0]; n++) {
        uint8_t *e = bp + BP_E820_TABLE + n * BP_E820_ENTRY_BYTES;
        wr64(e, fixed[n].start);
        wr64(e + 8, fixed[n].end - fixed[n].start);
        wr32(e + 16, fixed[n].type);
    }
    uint8_t *e = bp + BP_E820_TABLE + n * BP_E820_ENTRY_BYTES;
    wr64(e, MACHINE_HIGHMEM_GPA);
    wr64(e + 8, ram_bytes - MACHINE_HIGHMEM_GPA);
    wr32(e + 16, E820_RAM);
    n++;
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    return n;
}

/* ---- ACPI tables (ACPI 6.4, chapter 5) ----------------------------------- */

#define ACPI_OEM_ID       "VMPACK"
#define ACPI_OEM_TABLE_ID "VMPACKMC"
#define ACPI_CREATOR_ID   "VMPK"
#define ACPI_HDR_BYTES    36
#define ACPI_RSDP_BYTES   36
#define ACPI_FACS_BYTES   64
#define ACPI_FADT_BYTES   244 /* revision 3 (ACPI 2.0 layout) */

static uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* ACPI 6.4 5.2.6: the system description table header. */
static void acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    wr32(t + 4, len);
    t[8] = rev;
    t[9] = 0;
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    wr32(t + 24, MACHINE_VERSION);
    memcpy(t + 28, ACPI_CREATOR_ID, 4);
    wr32(t + 32, 1);
}

static void acpi_checksum(uint8_t *t, size_t len)
{
    t[9] = 0;
    t[9] = (uint8_t)-acpi_sum(t, len);
}

/* ACPI 6.4 5.2.3.2: Generic Address Structure in system I/O space. */
static void acpi_gas_io(uint8_t *g, uint16_t port, uint8_t bit_width, uint8_t access_size)
{
    g[0] = 1; /* System I/O */
    g[1] = bit_width;
    g[2] = 0;
    g[3] = access_size;
    wr64(g + 4, port);
}

/* A small AML writer (ACPI 6.4 chapter 20) for the few objects the DSDT
 * needs: Scope, Device, Name, String, Integer, Buffer, Package. */
struct aml {
    uint8_t *buf;
    size_t len, cap;
    int overflow;
};

static void aml_byte(struct aml *a, uint8_t b)
{
    if (a->len < a->cap)
        a->buf[a->len++] = b;
    else
        a->overflow = 1;
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        aml_byte(a, b[i]);
}

static void aml_nameseg(struct aml *a, const char seg[4])
{
    aml_bytes(a, seg, 4);
}

static void aml_integer(struct aml *a, uint32_t v)
{
    if (v == 0) {
        aml_byte(a, 0x00); /* ZeroOp */
    } else if (v == 1) {
        aml_byte(a, 0x01); /* OneOp */
    } else if (v <= 0xFF) {
        aml_byte(a, 0x0A); /* BytePrefix */
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        aml_byte(a, 0x0B); /* WordPrefix */
        aml_byte(a, (uint8_t)v);
        aml_byte(a, (uint8_t)(v >> 8));
    } else {
        uint8_t b[4];
        wr32(b, v);
        aml_byte(a, 0x0C); /* DWordPrefix */
        aml_bytes(a, b, 4);
    }
}

static void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, 0x0D); /* StringPrefix */
    aml_bytes(a, s, strlen(s) + 1);
}

/* ACPI 6.4 20.2.4: PkgLength counts itself and what follows it. */
static void aml_pkglength(struct aml *a, size_t body)
{
    if (body + 1 <= 0x3F) {
        aml_byte(a, (uint8_t)(body + 1));
        return;
    }
    for (unsigned extra = 1; extra <= 3; extra++) {
        size_t total = body + 1 + extra;
        if (total < ((size_t)1 << (4 + 8 * extra))) {
            aml_byte(a, (uint8_t)(extra << 6 | (total & 0x0F)));
            for (unsigned i = 0; i < extra; i++)
                aml_byte(a, (uint8_t)(total >> (4 + 8 * i)));
            return;
        }
    }
    a->overflow = 1;
}

/* opcode(s), PkgLength, body */
static void aml_wrap(struct aml *a, const uint8_t *op, size_t op_len, const struct aml *body)
{
    if (body->overflow)
        a->overflow = 1;
    aml_bytes(a, op, op_len);
    aml_pkglength(a, body->len);
    aml_bytes(a, body->buf, body->len);
}

/* Device(VIOn) { _HID "LNRO0005", _UID n, _CRS: its window and its IRQ } */
static void aml_virtio_device(struct aml *a, unsigned slot)
{
    uint8_t crs[32];
    size_t n = 0;
    /* ACPI 6.4 6.4.3.4: 32-bit Fixed Memory Range Descriptor */
    crs[n++] = 0x86;
    crs[n++] = 9;
    crs[n++] = 0;
    crs[n++] = 1; /* read-write */
    wr32(crs + n, machine_virtio_gpa(slot));
    n += 4;
    wr32(crs + n, MACHINE_VIRTIO_MMIO_SIZE_BYTES);
    n += 4;
    /* 6.4.3.6: Extended Interrupt Descriptor: consumer, edge, active high,
     * exclusive, one interrupt. */
    crs[n++] = 0x89;
    crs[n++] = 6;
    crs[n++] = 0;
    crs[n++] = 0x01 | 0x02;
    crs[n++] = 1;
    wr32(crs + n, machine_virtio_irq(slot));
    n += 4;
    /* 6.4.2.9: End Tag, checksum 0 ("treated as correct") */
    crs[n++] = 0x79;
    crs[n++] = 0;

    uint8_t bufbody_mem[48];
    struct aml bufbody = {bufbody_mem, 0, sizeof bufbody_mem, 0};
    aml_integer(&bufbody, (uint32_t)n);
    aml_bytes(&bufbody, crs, n);

    uint8_t dev_mem[128];
    struct aml dev = {dev_mem, 0, sizeof dev_mem, 0};
    char name[5];
    snprintf(name, sizeof name, "VIO%u", slot);
    aml_byte(&dev, 0x08); /* NameOp */
    aml_nameseg(&dev, "_HID");
    aml_string(&dev, "LNRO0005");
    aml_byte(&dev, 0x08);
    aml_nameseg(&dev, "_UID");
    aml_integer(&dev, slot);
    aml_byte(&dev, 0x08);
    aml_nameseg(&dev, "_CRS");
    static const uint8_t buffer_op = 0x11;
    aml_wrap(&dev, &buffer_op, 1, &bufbody);

    uint8_t devop_mem[128];
    struct aml devop = {devop_mem, 0, sizeof devop_mem, 0};
    aml_nameseg(&devop, name);
    aml_bytes(&devop, dev.buf, dev.len);
    if (dev.overflow)
        devop.overflow = 1;
    static const uint8_t device_op[2] = {0x5B, 0x82};
    aml_wrap(a, device_op, 2, &devop);
}

static void aml_dsdt_body(struct aml *a, uint32_t virtio_slots)
{
    /* Name(\_S5, Package(4) {SLP_TYPa, SLP_TYPb, 0, 0}): ACPI 6.4 7.4.2 */
    uint8_t pkg_mem[16];
    struct aml pkg = {pkg_mem, 0, sizeof pkg_mem, 0};
    aml_byte(&pkg, 4);
    aml_integer(&pkg, MACHINE_ACPI_SLP_TYP_S5);
    aml_integer(&pkg, MACHINE_ACPI_SLP_TYP_S5);
    aml_integer(&pkg, 0);
    aml_integer(&pkg, 0);
    aml_byte(a, 0x08);
    aml_byte(a, 0x5C); /* RootChar */
    aml_nameseg(a, "_S5_");
    static const uint8_t package_op = 0x12;
    aml_wrap(a, &package_op, 1, &pkg);

    /* Scope(\_SB) { the virtio-mmio devices } */
    uint8_t sb_mem[1024];
    struct aml sb = {sb_mem, 0, sizeof sb_mem, 0};
    aml_byte(&sb, 0x5C);
    aml_nameseg(&sb, "_SB_");
    for (unsigned slot = 0; slot < MACHINE_VIRTIO_SLOTS; slot++)
        if (virtio_slots & (1u << slot))
            aml_virtio_device(&sb, slot);
    static const uint8_t scope_op = 0x10;
    aml_wrap(a, &scope_op, 1, &sb);
}

/* Lay the tables out from MACHINE_ACPI_GPA; returns the bytes used or 0. */
static uint32_t write_acpi(uint8_t *ram, uint32_t virtio_slots)
{
    uint8_t *base = ram + MACHINE_ACPI_GPA;
    const uint32_t rsdp = 0, rsdt = 0x40, xsdt = 0x80, facs = 0xC0, fadt = 0x100, dsdt = 0x200;
    memset(base, 0, MACHINE_ACPI_MAX_BYTES);

    struct aml body = {base + dsdt + ACPI_HDR_BYTES, 0,
                       MACHINE_ACPI_MAX_BYTES - dsdt - ACPI_HDR_BYTES, 0};
    aml_dsdt_body(&body, virtio_slots);
    if (body.overflow)
        return 0;
    uint32_t dsdt_len = ACPI_HDR_BYTES + (uint32_t)body.len;
    acpi_header(base + dsdt, "DSDT", dsdt_len, 2);
    acpi_checksum(base + dsdt, dsdt_len);

    /* ACPI 6.4 5.2.10: FACS, 64-byte aligned, no checksum. */
    uint8_t *f = base + facs;
    memcpy(f, "FACS", 4);
    wr32(f + 4, ACPI_FACS_BYTES);
    f[32] = 1; /* version */

    /* ACPI 6.4 5.2.9: FADT. Fixed hardware: PM1a event and control blocks
     * only, SCI on IRQ 9, no SMI command port (always in ACPI mode), no PM
     * timer, no GPEs, no fixed power or sleep buttons. */
    uint8_t *t = base + fadt;
    wr32(t + 36, MACHINE_ACPI_GPA + facs);
    wr32(t + 40, MACHINE_ACPI_GPA + dsdt);
    wr16(t + 46, MACHINE_IRQ_ACPI_SCI);
    wr32(t + 56, MACHINE_ACPI_PM1A_EVT_PORT);
    wr32(t + 64, MACHINE_ACPI_PM1A_CNT_PORT);
    t[88] = 4;          /* PM1_EVT_LEN */
    t[89] = 2;          /* PM1_CNT_LEN */
    wr16(t + 96, 101);  /* P_LVL2_LAT > 100: C2 not supported */
    wr16(t + 98, 1001); /* P_LVL3_LAT > 1000: C3 not supported */
    /* IAPC_BOOT_ARCH: no legacy (ISA PnP) devices to enumerate, no 8042
     * keyboard controller to probe, VGA not present (bit 2). */
    wr16(t + 109, 1u << 2);
    /* Flags: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and SLP_BUTTON (5)
     * as control-method/absent devices. */
    wr32(t + 112, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5);
    wr64(t + 132, MACHINE_ACPI_GPA + facs);
    wr64(t + 140, MACHINE_ACPI_GPA + dsdt);
    acpi_gas_io(t + 148, MACHINE_ACPI_PM1A_EVT_PORT, 32, 2);
    acpi_gas_io(t + 172, MACHINE_ACPI_PM1A_CNT_PORT, 16, 2);
    acpi_header(t, "FACP", ACPI_FADT_BYTES, 3);
    acpi_checksum(t, ACPI_FADT_BYTES);

    t = base + rsdt;
    wr32(t + ACPI_HDR_BYTES, MACHINE_ACPI_GPA + fadt);
    acpi_header(t, "RSDT", ACPI_HDR_BYTES + 4, 1);
    acpi_checksum(t, ACPI_HDR_BYTES + 4);

    t = base + xsdt;
    wr64(t + ACPI_HDR_BYTES, MACHINE_ACPI_GPA + fadt);
    acpi_header(t, "XSDT", ACPI_HDR_BYTES + 8, 1);
    acpi_checksum(t, ACPI_HDR_BYTES + 8);

    /* ACPI 6.4 5.2.5.3: RSDP, revision 2; found by the kernel's scan of
     * 0xE0000-0xFFFFF and through boot_params.acpi_rsdp_addr. */
    t = base + rsdp;
    memcpy(t, "RSD PTR ", 8);
    memcpy(t + 9, ACPI_OEM_ID, 6);
    t[15] = 2;
    wr32(t + 16, MACHINE_ACPI_GPA + rsdt);
    wr32(t + 20, ACPI_RSDP_BYTES);
    wr64(t + 24, MACHINE_ACPI_GPA + xsdt);
    t[8] = (uint8_t)-acpi_sum(t, 20);
    t[32] = (uint8_t)-acpi_sum(t, ACPI_RSDP_BYTES);
    return dsdt + dsdt_len;
}

/* ---- the CPU at the 32-bit entry (boot.rst, "32-bit boot protocol") ------ */

/* GDT descriptors: 4 GiB flat, G=1, D=1, DPL 0. */
#define GDT_CODE32  0x00CF9B000000FFFFull /* execute/read, accessed */
#define GDT_DATA32  0x00CF93000000FFFFull /* read/write, accessed */
#define ATTR_CODE32 0xC9B                 /* x86state.h: type:4 s:1 dpl:2 p:1 | avl l db g << 8 */
#define ATTR_DATA32 0xC93

static void write_gdt(uint8_t *ram)
{
    uint8_t *g = ram + MACHINE_BOOT_GDT_GPA;
    memset(g, 0, 32);
    wr64(g + MACHINE_BOOT_CS, GDT_CODE32);
    wr64(g + MACHINE_BOOT_DS, GDT_DATA32);
}

static void set_state(struct vmp_x86_state *s, uint32_t entry_gpa)
{
    memset(s, 0, sizeof *s);
    /* ESI = boot_params; EBP, EDI, EBX = 0 (boot.rst). */
    s->gpr[VMP_ESI] = MACHINE_BOOT_PARAMS_GPA;
    s->gpr[VMP_ESP] = MACHINE_BOOT_STACK_TOP_GPA;
    s->eip = entry_gpa;
    s->eflags = 0x2; /* bit 1 is always set; IF = 0 */
    for (int i = 0; i < VMP_NSEG; i++) {
        int code = i == VMP_CS;
        s->seg[i].selector = code ? MACHINE_BOOT_CS : MACHINE_BOOT_DS;
        s->seg[i].attr = code ? ATTR_CODE32 : ATTR_DATA32;
        s->seg[i].base = 0;
        s->seg[i].limit = 0xFFFFFFFFu;
    }
    /* SDM 3A 9.1.1, table 9-1: LDTR and TR as after reset. */
    s->ldtr = (struct vmp_x86_seg){.selector = 0, .attr = 0x82, .base = 0, .limit = 0xFFFF};
    s->tr = (struct vmp_x86_seg){.selector = 0, .attr = 0x8B, .base = 0, .limit = 0xFFFF};
    s->gdtr.base = MACHINE_BOOT_GDT_GPA;
    s->gdtr.limit = 4 * 8 - 1;
    s->idtr.base = 0;
    s->idtr.limit = 0xFFFF;
    s->cr0 = 0x11; /* PE, ET; paging off */
    s->dr[6] = 0xFFFF0FF0u;
    s->dr[7] = 0x400;
    s->msr.pat = 0x0007040600070406ull;
    s->msr.apic_base = 0; /* the machine has no APIC (spec/machine.md 3.1) */
    /* x87 after FNINIT, MXCSR after reset (SDM 1 10.5.1 layout). */
    wr16(s->fxsave + 0, 0x037F);
    wr32(s->fxsave + 24, 0x1F80);
    wr32(s->fxsave + 28, 0xFFFF); /* MXCSR_MASK as FXSAVE reports it */
}

/* ---- the whole boot ------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

int loader_boot_linux(void *ram_ptr, uint64_t ram_bytes, const struct loader_linux *guest,
                      struct vmp_x86_state *state, struct loader_info *info, char *err,
                      size_t errlen)
{
    struct loader_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    if (!ram_ptr || !guest || !state || !guest->kernel)
        return fail(err, errlen, LOADER_ERR_ARG, "loader: RAM, kernel and state are required");
    if (ram_bytes < MACHINE_RAM_MIN_BYTES || ram_bytes > MACHINE_RAM_MAX_BYTES ||
        ram_bytes % MACHINE_RAM_ALIGN_BYTES)
        return fail(err, errlen, LOADER_ERR_ARG,
                    "loader: RAM of %llu bytes: must be a multiple of 1 MiB from %llu MiB to %llu "
                    "MiB",
                    (unsigned long long)ram_bytes, MACHINE_RAM_MIN_BYTES >> 20,
                    MACHINE_RAM_MAX_BYTES >> 20);
    if (guest->virtio_slots >> MACHINE_VIRTIO_SLOTS)
        return fail(err, errlen, LOADER_ERR_ARG,
                    "loader: virtio slot mask 0x%x names slots past the %d the machine has",
                    guest->virtio_slots, MACHINE_VIRTIO_SLOTS);
    if (!guest->initrd && guest->initrd_bytes)
        return fail(err, errlen, LOADER_ERR_ARG, "loader: initrd size given without data");
    uint8_t *ram = ram_ptr;

    struct loader_bzimage *im = &info->image;
    int rc = loader_parse_bzimage(guest->kernel, guest->kernel_bytes, im, err, errlen);
    if (rc)
        return rc;

    /* The protected-mode kernel at 1 MiB. */
    uint64_t kernel_end = (uint64_t)MACHINE_KERNEL_GPA + im->pm_bytes;
    if (kernel_end > ram_bytes)
        return fail(err, errlen, LOADER_ERR_TOO_BIG,
                    "loader: the %zu-byte kernel does not fit in %llu bytes of RAM at 0x%x",
                    im->pm_bytes, (unsigned long long)ram_bytes, MACHINE_KERNEL_GPA);

    /* boot.rst, "init_size": where the kernel decompresses itself. */
    if (im->pref_address < MACHINE_KERNEL_GPA || im->pref_address >= ram_bytes)
        return fail(err, errlen, LOADER_ERR_TOO_BIG,
                    "loader: pref_address at 0x%x is 0x%llx: outside RAM from 1 MiB to 0x%llx",
                    HDR_PREF_ADDRESS, (unsigned long long)im->pref_address,
                    (unsigned long long)ram_bytes);
    uint64_t runtime_start;
    if (im->relocatable) {
        runtime_start = MACHINE_KERNEL_GPA;
        if (runtime_start < im->pref_address)
            runtime_start = im->pref_address;
        runtime_start = align_up(runtime_start, im->kernel_alignment);
    } else {
        runtime_start = im->pref_address;
    }
    uint64_t runtime_end = runtime_start + im->init_size;
    if (runtime_start > ram_bytes || runtime_end > ram_bytes)
        return fail(err, errlen, LOADER_ERR_TOO_BIG,
                    "loader: the kernel needs RAM up to 0x%llx (runtime start 0x%llx + init_size "
                    "0x%x at 0x%x); RAM ends at 0x%llx",
                    (unsigned long long)runtime_end, (unsigned long long)runtime_start,
                    im->init_size, HDR_INIT_SIZE, (unsigned long long)ram_bytes);
    uint64_t occupied_end = runtime_end > kernel_end ? runtime_end : kernel_end;

    /* The command line: cmdline_size excludes the NUL (boot.rst). */
    const char *cmdline = guest->cmdline ? guest->cmdline : "";
    size_t cmdline_len = strnlen(cmdline, MACHINE_BOOT_CMDLINE_MAX_BYTES);
    if (cmdline_len >= MACHINE_BOOT_CMDLINE_MAX_BYTES || cmdline_len > im->cmdline_size)
        return fail(err, errlen, LOADER_ERR_TOO_BIG,
                    "loader: the command line is %s%zu bytes; this kernel takes at most %u "
                    "(cmdline_size at 0x%x)",
                    cmdline_len >= MACHINE_BOOT_CMDLINE_MAX_BYTES ? "at least " : "", cmdline_len,
                    im->cmdline_size, HDR_CMDLINE_SIZE);

    /* The initrd: as high as allowed, 4 KiB aligned, above the kernel. */
    uint64_t initrd_gpa = 0;
    if (guest->initrd_bytes) {
        uint64_t limit = (uint64_t)im->initrd_addr_max + 1;
        if (limit > ram_bytes)
            limit = ram_bytes;
        if (guest->initrd_bytes > limit || guest->initrd_bytes > UINT32_MAX)
            return fail(err, errlen, LOADER_ERR_TOO_BIG,
                        "loader: the initrd of %zu bytes is larger than the 0x%llx bytes below "
                        "min(initrd_addr_max 0x%x, RAM end)",
                        guest->initrd_bytes, (unsigned long long)limit, im->initrd_addr_max);
        initrd_gpa = (limit - guest->initrd_bytes) & ~0xFFFull;
        if (initrd_gpa < occupied_end)
            return fail(err, errlen, LOADER_ERR_TOO_BIG,
                        "loader: the initrd of %zu bytes does not fit between the kernel's end "
                        "0x%llx and 0x%llx (min of initrd_addr_max and RAM end)",
                        guest->initrd_bytes, (unsigned long long)occupied_end,
                        (unsigned long long)limit);
        memcpy(ram + initrd_gpa, guest->initrd, guest->initrd_bytes);
    }

    memcpy(ram + MACHINE_KERNEL_GPA, guest->kernel + im->pm_offset, im->pm_bytes);
    memcpy(ram + MACHINE_BOOT_CMDLINE_GPA, cmdline, cmdline_len);
    ram[MACHINE_BOOT_CMDLINE_GPA + cmdline_len] = 0;

    uint32_t acpi_bytes = write_acpi(ram, guest->virtio_slots);
    if (!acpi_bytes)
        return fail(err, errlen, LOADER_ERR_TOO_BIG, "loader: the ACPI tables overflow");

    /* The zero page: the kernel's setup header, then what the loader owns. */
    uint8_t *bp = ram + MACHINE_BOOT_PARAMS_GPA;
    memset(bp, 0, BP_BYTES);
    memcpy(bp + HDR_SETUP_SECTS, guest->kernel + HDR_SETUP_SECTS, im->header_end - HDR_SETUP_SECTS);
    bp[BP_SENTINEL] = 0;
    bp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
    bp[HDR_LOADFLAGS] = (uint8_t)(im->loadflags | LOADFLAGS_CAN_USE_HEAP);
    wr32(bp + HDR_CODE32_START, MACHINE_KERNEL_GPA);
    wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
    wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)guest->initrd_bytes);
    wr16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
    bp[HDR_EXT_LOADER_VER] = 0;
    bp[HDR_EXT_LOADER_TYPE] = 0;
    wr32(bp + HDR_CMD_LINE_PTR, MACHINE_BOOT_CMDLINE_GPA);
    /* Fields a hostile image could preset and the kernel would follow. */
    wr32(bp + HDR_HARDWARE_SUBARCH, 0); /* X86_SUBARCH_PC */
    wr64(bp + HDR_HARDWARE_SUBARCH_DATA, 0);
    if (im->header_end >= HDR_SETUP_DATA + 8)
        wr64(bp + HDR_SETUP_DATA, 0);
    wr64(bp + BP_ACPI_RSDP_ADDR, MACHINE_ACPI_GPA);
    wr32(bp + BP_EXT_RAMDISK_IMAGE, 0);
    wr32(bp + BP_EXT_RAMDISK_SIZE, 0);
    wr32(bp + BP_EXT_CMD_LINE_PTR, 0);
    wr32(bp + BP_ALT_MEM_K, (uint32_t)((ram_bytes - MACHINE_HIGHMEM_GPA) >> 10));
    unsigned nmap = write_e820(bp, ram_bytes);

    /* BIOS data area: base memory size and EBDA segment. */
    wr16(ram + MACHINE_BDA_BASEMEM_GPA, MACHINE_LOWMEM_END_GPA >> 10);
    wr16(ram + MACHINE_BDA_EBDA_SEG_GPA, MACHINE_EBDA_GPA >> 4);

    write_gdt(ram);
    set_state(state, MACHINE_KERNEL_GPA);

    info->kernel_gpa = MACHINE_KERNEL_GPA;
    info->kernel_bytes = (uint32_t)im->pm_bytes;
    info->runtime_start_gpa = (uint32_t)runtime_start;
    info->runtime_end_gpa = (uint32_t)runtime_end;
    info->initrd_gpa = (uint32_t)initrd_gpa;
    info->initrd_bytes = (uint32_t)guest->initrd_bytes;
    info->cmdline_gpa = MACHINE_BOOT_CMDLINE_GPA;
    info->cmdline_bytes = (uint32_t)cmdline_len;
    info->boot_params_gpa = MACHINE_BOOT_PARAMS_GPA;
    info->acpi_rsdp_gpa = MACHINE_ACPI_GPA;
    info->acpi_bytes = acpi_bytes;
    info->e820_entries = nmap;
    return LOADER_OK;
}
