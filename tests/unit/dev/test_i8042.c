/* test_i8042.c - the keyboard controller: reset line and Linux's probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "i8042.h"

static int resets, irq1, irq12;

static void fake_irq(void *opaque, unsigned line, int l)
{
    (void)opaque;
    if (line == 1)
        irq1 = l;
    else
        irq12 = l;
}

static void fake_reset(void *opaque)
{
    (void)opaque;
    resets++;
}

static struct i8042 *mk(void)
{
    struct dev_irq i1 = {fake_irq, NULL, 1}, i12 = {fake_irq, NULL, 12};
    resets = irq1 = irq12 = 0;
    struct i8042 *k = i8042_create(&i1, &i12, fake_reset, NULL);
    assert_non_null(k);
    return k;
}

static void outb(struct i8042 *k, uint16_t port, uint8_t v)
{
    (port == 0x64 ? &i8042_cmd_io_ops : &i8042_data_io_ops)->write(k, 0, 1, v);
}

static uint8_t inb(struct i8042 *k, uint16_t port)
{
    return (uint8_t)(port == 0x64 ? &i8042_cmd_io_ops : &i8042_data_io_ops)->read(k, 0, 1);
}

static void test_i8042_reset_command(void **state)
{
    (void)state;
    struct i8042 *k = mk();
    outb(k, 0x64, 0xFE);
    assert_int_equal(resets, 1);
    outb(k, 0x64, 0xFF); /* pulse nothing */
    assert_int_equal(resets, 1);
    outb(k, 0x64, 0xD1);
    outb(k, 0x60, 0xFE); /* output port bit 0 low */
    assert_int_equal(resets, 2);
    i8042_destroy(k);
}

/* drivers/input/serio/i8042.c: flush, self test, read and write CTR, AUX
 * loop test, then a keyboard command that must fail fast. */
static void test_i8042_linux_probe(void **state)
{
    (void)state;
    struct i8042 *k = mk();
    assert_int_not_equal(inb(k, 0x64), 0xFF);
    assert_int_equal(inb(k, 0x64) & 0x03, 0);
    outb(k, 0x64, 0xAA);
    assert_int_equal(inb(k, 0x64) & 0x01, 0x01);
    assert_int_equal(inb(k, 0x60), 0x55);
    assert_int_equal(inb(k, 0x64) & 0x01, 0);
    outb(k, 0x64, 0x20);
    uint8_t ctr = inb(k, 0x60);
    assert_int_equal(ctr & 0x04, 0x04);
    outb(k, 0x64, 0x60);
    outb(k, 0x60, (uint8_t)(ctr & ~0x01));
    outb(k, 0x64, 0x20);
    assert_int_equal(inb(k, 0x60), ctr & ~0x01);
    /* AUX loop: the echo comes back without the AUX bit: no AUX port */
    outb(k, 0x64, 0xD3);
    outb(k, 0x60, 0x5A);
    assert_int_equal(inb(k, 0x64) & 0x21, 0x01);
    assert_int_equal(inb(k, 0x60), 0x5A);
    outb(k, 0x64, 0xA9);
    assert_int_equal(inb(k, 0x60), 0x01);
    /* keyboard interrupts on: a keyboard command times out */
    outb(k, 0x64, 0x60);
    outb(k, 0x60, ctr | 0x01);
    outb(k, 0x60, 0xF2); /* GETID */
    assert_int_equal(irq1, 1);
    assert_int_equal(inb(k, 0x64) & 0x41, 0x41);
    assert_int_equal(inb(k, 0x60), 0xFE);
    assert_int_equal(irq1, 0);
    /* the mouse too, on IRQ 12 if enabled */
    outb(k, 0x64, 0x60);
    outb(k, 0x60, 0x07);
    outb(k, 0x64, 0xD4);
    outb(k, 0x60, 0xFF);
    assert_int_equal(irq12, 1);
    assert_int_equal(inb(k, 0x64) & 0x61, 0x61);
    assert_int_equal(inb(k, 0x60), 0xFE);
    assert_int_equal(irq12, 0);
    i8042_destroy(k);
}

static void test_i8042_save_restore(void **state)
{
    (void)state;
    struct i8042 *k = mk();
    outb(k, 0x64, 0xAB);
    outb(k, 0x64, 0xD0);
    outb(k, 0x64, 0x60); /* pending data byte across the save */
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(i8042_save(k, &w), 0);
    struct i8042 *k2 = mk();
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.i8042", w.buf, w.len);
    assert_int_equal(i8042_restore(k2, &r), 0);
    assert_int_equal(irq1, 1);
    outb(k2, 0x60, 0x45);
    assert_int_equal(inb(k2, 0x60), 0x00);
    assert_int_equal(inb(k2, 0x60), 0x01);
    outb(k2, 0x64, 0x20);
    assert_int_equal(inb(k2, 0x60), 0x45);

    uint8_t bad[128];
    memcpy(bad, w.buf, w.len);
    bad[4 + 32] = 0x00; /* output port in reset */
    dev_sec_reader_init(&r, "dev.i8042", bad, w.len);
    assert_int_equal(i8042_restore(k2, &r), DEV_ECORRUPT);
    memcpy(bad, w.buf, w.len);
    bad[4 + 32 + 3] = 200; /* queue length */
    dev_sec_reader_init(&r, "dev.i8042", bad, w.len);
    assert_int_equal(i8042_restore(k2, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "queue"));
    memcpy(bad, w.buf, w.len);
    bad[4 + 32 + 1] = 0xAA; /* pending command that takes no data */
    dev_sec_reader_init(&r, "dev.i8042", bad, w.len);
    assert_int_equal(i8042_restore(k2, &r), DEV_ECORRUPT);
    assert_int_equal(resets, 0);
    dev_sec_writer_free(&w);
    i8042_destroy(k2);
    i8042_destroy(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i8042_reset_command),
        cmocka_unit_test(test_i8042_linux_probe),
        cmocka_unit_test(test_i8042_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
