/*
 * fmt_check.h - cmocka helpers shared by the format unit tests
 * (fmt_check.c, linked into the test_* executables only; fmt_test.h's
 * helpers assert nothing, so the fuzz targets can use them too).
 */
#ifndef VMP_FMT_CHECK_H
#define VMP_FMT_CHECK_H

#include <stdint.h>

#include <vmpack/vmpack.h>

/* cmocka setup and teardown: *state is a fresh folder from tmpdir_make. */
int tmp_setup(void **state);
int tmp_teardown(void **state);

/* Writes the sample container (sample_write) at path; fails the test
 * with the writer's message if that fails. */
void write_sample(const char *path, uint32_t variant);

/* Opens path; fails the test with the reader's message if that fails. */
vmp_reader *open_ok(const char *path);

/* write_sample(path, 0) then open_ok(path). */
vmp_reader *open_sample(const char *path);

#endif
