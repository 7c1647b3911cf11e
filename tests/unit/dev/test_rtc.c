/* test_rtc.c - the CMOS RTC against a fake virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rtc.h"

static uint64_t now;
static int level;

static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return now;
}

static void fake_irq(void *opaque, unsigned line, int l)
{
    (void)opaque;
    (void)line;
    level = l;
}

/* 2024-02-29 23:59:58 UTC, a Thursday */
#define T0 1709251198LL

static struct rtc *mk(void)
{
    struct dev_irq irq = {fake_irq, NULL, 8};
    struct dev_clock clk = {fake_now, NULL};
    now = 5000000000ull;
    level = 0;
    struct rtc *rtc = rtc_create(&irq, &clk, T0);
    assert_non_null(rtc);
    return rtc;
}

static uint8_t cmos_read(struct rtc *rtc, uint8_t reg)
{
    rtc_io_ops.write(rtc, 0, 1, reg);
    return (uint8_t)rtc_io_ops.read(rtc, 1, 1);
}

static void cmos_write(struct rtc *rtc, uint8_t reg, uint8_t v)
{
    rtc_io_ops.write(rtc, 0, 1, reg);
    rtc_io_ops.write(rtc, 1, 1, v);
}

static void test_rtc_bcd_time(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    assert_int_equal(cmos_read(rtc, 0x00), 0x58);
    assert_int_equal(cmos_read(rtc, 0x02), 0x59);
    assert_int_equal(cmos_read(rtc, 0x04), 0x23);
    assert_int_equal(cmos_read(rtc, 0x06), 0x05); /* Thursday: 5 */
    assert_int_equal(cmos_read(rtc, 0x07), 0x29);
    assert_int_equal(cmos_read(rtc, 0x08), 0x02);
    assert_int_equal(cmos_read(rtc, 0x09), 0x24);
    assert_int_equal(cmos_read(rtc, 0x32), 0x20);
    now += 2000000000ull; /* over midnight into March 1st */
    assert_int_equal(cmos_read(rtc, 0x00), 0x00);
    assert_int_equal(cmos_read(rtc, 0x04), 0x00);
    assert_int_equal(cmos_read(rtc, 0x07), 0x01);
    assert_int_equal(cmos_read(rtc, 0x08), 0x03);
    rtc_destroy(rtc);
}

static void test_rtc_binary_and_12h(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    cmos_write(rtc, 0x0B, 0x06); /* binary, 24 h */
    assert_int_equal(cmos_read(rtc, 0x00), 58);
    assert_int_equal(cmos_read(rtc, 0x04), 23);
    assert_int_equal(cmos_read(rtc, 0x09), 24);
    cmos_write(rtc, 0x0B, 0x04); /* binary, 12 h */
    assert_int_equal(cmos_read(rtc, 0x04), 0x80 | 11);
    /* the guest sets the time: 2001-09-09 01:46:40 (binary) */
    cmos_write(rtc, 0x0B, 0x86); /* SET, binary, 24h */
    cmos_write(rtc, 0x32, 20);
    cmos_write(rtc, 0x09, 1);
    cmos_write(rtc, 0x08, 9);
    cmos_write(rtc, 0x07, 9);
    cmos_write(rtc, 0x04, 1);
    cmos_write(rtc, 0x02, 46);
    cmos_write(rtc, 0x00, 40);
    now += 3000000000ull; /* frozen while SET */
    assert_int_equal(rtc_unix_seconds(rtc), 1000000000LL);
    cmos_write(rtc, 0x0B, 0x06);
    now += 3000000000ull;
    assert_int_equal(rtc_unix_seconds(rtc), 1000000003LL);
    assert_int_equal(cmos_read(rtc, 0x00), 43);
    rtc_destroy(rtc);
}

static void test_rtc_update_in_progress(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    assert_int_equal(cmos_read(rtc, 0x0A) & 0x80, 0);
    now += 1000000000ull - 200000; /* 200 us before the update */
    assert_int_equal(cmos_read(rtc, 0x0A), 0x80 | 0x26);
    assert_int_equal(cmos_read(rtc, 0x00), 0x58);
    now += 200000;
    assert_int_equal(cmos_read(rtc, 0x0A), 0x26);
    assert_int_equal(cmos_read(rtc, 0x00), 0x59);
    rtc_destroy(rtc);
}

static void test_rtc_reg_d_and_nmi_bit(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    assert_int_equal(cmos_read(rtc, 0x0D), 0x80);
    assert_false(rtc_nmi_masked(rtc));
    rtc_io_ops.write(rtc, 0, 1, 0x80 | 0x0D);
    assert_true(rtc_nmi_masked(rtc));
    assert_int_equal(rtc_io_ops.read(rtc, 1, 1), 0x80); /* index without bit 7 */
    cmos_write(rtc, 0x34, 0x5A);                        /* NVRAM */
    assert_int_equal(cmos_read(rtc, 0x34), 0x5A);
    assert_false(rtc_nmi_masked(rtc));
    rtc_destroy(rtc);
}

static void test_rtc_periodic_and_update_irq(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    assert_int_equal(rtc_next_deadline_ns(rtc), DEV_NO_DEADLINE);
    cmos_write(rtc, 0x0B, 0x42); /* PIE */
    uint64_t d = rtc_next_deadline_ns(rtc);
    assert_int_equal(d - now, 976562); /* 1024 Hz */
    now = d - 1;
    rtc_advance(rtc, now);
    assert_int_equal(level, 0);
    now = d;
    rtc_advance(rtc, now);
    assert_int_equal(level, 1);
    assert_int_equal(cmos_read(rtc, 0x0C), 0xC0);
    assert_int_equal(level, 0);
    assert_int_equal(cmos_read(rtc, 0x0C), 0x00);
    /* update-ended interrupt at the next second */
    cmos_write(rtc, 0x0B, 0x12);
    now += 1000000000ull;
    rtc_advance(rtc, now);
    assert_int_equal(level, 1);
    assert_int_equal(cmos_read(rtc, 0x0C) & 0x90, 0x90);
    rtc_destroy(rtc);
}

static void test_rtc_alarm(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    cmos_write(rtc, 0x01, 0x00); /* alarm at xx:xx:00 */
    cmos_write(rtc, 0x03, 0xC0);
    cmos_write(rtc, 0x05, 0xC0);
    cmos_write(rtc, 0x0B, 0x22); /* AIE */
    now += 1000000000ull;        /* :59 */
    rtc_advance(rtc, now);
    assert_int_equal(level, 0);
    now += 1000000000ull; /* :00 */
    rtc_advance(rtc, now);
    assert_int_equal(level, 1);
    assert_int_equal(cmos_read(rtc, 0x0C) & 0xA0, 0xA0);
    rtc_destroy(rtc);
}

static void test_rtc_save_restore(void **state)
{
    (void)state;
    struct rtc *rtc = mk();
    cmos_write(rtc, 0x40, 0x11);
    cmos_write(rtc, 0x0B, 0x06);
    rtc_io_ops.write(rtc, 0, 1, 0x8F);
    now += 7500000000ull;
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(rtc_save(rtc, &w), 0);
    struct rtc *r2 = mk();
    now += 7500000000ull;
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.rtc", w.buf, w.len);
    assert_int_equal(rtc_restore(r2, &r), 0);
    assert_true(rtc_nmi_masked(r2));
    assert_int_equal(cmos_read(r2, 0x40), 0x11);
    assert_int_equal(rtc_unix_seconds(r2), T0 + 7);
    assert_int_equal(cmos_read(r2, 0x00), 5); /* binary: 58 + 7 wraps to 05 */

    uint8_t bad[256];
    memcpy(bad, w.buf, w.len);
    bad[4 + 128] = 0xFF; /* index */
    dev_sec_reader_init(&r, "dev.rtc", bad, w.len);
    assert_int_equal(rtc_restore(r2, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "dev.rtc at offset 132"));
    memcpy(bad, w.buf, w.len);
    bad[4 + 128 + 2] = 0x01; /* reg C low bits */
    dev_sec_reader_init(&r, "dev.rtc", bad, w.len);
    assert_int_equal(rtc_restore(r2, &r), DEV_ECORRUPT);
    memcpy(bad, w.buf, w.len);
    bad[4 + 128 + 4 + 7] = 0x7F; /* base time far in the future */
    dev_sec_reader_init(&r, "dev.rtc", bad, w.len);
    assert_int_equal(rtc_restore(r2, &r), DEV_ECORRUPT);
    dev_sec_reader_init(&r, "dev.rtc", w.buf, w.len - 3);
    assert_int_equal(rtc_restore(r2, &r), DEV_ECORRUPT);
    assert_int_equal(cmos_read(r2, 0x40), 0x11);
    dev_sec_writer_free(&w);
    rtc_destroy(r2);
    rtc_destroy(rtc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtc_bcd_time),
        cmocka_unit_test(test_rtc_binary_and_12h),
        cmocka_unit_test(test_rtc_update_in_progress),
        cmocka_unit_test(test_rtc_reg_d_and_nmi_bit),
        cmocka_unit_test(test_rtc_periodic_and_update_irq),
        cmocka_unit_test(test_rtc_alarm),
        cmocka_unit_test(test_rtc_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
