/*
 * test_cli_util.c - the CLI's argument helpers (tools/cli_util.c): sizes,
 * integers and size formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static void test_parse_size_units(void **state)
{
    static const struct {
        const char *s;
        uint64_t bytes;
    } good[] = {
        {"0", 0}, {"4096", 4096}, {"512B", 512}, {"64K", 64u << 10}, {"64k", 64u << 10},
        {"256M", 256u << 20}, {"256MiB", 256u << 20}, {"256MB", 256u << 20},
        {"1G", 1u << 30}, {"4G", 4ull << 30}, {"2T", 2ull << 40},
        {"16777215T", 16777215ull << 40},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 1;

        if (cli_parse_size(good[i].s, &v) != 0 || v != good[i].bytes)
            fail_msg("'%s' -> %llu", good[i].s, (unsigned long long)v);
    }
}

static void test_parse_size_rejects(void **state)
{
    static const char *const bad[] = {
        "", "M", "-1", "+5", " 5", "5 ", "12X", "1.5G", "256MiBs", "1GB2", "0x100", "1Gi",
        "99999999999999999999", "16777216T", "18446744073709551616", "1KB ",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 7;

        if (cli_parse_size(bad[i], &v) == 0)
            fail_msg("'%s' accepted as %llu", bad[i], (unsigned long long)v);
        assert_int_equal(v, 7);
    }
    assert_int_equal(cli_parse_size(NULL, NULL), -1);
}

static void test_parse_uint_bounds(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(cli_parse_uint("19", 19, &v), 0);
    assert_int_equal(v, 19);
    assert_int_equal(cli_parse_uint("20", 19, &v), -1);
    assert_int_equal(cli_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cli_parse_uint("18446744073709551616", UINT64_MAX, &v), -1);
    assert_int_equal(cli_parse_uint("", 10, &v), -1);
    assert_int_equal(cli_parse_uint("1a", 100, &v), -1);
}

static void test_fmt_size(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(cli_fmt_size(0, buf, sizeof buf), "0 B");
    assert_string_equal(cli_fmt_size(1023, buf, sizeof buf), "1023 B");
    assert_string_equal(cli_fmt_size(256u << 20, buf, sizeof buf), "256 MiB");
    assert_string_equal(cli_fmt_size(3u << 29, buf, sizeof buf), "1.5 GiB");
    assert_string_equal(cli_fmt_size(UINT64_MAX, buf, sizeof buf), "16 EiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size_units),
        cmocka_unit_test(test_parse_size_rejects),
        cmocka_unit_test(test_parse_uint_bounds),
        cmocka_unit_test(test_fmt_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
