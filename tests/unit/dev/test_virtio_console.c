/* test_virtio_console.c - virtio-console: output to the board's callback,
 * input into the guest's receive buffers, save and restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"
#include "virtio_console.h"

static char out[256];
static size_t out_len;

static void fake_tx(void *opaque, const uint8_t *bytes, size_t len)
{
    (void)opaque;
    memcpy(out + out_len, bytes, len);
    out_len += len;
}

#define RX 0x20000u
#define TX 0x30000u

static struct virtio_console *mk(struct fake_driver *d)
{
    fd_init(d);
    out_len = 0;
    struct dev_irq irq = fd_irq_line(d);
    struct virtio_console *con = virtio_console_create(fake_tx, NULL, &irq, &d->ram);
    assert_non_null(con);
    d->vm = virtio_console_transport(con);
    assert_int_equal(fd_rd(d, 0x008), 3);
    assert_int_equal(fd_negotiate(d, ~0ull) & 8, 8);
    fd_setup_queue(d, 0);
    fd_setup_queue(d, 1);
    fd_driver_ok(d);
    return con;
}

static void test_virtio_console_output(void **state)
{
    (void)state;
    struct fake_driver d;
    struct virtio_console *con = mk(&d);
    memcpy(d.ram.host + TX, "hello, ", 7);
    memcpy(d.ram.host + TX + 100, "world\n", 6);
    fd_desc(&d, fd_desc_gpa(1), 0, TX, 7, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(&d, fd_desc_gpa(1), 1, TX + 100, 6, 0, 0);
    fd_kick(&d, 1, 0);
    assert_int_equal(out_len, 13);
    assert_memory_equal(out, "hello, world\n", 13);
    uint32_t id = 9, len = 9;
    assert_true(fd_used(&d, 1, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, 0);
    assert_int_equal(d.irq_level, 1);
    virtio_console_destroy(con);
    free(d.ram.host);
}

static void test_virtio_console_input(void **state)
{
    (void)state;
    struct fake_driver d;
    struct virtio_console *con = mk(&d);
    const uint8_t in[] = "ls -l\n";
    assert_int_equal(virtio_console_push(con, in, 6), 0); /* no buffer yet */
    fd_desc(&d, fd_desc_gpa(0), 0, RX, 4, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(&d, 0, 0);
    fd_desc(&d, fd_desc_gpa(0), 1, RX + 64, 64, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(&d, 0, 1);
    assert_int_equal(virtio_console_push(con, in, 6), 6);
    uint32_t id = 9, len = 9;
    assert_true(fd_used(&d, 0, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, 4);
    assert_memory_equal(d.ram.host + RX, "ls -", 4);
    assert_true(fd_used(&d, 0, &id, &len));
    assert_int_equal(id, 1);
    assert_int_equal(len, 2);
    assert_memory_equal(d.ram.host + RX + 64, "l\n", 2);
    assert_int_equal(virtio_console_push(con, in, 6), 0); /* buffers used up */
    virtio_console_destroy(con);
    free(d.ram.host);
}

static void test_virtio_console_save_restore(void **state)
{
    (void)state;
    struct fake_driver d;
    struct virtio_console *con = mk(&d);
    fd_desc(&d, fd_desc_gpa(0), 0, RX, 16, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(&d, 0, 0);
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(virtio_mmio_save(d.vm, &w), 0);
    struct dev_irq irq = fd_irq_line(&d);
    struct virtio_console *c2 = virtio_console_create(fake_tx, NULL, &irq, &d.ram);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.virtio-3", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_console_transport(c2), &r), 0);
    /* the posted buffer survives in the restored device */
    assert_int_equal(virtio_console_push(c2, (const uint8_t *)"x", 1), 1);
    assert_int_equal(d.ram.host[RX], 'x');
    /* a block device's section does not restore into a console */
    w.buf[4] = 2;
    dev_sec_reader_init(&r, "dev.virtio-3", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_console_transport(c2), &r), DEV_ECORRUPT);
    dev_sec_writer_free(&w);
    virtio_console_destroy(c2);
    virtio_console_destroy(con);
    free(d.ram.host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtio_console_output),
        cmocka_unit_test(test_virtio_console_input),
        cmocka_unit_test(test_virtio_console_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
