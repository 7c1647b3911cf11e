/*
 * test_snapshot_perf.c - the figures of a suspend and a resume of 64 MiB of
 * guest RAM (a quarter incompressible, a quarter text, half never touched),
 * and of an incremental snapshot after a few pages changed: prints the
 * chunk counts and times, and checks the counts.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmpack/x86section.h>

#include "snapshot.h"

#define RAM_BYTES (64u << 20)
#define CHANGED   10

static vmp_reader *open_r(const char *path)
{
    vmp_reader *r = NULL;

    assert_int_equal(vmp_reader_create(&r), 0);
    if (vmp_reader_open(r, path) != 0)
        fail_msg("open %s: %s", path, vmp_reader_errmsg(r));
    return r;
}

static void print_stats(const char *what, const struct snapshot_stats *st)
{
    printf("# %-22s %6.3f s  chunks new %llu, copied %llu, zero %llu; %llu MiB new; file "
           "%.1f MiB (0: a load)\n",
           what, st->seconds, (unsigned long long)st->chunks_new,
           (unsigned long long)st->chunks_copied, (unsigned long long)st->chunks_zero,
           (unsigned long long)(st->bytes_new >> 20), (double)st->file_bytes / (1 << 20));
}

static void test_snapshot_perf_64m(void **state)
{
    char dir[] = "/tmp/vmp-snapperf.XXXXXX", src[64], s1[64], s2[64];
    struct vmp_config cfg;
    struct vmp_x86_state cpu;
    struct snapshot_in in;
    struct snapshot_stats st1, st2, ld;
    struct snapshot_state s;
    vmp_writer *w = NULL;
    vmp_reader *r0, *r1;
    uint8_t *ram, *back;
    uint32_t x = 12345;
    size_t i;
    int fd;
    char err[256] = "";

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/src.vmpk", dir);
    snprintf(s1, sizeof s1, "%s/s1.vmpk", dir);
    snprintf(s2, sizeof s2, "%s/s2.vmpk", dir);
    vmp_config_init(&cfg);
    cfg.mem_bytes = RAM_BYTES;
    assert_int_equal(vmp_profile_builtin("i686", &cfg.cpu), 0);
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, src), 0);
    assert_int_equal(vmp_writer_set_config(w, &cfg), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);

    fd = memfd_create("perf-ram", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, RAM_BYTES), 0);
    ram = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(ram != MAP_FAILED);
    for (i = 0; i < RAM_BYTES / 4; i += 4) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        memcpy(ram + i, &x, 4);
    }
    for (i = 0; i < RAM_BYTES / 4; i++)
        ram[RAM_BYTES / 4 + i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
    memset(&cpu, 0, sizeof cpu);
    cpu.eip = 0xc0100000;

    r0 = open_r(src);
    memset(&in, 0, sizeof in);
    in.config = vmp_reader_config(r0);
    in.cpu = &cpu;
    in.ram_fd = fd;
    in.ram_bytes = RAM_BYTES;
    in.src = r0;
    if (snapshot_save(&in, s1, &st1, err, sizeof err) != 0)
        fail_msg("save: %s", err);
    print_stats("suspend (first)", &st1);
    assert_int_equal(st1.ram_new, RAM_BYTES / 2 / VMP_RAM_CHUNK_DEFAULT);
    assert_int_equal(st1.ram_zero, RAM_BYTES / 2 / VMP_RAM_CHUNK_DEFAULT);

    r1 = open_r(s1);
    if (snapshot_load(r1, &s, &ld, err, sizeof err) != 0)
        fail_msg("load: %s", err);
    print_stats("resume (eager RAM)", &ld);
    back = mmap(NULL, RAM_BYTES, PROT_READ, MAP_SHARED, s.ram_fd, 0);
    assert_true(back != MAP_FAILED);
    assert_memory_equal(back, ram, RAM_BYTES);
    munmap(back, RAM_BYTES);
    snapshot_state_free(&s);

    /* A few pages written in distinct chunks, some in the zero half. */
    for (i = 0; i < CHANGED; i++)
        ram[(i * 25 + 1) * (size_t)VMP_RAM_CHUNK_DEFAULT + 4096 * i] ^= 0x5a;
    in.config = vmp_reader_config(r1);
    in.src = r1;
    if (snapshot_save(&in, s2, &st2, err, sizeof err) != 0)
        fail_msg("save 2: %s", err);
    print_stats("suspend (incremental)", &st2);
    assert_int_equal(st2.chunks_new, CHANGED);
    assert_int_equal(st2.chunks_copied + st2.chunks_new + st2.chunks_zero,
                     RAM_BYTES / VMP_RAM_CHUNK_DEFAULT);

    vmp_reader_destroy(r1);
    vmp_reader_destroy(r0);
    munmap(ram, RAM_BYTES);
    close(fd);
    unlink(src);
    unlink(s1);
    unlink(s2);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_perf_64m),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
