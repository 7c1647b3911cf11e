/*
 * test_writer_tmp.c - the writer's temporary file (spec/container.md 8):
 * named with its writer's PID, removed by the next writer to the same
 * target once that PID is gone and nobody holds its lock, never while its
 * writer lives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt_check.h"
#include "fmt_test.h"

/* How many entries of dir start with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static void touch(const char *path)
{
    assert_int_equal(file_write(path, "x", 1), 0);
}

/* A PID that was a process of ours and is reaped: gone. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    int st;

    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    assert_int_equal(waitpid(p, &st, 0), p);
    return p;
}

static void test_writer_tmp_named_with_pid(void **state)
{
    const char *dir = *state;
    char prefix[64];
    vmp_writer *w = NULL;

    snprintf(prefix, sizeof prefix, ".a.vmpk.tmp-%ld-", (long)getpid());
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, tpath(dir, "a.vmpk")), 0);
    assert_int_equal(count_prefix(dir, prefix), 1);
    vmp_writer_destroy(w);
    assert_int_equal(count_prefix(dir, prefix), 0);
    assert_false(exists(tpath(dir, "a.vmpk")));
}

static void test_writer_tmp_stale_removed(void **state)
{
    const char *dir = *state;
    char stale[64], locked[64], other[64], live[64];
    pid_t gone = dead_pid();
    int fd;

    snprintf(stale, sizeof stale, ".a.vmpk.tmp-%ld-abcdef", (long)gone);
    snprintf(locked, sizeof locked, ".a.vmpk.tmp-%ld-ghijkl", (long)gone);
    snprintf(other, sizeof other, ".b.vmpk.tmp-%ld-abcdef", (long)gone);
    snprintf(live, sizeof live, ".a.vmpk.tmp-1-abcdef"); /* init lives */
    touch(tpath(dir, stale));
    touch(tpath(dir, locked));
    touch(tpath(dir, other));
    touch(tpath(dir, live));
    touch(tpath(dir, ".a.vmpk.tmp-XYZ123")); /* older naming: no PID, kept */
    /* a PID gone but the lock held (a writer in another PID namespace) */
    fd = open(tpath(dir, locked), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);

    write_sample(tpath(dir, "a.vmpk"), 0);
    vmp_reader_destroy(open_ok(tpath(dir, "a.vmpk")));
    assert_false(exists(tpath(dir, stale)));
    assert_true(exists(tpath(dir, locked)));
    assert_true(exists(tpath(dir, other)));
    assert_true(exists(tpath(dir, live)));
    assert_true(exists(tpath(dir, ".a.vmpk.tmp-XYZ123")));
    close(fd);
    /* the lock is free now: the next save removes it */
    write_sample(tpath(dir, "a.vmpk"), 1);
    assert_false(exists(tpath(dir, locked)));
    assert_true(exists(tpath(dir, other)));
}

/* A writer in another process (a VM saving a suspend) keeps its file while
 * it lives; once it is killed, the next writer removes the file. */
static void test_writer_tmp_live_writer_kept(void **state)
{
    const char *dir = *state;
    char prefix[64], c;
    int p[2], st;
    pid_t child;

    assert_int_equal(pipe(p), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        vmp_writer *w = NULL;

        close(p[0]);
        if (vmp_writer_create(&w) != 0 || vmp_writer_open(w, tpath(dir, "a.vmpk")) != 0)
            _exit(1);
        if (write(p[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    snprintf(prefix, sizeof prefix, ".a.vmpk.tmp-%ld-", (long)child);
    assert_int_equal(count_prefix(dir, prefix), 1);

    write_sample(tpath(dir, "a.vmpk"), 0);
    assert_int_equal(count_prefix(dir, prefix), 1);

    assert_int_equal(kill(child, SIGKILL), 0);
    assert_int_equal(waitpid(child, &st, 0), child);
    write_sample(tpath(dir, "a.vmpk"), 1);
    assert_int_equal(count_prefix(dir, prefix), 0);
    assert_int_equal(count_prefix(dir, ".a.vmpk.tmp-"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_tmp_named_with_pid, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_writer_tmp_stale_removed, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_writer_tmp_live_writer_kept, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
