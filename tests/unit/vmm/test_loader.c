/*
 * test_loader.c - the Linux loader (vmm/loader.c): a synthetic bzImage built
 * here field by field, the zero page, e820, initrd placement, the CPU state
 * and boot GDT, the ACPI tables, one test per refusal, a mutation sweep over
 * the header, and Debian's real bzImage when prepare.sh has cached it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader.h"
#include "machine.h"

#define RAM_BYTES    (64u << 20)
#define PM_BYTES     4096u
#define SETUP_SECTS  4u
#define PM_OFFSET    ((SETUP_SECTS + 1) * 512u)
#define IMAGE_BYTES  (PM_OFFSET + PM_BYTES)
#define HEADER_END   0x26Cu /* protocol 2.15 */
#define INIT_SIZE    (24u << 20)
#define PREF_ADDRESS (16u << 20)

static uint16_t r16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t r32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t r64(const uint8_t *p)
{
    return r32(p) | (uint64_t)r32(p + 4) << 32;
}
static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void w64(uint8_t *p, uint64_t v)
{
    w32(p, (uint32_t)v);
    w32(p + 4, (uint32_t)(v >> 32));
}

/* A bzImage header as a 6.1 kernel's header.S lays it out; the protected-
 * mode part is a byte pattern the tests look for at 1 MiB. */
static void make_image(uint8_t *img)
{
    memset(img, 0, IMAGE_BYTES);
    img[0x1F1] = SETUP_SECTS;
    w32(img + 0x1F4, PM_BYTES / 16); /* syssize */
    w16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = (uint8_t)(HEADER_END - 0x202);
    memcpy(img + 0x202, "HdrS", 4);
    w16(img + 0x206, 0x020F);
    img[0x211] = 0x01; /* LOADED_HIGH */
    w32(img + 0x214, 0x100000);
    w32(img + 0x22C, 0x7FFFFFFF);   /* initrd_addr_max */
    w32(img + 0x230, PREF_ADDRESS); /* kernel_alignment */
    img[0x234] = 1;                 /* relocatable */
    w32(img + 0x238, 2047);         /* cmdline_size */
    w64(img + 0x250, 0xDEAD0000);   /* setup_data: must be cleared */
    w64(img + 0x258, PREF_ADDRESS);
    w32(img + 0x260, INIT_SIZE);
    for (unsigned i = 0; i < PM_BYTES; i++)
        img[PM_OFFSET + i] = (uint8_t)(i * 7 + 3);
}

struct fixture {
    uint8_t img[IMAGE_BYTES];
    uint8_t *ram;
    struct vmp_x86_state st;
    struct loader_info info;
    struct loader_linux guest;
    char err[256];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ram = calloc(1, RAM_BYTES);
    if (!f->ram) {
        free(f);
        return -1;
    }
    make_image(f->img);
    f->guest.kernel = f->img;
    f->guest.kernel_bytes = IMAGE_BYTES;
    f->guest.cmdline = "console=ttyS0 quiet";
    f->guest.virtio_slots = 1u << MACHINE_SLOT_BLK0 | 1u << MACHINE_SLOT_NET0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->ram);
    free(f);
    return 0;
}

static int boot(struct fixture *f)
{
    return loader_boot_linux(f->ram, RAM_BYTES, &f->guest, &f->st, &f->info, f->err, sizeof f->err);
}

static void test_loader_parse_synthetic(void **state)
{
    struct fixture *f = *state;
    struct loader_bzimage im;
    assert_int_equal(loader_parse_bzimage(f->img, IMAGE_BYTES, &im, f->err, sizeof f->err), 0);
    assert_int_equal(im.protocol, 0x020F);
    assert_int_equal(im.setup_sects, SETUP_SECTS);
    assert_int_equal(im.pm_offset, PM_OFFSET);
    assert_int_equal(im.pm_bytes, PM_BYTES);
    assert_int_equal(im.header_end, HEADER_END);
    assert_int_equal(im.relocatable, 1);
    assert_int_equal(im.kernel_alignment, PREF_ADDRESS);
    assert_int_equal(im.cmdline_size, 2047);
    assert_int_equal(im.initrd_addr_max, 0x7FFFFFFF);
    assert_int_equal(im.pref_address, PREF_ADDRESS);
    assert_int_equal(im.init_size, INIT_SIZE);
}

static void test_loader_setup_sects_zero_means_four(void **state)
{
    struct fixture *f = *state;
    struct loader_bzimage im;
    f->img[0x1F1] = 0;
    assert_int_equal(loader_parse_bzimage(f->img, IMAGE_BYTES, &im, f->err, sizeof f->err), 0);
    assert_int_equal(im.pm_offset, 5 * 512);
}

static void test_loader_boot_params(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(boot(f), 0);
    const uint8_t *bp = f->ram + MACHINE_BOOT_PARAMS_GPA;
    /* The setup header is the kernel's, byte for byte, except the loader's fields. */
    assert_memory_equal(bp + 0x202, "HdrS", 4);
    assert_int_equal(r16(bp + 0x206), 0x020F);
    assert_int_equal(r16(bp + 0x1FE), 0xAA55);
    assert_int_equal(r32(bp + 0x238), 2047);
    assert_int_equal(r32(bp + 0x260), INIT_SIZE);
    assert_int_equal(bp[0x210], 0xFF);                     /* type_of_loader */
    assert_int_equal(bp[0x211], 0x81);                     /* LOADED_HIGH | CAN_USE_HEAP */
    assert_int_not_equal(r16(bp + 0x224), 0);              /* heap_end_ptr */
    assert_int_equal(r32(bp + 0x214), MACHINE_KERNEL_GPA); /* code32_start */
    assert_int_equal(r32(bp + 0x228), MACHINE_BOOT_CMDLINE_GPA);
    assert_int_equal(r64(bp + 0x250), 0);                /* setup_data cleared */
    assert_int_equal(r32(bp + 0x23C), 0);                /* hardware_subarch PC */
    assert_int_equal(r64(bp + 0x070), MACHINE_ACPI_GPA); /* acpi_rsdp_addr */
    assert_int_equal(bp[0x1EF], 0);                      /* sentinel */
    assert_int_equal(r32(bp + 0x218), 0);                /* no initrd */
    assert_int_equal(r32(bp + 0x21C), 0);
    /* Nothing past the header was copied from the image. */
    for (unsigned i = HEADER_END; i < 0x290; i++)
        assert_int_equal(bp[i], 0);
    /* The command line, NUL-terminated, where cmd_line_ptr says. */
    assert_string_equal((const char *)f->ram + MACHINE_BOOT_CMDLINE_GPA, "console=ttyS0 quiet");
    assert_int_equal(f->info.cmdline_bytes, strlen("console=ttyS0 quiet"));
    /* The protected-mode kernel at 1 MiB, and nothing of the setup code. */
    assert_memory_equal(f->ram + MACHINE_KERNEL_GPA, f->img + PM_OFFSET, PM_BYTES);
    assert_int_equal(f->ram[MACHINE_KERNEL_GPA + PM_BYTES], 0);
    assert_int_equal(f->info.kernel_bytes, PM_BYTES);
    assert_int_equal(f->info.runtime_start_gpa, PREF_ADDRESS);
    assert_int_equal(f->info.runtime_end_gpa, PREF_ADDRESS + INIT_SIZE);
    /* BIOS data area: 639 KiB base memory, EBDA at 0x9FC00. */
    assert_int_equal(r16(f->ram + MACHINE_BDA_BASEMEM_GPA), 639);
    assert_int_equal(r16(f->ram + MACHINE_BDA_EBDA_SEG_GPA) << 4, MACHINE_EBDA_GPA);
}

static void test_loader_e820(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(boot(f), 0);
    const uint8_t *bp = f->ram + MACHINE_BOOT_PARAMS_GPA;
    static const uint64_t want[][3] = {
        {0, 0x9FC00, 1},
        {0x9FC00, 0x100000 - 0x9FC00, 2},
        {0x100000, RAM_BYTES - 0x100000, 1},
    };
    assert_int_equal(bp[0x1E8], 3);
    assert_int_equal(f->info.e820_entries, 3);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *e = bp + 0x2D0 + 20 * i;
        assert_int_equal(r64(e), want[i][0]);
        assert_int_equal(r64(e + 8), want[i][1]);
        assert_int_equal(r32(e + 16), want[i][2]);
    }
    /* The ACPI tables and the boot GDT are inside what e820 covers. */
    assert_true(MACHINE_ACPI_GPA >= 0x9FC00 &&
                MACHINE_ACPI_GPA + MACHINE_ACPI_MAX_BYTES <= 0x100000);
    assert_int_equal(r32(bp + 0x1E0), (RAM_BYTES - 0x100000) >> 10); /* alt_mem_k */
}

static void test_loader_initrd_high_and_aligned(void **state)
{
    struct fixture *f = *state;
    static uint8_t initrd[10000];
    for (unsigned i = 0; i < sizeof initrd; i++)
        initrd[i] = (uint8_t)(i ^ 0x5A);
    f->guest.initrd = initrd;
    f->guest.initrd_bytes = sizeof initrd;
    assert_int_equal(boot(f), 0);
    uint32_t gpa = f->info.initrd_gpa;
    assert_int_equal(gpa % 4096, 0);
    assert_true(gpa + sizeof initrd <= RAM_BYTES);
    assert_true(gpa + sizeof initrd > RAM_BYTES - 4096 - sizeof initrd); /* as high as it goes */
    assert_true(gpa >= PREF_ADDRESS + INIT_SIZE);
    assert_memory_equal(f->ram + gpa, initrd, sizeof initrd);
    const uint8_t *bp = f->ram + MACHINE_BOOT_PARAMS_GPA;
    assert_int_equal(r32(bp + 0x218), gpa);
    assert_int_equal(r32(bp + 0x21C), sizeof initrd);
}

static void test_loader_initrd_below_initrd_addr_max(void **state)
{
    struct fixture *f = *state;
    static uint8_t initrd[5000];
    w32(f->img + 0x22C, (48u << 20) - 1); /* below RAM's end of 64 MiB */
    f->guest.initrd = initrd;
    f->guest.initrd_bytes = sizeof initrd;
    assert_int_equal(boot(f), 0);
    assert_true(f->info.initrd_gpa + sizeof initrd <= (48u << 20));
    assert_true(f->info.initrd_gpa >= (48u << 20) - 8192 - sizeof initrd);
    assert_int_equal(f->info.initrd_gpa % 4096, 0);
}

static void test_loader_initrd_too_big(void **state)
{
    struct fixture *f = *state;
    static uint8_t initrd[1];
    f->guest.initrd = initrd;
    /* RAM ends at 64 MiB, the kernel's runtime area at 40 MiB: 24 MiB left. */
    f->guest.initrd_bytes = 25u << 20;
    assert_int_equal(boot(f), LOADER_ERR_TOO_BIG);
    assert_non_null(strstr(f->err, "initrd"));
    f->guest.initrd_bytes = 0;
    assert_int_equal(boot(f), 0);
    f->guest.initrd = NULL;
    f->guest.initrd_bytes = 5;
    assert_int_equal(boot(f), LOADER_ERR_ARG);
}

static void test_loader_cpu_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(boot(f), 0);
    const struct vmp_x86_state *s = &f->st;
    assert_int_equal(s->eip, MACHINE_KERNEL_GPA);
    assert_int_equal(s->gpr[VMP_ESI], MACHINE_BOOT_PARAMS_GPA);
    assert_int_equal(s->gpr[VMP_EBP], 0);
    assert_int_equal(s->gpr[VMP_EDI], 0);
    assert_int_equal(s->gpr[VMP_EBX], 0);
    assert_int_equal(s->eflags & 0x200, 0); /* IF clear */
    assert_int_equal(s->eflags & 0x2, 0x2);
    assert_int_equal(s->cr0 & 1, 1);           /* PE */
    assert_int_equal(s->cr0 & 0x80000000u, 0); /* PG */
    assert_int_equal(s->seg[VMP_CS].selector, 0x10);
    for (int i = 0; i < VMP_NSEG; i++) {
        if (i != VMP_CS)
            assert_int_equal(s->seg[i].selector, 0x18);
        /* The cache matches the descriptor the selector names in the GDT. */
        const uint8_t *d = f->ram + s->gdtr.base + (s->seg[i].selector & ~7u);
        assert_true((s->seg[i].selector | 7u) <= s->gdtr.limit);
        uint32_t base = r16(d + 2) | (uint32_t)d[4] << 16 | (uint32_t)d[7] << 24;
        uint32_t limit = r16(d) | (uint32_t)(d[6] & 0xF) << 16;
        if (d[6] & 0x80)
            limit = limit << 12 | 0xFFF;
        uint16_t attr = (uint16_t)(d[5] | (d[6] & 0xF0) << 4);
        assert_int_equal(base, s->seg[i].base);
        assert_int_equal(limit, s->seg[i].limit);
        assert_int_equal(attr, s->seg[i].attr);
        assert_int_equal(base, 0);
        assert_int_equal(limit, 0xFFFFFFFFu);
    }
    assert_int_equal(s->seg[VMP_CS].attr & 0x0F, 0xB);    /* execute/read, accessed */
    assert_int_equal(s->seg[VMP_DS].attr & 0x0F, 0x3);    /* read/write, accessed */
    assert_int_equal(s->seg[VMP_CS].attr & 0x400, 0x400); /* D: 32-bit */
    assert_int_equal(s->gdtr.base, MACHINE_BOOT_GDT_GPA);
    assert_int_equal(r16(s->fxsave), 0x037F);
    assert_int_equal(r32(s->fxsave + 24), 0x1F80);
}

/* Find a table by walking RSDP -> XSDT -> entries, checking checksums. */
static const uint8_t *acpi_find(const uint8_t *ram, const char *sig)
{
    const uint8_t *rsdp = ram + MACHINE_ACPI_GPA;
    const uint8_t *xsdt = ram + r64(rsdp + 24);
    uint32_t n = (r32(xsdt + 4) - 36) / 8;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *t = ram + r64(xsdt + 36 + 8 * i);
        if (!memcmp(t, sig, 4))
            return t;
    }
    return NULL;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static size_t count(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    size_t c = 0;
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            c++;
    return c;
}

static void test_loader_acpi_tables(void **state)
{
    struct fixture *f = *state;
    f->guest.virtio_slots = 1u << 0 | 1u << 1 | 1u << 3;
    assert_int_equal(boot(f), 0);
    const uint8_t *ram = f->ram;
    const uint8_t *rsdp = ram + MACHINE_ACPI_GPA;
    assert_memory_equal(rsdp, "RSD PTR ", 8);
    assert_int_equal(MACHINE_ACPI_GPA % 16, 0);
    assert_int_equal(sum(rsdp, 20), 0);
    assert_int_equal(sum(rsdp, 36), 0);
    assert_int_equal(rsdp[15], 2);
    const uint8_t *rsdt = ram + r32(rsdp + 16);
    assert_memory_equal(rsdt, "RSDT", 4);
    assert_int_equal(sum(rsdt, r32(rsdt + 4)), 0);
    const uint8_t *xsdt = ram + r64(rsdp + 24);
    assert_memory_equal(xsdt, "XSDT", 4);
    assert_int_equal(sum(xsdt, r32(xsdt + 4)), 0);

    const uint8_t *fadt = acpi_find(ram, "FACP");
    assert_non_null(fadt);
    assert_int_equal(r32(rsdt + 36), fadt - ram);
    assert_int_equal(sum(fadt, r32(fadt + 4)), 0);
    assert_int_equal(r32(fadt + 56), MACHINE_ACPI_PM1A_EVT_PORT);
    assert_int_equal(r32(fadt + 64), MACHINE_ACPI_PM1A_CNT_PORT);
    assert_int_equal(fadt[88], 4);
    assert_int_equal(fadt[89], 2);
    assert_int_equal(r16(fadt + 46), MACHINE_IRQ_ACPI_SCI);
    assert_int_equal(r32(fadt + 48), 0);               /* no SMI_CMD: ACPI mode */
    assert_int_equal(r32(fadt + 112) & (1u << 20), 0); /* not hardware-reduced */
    assert_int_equal(r64(fadt + 148 + 4), MACHINE_ACPI_PM1A_EVT_PORT);
    assert_int_equal(r64(fadt + 172 + 4), MACHINE_ACPI_PM1A_CNT_PORT);
    const uint8_t *facs = ram + r32(fadt + 36);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal((facs - ram) % 64, 0);

    const uint8_t *dsdt = ram + r64(fadt + 140);
    assert_int_equal(r32(fadt + 40), dsdt - ram);
    assert_memory_equal(dsdt, "DSDT", 4);
    uint32_t len = r32(dsdt + 4);
    assert_true(dsdt - ram + len <= MACHINE_ACPI_GPA + MACHINE_ACPI_MAX_BYTES);
    assert_int_equal(sum(dsdt, len), 0);
    assert_int_equal(count(dsdt, len, "LNRO0005", 8), 3);
    assert_int_equal(count(dsdt, len, "_S5_", 4), 1);
    /* Each populated slot's window (Memory32Fixed) and IRQ (Interrupt). */
    for (unsigned slot = 0; slot < MACHINE_VIRTIO_SLOTS; slot++) {
        uint8_t mem[12] = {0x86, 9, 0, 1};
        w32(mem + 4, machine_virtio_gpa(slot));
        w32(mem + 8, MACHINE_VIRTIO_MMIO_SIZE_BYTES);
        uint8_t irq[9] = {0x89, 6, 0, 3, 1};
        w32(irq + 5, machine_virtio_irq(slot));
        size_t want = (f->guest.virtio_slots >> slot) & 1;
        assert_int_equal(count(dsdt, len, mem, sizeof mem), want);
        assert_int_equal(count(dsdt, len, irq, sizeof irq), want);
    }
    assert_int_equal(f->info.acpi_rsdp_gpa, MACHINE_ACPI_GPA);
}

/* ACPI 6.4 20.2.4: decode a PkgLength; returns its value, *n its bytes. */
static size_t pkglength(const uint8_t *p, size_t *n)
{
    unsigned extra = p[0] >> 6;
    size_t len = extra ? (size_t)(p[0] & 0x0F) : (size_t)(p[0] & 0x3F);
    for (unsigned i = 0; i < extra; i++)
        len |= (size_t)p[1 + i] << (4 + 8 * i);
    *n = 1 + extra;
    return len;
}

/* The DSDT's AML nests exactly: \_S5 package, then one Scope(\_SB) whose
 * Devices tile its body, each ending where its PkgLength says. */
static void test_loader_dsdt_aml_structure(void **state)
{
    struct fixture *f = *state;
    f->guest.virtio_slots =
        (1u << MACHINE_VIRTIO_SLOTS) - 1; /* long enough for 2-byte PkgLengths */
    assert_int_equal(boot(f), 0);
    const uint8_t *fadt = acpi_find(f->ram, "FACP");
    assert_non_null(fadt);
    const uint8_t *dsdt = f->ram + r32(fadt + 40);
    const uint8_t *end = dsdt + r32(dsdt + 4);
    const uint8_t *p = dsdt + 36;
    size_t n;
    /* Name(\_S5_, Package) */
    assert_int_equal(p[0], 0x08);
    assert_int_equal(p[1], 0x5C);
    assert_memory_equal(p + 2, "_S5_", 4);
    assert_int_equal(p[6], 0x12);
    size_t pkg = pkglength(p + 7, &n);
    assert_int_equal(p[7 + n], 4); /* NumElements */
    assert_int_equal(p[7 + n + 1], 0x0A);
    assert_int_equal(p[7 + n + 2], MACHINE_ACPI_SLP_TYP_S5);
    p += 7 + pkg;
    /* Scope(\_SB) */
    assert_int_equal(p[0], 0x10);
    size_t scope = pkglength(p + 1, &n);
    assert_true(n >= 2);
    const uint8_t *scope_end = p + 1 + scope;
    assert_ptr_equal(scope_end, end);
    const uint8_t *q = p + 1 + n;
    assert_int_equal(q[0], 0x5C);
    assert_memory_equal(q + 1, "_SB_", 4);
    q += 5;
    unsigned devices = 0;
    while (q < scope_end) {
        assert_int_equal(q[0], 0x5B);
        assert_int_equal(q[1], 0x82);
        size_t dev = pkglength(q + 2, &n);
        char name[5];
        snprintf(name, sizeof name, "VIO%u", devices);
        assert_memory_equal(q + 2 + n, name, 4);
        q += 2 + dev;
        devices++;
    }
    assert_ptr_equal(q, scope_end);
    assert_int_equal(devices, MACHINE_VIRTIO_SLOTS);
}

static void test_loader_virtio_irqs_are_free(void **state)
{
    (void)state;
    static const unsigned taken[] = {MACHINE_IRQ_PIT,
                                     MACHINE_IRQ_I8042_KBD,
                                     MACHINE_IRQ_CASCADE,
                                     MACHINE_IRQ_COM1,
                                     MACHINE_IRQ_RTC,
                                     MACHINE_IRQ_ACPI_SCI,
                                     MACHINE_IRQ_I8042_AUX,
                                     7,
                                     13,
                                     15};
    for (unsigned s = 0; s < MACHINE_VIRTIO_SLOTS; s++) {
        unsigned irq = machine_virtio_irq(s);
        assert_true(irq > 0 && irq < 16);
        for (unsigned i = 0; i < sizeof taken / sizeof taken[0]; i++)
            assert_int_not_equal(irq, taken[i]);
        for (unsigned t = s + 1; t < MACHINE_VIRTIO_SLOTS; t++)
            assert_int_not_equal(irq, machine_virtio_irq(t));
    }
}

static void expect_refusal(struct fixture *f, size_t bytes, int code, const char *needle)
{
    struct loader_bzimage im;
    int rc = loader_parse_bzimage(f->img, bytes, &im, f->err, sizeof f->err);
    if (rc != code || !strstr(f->err, needle))
        print_error("got %d \"%s\", want %d and \"%s\"\n", rc, f->err, code, needle);
    assert_int_equal(rc, code);
    assert_non_null(strstr(f->err, needle));
    /* The full boot refuses the same way. */
    f->guest.kernel_bytes = bytes;
    assert_int_equal(boot(f), code);
    f->guest.kernel_bytes = IMAGE_BYTES;
}

static void test_loader_refuses_truncated(void **state)
{
    struct fixture *f = *state;
    expect_refusal(f, 0, LOADER_ERR_FORMAT, "too short");
    expect_refusal(f, 0x1FF, LOADER_ERR_FORMAT, "too short");
    expect_refusal(f, HEADER_END - 1, LOADER_ERR_FORMAT, "setup header runs to 0x26c");
    expect_refusal(f, PM_OFFSET - 1, LOADER_ERR_FORMAT, "setup_sects at 0x1f1");
    expect_refusal(f, IMAGE_BYTES - 1, LOADER_ERR_FORMAT, "syssize at 0x1f4");
}

static void test_loader_refuses_old_protocol(void **state)
{
    struct fixture *f = *state;
    w16(f->img + 0x206, 0x0205);
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_UNSUPPORTED, "2.05");
    w16(f->img + 0x206, 0x0206);
    f->img[0x201] = (uint8_t)(0x23C - 0x202);
    struct loader_bzimage im;
    assert_int_equal(loader_parse_bzimage(f->img, IMAGE_BYTES, &im, f->err, sizeof f->err), 0);
    assert_int_equal(im.pref_address, MACHINE_KERNEL_GPA); /* before 2.10: none */
    assert_int_equal(im.init_size, 0);
}

static void test_loader_refuses_bad_boot_flag(void **state)
{
    struct fixture *f = *state;
    w16(f->img + 0x1FE, 0x55AA);
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "boot_flag at 0x1fe");
}

static void test_loader_refuses_bad_hdrs_magic(void **state)
{
    struct fixture *f = *state;
    memcpy(f->img + 0x202, "HdrX", 4);
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "header magic at 0x202");
}

static void test_loader_refuses_zimage(void **state)
{
    struct fixture *f = *state;
    f->img[0x211] = 0;
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_UNSUPPORTED, "LOADED_HIGH");
}

static void test_loader_refuses_short_header(void **state)
{
    struct fixture *f = *state;
    f->img[0x201] = 0x30; /* ends at 0x232: before init_size */
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "byte 0x30 at 0x201");
    f->img[0x201] = 0xFF; /* ends at 0x301: past boot_params' header room */
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "past 0x290");
}

static void test_loader_refuses_bad_alignment(void **state)
{
    struct fixture *f = *state;
    w32(f->img + 0x230, 0x300000);
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "kernel_alignment at 0x230");
    w32(f->img + 0x230, 0);
    expect_refusal(f, IMAGE_BYTES, LOADER_ERR_FORMAT, "kernel_alignment at 0x230");
}

static void test_loader_refuses_hostile_pref_address(void **state)
{
    struct fixture *f = *state;
    w64(f->img + 0x258, 0xFFFFFFFFFFFFF000ull);
    assert_int_equal(boot(f), LOADER_ERR_TOO_BIG);
    assert_non_null(strstr(f->err, "pref_address at 0x258"));
    w64(f->img + 0x258, PREF_ADDRESS);
    w32(f->img + 0x260, 0xFFFFFFFF); /* init_size past RAM */
    assert_int_equal(boot(f), LOADER_ERR_TOO_BIG);
    assert_non_null(strstr(f->err, "init_size"));
}

static void test_loader_cmdline_too_long(void **state)
{
    struct fixture *f = *state;
    w32(f->img + 0x238, 16);
    f->guest.cmdline = "0123456789abcdef"; /* 16: fits */
    assert_int_equal(boot(f), 0);
    assert_string_equal((const char *)f->ram + MACHINE_BOOT_CMDLINE_GPA, "0123456789abcdef");
    f->guest.cmdline = "0123456789abcdefg"; /* 17 */
    assert_int_equal(boot(f), LOADER_ERR_TOO_BIG);
    assert_non_null(strstr(f->err, "cmdline_size at 0x238"));
    /* Longer than the machine's own area, whatever the kernel says. */
    w32(f->img + 0x238, 0xFFFFFFFF);
    static char big[MACHINE_BOOT_CMDLINE_MAX_BYTES + 10];
    memset(big, 'x', sizeof big - 1);
    f->guest.cmdline = big;
    assert_int_equal(boot(f), LOADER_ERR_TOO_BIG);
    f->guest.cmdline = NULL;
    assert_int_equal(boot(f), 0);
    assert_int_equal(f->ram[MACHINE_BOOT_CMDLINE_GPA], 0);
}

static void test_loader_refuses_bad_arguments(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        loader_boot_linux(f->ram, 16u << 20, &f->guest, &f->st, NULL, f->err, sizeof f->err),
        LOADER_ERR_ARG);
    assert_int_equal(
        loader_boot_linux(f->ram, RAM_BYTES + 4096, &f->guest, &f->st, NULL, f->err, sizeof f->err),
        LOADER_ERR_ARG);
    assert_int_equal(
        loader_boot_linux(NULL, RAM_BYTES, &f->guest, &f->st, NULL, f->err, sizeof f->err),
        LOADER_ERR_ARG);
    f->guest.virtio_slots = 1u << MACHINE_VIRTIO_SLOTS;
    assert_int_equal(boot(f), LOADER_ERR_ARG);
    f->guest.virtio_slots = 0;
    assert_int_equal(boot(f), 0);
}

/* Random byte flips in the header and the protected-mode size: the loader
 * either boots or refuses, never reads or writes out of bounds (ASan). */
static void test_loader_header_mutations(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 12345;
    unsigned ok = 0, refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        make_image(f->img);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned off = 0x1F1 + (seed >> 8) % (HEADER_END - 0x1F1);
            seed = seed * 1103515245u + 12345u;
            f->img[off] = (uint8_t)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        f->guest.kernel_bytes = (seed >> 4) % 3 ? IMAGE_BYTES : (seed >> 8) % IMAGE_BYTES;
        int rc = boot(f);
        assert_true(rc == 0 || rc == LOADER_ERR_FORMAT || rc == LOADER_ERR_UNSUPPORTED ||
                    rc == LOADER_ERR_TOO_BIG);
        if (rc == 0)
            ok++;
        else
            refused++;
    }
    assert_true(ok > 0);
    assert_true(refused > 0);
}

/* Debian's 686 bzImage, when examples/debian-i386/prepare.sh has cached it. */
static void test_loader_debian_kernel(void **state)
{
    (void)state;
    char path[4096];
    const char *cache = getenv("VMP_CACHE");
    const char *home = getenv("HOME");
    if (cache)
        snprintf(path, sizeof path, "%s/vmlinuz", cache);
    else if (home)
        snprintf(path, sizeof path, "%s/.cache/vmpack/debian-i386/vmlinuz", home);
    else
        skip();
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        print_message("no cached kernel at %s: skipped\n", path);
        skip();
    }
    static uint8_t img[32u << 20];
    size_t n = fread(img, 1, sizeof img, fp);
    fclose(fp);
    struct loader_bzimage im;
    char err[256];
    assert_int_equal(loader_parse_bzimage(img, n, &im, err, sizeof err), 0);
    assert_true(im.protocol >= 0x020F);
    assert_true(im.relocatable);
    assert_int_equal(im.cmdline_size, 2047);
    assert_true(im.init_size > im.pm_bytes);

    uint64_t ram_bytes = 256u << 20;
    uint8_t *ram = calloc(1, ram_bytes);
    assert_non_null(ram);
    static uint8_t initrd[2u << 20];
    struct loader_linux g = {.kernel = img,
                             .kernel_bytes = n,
                             .initrd = initrd,
                             .initrd_bytes = sizeof initrd,
                             .cmdline = "console=ttyS0",
                             .virtio_slots = 0x3F};
    struct vmp_x86_state st;
    struct loader_info info;
    int rc = loader_boot_linux(ram, ram_bytes, &g, &st, &info, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(info.runtime_start_gpa, im.pref_address);
    assert_true(info.initrd_gpa >= info.runtime_end_gpa);
    assert_true(info.initrd_gpa + sizeof initrd <= ram_bytes);
    assert_memory_equal(ram + MACHINE_KERNEL_GPA, img + im.pm_offset, im.pm_bytes);
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loader_parse_synthetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_setup_sects_zero_means_four, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_boot_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_e820, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_initrd_high_and_aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_initrd_below_initrd_addr_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_initrd_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_cpu_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_acpi_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_dsdt_aml_structure, setup, teardown),
        cmocka_unit_test(test_loader_virtio_irqs_are_free),
        cmocka_unit_test_setup_teardown(test_loader_refuses_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_old_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_bad_boot_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_bad_hdrs_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_zimage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_short_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_bad_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_hostile_pref_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_cmdline_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_refuses_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader_header_mutations, setup, teardown),
        cmocka_unit_test(test_loader_debian_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
