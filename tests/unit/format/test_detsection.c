/* test_detsection.c - the vm.determinism section's byte layout
 * (spec/machine.md 7): fixed offsets, round trip, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <vmpack/vmpack.h>

static void sample(struct vmp_det *d)
{
    memset(d, 0, sizeof *d);
    d->ns_per_insn = 3;
    for (unsigned i = 0; i < VMP_DET_SEED_BYTES; i++)
        d->seed[i] = (uint8_t)(0xa0 + i);
    d->rtc_unix_seconds = 1704067200; /* 2024-01-01 */
    d->clock_ns = 0x0102030405060708ull;
    d->icount = 0x1112131415161718ull;
}

static void test_detsection_layout(void **state)
{
    (void)state;
    struct vmp_det d;
    uint8_t b[VMP_DET_SECTION_BYTES];
    static const uint8_t head[8] = {1, 0, 0, 0, 3, 0, 0, 0};
    static const uint8_t rtc[8] = {0x80, 0x00, 0x92, 0x65, 0, 0, 0, 0};
    static const uint8_t clk[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    static const uint8_t ic[8] = {0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11};

    sample(&d);
    vmp_det_encode(&d, b);
    assert_memory_equal(b, head, 8);
    assert_memory_equal(b + 8, d.seed, VMP_DET_SEED_BYTES);
    assert_memory_equal(b + 40, rtc, 8);
    assert_memory_equal(b + 48, clk, 8);
    assert_memory_equal(b + 56, ic, 8);
}

static void test_detsection_roundtrip(void **state)
{
    (void)state;
    struct vmp_det a, b;
    uint8_t buf[VMP_DET_SECTION_BYTES];
    char err[256];

    sample(&a);
    vmp_det_encode(&a, buf);
    memset(&b, 0xff, sizeof b);
    assert_int_equal(vmp_det_decode(buf, sizeof buf, &b, err, sizeof err), 0);
    assert_int_equal(b.ns_per_insn, a.ns_per_insn);
    assert_memory_equal(b.seed, a.seed, VMP_DET_SEED_BYTES);
    assert_true(b.rtc_unix_seconds == a.rtc_unix_seconds);
    assert_true(b.clock_ns == a.clock_ns);
    assert_true(b.icount == a.icount);
}

static void test_detsection_refused(void **state)
{
    (void)state;
    struct vmp_det a, b;
    uint8_t buf[VMP_DET_SECTION_BYTES + 1] = {0};
    char err[256];

    sample(&a);
    vmp_det_encode(&a, buf);
    assert_int_equal(vmp_det_decode(buf, 63, &b, err, sizeof err), VMP_ERR_FORMAT);
    assert_non_null(strstr(err, "vm.determinism: 63 bytes, expected 64"));
    assert_int_equal(vmp_det_decode(buf, 65, &b, NULL, 0), VMP_ERR_FORMAT);
    buf[0] = 2;
    assert_int_equal(vmp_det_decode(buf, 64, &b, err, sizeof err), VMP_ERR_FORMAT);
    assert_non_null(strstr(err, "layout version 2"));
    buf[0] = 1;
    buf[4] = 0;
    assert_int_equal(vmp_det_decode(buf, 64, &b, err, sizeof err), VMP_ERR_FORMAT);
    assert_non_null(strstr(err, "0 ns per instruction"));
    buf[4] = 0xe9; /* 1001 */
    buf[5] = 0x03;
    assert_int_equal(vmp_det_decode(buf, 64, &b, err, sizeof err), VMP_ERR_FORMAT);
    buf[4] = 0xe8; /* 1000: the limit itself */
    assert_int_equal(vmp_det_decode(buf, 64, &b, err, sizeof err), 0);
    assert_int_equal(b.ns_per_insn, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detsection_layout),
        cmocka_unit_test(test_detsection_roundtrip),
        cmocka_unit_test(test_detsection_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
