/* test_virtio_rng.c - virtio-rng fills buffers; the deterministic mode
 * repeats its stream for a seed, across save and restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "fake_driver.h"
#include "virtio_rng.h"

#define BUF 0x20000u

static struct virtio_rng *mk(struct fake_driver *d, const uint8_t *seed)
{
    fd_init(d);
    struct dev_irq irq = fd_irq_line(d);
    struct virtio_rng *rng = virtio_rng_create(seed, &irq, &d->ram);
    assert_non_null(rng);
    d->vm = virtio_rng_transport(rng);
    assert_int_equal(fd_rd(d, 0x008), 4);
    assert_int_equal(fd_negotiate(d, ~0ull) & 8, 8);
    fd_setup_queue(d, 0);
    fd_driver_ok(d);
    return rng;
}

/* Ask for len bytes in two descriptors; returns the used length. */
static uint32_t ask(struct fake_driver *d, uint32_t len)
{
    memset(d->ram.host + BUF, 0, len);
    fd_desc(d, fd_desc_gpa(0), 0, BUF, len / 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, fd_desc_gpa(0), 1, BUF + len / 2, len - len / 2, VIRTQ_DESC_F_WRITE, 0);
    fd_kick(d, 0, 0);
    uint32_t id = 99, used = 0;
    assert_true(fd_used(d, 0, &id, &used));
    assert_int_equal(id, 0);
    return used;
}

static void test_virtio_rng_fills(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    struct fake_driver d;
    struct virtio_rng *rng = mk(&d, NULL);
    assert_int_equal(ask(&d, 10000), 10000);
    /* 10000 random bytes: no run of 16 zero bytes anywhere */
    int zero_run = 0, worst = 0;
    for (unsigned i = 0; i < 10000; i++) {
        zero_run = d.ram.host[BUF + i] ? 0 : zero_run + 1;
        if (zero_run > worst)
            worst = zero_run;
    }
    assert_true(worst < 16);
    assert_int_equal(d.irq_level, 1);
    virtio_rng_destroy(rng);
    free(d.ram.host);
}

static void test_virtio_rng_deterministic(void **state)
{
    (void)state;
    uint8_t seed[32], other[32];
    memset(seed, 0x11, sizeof(seed));
    memset(other, 0x11, sizeof(other));
    other[31] = 0x12;
    struct fake_driver a, b, c;
    struct virtio_rng *ra = mk(&a, seed), *rb = mk(&b, seed), *rc = mk(&c, other);
    ask(&a, 6000);
    ask(&b, 6000);
    ask(&c, 6000);
    assert_memory_equal(a.ram.host + BUF, b.ram.host + BUF, 6000);
    assert_memory_not_equal(a.ram.host + BUF, c.ram.host + BUF, 6000);
    /* a second request differs from the first */
    uint8_t first[64];
    memcpy(first, a.ram.host + BUF, 64);
    ask(&a, 64);
    assert_memory_not_equal(first, a.ram.host + BUF, 64);

    /* save b (one request done), restore into a fresh device with the
     * same RAM: its next request equals a's second */
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(virtio_mmio_save(b.vm, &w), 0);
    struct dev_irq irq = fd_irq_line(&b);
    struct virtio_rng *rb2 = virtio_rng_create(seed, &irq, &b.ram);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.virtio-rng0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_rng_transport(rb2), &r), 0);
    b.vm = virtio_rng_transport(rb2);
    ask(&b, 64);
    assert_memory_equal(a.ram.host + BUF, b.ram.host + BUF, 64);

    /* a deterministic section does not restore into a random device */
    struct virtio_rng *rr = virtio_rng_create(NULL, &irq, &b.ram);
    dev_sec_reader_init(&r, "dev.virtio-rng0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_rng_transport(rr), &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "deterministic"));
    /* nor one with trailing bytes */
    dev_sec_put_u8(&w, 0);
    dev_sec_reader_init(&r, "dev.virtio-rng0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_rng_transport(rb2), &r), DEV_ECORRUPT);
    virtio_rng_destroy(rr);
    dev_sec_writer_free(&w);
    virtio_rng_destroy(ra);
    virtio_rng_destroy(rb);
    virtio_rng_destroy(rb2);
    virtio_rng_destroy(rc);
    free(a.ram.host);
    free(b.ram.host);
    free(c.ram.host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtio_rng_fills),
        cmocka_unit_test(test_virtio_rng_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
