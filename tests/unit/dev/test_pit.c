/* test_pit.c - the 8254 and port 0x61 against a fake virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pit.h"

static uint64_t now;
static int level, rises;

static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return now;
}

static void fake_irq(void *opaque, unsigned line, int l)
{
    (void)opaque;
    (void)line;
    if (l && !level)
        rises++;
    level = l;
}

static struct pit *mk(void)
{
    struct dev_irq irq = {fake_irq, NULL, 0};
    struct dev_clock clk = {fake_now, NULL};
    now = 1000000;
    level = 0;
    rises = 0;
    struct pit *pit = pit_create(&irq, &clk);
    assert_non_null(pit);
    return pit;
}

static void outb(struct pit *pit, uint16_t port, uint8_t v)
{
    if (port == 0x61)
        pit_port61_io_ops.write(pit, 0, 1, v);
    else
        pit_io_ops.write(pit, port - 0x40u, 1, v);
}

static uint8_t inb(struct pit *pit, uint16_t port)
{
    if (port == 0x61)
        return (uint8_t)pit_port61_io_ops.read(pit, 0, 1);
    return (uint8_t)pit_io_ops.read(pit, port - 0x40u, 1);
}

/* ns for n PIT ticks, rounded up */
static uint64_t ticks_ns(uint64_t n)
{
    return (n * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void run_to(struct pit *pit, uint64_t t)
{
    /* as the board does: step from deadline to deadline */
    for (;;) {
        uint64_t d = pit_next_deadline_ns(pit);
        if (d > t)
            break;
        now = d;
        pit_advance(pit, now);
    }
    now = t;
    pit_advance(pit, now);
}

static void test_pit_mode2_periodic_irq(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0x34); /* ch0, lobyte/hibyte, mode 2 */
    outb(pit, 0x40, 0xA9);
    outb(pit, 0x40, 0x04);      /* 1193: ~1 kHz, Linux's LATCH for HZ=1000 */
    assert_int_equal(level, 1); /* mode 2: OUT high once programmed */
    rises = 0;
    assert_int_equal(pit_next_deadline_ns(pit), t0 + ticks_ns(1193));
    run_to(pit, t0 + ticks_ns(1193) - 1);
    assert_int_equal(rises, 0);
    run_to(pit, t0 + ticks_ns(1193 * 10));
    assert_int_equal(rises, 10);
    /* late advance: 5 periods missed collapse into one edge */
    now = t0 + ticks_ns(1193 * 15) + 10;
    pit_advance(pit, now);
    assert_int_equal(rises, 11);
    pit_destroy(pit);
}

static void test_pit_mode3_square(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0x36);
    outb(pit, 0x40, 100);
    outb(pit, 0x40, 0);
    rises = 0;
    run_to(pit, t0 + ticks_ns(10));
    assert_int_equal(level, 1);
    assert_int_equal(inb(pit, 0x40), 80); /* counts by two */
    assert_int_equal(inb(pit, 0x40), 0);
    run_to(pit, t0 + ticks_ns(60));
    assert_int_equal(level, 0); /* second half */
    run_to(pit, t0 + ticks_ns(100 * 4 + 1));
    assert_int_equal(rises, 4);
    pit_destroy(pit);
}

static void test_pit_mode0_one_shot(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0x30);
    assert_int_equal(level, 0);
    outb(pit, 0x40, 0x00);
    outb(pit, 0x40, 0x10); /* 4096 */
    now = t0 + ticks_ns(96);
    assert_int_equal(inb(pit, 0x40), 0xA0); /* 4000 = 0x0FA0: lsb first */
    assert_int_equal(inb(pit, 0x40), 0x0F);
    run_to(pit, t0 + ticks_ns(4095));
    assert_int_equal(level, 0);
    run_to(pit, t0 + ticks_ns(4096));
    assert_int_equal(level, 1);
    assert_int_equal(rises, 1);
    run_to(pit, t0 + ticks_ns(100000));
    assert_int_equal(rises, 1);
    assert_int_equal(pit_next_deadline_ns(pit), DEV_NO_DEADLINE);
    pit_destroy(pit);
}

static void test_pit_latch_and_access_modes(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0x74); /* ch1, lsb/msb, mode 2 */
    outb(pit, 0x41, 0x34);
    outb(pit, 0x41, 0x12);
    now = t0 + ticks_ns(0x34);
    outb(pit, 0x43, 0x40); /* latch ch1 */
    now += ticks_ns(100);  /* the latch holds */
    assert_int_equal(inb(pit, 0x41), 0x00);
    assert_int_equal(inb(pit, 0x41), 0x12);
    /* lobyte only and hibyte only */
    outb(pit, 0x43, 0x50); /* ch1, lsb only, mode 0 */
    outb(pit, 0x41, 0x80);
    assert_int_equal(inb(pit, 0x41), 0x80);
    outb(pit, 0x43, 0x60); /* ch1, msb only, mode 0 */
    outb(pit, 0x41, 0x02);
    assert_int_equal(inb(pit, 0x41), 0x02);
    assert_int_equal(inb(pit, 0x43), 0xFF);
    pit_destroy(pit);
}

static void test_pit_readback(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0xB0); /* ch2, lsb/msb, mode 0 */
    outb(pit, 0x61, 0x01);
    outb(pit, 0x42, 0xE8);
    outb(pit, 0x42, 0x03); /* 1000 */
    now = t0 + ticks_ns(10);
    outb(pit, 0x43, 0xC8);                  /* read back count and status of ch2 */
    assert_int_equal(inb(pit, 0x42), 0x30); /* status first: OUT 0, rw 3, mode 0 */
    assert_int_equal(inb(pit, 0x42), 0xDE); /* 990 = 0x3DE */
    assert_int_equal(inb(pit, 0x42), 0x03);
    now = t0 + ticks_ns(1000);
    outb(pit, 0x43, 0xE8); /* status only */
    assert_int_equal(inb(pit, 0x42), 0xB0);
    pit_destroy(pit);
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc: gate on, speaker off, mode 0 on
 * channel 2, then poll port 0x61 bit 5 until OUT2 goes high. */
static void test_pit_port61_calibration(void **state)
{
    (void)state;
    struct pit *pit = mk();
    outb(pit, 0x61, (uint8_t)((inb(pit, 0x61) & ~0x02) | 0x01));
    outb(pit, 0x43, 0xB0);
    uint64_t t0 = now;
    outb(pit, 0x42, 0xFF);
    outb(pit, 0x42, 0xFF);
    assert_int_equal(inb(pit, 0x61) & 0x23, 0x01);
    int polls = 0;
    while (!(inb(pit, 0x61) & 0x20) && polls < 100000) {
        now += 1000; /* 1 us per poll */
        polls++;
    }
    uint64_t elapsed = now - t0;
    assert_true(elapsed >= ticks_ns(0xFFFF) - 1000);
    assert_true(elapsed <= ticks_ns(0xFFFF) + 1000);
    /* refresh bit toggles */
    uint8_t a = inb(pit, 0x61) & 0x10;
    now += 15085;
    assert_int_not_equal(inb(pit, 0x61) & 0x10, a);
    /* gate low holds mode 2 with OUT high, and a rising gate restarts it */
    outb(pit, 0x43, 0xB4);
    outb(pit, 0x42, 10);
    outb(pit, 0x42, 0);
    outb(pit, 0x61, 0x00);
    now += ticks_ns(3);
    assert_int_equal(inb(pit, 0x42), 10);
    inb(pit, 0x42);
    outb(pit, 0x61, 0x01);
    now += ticks_ns(3);
    assert_int_equal(inb(pit, 0x42), 7);
    pit_destroy(pit);
}

static void test_pit_save_restore(void **state)
{
    (void)state;
    struct pit *pit = mk();
    uint64_t t0 = now;
    outb(pit, 0x43, 0x34);
    outb(pit, 0x40, 0x00);
    outb(pit, 0x40, 0x01); /* 256 */
    outb(pit, 0x61, 0x03);
    run_to(pit, t0 + ticks_ns(300));
    outb(pit, 0x43, 0x00); /* latch pending across the save */
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(pit_save(pit, &w), 0);

    struct pit *p2 = mk();
    now = t0 + ticks_ns(300);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.pit", w.buf, w.len);
    assert_int_equal(pit_restore(p2, &r), 0);
    assert_int_equal(inb(p2, 0x40), 212); /* 256 - 44 */
    assert_int_equal(inb(p2, 0x40), 0);
    assert_int_equal(inb(p2, 0x61) & 0x03, 0x03);
    assert_int_equal(pit_next_deadline_ns(p2), pit_next_deadline_ns(pit));

    uint8_t bad[512];
    memcpy(bad, w.buf, w.len);
    bad[4 + 12] = 7; /* channel 0 mode */
    dev_sec_reader_init(&r, "dev.pit", bad, w.len);
    assert_int_equal(pit_restore(p2, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "mode"));
    memcpy(bad, w.buf, w.len);
    bad[4] = 0;
    bad[5] = 0;
    bad[6] = 0;
    bad[7] = 0; /* count 0 */
    dev_sec_reader_init(&r, "dev.pit", bad, w.len);
    assert_int_equal(pit_restore(p2, &r), DEV_ECORRUPT);
    for (size_t cut = 0; cut < w.len; cut++) {
        dev_sec_reader_init(&r, "dev.pit", w.buf, cut);
        assert_int_not_equal(pit_restore(p2, &r), 0);
    }
    dev_sec_writer_free(&w);
    pit_destroy(p2);
    pit_destroy(pit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pit_mode2_periodic_irq),
        cmocka_unit_test(test_pit_mode3_square),
        cmocka_unit_test(test_pit_mode0_one_shot),
        cmocka_unit_test(test_pit_latch_and_access_modes),
        cmocka_unit_test(test_pit_readback),
        cmocka_unit_test(test_pit_port61_calibration),
        cmocka_unit_test(test_pit_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
