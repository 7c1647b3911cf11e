/* test_virtqueue.c - the descriptor walk on its own: a valid chain, and
 * the fuzz entry point over many random and half-valid inputs (run under
 * ASan in the sanitizer build, any out-of-bounds access is a failure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtqueue.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Input layout for virtqueue_fuzz_walk: num = 1 << (b0 % 11); desc at
 * b2<<4 | b3<<12, avail at b4<<1 | b5<<9, used at b6<<2 | b7<<10, RAM from
 * byte 8. Here: num 4, desc 0x100, avail 0x200, used 0x300. */
static size_t make_valid(uint8_t *in, size_t size, uint16_t chains)
{
    memset(in, 0, size);
    in[0] = 2;
    in[1] = 3; /* event idx, indirect */
    in[2] = 0x10;
    in[4] = 0x00;
    in[5] = 0x01;
    in[6] = 0xC0;
    uint8_t *ram = in + 8;
    for (uint16_t i = 0; i < chains; i++) {
        uint8_t *d = ram + 0x100 + 16 * i;
        put32(d, 0x400 + 0x40u * i);
        put32(d + 8, 0x40);
        put16(d + 12, i % 2 ? VIRTQ_DESC_F_WRITE : 0);
        put16(ram + 0x200 + 4 + 2 * i, i);
    }
    put16(ram + 0x200 + 2, chains);
    return size;
}

static void test_virtqueue_valid_chains(void **state)
{
    (void)state;
    uint8_t in[0x800];
    make_valid(in, sizeof(in), 3);
    assert_int_equal(virtqueue_fuzz_walk(in, sizeof(in)), 3);
    /* the same ring with RAM cut short before the data: refused */
    assert_int_equal(virtqueue_fuzz_walk(in, 8 + 0x410), -1);
    /* the available index too far ahead */
    make_valid(in, sizeof(in), 3);
    put16(in + 8 + 0x200 + 2, 9);
    assert_int_equal(virtqueue_fuzz_walk(in, sizeof(in)), -1);
}

static void test_virtqueue_chain_copy(void **state)
{
    (void)state;
    uint8_t ram_bytes[0x1000] = {0};
    struct dev_ram ram = {ram_bytes, sizeof(ram_bytes)};
    struct virtqueue vq = {
        .num = 4, .desc_gpa = 0x100, .avail_gpa = 0x200, .used_gpa = 0x300, .ready = 1};
    /* readable 3 bytes + 5 bytes, writable 4 + 4 */
    static const uint32_t addr[4] = {0x400, 0x500, 0x600, 0x700}, len[4] = {3, 5, 4, 4};
    for (int i = 0; i < 4; i++) {
        uint8_t *d = ram_bytes + 0x100 + 16 * i;
        put32(d, addr[i]);
        put32(d + 8, len[i]);
        put16(d + 12,
              (uint16_t)((i < 3 ? VIRTQ_DESC_F_NEXT : 0) | (i >= 2 ? VIRTQ_DESC_F_WRITE : 0)));
        put16(d + 14, (uint16_t)(i + 1));
    }
    memcpy(ram_bytes + 0x400, "abc", 3);
    memcpy(ram_bytes + 0x500, "defgh", 5);
    put16(ram_bytes + 0x202, 1);
    struct vq_chain *c = malloc(sizeof(*c));
    const char *why = NULL;
    assert_int_equal(vq_pop(&vq, &ram, c, &why), 1);
    assert_int_equal(c->readable_bytes, 8);
    assert_int_equal(c->writable_bytes, 8);
    char buf[9] = {0};
    assert_int_equal(vq_chain_read(c, 1, buf, 8), 7);
    assert_string_equal(buf, "bcdefgh");
    assert_int_equal(vq_chain_write(c, 2, "WXYZQ", 5), 5);
    assert_memory_equal(ram_bytes + 0x602, "WX", 2);
    assert_memory_equal(ram_bytes + 0x700, "YZQ", 3);
    vq_push(&vq, &ram, c->head, 7);
    assert_int_equal(ram_bytes[0x302], 1);
    assert_int_equal(ram_bytes[0x308], 7);
    assert_int_equal(vq_need_interrupt(&vq, &ram), 1);
    assert_int_equal(vq_need_interrupt(&vq, &ram), 0); /* nothing new */
    assert_int_equal(vq_pop(&vq, &ram, c, &why), 0);
    free(c);
}

static void test_virtqueue_fuzz_random(void **state)
{
    (void)state;
    static uint8_t in[8 + 0x4000];
    int accepted = 0, refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t size = 8 + next_rand() % (sizeof(in) - 8);
        if (iter % 2) {
            /* half-valid: a sane ring whose descriptors are random */
            make_valid(in, size < 0x800 ? 0x800 : size, 4);
            size = size < 0x800 ? 0x800 : size;
            size_t nd = next_rand() % 64;
            for (size_t k = 0; k < nd; k++)
                in[8 + 0x100 + next_rand() % 0x100] = (uint8_t)next_rand();
            if (next_rand() % 4 == 0)
                in[8 + 0x202] = (uint8_t)next_rand();
        } else {
            for (size_t k = 0; k < size; k++)
                in[k] = (uint8_t)next_rand();
        }
        int rc = virtqueue_fuzz_walk(in, size);
        assert_true(rc >= -1 && rc <= 2 * 1024);
        if (rc > 0)
            accepted++;
        if (rc < 0)
            refused++;
    }
    /* the generator reaches both outcomes */
    assert_true(accepted > 100);
    assert_true(refused > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtqueue_valid_chains),
        cmocka_unit_test(test_virtqueue_chain_copy),
        cmocka_unit_test(test_virtqueue_fuzz_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
