/* test_devsec.c - the section reader and writer, and every device's
 * restore over truncated and randomly corrupted sections: each is either
 * accepted (then saving again gives a section that restores) or refused
 * with a message, never a crash (run under ASan/UBSan in the sanitizer
 * build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"
#include "i8042.h"
#include "pic.h"
#include "pit.h"
#include "rtc.h"
#include "uart.h"
#include "virtio_blk.h"

static void test_devsec_reader_writer(void **state)
{
    (void)state;
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    dev_sec_put_u32(&w, 7);
    dev_sec_put_u8(&w, 0xAB);
    dev_sec_put_u16(&w, 0x1234);
    dev_sec_put_u64(&w, 0x0102030405060708ull);
    for (int i = 0; i < 1000; i++)
        dev_sec_put_u32(&w, (uint32_t)i); /* grows past the first buffer */
    assert_int_equal(dev_sec_writer_status(&w), 0);
    assert_int_equal(w.len, 4 + 1 + 2 + 8 + 4000);
    assert_int_equal(w.buf[4 + 1], 0x34); /* little-endian */
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.test", w.buf, w.len);
    assert_int_equal(dev_sec_get_version(&r, 7), 7);
    assert_int_equal(dev_sec_get_u8(&r), 0xAB);
    assert_int_equal(dev_sec_get_u16(&r), 0x1234);
    assert_int_equal(dev_sec_get_u64(&r), 0x0102030405060708ull);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(dev_sec_get_u32(&r), (uint32_t)i);
    assert_int_equal(dev_sec_end(&r), 0);
    /* past the end: the first error sticks, later reads give 0 */
    assert_int_equal(dev_sec_get_u32(&r), 0);
    assert_int_equal(dev_sec_reader_status(&r), DEV_ECORRUPT);
    assert_string_equal(dev_sec_reader_errmsg(&r),
                        "dev.test at offset 4015: truncated: need 4 more bytes, 0 left");
    dev_sec_reader_init(&r, "dev.test", w.buf, w.len);
    assert_int_equal(dev_sec_get_version(&r, 8), 7);
    assert_int_equal(dev_sec_reader_status(&r), DEV_EVERSION);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "unknown version 7"));
    dev_sec_reader_init(&r, "dev.test", w.buf + 4, 1);
    assert_int_equal(dev_sec_get_bool(&r, "flag"), 0);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "flag: expected 0 or 1, found 171"));
    dev_sec_reader_init(&r, "dev.test", NULL, 0);
    assert_int_equal(dev_sec_get_u8(&r), 0);
    assert_int_equal(dev_sec_reader_status(&r), DEV_ECORRUPT);
    dev_sec_writer_free(&w);
}

static uint64_t now = 5000000000ull;
static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return now;
}
static void fake_irq(void *opaque, unsigned line, int level)
{
    (void)opaque;
    (void)line;
    (void)level;
}
static void fake_reset(void *opaque)
{
    (void)opaque;
}

struct device {
    const char *name;
    void *dev;
    int (*save)(const void *dev, struct dev_sec_writer *w);
    int (*restore)(void *dev, struct dev_sec_reader *r);
};

static int pic_save_v(const void *d, struct dev_sec_writer *w)
{
    return pic_save(d, w);
}
static int pic_restore_v(void *d, struct dev_sec_reader *r)
{
    return pic_restore(d, r);
}
static int pit_save_v(const void *d, struct dev_sec_writer *w)
{
    return pit_save(d, w);
}
static int pit_restore_v(void *d, struct dev_sec_reader *r)
{
    return pit_restore(d, r);
}
static int rtc_save_v(const void *d, struct dev_sec_writer *w)
{
    return rtc_save(d, w);
}
static int rtc_restore_v(void *d, struct dev_sec_reader *r)
{
    return rtc_restore(d, r);
}
static int uart_save_v(const void *d, struct dev_sec_writer *w)
{
    return uart_save(d, w);
}
static int uart_restore_v(void *d, struct dev_sec_reader *r)
{
    return uart_restore(d, r);
}
static int kbc_save_v(const void *d, struct dev_sec_writer *w)
{
    return i8042_save(d, w);
}
static int kbc_restore_v(void *d, struct dev_sec_reader *r)
{
    return i8042_restore(d, r);
}
static int vm_save_v(const void *d, struct dev_sec_writer *w)
{
    return virtio_mmio_save(d, w);
}
static int vm_restore_v(void *d, struct dev_sec_reader *r)
{
    return virtio_mmio_restore(d, r);
}

static uint64_t rnd = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rnd ^= rnd << 13;
    rnd ^= rnd >> 7;
    rnd ^= rnd << 17;
    return rnd;
}

static void torture(const struct device *d)
{
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(d->save(d->dev, &w), 0);
    uint8_t *bad = malloc(w.len + 8);
    struct dev_sec_reader r;
    for (size_t cut = 0; cut < w.len; cut++) {
        dev_sec_reader_init(&r, d->name, w.buf, cut);
        assert_int_not_equal(d->restore(d->dev, &r), 0);
        assert_true(strlen(dev_sec_reader_errmsg(&r)) > 0);
    }
    int refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(bad, w.buf, w.len);
        int flips = 1 + (int)(next_rand() % 4);
        for (int k = 0; k < flips; k++)
            bad[4 + next_rand() % (w.len - 4)] = (uint8_t)next_rand();
        dev_sec_reader_init(&r, d->name, bad, w.len);
        int rc = d->restore(d->dev, &r);
        if (rc) {
            refused++;
            assert_non_null(strstr(dev_sec_reader_errmsg(&r), d->name));
            continue;
        }
        /* accepted: the device must save a section that restores again */
        struct dev_sec_writer w2;
        dev_sec_writer_init(&w2);
        assert_int_equal(d->save(d->dev, &w2), 0);
        dev_sec_reader_init(&r, d->name, w2.buf, w2.len);
        assert_int_equal(d->restore(d->dev, &r), 0);
        dev_sec_writer_free(&w2);
    }
    /* every layout has fields with constraints: some flips are caught */
    assert_true(refused > 0);
    /* the original still restores */
    dev_sec_reader_init(&r, d->name, w.buf, w.len);
    assert_int_equal(d->restore(d->dev, &r), 0);
    free(bad);
    dev_sec_writer_free(&w);
}

static void test_devsec_every_device_refuses_corruption(void **state)
{
    (void)state;
    struct dev_irq irq = {fake_irq, NULL, 0};
    struct dev_clock clk = {fake_now, NULL};
    struct pic *pic = pic_create(&irq);
    struct pit *pit = pit_create(&irq, &clk);
    struct rtc *rtc = rtc_create(&irq, &clk, 1700000000);
    struct uart *uart = uart_create(&irq, NULL, NULL);
    struct i8042 *kbc = i8042_create(&irq, &irq, fake_reset, NULL);
    struct fake_driver fd;
    fd_init(&fd);
    struct blk_mem *disk = blk_mem_create(8);
    struct dev_irq virq = fd_irq_line(&fd);
    struct virtio_blk *blk = virtio_blk_create(blk_mem_backend(disk), "d", &virq, &fd.ram);
    fd.vm = virtio_blk_transport(blk);
    fd_negotiate(&fd, ~0ull);
    fd_setup_queue(&fd, 0);
    fd_driver_ok(&fd);
    /* some state worth saving */
    pit_io_ops.write(pit, 3, 1, 0x34);
    pit_io_ops.write(pit, 0, 1, 0x00);
    pit_io_ops.write(pit, 0, 1, 0x10);
    uart_io_ops.write(uart, 2, 1, 0xC1);
    uart_rx_push(uart, (const uint8_t *)"abc", 3);
    i8042_cmd_io_ops.write(kbc, 0, 1, 0xAA);

    const struct device devs[] = {
        {"dev.pic", pic, pic_save_v, pic_restore_v},
        {"dev.pit", pit, pit_save_v, pit_restore_v},
        {"dev.rtc", rtc, rtc_save_v, rtc_restore_v},
        {"dev.uart0", uart, uart_save_v, uart_restore_v},
        {"dev.i8042", kbc, kbc_save_v, kbc_restore_v},
        {"dev.virtio-0", fd.vm, vm_save_v, vm_restore_v},
    };
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
        torture(&devs[i]);
    virtio_blk_destroy(blk);
    blk_mem_destroy(disk);
    free(fd.ram.host);
    i8042_destroy(kbc);
    uart_destroy(uart);
    rtc_destroy(rtc);
    pit_destroy(pit);
    pic_destroy(pic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devsec_reader_writer),
        cmocka_unit_test(test_devsec_every_device_refuses_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
