/*
 * board_state.c - the board's devices as saved sections and back
 * (board.h, spec/devices.md), for suspend and resume.
 */
#include <stdio.h>
#include <string.h>

#include "board.h"

#define ACPI_PM_SECTION "dev.acpi-pm"
#define ACPI_PM_VERSION 1

typedef int save_fn(const void *dev, struct dev_sec_writer *w);
typedef int restore_fn(void *dev, struct dev_sec_reader *r);

struct board_dev {
    char name[24];
    const void *dev;
    save_fn *save;
    restore_fn *restore;
};

static int pm_save(const void *dev, struct dev_sec_writer *w)
{
    const struct board *b = dev;

    dev_sec_put_u32(w, ACPI_PM_VERSION);
    dev_sec_put_u16(w, b->pm1_en);
    dev_sec_put_u16(w, b->pm1_cnt);
    return dev_sec_writer_status(w);
}

static int pm_restore(void *dev, struct dev_sec_reader *r)
{
    struct board *b = dev;
    uint16_t en, cnt;

    dev_sec_get_version(r, ACPI_PM_VERSION);
    en = dev_sec_get_u16(r);
    cnt = dev_sec_get_u16(r);
    if (dev_sec_reader_status(r) == DEV_OK && (cnt & MACHINE_ACPI_PM1_CNT_SLP_EN))
        dev_sec_fail(r, DEV_ECORRUPT, "%s: PM1_CNT 0x%04x has SLP_EN, which reads as 0",
                     ACPI_PM_SECTION, cnt);
    if (dev_sec_end(r) != DEV_OK)
        return dev_sec_reader_status(r);
    b->pm1_en = en;
    b->pm1_cnt = cnt;
    return DEV_OK;
}

/* "vm.determinism": its codec is libvmpack's (vmpack/detsection.h), which
 * vmpack create and inspect share. */
_Static_assert(VMP_DET_SEED_BYTES == VIRTIO_RNG_SEED_BYTES, "the section holds virtio-rng's seed");

static int det_save(const void *dev, struct dev_sec_writer *w)
{
    const struct board *b = dev;
    const struct vclock *c = b->cfg.clock;
    uint8_t buf[VMP_DET_SECTION_BYTES];
    struct vmp_det d;

    d.ns_per_insn = c->ns_per_insn;
    memcpy(d.seed, b->det_seed, sizeof d.seed);
    d.rtc_unix_seconds = b->cfg.rtc_unix_seconds;
    d.clock_ns = vclock_now(c);
    d.icount = c->icount != NULL ? atomic_load(c->icount) : 0;
    vmp_det_encode(&d, buf);
    dev_sec_put_bytes(w, buf, sizeof buf);
    return dev_sec_writer_status(w);
}

/* vm.c built the board from this section already: check that it agrees. */
static int det_restore(void *dev, struct dev_sec_reader *r)
{
    struct board *b = dev;
    struct vmp_det d;
    char err[160];

    if (vmp_det_decode(r->p, r->len, &d, err, sizeof err) != 0)
        return dev_sec_fail(r, DEV_ECORRUPT, "%s", err);
    if (memcmp(d.seed, b->det_seed, sizeof d.seed) != 0 ||
        d.rtc_unix_seconds != b->cfg.rtc_unix_seconds)
        return dev_sec_fail(r, DEV_ECORRUPT,
                            "seed or RTC start differs from the machine's configuration");
    return DEV_OK;
}

/* Typed wrappers, so that each device is called through its own signature. */
#define WRAP(dev, type)                                                                            \
    static int dev##_save_any(const void *p, struct dev_sec_writer *w)                             \
    {                                                                                              \
        return dev##_save((const type *)p, w);                                                     \
    }                                                                                              \
    static int dev##_restore_any(void *p, struct dev_sec_reader *r)                                \
    {                                                                                              \
        return dev##_restore((type *)p, r);                                                        \
    }
WRAP(pic, struct pic)
WRAP(pit, struct pit)
WRAP(rtc, struct rtc)
WRAP(uart, struct uart)
WRAP(i8042, struct i8042)
WRAP(virtio_mmio, struct virtio_mmio)
#undef WRAP

/* The device list in restore order: PIC first (dev.h), the rest re-drive
 * their interrupt lines into it. */
static unsigned board_devs(struct board *b, struct board_dev *d)
{
    static const unsigned blk_slots[BOARD_MAX_DISKS] = {MACHINE_SLOT_BLK0, MACHINE_SLOT_BLK1,
                                                        MACHINE_SLOT_BLK2};
    unsigned n = 0, i;

#define ADD(nm, obj, s, r)                                                                         \
    do {                                                                                           \
        snprintf(d[n].name, sizeof d[n].name, "%s", nm);                                           \
        d[n].dev = obj;                                                                            \
        d[n].save = s;                                                                             \
        d[n].restore = r;                                                                          \
        n++;                                                                                       \
    } while (0)
    ADD("dev.pic", b->pic, pic_save_any, pic_restore_any);
    ADD("dev.pit", b->pit, pit_save_any, pit_restore_any);
    ADD("dev.rtc", b->rtc, rtc_save_any, rtc_restore_any);
    ADD("dev.uart0", b->uart, uart_save_any, uart_restore_any);
    ADD("dev.i8042", b->kbc, i8042_save_any, i8042_restore_any);
    ADD(ACPI_PM_SECTION, b, pm_save, pm_restore);
    for (i = 0; i < BOARD_MAX_DISKS; i++) {
        if (b->blk[i] != NULL) {
            ADD("", virtio_blk_transport(b->blk[i]), virtio_mmio_save_any, virtio_mmio_restore_any);
            snprintf(d[n - 1].name, sizeof d[n - 1].name, "dev.virtio-%u", blk_slots[i]);
        }
    }
    if (b->net != NULL) {
        ADD("", virtio_net_transport(b->net), virtio_mmio_save_any, virtio_mmio_restore_any);
        snprintf(d[n - 1].name, sizeof d[n - 1].name, "dev.virtio-%u", MACHINE_SLOT_NET0);
    }
    if (b->rng != NULL) {
        ADD("", virtio_rng_transport(b->rng), virtio_mmio_save_any, virtio_mmio_restore_any);
        snprintf(d[n - 1].name, sizeof d[n - 1].name, "dev.virtio-%u", MACHINE_SLOT_RNG);
    }
    if (b->cfg.deterministic)
        ADD(VMP_DET_SECTION_ID, b, det_save, det_restore);
#undef ADD
    return n;
}

#define BOARD_DEVS_MAX (6 + BOARD_MAX_DISKS + 3)

int board_save(struct board *b, board_section_sink *sink, void *ctx)
{
    struct board_dev d[BOARD_DEVS_MAX];
    unsigned n = board_devs(b, d), i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        struct dev_sec_writer w;

        dev_sec_writer_init(&w);
        rc = d[i].save(d[i].dev, &w);
        if (rc == 0)
            rc = dev_sec_writer_status(&w);
        if (rc == 0)
            rc = sink(ctx, d[i].name, w.buf, w.len);
        dev_sec_writer_free(&w);
    }
    return rc;
}

int board_restore(struct board *b, board_section_find *find, void *ctx, char *err, size_t errlen)
{
    struct board_dev d[BOARD_DEVS_MAX];
    unsigned n = board_devs(b, d), i;

    for (i = 0; i < n; i++) {
        struct dev_sec_reader r;
        const void *data;
        size_t len;
        int rc;

        if (!find(ctx, d[i].name, &data, &len)) {
            snprintf(err, errlen, "section %s: missing (the machine has this device)", d[i].name);
            return DEV_ECORRUPT;
        }
        dev_sec_reader_init(&r, d[i].name, data, len);
        rc = d[i].restore((void *)d[i].dev, &r);
        if (rc != DEV_OK) {
            snprintf(err, errlen, "%s",
                     dev_sec_reader_errmsg(&r)[0] ? dev_sec_reader_errmsg(&r) : "refused");
            return rc;
        }
    }
    return DEV_OK;
}
