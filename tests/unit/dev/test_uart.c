/* test_uart.c - the 16550A through its ports, as Linux's 8250 driver
 * probes and uses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uart.h"

static int level;
static uint8_t out[64];
static size_t out_len;

static void fake_irq(void *opaque, unsigned line, int l)
{
    (void)opaque;
    (void)line;
    level = l;
}

static void fake_tx(void *opaque, uint8_t b)
{
    (void)opaque;
    if (out_len < sizeof(out))
        out[out_len++] = b;
}

static struct uart *mk(void)
{
    struct dev_irq irq = {fake_irq, NULL, 4};
    level = 0;
    out_len = 0;
    struct uart *u = uart_create(&irq, fake_tx, NULL);
    assert_non_null(u);
    uart_io_ops.write(u, 4, 1, 0x08); /* OUT2: the PC's IRQ enable */
    return u;
}

static void outb(struct uart *u, unsigned reg, uint8_t v)
{
    uart_io_ops.write(u, reg, 1, v);
}

static uint8_t inb(struct uart *u, unsigned reg)
{
    return (uint8_t)uart_io_ops.read(u, reg, 1);
}

static void test_uart_thr_and_lsr(void **state)
{
    (void)state;
    struct uart *u = mk();
    assert_int_equal(inb(u, 5), 0x60); /* THRE | TEMT */
    outb(u, 0, 'h');
    outb(u, 0, 'i');
    assert_int_equal(out_len, 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(inb(u, 5) & 0x61, 0x60);
    uint8_t in[] = {'x'};
    assert_int_equal(uart_rx_push(u, in, 1), 1);
    assert_int_equal(inb(u, 5) & 0x01, 0x01);
    assert_int_equal(inb(u, 0), 'x');
    assert_int_equal(inb(u, 5) & 0x01, 0);
    /* without the FIFO only one byte fits */
    uint8_t two[] = {'a', 'b'};
    assert_int_equal(uart_rx_push(u, two, 2), 1);
    uart_destroy(u);
}

static void test_uart_interrupt_priorities(void **state)
{
    (void)state;
    struct uart *u = mk();
    assert_int_equal(inb(u, 2), 0x01);
    outb(u, 1, 0x02); /* THRI on an empty THR raises it */
    assert_int_equal(level, 1);
    assert_int_equal(inb(u, 2), 0x02);
    assert_int_equal(level, 0); /* reading IIR cleared it */
    assert_int_equal(inb(u, 2), 0x01);
    outb(u, 0, 'z');
    assert_int_equal(level, 1);
    outb(u, 1, 0x03); /* + RDI */
    uint8_t b = 'q';
    uart_rx_push(u, &b, 1);
    assert_int_equal(inb(u, 2), 0x04); /* data beats THRE */
    assert_int_equal(inb(u, 0), 'q');
    assert_int_equal(inb(u, 2), 0x02);
    /* line status beats data: an overrun */
    outb(u, 1, 0x07);
    uart_rx_push(u, &b, 1);
    outb(u, 4, 0x18); /* loopback: a THR write overruns the full holding register */
    outb(u, 0, 'r');
    assert_int_equal(inb(u, 2), 0x06);
    assert_int_equal(inb(u, 5) & 0x03, 0x03);
    assert_int_equal(inb(u, 2), 0x04);
    /* modem status is lowest */
    inb(u, 0);
    inb(u, 2);
    inb(u, 6);
    outb(u, 1, 0x08);
    assert_int_equal(inb(u, 2), 0x01);
    outb(u, 4, 0x19); /* DTR in loopback -> DSR changes */
    assert_int_equal(inb(u, 2), 0x00);
    assert_int_equal(inb(u, 6), 0xA2); /* DCD (OUT2), DSR, DDSR */
    assert_int_equal(inb(u, 2), 0x01);
    uart_destroy(u);
}

static void test_uart_out2_gates_irq(void **state)
{
    (void)state;
    struct uart *u = mk();
    outb(u, 1, 0x02);
    assert_int_equal(level, 1);
    outb(u, 4, 0x00); /* OUT2 off: the line drops, the cause stays */
    assert_int_equal(level, 0);
    outb(u, 4, 0x18); /* loopback forces OUT2 off */
    assert_int_equal(level, 0);
    outb(u, 4, 0x08);
    assert_int_equal(level, 1);
    assert_int_equal(inb(u, 2), 0x02);
    assert_int_equal(level, 0);
    uart_destroy(u);
}

static void test_uart_fifo_trigger(void **state)
{
    (void)state;
    struct uart *u = mk();
    outb(u, 2, 0x87); /* FIFO on, clear both, trigger 8 */
    assert_int_equal(inb(u, 2) & 0xC0, 0xC0);
    outb(u, 1, 0x01);
    uint8_t data[20];
    for (int i = 0; i < 20; i++)
        data[i] = (uint8_t)('A' + i);
    assert_int_equal(uart_rx_push(u, data, 4), 4);
    assert_int_equal(inb(u, 2), 0xCC); /* below trigger: timeout */
    assert_int_equal(uart_rx_push(u, data + 4, 16), 12);
    assert_int_equal(uart_rx_room(u), 0);
    assert_int_equal(inb(u, 2), 0xC4);
    for (int i = 0; i < 16; i++)
        assert_int_equal(inb(u, 0), 'A' + i);
    assert_int_equal(inb(u, 2), 0xC1);
    assert_int_equal(level, 0);
    outb(u, 2, 0x00);
    assert_int_equal(inb(u, 2) & 0xC0, 0);
    uart_destroy(u);
}

/* drivers/tty/serial/8250/8250_port.c autoconfig: IER probe, loopback
 * MSR check, then the FIFO type from IIR bits 7-6. */
static void test_uart_linux_autoconfig(void **state)
{
    (void)state;
    struct uart *u = mk();
    outb(u, 1, 0x00);
    assert_int_equal(inb(u, 1) & 0x0F, 0);
    outb(u, 1, 0x0F);
    assert_int_equal(inb(u, 1) & 0x0F, 0x0F);
    outb(u, 1, 0x00);
    outb(u, 4, 0x1A); /* LOOP | OUT2 | RTS */
    assert_int_equal(inb(u, 6) & 0xF0, 0x90);
    outb(u, 0, 0x55);
    assert_int_equal(out_len, 0); /* looped back, not sent */
    assert_int_equal(inb(u, 0), 0x55);
    outb(u, 4, 0x00);
    outb(u, 2, 0x01);
    assert_int_equal(inb(u, 2) >> 6, 3); /* 16550A */
    /* the 16750 test: FCR bit 5 with DLAB set is not kept by a 16550A */
    outb(u, 3, 0x80);
    outb(u, 2, 0x21);
    outb(u, 3, 0x00);
    assert_int_equal(inb(u, 2) & 0x20, 0);
    uart_destroy(u);
}

static void test_uart_scratch_and_dlab(void **state)
{
    (void)state;
    struct uart *u = mk();
    outb(u, 7, 0xA5);
    assert_int_equal(inb(u, 7), 0xA5);
    outb(u, 1, 0x05);
    outb(u, 3, 0x83); /* DLAB, 8N1 */
    outb(u, 0, 0x01);
    outb(u, 1, 0x00); /* 115200 */
    assert_int_equal(inb(u, 0), 0x01);
    assert_int_equal(inb(u, 1), 0x00);
    outb(u, 3, 0x03);
    assert_int_equal(inb(u, 1), 0x05); /* IER untouched */
    assert_int_equal(inb(u, 3), 0x03);
    assert_int_equal(out_len, 0);
    uart_destroy(u);
}

static void test_uart_save_restore(void **state)
{
    (void)state;
    struct uart *u = mk();
    outb(u, 2, 0xC1);
    outb(u, 1, 0x01);
    uint8_t data[] = "hello";
    uart_rx_push(u, data, 5);
    inb(u, 0); /* head moves: the ring is saved in order */
    outb(u, 7, 0x42);
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(uart_save(u, &w), 0);
    struct uart *u2 = mk();
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.uart", w.buf, w.len);
    assert_int_equal(uart_restore(u2, &r), 0);
    assert_int_equal(level, 1);
    assert_int_equal(inb(u2, 7), 0x42);
    assert_int_equal(inb(u2, 2), 0xCC);
    assert_int_equal(inb(u2, 0), 'e');
    assert_int_equal(inb(u2, 0), 'l');

    uint8_t bad[64];
    memcpy(bad, w.buf, w.len);
    bad[4 + 12] = 17; /* rx count beyond the FIFO */
    dev_sec_reader_init(&r, "dev.uart", bad, w.len);
    assert_int_equal(uart_restore(u2, &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "FIFO"));
    memcpy(bad, w.buf, w.len);
    bad[4 + 2] = 0x10; /* loopback without the MSR to match */
    dev_sec_reader_init(&r, "dev.uart", bad, w.len);
    assert_int_equal(uart_restore(u2, &r), DEV_ECORRUPT);
    for (size_t cut = 0; cut < w.len; cut++) {
        dev_sec_reader_init(&r, "dev.uart", w.buf, cut);
        assert_int_not_equal(uart_restore(u2, &r), 0);
    }
    assert_int_equal(inb(u2, 0), 'l');
    dev_sec_writer_free(&w);
    uart_destroy(u2);
    uart_destroy(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uart_thr_and_lsr),
        cmocka_unit_test(test_uart_interrupt_priorities),
        cmocka_unit_test(test_uart_out2_gates_irq),
        cmocka_unit_test(test_uart_fifo_trigger),
        cmocka_unit_test(test_uart_linux_autoconfig),
        cmocka_unit_test(test_uart_scratch_and_dlab),
        cmocka_unit_test(test_uart_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
