/* test_virtio_blk.c - the virtio-mmio transport and virtio-blk, driven by
 * a fake driver over a fake guest RAM buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"
#include "virtio_blk.h"

#define DISK_SECTORS 64

struct fixture {
    struct fake_driver d;
    struct blk_mem *disk;
    struct virtio_blk *blk;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fd_init(&f->d);
    f->disk = blk_mem_create(DISK_SECTORS);
    struct dev_irq irq = fd_irq_line(&f->d);
    f->blk = virtio_blk_create(blk_mem_backend(f->disk), "vmpack-disk0", &irq, &f->d.ram);
    if (!f->blk)
        return -1;
    f->d.vm = virtio_blk_transport(f->blk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    virtio_blk_destroy(f->blk);
    blk_mem_destroy(f->disk);
    free(f->d.ram.host);
    free(f);
    return 0;
}

static void ready(struct fixture *f, uint64_t want)
{
    assert_int_equal(fd_negotiate(&f->d, want) & 8, 8);
    fd_setup_queue(&f->d, 0);
    fd_driver_ok(&f->d);
}

#define HDR    0x10000u
#define DATA   0x20000u
#define STATUS 0x30000u

/* A three-descriptor request: header, data, status. */
static uint8_t request(struct fixture *f, uint32_t type, uint64_t sector, uint32_t data_len,
                       uint32_t *used_len)
{
    struct fake_driver *d = &f->d;
    fd_put32(d, HDR, type);
    fd_put32(d, HDR + 4, 0);
    fd_put64(d, HDR + 8, sector);
    d->ram.host[STATUS] = 0xEE;
    uint16_t data_flags = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
    fd_desc(d, fd_desc_gpa(0), 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, fd_desc_gpa(0), 1, DATA, data_len, data_flags | VIRTQ_DESC_F_NEXT, 2);
    fd_desc(d, fd_desc_gpa(0), 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(d, 0, 0);
    uint32_t id = 0, len = 0;
    assert_true(fd_used(d, 0, &id, &len));
    assert_int_equal(id, 0);
    if (used_len)
        *used_len = len;
    return d->ram.host[STATUS];
}

static void test_virtio_mmio_probe_registers(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(fd_rd(&f->d, 0x000), 0x74726976);
    assert_int_equal(fd_rd(&f->d, 0x004), 2);
    assert_int_equal(fd_rd(&f->d, 0x008), 2);
    fd_wr(&f->d, 0x014, 1);
    assert_int_equal(fd_rd(&f->d, 0x010) & 1, 1); /* VERSION_1 */
    fd_wr(&f->d, 0x030, 0);
    assert_int_equal(fd_rd(&f->d, 0x034), 256);
    fd_wr(&f->d, 0x030, 1);
    assert_int_equal(fd_rd(&f->d, 0x034), 0); /* no queue 1 */
    /* config: capacity, blk_size; byte access works there */
    assert_int_equal(virtio_mmio_io_ops.read(f->d.vm, 0x100, 4), DISK_SECTORS);
    assert_int_equal(virtio_mmio_io_ops.read(f->d.vm, 0x104, 4), 0);
    assert_int_equal(virtio_mmio_io_ops.read(f->d.vm, 0x114, 4), 512);
    assert_int_equal(virtio_mmio_io_ops.read(f->d.vm, 0x100, 1), DISK_SECTORS);
    /* registers reject narrow access */
    assert_int_equal(virtio_mmio_io_ops.read(f->d.vm, 0x000, 2), 0);
    assert_int_equal(fd_rd(&f->d, 0x0B0), 0xFFFFFFFFu); /* no shared memory */
}

static void test_virtio_mmio_feature_negotiation(void **state)
{
    struct fixture *f = *state;
    /* without VERSION_1, FEATURES_OK does not stick */
    assert_int_equal(fd_negotiate(&f->d, 1ull << 9) & 8, 0);
    /* a feature the device does not offer is refused too */
    fd_wr(&f->d, 0x070, 0);
    fd_wr(&f->d, 0x070, 3);
    fd_wr(&f->d, 0x024, 1);
    fd_wr(&f->d, 0x020, 1);
    fd_wr(&f->d, 0x024, 0);
    fd_wr(&f->d, 0x020, 1u << 7);
    fd_wr(&f->d, 0x070, 11);
    assert_int_equal(fd_rd(&f->d, 0x070) & 8, 0);
    assert_int_equal(fd_negotiate(&f->d, (1ull << 32) | (1ull << 9)) & 8, 8);
    assert_int_equal(virtio_mmio_driver_features(f->d.vm), (1ull << 32) | (1ull << 9));
    /* features are frozen after FEATURES_OK */
    fd_wr(&f->d, 0x024, 0);
    fd_wr(&f->d, 0x020, 0);
    assert_int_equal(virtio_mmio_driver_features(f->d.vm), (1ull << 32) | (1ull << 9));
}

static void test_virtio_mmio_queue_setup(void **state)
{
    struct fixture *f = *state;
    fd_negotiate(&f->d, ~0ull);
    fd_wr(&f->d, 0x030, 0);
    fd_wr(&f->d, 0x038, 12); /* not a power of 2 */
    fd_wr(&f->d, 0x080, 0x1000);
    fd_wr(&f->d, 0x090, 0x1400);
    fd_wr(&f->d, 0x0A0, 0x1800);
    fd_wr(&f->d, 0x044, 1);
    assert_int_equal(fd_rd(&f->d, 0x044), 0);
    fd_wr(&f->d, 0x038, 16);
    fd_wr(&f->d, 0x0A0, FD_RAM_BYTES - 8); /* used ring past RAM */
    fd_wr(&f->d, 0x044, 1);
    assert_int_equal(fd_rd(&f->d, 0x044), 0);
    fd_wr(&f->d, 0x0A4, 1); /* high half: beyond 4 GiB */
    fd_wr(&f->d, 0x0A0, 0x1800);
    fd_wr(&f->d, 0x044, 1);
    assert_int_equal(fd_rd(&f->d, 0x044), 0);
    fd_setup_queue(&f->d, 0);
    assert_int_equal(fd_rd(&f->d, 0x044), 1);
    /* a ready queue's addresses cannot change */
    fd_wr(&f->d, 0x080, 0x5000);
    fd_wr(&f->d, 0x070, 0); /* reset */
    assert_int_equal(fd_rd(&f->d, 0x044), 0);
    assert_int_equal(fd_rd(&f->d, 0x070), 0);
}

static void test_virtio_blk_read_write(void **state)
{
    struct fixture *f = *state;
    ready(f, ~0ull);
    for (unsigned i = 0; i < 1024; i++)
        f->d.ram.host[DATA + i] = (uint8_t)(i * 7 + 1);
    uint32_t len;
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 5, 1024, &len), VIRTIO_BLK_S_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(blk_mem_data(f->disk) + 5 * 512, f->d.ram.host + DATA, 1024);
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(f->d.irq_edges, 1);
    /* spec/machine.md 3.2: no new edge while InterruptStatus is set */
    assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, NULL), VIRTIO_BLK_S_OK);
    assert_int_equal(f->d.irq_edges, 1);
    assert_int_equal(fd_rd(&f->d, 0x060), 1);
    fd_wr(&f->d, 0x064, 1);
    assert_int_equal(f->d.irq_level, 0);
    /* QueueReady written again while live changes nothing; the driver
     * cannot set NEEDS_RESET itself */
    fd_wr(&f->d, 0x030, 0);
    fd_wr(&f->d, 0x044, 1);
    fd_wr(&f->d, 0x070, 0x4F);
    assert_int_equal(fd_rd(&f->d, 0x070), 0x0F);
    memset(f->d.ram.host + DATA, 0, 2048);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 4, 2048, &len), VIRTIO_BLK_S_OK);
    assert_int_equal(len, 2049);
    assert_memory_equal(f->d.ram.host + DATA + 512, blk_mem_data(f->disk) + 5 * 512, 1024);
    assert_int_equal(f->d.ram.host[DATA + 512 + 1], 8);
    assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, NULL), VIRTIO_BLK_S_OK);
    assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 20, &len), VIRTIO_BLK_S_OK);
    assert_int_equal(len, 21);
    assert_memory_equal(f->d.ram.host + DATA, "vmpack-disk0", 12);
    assert_int_equal(request(f, 99, 0, 512, NULL), VIRTIO_BLK_S_UNSUPP);
}

static void test_virtio_blk_ioerr(void **state)
{
    struct fixture *f = *state;
    ready(f, ~0ull);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 100, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, NULL), VIRTIO_BLK_S_OK);
    assert_int_equal(virtio_blk_failed_requests(f->blk), 4);
    assert_int_equal(virtio_mmio_guest_errors(f->d.vm), 0);
}

static void test_virtio_blk_split_header_and_indirect(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    memset(blk_mem_data(f->disk) + 9 * 512, 0x5A, 512);
    /* an indirect table at 0x40000: header split 4 + 12, data in two
     * halves, status */
    uint64_t t = 0x40000;
    fd_put32(d, HDR, VIRTIO_BLK_T_IN);
    fd_put32(d, HDR + 4, 0);
    fd_put64(d, HDR + 8, 9);
    fd_desc(d, t, 0, HDR, 4, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, t, 1, HDR + 4, 12, VIRTQ_DESC_F_NEXT, 2);
    fd_desc(d, t, 2, DATA + 256, 256, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
    fd_desc(d, t, 3, DATA, 256, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
    fd_desc(d, t, 4, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    fd_desc(d, fd_desc_gpa(0), 3, t, 5 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    memset(d->ram.host + DATA, 0, 512);
    d->ram.host[STATUS] = 0xEE;
    fd_kick(d, 0, 3);
    uint32_t id = 0, len = 0;
    assert_true(fd_used(d, 0, &id, &len));
    assert_int_equal(id, 3);
    assert_int_equal(len, 513);
    assert_int_equal(d->ram.host[STATUS], VIRTIO_BLK_S_OK);
    assert_int_equal(d->ram.host[DATA], 0x5A);
    assert_int_equal(d->ram.host[DATA + 511], 0x5A);
}

static void expect_refused(struct fixture *f)
{
    uint32_t id = 0, len = 0;
    assert_false(fd_used(&f->d, 0, &id, &len));
    assert_int_equal(fd_rd(&f->d, 0x070) & 0x40, 0x40); /* NEEDS_RESET */
    assert_int_equal(fd_rd(&f->d, 0x060) & 2, 2);       /* config change */
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(virtio_mmio_guest_errors(f->d.vm), 1);
    /* nothing more happens until reset */
    fd_kick(&f->d, 0, 0);
    assert_int_equal(virtio_mmio_guest_errors(f->d.vm), 1);
}

static void test_virtio_blk_desc_outside_ram(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    fd_desc(d, fd_desc_gpa(0), 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, fd_desc_gpa(0), 1, FD_RAM_BYTES - 256, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
            2);
    fd_desc(d, fd_desc_gpa(0), 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(d, 0, 0);
    expect_refused(f);
    assert_non_null(strstr(virtio_mmio_last_error(d->vm), "outside guest RAM"));
}

static void test_virtio_blk_desc_loop(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    fd_desc(d, fd_desc_gpa(0), 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, fd_desc_gpa(0), 1, DATA, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    fd_desc(d, fd_desc_gpa(0), 2, DATA, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    fd_kick(d, 0, 0);
    expect_refused(f);
    assert_non_null(strstr(virtio_mmio_last_error(d->vm), "loops"));
}

static void test_virtio_blk_bad_indirect(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    uint64_t t = 0x40000;
    /* an indirect descriptor inside an indirect table */
    fd_desc(d, t, 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fd_desc(d, fd_desc_gpa(0), 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fd_kick(d, 0, 0);
    expect_refused(f);
}

static void test_virtio_blk_indirect_not_negotiated(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, 1ull << 32);
    fd_desc(d, fd_desc_gpa(0), 0, 0x40000, 48, VIRTQ_DESC_F_INDIRECT, 0);
    fd_kick(d, 0, 0);
    expect_refused(f);
}

static void test_virtio_blk_avail_idx_runaway(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    fd_put16(d, fd_avail_gpa(0) + 2, 100);
    fd_wr(d, 0x050, 0);
    expect_refused(f);
    /* a reset brings the device back */
    ready(f, ~0ull);
    d->avail_idx[0] = 0;
    d->used_seen[0] = 0;
    fd_put16(d, fd_avail_gpa(0) + 2, 0);
    fd_put16(d, fd_used_gpa(0) + 2, 0);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, NULL), VIRTIO_BLK_S_OK);
}

static void test_virtio_blk_event_idx(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    /* used_event = 1: no interrupt for the first used buffer (index 0 ->
     * 1 crosses used_event only when new index > 1) */
    fd_put16(d, fd_avail_gpa(0) + 4 + 2 * FD_QSIZE, 1);
    request(f, VIRTIO_BLK_T_FLUSH, 0, 0, NULL);
    assert_int_equal(d->irq_edges, 0);
    request(f, VIRTIO_BLK_T_FLUSH, 0, 0, NULL);
    assert_int_equal(d->irq_edges, 1);
    /* the device published avail_event = the next slot it will read */
    assert_int_equal(fd_get16(d, fd_used_gpa(0) + 4 + 8 * FD_QSIZE), 2);
}

static void test_virtio_blk_save_restore(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    ready(f, ~0ull);
    request(f, VIRTIO_BLK_T_FLUSH, 0, 0, NULL);
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(virtio_mmio_save(d->vm, &w), 0);

    /* a second device over the same RAM takes over */
    struct dev_irq irq = fd_irq_line(d);
    struct virtio_blk *b2 = virtio_blk_create(blk_mem_backend(f->disk), "x", &irq, &d->ram);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.virtio-blk0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_blk_transport(b2), &r), 0);
    struct virtio_mmio *old = d->vm;
    d->vm = virtio_blk_transport(b2);
    assert_int_equal(fd_rd(d, 0x070), 0x0F);
    assert_int_equal(fd_rd(d, 0x060), 1);
    memset(blk_mem_data(f->disk), 0x77, 512);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, NULL), VIRTIO_BLK_S_OK);
    assert_int_equal(d->ram.host[DATA + 100], 0x77);
    struct dev_sec_writer w2;
    dev_sec_writer_init(&w2);
    virtio_mmio_save(d->vm, &w2);

    /* corrupt sections are refused and leave the device as it was */
    uint8_t bad[512];
    assert_true(w.len <= sizeof(bad));
    memcpy(bad, w.buf, w.len);
    bad[4] = 1; /* device id */
    dev_sec_reader_init(&r, "dev.virtio-blk0", bad, w.len);
    assert_int_equal(virtio_mmio_restore(d->vm, &r), DEV_ECORRUPT);
    memcpy(bad, w.buf, w.len);
    size_t q0 = 4 + 4 + 4 + 4 + 4 + 8 + 4 + 4 + 4 + 1;
    bad[q0 + 3 + 8 + 8] = 0xF0; /* used ring address: beyond RAM */
    bad[q0 + 3 + 8 + 8 + 3] = 0x7F;
    dev_sec_reader_init(&r, "dev.virtio-blk0", bad, w.len);
    assert_int_equal(virtio_mmio_restore(d->vm, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "queue 0"));
    for (size_t cut = 0; cut < w.len; cut++) {
        dev_sec_reader_init(&r, "dev.virtio-blk0", w.buf, cut);
        assert_int_not_equal(virtio_mmio_restore(d->vm, &r), 0);
    }
    struct dev_sec_writer w3;
    dev_sec_writer_init(&w3);
    virtio_mmio_save(d->vm, &w3);
    assert_int_equal(w2.len, w3.len);
    assert_memory_equal(w2.buf, w3.buf, w2.len);
    d->vm = old;
    virtio_blk_destroy(b2);
    dev_sec_writer_free(&w);
    dev_sec_writer_free(&w2);
    dev_sec_writer_free(&w3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_virtio_mmio_probe_registers),
        T(test_virtio_mmio_feature_negotiation),
        T(test_virtio_mmio_queue_setup),
        T(test_virtio_blk_read_write),
        T(test_virtio_blk_ioerr),
        T(test_virtio_blk_split_header_and_indirect),
        T(test_virtio_blk_desc_outside_ram),
        T(test_virtio_blk_desc_loop),
        T(test_virtio_blk_bad_indirect),
        T(test_virtio_blk_indirect_not_negotiated),
        T(test_virtio_blk_avail_idx_runaway),
        T(test_virtio_blk_event_idx),
        T(test_virtio_blk_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
