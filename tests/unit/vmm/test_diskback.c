/* test_diskback.c - the copy-on-write disk backend over a container's
 * chunks: read-through, copy on partial writes, whole-chunk writes, the
 * dirty list, and that the container itself never changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmpack/vmpack.h>

#include "diskback.h"

#define CHUNK      4096u
#define DISK_BYTES (5 * CHUNK + 1024) /* 6 chunks, the last one short */

static char path[64];
static uint8_t image[DISK_BYTES];

static uint8_t pattern(size_t i)
{
    if (i / CHUNK == 2)
        return 0; /* a zero chunk, omitted from the container */
    return (uint8_t)(i * 7 + i / 251);
}

static int source(void *ctx, uint64_t chunk, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, image + chunk * CHUNK, len);
    return 0;
}

static int setup(void **state)
{
    struct vmp_image_desc d = {"disk0", VMP_IMAGE_DISK, 0, DISK_BYTES, CHUNK};
    struct vmp_config cfg;
    vmp_writer *w = NULL;
    size_t i;
    int fd;

    (void)state;
    for (i = 0; i < DISK_BYTES; i++)
        image[i] = pattern(i);
    snprintf(path, sizeof path, "/tmp/test_diskback.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    vmp_config_init(&cfg);
    cfg.mem_bytes = 32 << 20;
    assert_int_equal(vmp_profile_builtin("i686", &cfg.cpu), 0);
    cfg.ndevices = 1;
    strcpy(cfg.devices[0].kind, "virtio-blk");
    strcpy(cfg.devices[0].id, "vda");
    strcpy(cfg.devices[0].image, "disk0");
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, path), 0);
    assert_int_equal(vmp_writer_set_config(w, &cfg), 0);
    assert_int_equal(vmp_writer_add_image_cb(w, &d, source, NULL), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

struct fixture {
    vmp_reader *r;
    struct diskback *d;
    const struct blk_backend *be;
};

static void open_fx(struct fixture *fx)
{
    char err[256];
    unsigned img;

    assert_int_equal(vmp_reader_create(&fx->r), 0);
    assert_int_equal(vmp_reader_open(fx->r, path), 0);
    assert_int_equal(vmp_reader_image_find(fx->r, "disk0", &img), 0);
    assert_int_equal(diskback_open(fx->r, img, "/tmp", &fx->d, err, sizeof err), 0);
    fx->be = diskback_backend(fx->d);
}

static void close_fx(struct fixture *fx)
{
    diskback_close(fx->d);
    vmp_reader_destroy(fx->r);
}

static void test_diskback_read_through(void **state)
{
    struct fixture fx;
    static uint8_t buf[DISK_BYTES];

    (void)state;
    open_fx(&fx);
    assert_int_equal(fx.be->sectors, DISK_BYTES / 512);
    assert_int_equal(diskback_chunks(fx.d), 6);
    /* the whole disk in one request, across chunk borders and the zero chunk */
    assert_int_equal(fx.be->read(fx.be->opaque, 0, DISK_BYTES / 512, buf), 0);
    assert_memory_equal(buf, image, DISK_BYTES);
    /* an odd range inside one chunk, then one across two */
    assert_int_equal(fx.be->read(fx.be->opaque, 9, 3, buf), 0);
    assert_memory_equal(buf, image + 9 * 512, 3 * 512);
    assert_int_equal(fx.be->read(fx.be->opaque, 7, 2, buf), 0);
    assert_memory_equal(buf, image + 7 * 512, 2 * 512);
    assert_int_equal(diskback_dirty_count(fx.d), 0);
    close_fx(&fx);
}

static void test_diskback_cow_partial_write(void **state)
{
    struct fixture fx;
    static uint8_t buf[DISK_BYTES], want[DISK_BYTES];
    uint8_t sec[1024];
    uint64_t c;

    (void)state;
    open_fx(&fx);
    memset(sec, 0xA5, sizeof sec);
    /* sectors 15-16: the last sector of chunk 1 and the first of chunk 2 */
    assert_int_equal(fx.be->write(fx.be->opaque, 15, 2, sec), 0);
    memcpy(want, image, DISK_BYTES);
    memset(want + 15 * 512, 0xA5, 1024);
    assert_int_equal(fx.be->read(fx.be->opaque, 0, DISK_BYTES / 512, buf), 0);
    assert_memory_equal(buf, want, DISK_BYTES);
    assert_int_equal(diskback_dirty_count(fx.d), 2);
    assert_int_equal(diskback_dirty_next(fx.d, 0, &c), 1);
    assert_int_equal(c, 1);
    assert_int_equal(diskback_dirty_next(fx.d, 2, &c), 1);
    assert_int_equal(c, 2);
    assert_int_equal(diskback_dirty_next(fx.d, 3, &c), 0);
    /* the current bytes of a dirty chunk, for suspend */
    {
        static uint8_t chunk[CHUNK];
        size_t len;

        assert_int_equal(diskback_read_chunk(fx.d, 1, chunk, sizeof chunk, &len), 0);
        assert_int_equal(len, CHUNK);
        assert_memory_equal(chunk, want + CHUNK, CHUNK);
        assert_int_equal(diskback_read_chunk(fx.d, 5, chunk, sizeof chunk, &len), 0);
        assert_int_equal(len, 1024);
        assert_memory_equal(chunk, image + 5 * CHUNK, 1024);
    }
    close_fx(&fx);
}

static void test_diskback_whole_chunk_and_last_chunk(void **state)
{
    struct fixture fx;
    static uint8_t buf[CHUNK];
    uint8_t tail[512];
    uint64_t c;

    (void)state;
    open_fx(&fx);
    memset(buf, 0x3C, sizeof buf);
    assert_int_equal(fx.be->write(fx.be->opaque, 3 * CHUNK / 512, CHUNK / 512, buf), 0);
    memset(tail, 0x77, sizeof tail);
    assert_int_equal(fx.be->write(fx.be->opaque, DISK_BYTES / 512 - 1, 1, tail), 0);
    memset(buf, 0, sizeof buf);
    assert_int_equal(fx.be->read(fx.be->opaque, 3 * CHUNK / 512, CHUNK / 512, buf), 0);
    assert_true(buf[0] == 0x3C && buf[CHUNK - 1] == 0x3C);
    assert_int_equal(fx.be->read(fx.be->opaque, 5 * CHUNK / 512, 2, buf), 0);
    assert_memory_equal(buf, image + 5 * CHUNK, 512); /* copied on write */
    assert_memory_equal(buf + 512, tail, 512);
    assert_int_equal(diskback_dirty_count(fx.d), 2);
    assert_int_equal(diskback_dirty_next(fx.d, 0, &c), 1);
    assert_int_equal(c, 3);
    assert_int_equal(diskback_dirty_next(fx.d, 4, &c), 1);
    assert_int_equal(c, 5);
    close_fx(&fx);
}

static void test_diskback_container_unchanged(void **state)
{
    struct fixture fx;
    static uint8_t buf[DISK_BYTES];
    uint8_t sec[512];

    (void)state;
    open_fx(&fx);
    memset(sec, 0xEE, sizeof sec);
    assert_int_equal(fx.be->write(fx.be->opaque, 0, 1, sec), 0);
    close_fx(&fx);
    /* a second run starts from the container's bytes again */
    open_fx(&fx);
    assert_int_equal(fx.be->read(fx.be->opaque, 0, DISK_BYTES / 512, buf), 0);
    assert_memory_equal(buf, image, DISK_BYTES);
    assert_int_equal(diskback_dirty_count(fx.d), 0);
    close_fx(&fx);
}

static void test_diskback_not_a_disk(void **state)
{
    vmp_reader *r;
    struct diskback *d = (struct diskback *)1;
    char err[256] = "";

    (void)state;
    assert_int_equal(vmp_reader_create(&r), 0);
    assert_int_equal(vmp_reader_open(r, path), 0);
    assert_int_not_equal(diskback_open(r, 7, "/tmp", &d, err, sizeof err), 0);
    assert_null(d);
    assert_true(err[0] != 0);
    vmp_reader_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diskback_read_through),
        cmocka_unit_test(test_diskback_cow_partial_write),
        cmocka_unit_test(test_diskback_whole_chunk_and_last_chunk),
        cmocka_unit_test(test_diskback_container_unchanged),
        cmocka_unit_test(test_diskback_not_a_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
