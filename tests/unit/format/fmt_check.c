/* fmt_check.c - cmocka helpers of the format unit tests (see fmt_check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fmt_check.h"
#include "fmt_test.h"

int tmp_setup(void **state)
{
    *state = tmpdir_make();
    return *state ? 0 : -1;
}

int tmp_teardown(void **state)
{
    tmpdir_remove(*state);
    return 0;
}

void write_sample(const char *path, uint32_t variant)
{
    char err[512];
    int rc = sample_write(path, variant, err, sizeof err);
    if (rc)
        fail_msg("sample_write %s: %s (%s)", path, err, vmp_strerror(rc));
}

vmp_reader *open_ok(const char *path)
{
    vmp_reader *r;
    assert_int_equal(vmp_reader_create(&r), 0);
    if (vmp_reader_open(r, path))
        fail_msg("open %s: %s", path, vmp_reader_errmsg(r));
    return r;
}

vmp_reader *open_sample(const char *path)
{
    write_sample(path, 0);
    return open_ok(path);
}
