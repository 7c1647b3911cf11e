/* test_pic.c - the 8259A pair through its ports, as Linux drives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pic.h"

static int intr_level;
static void fake_intr(void *opaque, unsigned line, int level)
{
    (void)opaque;
    (void)line;
    intr_level = level;
}

static void outb(struct pic *pic, uint16_t port, uint8_t v)
{
    if (port >= 0x4D0)
        pic_elcr_io_ops.write(pic, port - 0x4D0u, 1, v);
    else
        pic_io_ops.write(port >= 0xA0 ? pic_slave(pic) : pic_master(pic), port & 1, 1, v);
}

static uint8_t inb(struct pic *pic, uint16_t port)
{
    if (port >= 0x4D0)
        return (uint8_t)pic_elcr_io_ops.read(pic, port - 0x4D0u, 1);
    return (uint8_t)pic_io_ops.read(port >= 0xA0 ? pic_slave(pic) : pic_master(pic), port & 1, 1);
}

/* arch/x86/kernel/i8259.c init_8259A(0): vectors 0x30 and 0x38 */
static struct pic *linux_init(void)
{
    struct dev_irq out = {fake_intr, NULL, 0};
    intr_level = 0;
    struct pic *pic = pic_create(&out);
    assert_non_null(pic);
    outb(pic, 0x21, 0xFF);
    outb(pic, 0xA1, 0xFF);
    outb(pic, 0x20, 0x11);
    outb(pic, 0x21, 0x30);
    outb(pic, 0x21, 0x04);
    outb(pic, 0x21, 0x01);
    outb(pic, 0xA0, 0x11);
    outb(pic, 0xA1, 0x38);
    outb(pic, 0xA1, 0x02);
    outb(pic, 0xA1, 0x01);
    outb(pic, 0x21, 0x00);
    outb(pic, 0xA1, 0x00);
    return pic;
}

static void test_pic_init_and_edge(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    assert_int_equal(inb(pic, 0x21), 0);
    assert_false(pic_has_interrupt(pic));
    pic_set_irq(pic, 0, 1);
    assert_true(pic_has_interrupt(pic));
    assert_int_equal(intr_level, 1);
    assert_int_equal(inb(pic, 0x20), 0x01); /* IRR */
    assert_int_equal(pic_ack(pic), 0x30);
    assert_int_equal(intr_level, 0);
    outb(pic, 0x20, 0x0B); /* OCW3: read ISR */
    assert_int_equal(inb(pic, 0x20), 0x01);
    /* edge: line still high, no new request after EOI */
    outb(pic, 0x20, 0x20);
    assert_int_equal(inb(pic, 0x20), 0x00);
    assert_false(pic_has_interrupt(pic));
    pic_set_irq(pic, 0, 0);
    pic_set_irq(pic, 0, 1);
    assert_true(pic_has_interrupt(pic));
    pic_destroy(pic);
}

static void test_pic_mask(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    outb(pic, 0x21, 0x02);
    pic_set_irq(pic, 1, 1);
    assert_false(pic_has_interrupt(pic));
    outb(pic, 0x21, 0x00);
    assert_true(pic_has_interrupt(pic));
    assert_int_equal(pic_ack(pic), 0x31);
    pic_destroy(pic);
}

static void test_pic_priority_and_specific_eoi(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    pic_set_irq(pic, 4, 1);
    pic_set_irq(pic, 3, 1);
    assert_int_equal(pic_ack(pic), 0x33);
    /* IRQ 1 has a higher priority than 3 in service: it nests */
    pic_set_irq(pic, 1, 1);
    assert_int_equal(pic_ack(pic), 0x31);
    /* IRQ 4 must wait for both */
    assert_false(pic_has_interrupt(pic));
    outb(pic, 0x20, 0x63);                /* specific EOI for 3 */
    assert_false(pic_has_interrupt(pic)); /* 1 still in service */
    outb(pic, 0x20, 0x20);                /* non-specific EOI: clears 1 */
    assert_true(pic_has_interrupt(pic));
    assert_int_equal(pic_ack(pic), 0x34);
    outb(pic, 0x20, 0x0B);
    assert_int_equal(inb(pic, 0x20), 0x10);
    /* set priority: IRQ 4 lowest, so 5 beats 1 */
    outb(pic, 0x20, 0x20);
    outb(pic, 0x20, 0xC4);
    pic_set_irq(pic, 1, 0);
    pic_set_irq(pic, 1, 1);
    pic_set_irq(pic, 5, 1);
    assert_int_equal(pic_ack(pic), 0x35);
    pic_destroy(pic);
}

static void test_pic_cascade_irq2(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    pic_set_irq(pic, 12, 1);
    assert_true(pic_has_interrupt(pic));
    assert_int_equal(pic_ack(pic), 0x3C);
    outb(pic, 0x20, 0x0B);
    outb(pic, 0xA0, 0x0B);
    assert_int_equal(inb(pic, 0x20), 0x04);
    assert_int_equal(inb(pic, 0xA0), 0x10);
    /* masking the cascade input on the master hides the slave */
    pic_set_irq(pic, 12, 0);
    outb(pic, 0xA0, 0x20);
    outb(pic, 0x20, 0x20);
    outb(pic, 0x21, 0x04);
    pic_set_irq(pic, 9, 1);
    assert_false(pic_has_interrupt(pic));
    outb(pic, 0x21, 0x00);
    assert_int_equal(pic_ack(pic), 0x39);
    pic_destroy(pic);
}

static void test_pic_spurious_irq7(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    outb(pic, 0x4D0, 0x20); /* IRQ 5 level-triggered */
    assert_int_equal(inb(pic, 0x4D0), 0x20);
    pic_set_irq(pic, 5, 1);
    assert_true(pic_has_interrupt(pic));
    pic_set_irq(pic, 5, 0); /* gone before INTA */
    assert_int_equal(pic_ack(pic), 0x37);
    outb(pic, 0x20, 0x0B);
    assert_int_equal(inb(pic, 0x20), 0x00); /* ISR 7 not set */
    pic_destroy(pic);
}

static void test_pic_level_stays(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    outb(pic, 0x4D1, 0x02); /* IRQ 9 level */
    pic_set_irq(pic, 9, 1);
    assert_int_equal(pic_ack(pic), 0x39);
    outb(pic, 0xA0, 0x20);
    outb(pic, 0x20, 0x20);
    assert_true(pic_has_interrupt(pic)); /* line still high */
    pic_set_irq(pic, 9, 0);
    assert_false(pic_has_interrupt(pic));
    /* ELCR bits for IRQ 0-2 are fixed */
    outb(pic, 0x4D0, 0xFF);
    assert_int_equal(inb(pic, 0x4D0), 0xF8);
    pic_destroy(pic);
}

static void test_pic_auto_eoi_and_poll(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    outb(pic, 0x20, 0x11);
    outb(pic, 0x21, 0x08);
    outb(pic, 0x21, 0x04);
    outb(pic, 0x21, 0x03); /* AEOI */
    pic_set_irq(pic, 6, 1);
    assert_int_equal(pic_ack(pic), 0x0E);
    outb(pic, 0x20, 0x0B);
    assert_int_equal(inb(pic, 0x20), 0x00);
    pic_set_irq(pic, 3, 1);
    outb(pic, 0x20, 0x0C); /* poll */
    assert_int_equal(inb(pic, 0x20), 0x83);
    assert_false(pic_has_interrupt(pic));
    pic_destroy(pic);
}

static void test_pic_save_restore(void **state)
{
    (void)state;
    struct pic *pic = linux_init();
    outb(pic, 0x21, 0x10);
    outb(pic, 0x4D1, 0x02);
    pic_set_irq(pic, 3, 1);
    assert_int_equal(pic_ack(pic), 0x33);
    pic_set_irq(pic, 9, 1);
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(pic_save(pic, &w), 0);

    struct dev_irq out = {fake_intr, NULL, 0};
    struct pic *p2 = pic_create(&out);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.pic", w.buf, w.len);
    assert_int_equal(pic_restore(p2, &r), 0);
    struct dev_sec_writer w2;
    dev_sec_writer_init(&w2);
    pic_save(p2, &w2);
    assert_int_equal(w.len, w2.len);
    assert_memory_equal(w.buf, w2.buf, w.len);
    assert_int_equal(inb(p2, 0x21), 0x10);
    /* IRQ 9 (via 2) is pending but 3 is in service and 2 has priority */
    assert_true(pic_has_interrupt(p2));
    assert_int_equal(pic_ack(p2), 0x39);

    /* corrupt: bad irq_base, truncated, wrong version, trailing bytes */
    w.buf[4 + 5] = 0x31;
    dev_sec_reader_init(&r, "dev.pic", w.buf, w.len);
    assert_int_equal(pic_restore(p2, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "irq_base"));
    dev_sec_reader_init(&r, "dev.pic", w2.buf, w2.len - 1);
    assert_int_equal(pic_restore(p2, &r), DEV_ECORRUPT);
    w2.buf[0] = 9;
    dev_sec_reader_init(&r, "dev.pic", w2.buf, w2.len);
    assert_int_equal(pic_restore(p2, &r), DEV_EVERSION);
    w2.buf[0] = 1;
    dev_sec_put_u8(&w2, 0);
    dev_sec_reader_init(&r, "dev.pic", w2.buf, w2.len);
    assert_int_equal(pic_restore(p2, &r), DEV_ECORRUPT);
    assert_int_equal(inb(p2, 0x21), 0x10); /* refused: state untouched */
    dev_sec_writer_free(&w);
    dev_sec_writer_free(&w2);
    pic_destroy(p2);
    pic_destroy(pic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pic_init_and_edge),
        cmocka_unit_test(test_pic_mask),
        cmocka_unit_test(test_pic_priority_and_specific_eoi),
        cmocka_unit_test(test_pic_cascade_irq2),
        cmocka_unit_test(test_pic_spurious_irq7),
        cmocka_unit_test(test_pic_level_stays),
        cmocka_unit_test(test_pic_auto_eoi_and_poll),
        cmocka_unit_test(test_pic_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
