/*
 * test_snapshot.c - vmm/snapshot.c without a running CPU: a source
 * container with a disk, a RAM memfd, a CPU state and device sections
 * saved into a suspended container and loaded back; the incremental count
 * of a second snapshot; a save that fails midway leaves the old file.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmpack/x86section.h>

#include "diskback.h"
#include "snapshot.h"

#define CHUNK       (64u << 10)
#define DISK_CHUNKS 4
#define RAM_BYTES   (1u << 20)

struct fake_disk {
    uint8_t data[DISK_CHUNKS][CHUNK];
    int dirty[DISK_CHUNKS];
    int fail_reads; /* 1: read_chunk fails */
};

struct fx {
    char dir[64];
    char src_path[96], snap_path[96], snap2_path[96];
    struct vmp_config cfg;
    struct fake_disk *disk;
    int ram_fd;
    struct vmp_x86_state cpu;
    struct snapshot_section secs[2];
};

static const uint8_t sec_pic[] = {1, 0, 0, 0, 0x11, 0x22, 0x33};
static const uint8_t sec_uart[] = {1, 0, 0, 0, 'u', 'a', 'r', 't'};

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    size_t i;
    uint32_t x = seed * 2654435761u + 1;

    for (i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

static int disk_next(void *ctx, uint64_t from, uint64_t *chunk)
{
    struct fake_disk *d = ctx;
    uint64_t c;

    for (c = from; c < DISK_CHUNKS; c++) {
        if (d->dirty[c]) {
            *chunk = c;
            return 1;
        }
    }
    return 0;
}

static int disk_read(void *ctx, uint64_t chunk, void *buf, size_t buflen, size_t *len)
{
    struct fake_disk *d = ctx;

    if (d->fail_reads || chunk >= DISK_CHUNKS || buflen < CHUNK)
        return -1;
    memcpy(buf, d->data[chunk], CHUNK);
    *len = CHUNK;
    return 0;
}

static void make_source(struct fx *f)
{
    struct vmp_image_desc d = {"disk0", VMP_IMAGE_DISK, 0, (uint64_t)DISK_CHUNKS * CHUNK, CHUNK};
    vmp_writer *w = NULL;
    unsigned id, c;

    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, f->src_path), 0);
    assert_int_equal(vmp_writer_set_config(w, &f->cfg), 0);
    assert_int_equal(vmp_writer_image_begin(w, &d, &id), 0);
    for (c = 0; c < DISK_CHUNKS; c++)
        assert_int_equal(vmp_writer_image_put_chunk(w, id, c, f->disk->data[c], CHUNK), 0);
    assert_int_equal(vmp_writer_image_end(w, id), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    unsigned i;

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vmp-snap.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->src_path, sizeof f->src_path, "%s/src.vmpk", f->dir);
    snprintf(f->snap_path, sizeof f->snap_path, "%s/snap.vmpk", f->dir);
    snprintf(f->snap2_path, sizeof f->snap2_path, "%s/snap2.vmpk", f->dir);

    vmp_config_init(&f->cfg);
    f->cfg.mem_bytes = RAM_BYTES;
    assert_int_equal(vmp_profile_builtin("i686", &f->cfg.cpu), 0);
    f->cfg.ndevices = 2;
    strcpy(f->cfg.devices[0].kind, "uart16550");
    strcpy(f->cfg.devices[0].id, "com1");
    strcpy(f->cfg.devices[1].kind, "virtio-blk");
    strcpy(f->cfg.devices[1].id, "vda");
    strcpy(f->cfg.devices[1].image, "disk0");

    f->disk = calloc(1, sizeof *f->disk);
    assert_non_null(f->disk);
    fill(f->disk->data[0], CHUNK, 1);
    fill(f->disk->data[1], CHUNK, 2);
    fill(f->disk->data[3], CHUNK, 4); /* chunk 2 stays zero */
    make_source(f);

    f->ram_fd = memfd_create("test-ram", MFD_CLOEXEC);
    assert_true(f->ram_fd >= 0);
    assert_int_equal(ftruncate(f->ram_fd, RAM_BYTES), 0);
    {
        uint8_t *buf = malloc(CHUNK);

        assert_non_null(buf);
        for (i = 0; i < 3; i++) {
            static const unsigned at[] = {0, 3, 7};

            fill(buf, CHUNK, 100 + i);
            assert_int_equal(pwrite(f->ram_fd, buf, CHUNK, (off_t)at[i] * CHUNK), CHUNK);
        }
        free(buf);
    }

    memset(&f->cpu, 0, sizeof f->cpu);
    for (i = 0; i < 8; i++)
        f->cpu.gpr[i] = 0x1000 * (i + 1);
    f->cpu.eip = 0xc0100000;
    f->cpu.eflags = 0x202;
    f->cpu.cr0 = 0x80050033;
    f->cpu.cr3 = 0x00123000;

    f->secs[0] =
        (struct snapshot_section){"dev.pic", 1, VMP_SECTION_REQUIRED, sec_pic, sizeof sec_pic};
    f->secs[1] =
        (struct snapshot_section){"dev.uart0", 1, VMP_SECTION_REQUIRED, sec_uart, sizeof sec_uart};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d;
    struct dirent *e;
    char p[400];

    close(f->ram_fd);
    d = opendir(f->dir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f->disk);
    free(f);
    return 0;
}

static vmp_reader *open_r(const char *path)
{
    vmp_reader *r = NULL;

    assert_int_equal(vmp_reader_create(&r), 0);
    if (vmp_reader_open(r, path) != 0)
        fail_msg("open %s: %s", path, vmp_reader_errmsg(r));
    return r;
}

static unsigned count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The input of a snapshot of the VM that came from `src`. */
static void make_in(struct fx *f, vmp_reader *src, struct snapshot_disk *dk, struct snapshot_in *in)
{
    unsigned img;

    assert_int_equal(vmp_reader_image_find(src, "disk0", &img), 0);
    *dk = (struct snapshot_disk){img, disk_next, disk_read, f->disk};
    memset(in, 0, sizeof *in);
    in->config = vmp_reader_config(src);
    in->cpu = &f->cpu;
    in->sections = f->secs;
    in->nsections = 2;
    in->ram_fd = f->ram_fd;
    in->ram_bytes = RAM_BYTES;
    in->ram_chunk_bytes = CHUNK;
    in->src = src;
    in->disks = dk;
    in->ndisks = 1;
}

static void save_first(struct fx *f, struct snapshot_stats *st)
{
    struct snapshot_disk dk;
    struct snapshot_in in;
    vmp_reader *src = open_r(f->src_path);
    char err[256] = "";

    /* The guest rewrote disk chunk 1 and filled chunk 2. */
    fill(f->disk->data[1], CHUNK, 20);
    fill(f->disk->data[2], CHUNK, 30);
    f->disk->dirty[1] = f->disk->dirty[2] = 1;
    make_in(f, src, &dk, &in);
    if (snapshot_save(&in, f->snap_path, st, err, sizeof err) != 0)
        fail_msg("save: %s", err);
    vmp_reader_destroy(src);
    memset(f->disk->dirty, 0, sizeof f->disk->dirty);
}

static void test_snapshot_round_trip(void **state)
{
    struct fx *f = *state;
    struct snapshot_stats st, ls;
    struct snapshot_state s;
    const struct snapshot_section *sec;
    uint8_t a[VMP_X86_SECTION_V1_BYTES], b[VMP_X86_SECTION_V1_BYTES];
    uint8_t *want = malloc(RAM_BYTES), *got = malloc(RAM_BYTES), *chunk = malloc(CHUNK);
    size_t la, lb, len;
    unsigned img, c;
    vmp_reader *r;
    char err[256] = "";

    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(chunk);
    save_first(f, &st);
    /* Disk: chunks 0 and 3 copied, 1 and 2 new; RAM: 3 new, 13 zero. */
    assert_int_equal(st.chunks_copied, 2);
    assert_int_equal(st.chunks_new, 5);
    assert_int_equal(st.ram_new, 3);
    assert_int_equal(st.ram_zero, RAM_BYTES / CHUNK - 3);
    assert_int_equal(st.chunks_zero, RAM_BYTES / CHUNK - 3);
    assert_int_equal(st.bytes_new, 5 * CHUNK);
    assert_true(st.file_bytes > 0);

    r = open_r(f->snap_path);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    assert_int_equal(vmp_reader_config(r)->power, VMP_POWER_SUSPENDED);
    assert_int_equal(vmp_reader_config(r)->ndevices, 2);
    assert_string_equal(vmp_reader_config(r)->cpu.name, "i686");

    if (snapshot_load(r, &s, &ls, err, sizeof err) != 0)
        fail_msg("load: %s", err);
    assert_int_equal(ls.ram_new, 3);
    assert_int_equal(ls.ram_zero, RAM_BYTES / CHUNK - 3);
    assert_int_equal(s.ram_bytes, RAM_BYTES);
    assert_int_equal(pread(f->ram_fd, want, RAM_BYTES, 0), RAM_BYTES);
    assert_int_equal(pread(s.ram_fd, got, RAM_BYTES, 0), RAM_BYTES);
    assert_memory_equal(want, got, RAM_BYTES);

    assert_int_equal(vmp_x86_state_encode(&f->cpu, a, sizeof a, &la), 0);
    assert_int_equal(vmp_x86_state_encode(&s.cpu, b, sizeof b, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);

    assert_int_equal(s.nsections, 2);
    sec = snapshot_state_section(&s, "dev.pic");
    assert_non_null(sec);
    assert_int_equal(sec->len, sizeof sec_pic);
    assert_memory_equal(sec->data, sec_pic, sizeof sec_pic);
    assert_int_equal(sec->flags, VMP_SECTION_REQUIRED);
    sec = snapshot_state_section(&s, "dev.uart0");
    assert_non_null(sec);
    assert_memory_equal(sec->data, sec_uart, sizeof sec_uart);
    assert_null(snapshot_state_section(&s, "dev.pit"));

    /* Every disk chunk holds what the guest last wrote there. */
    assert_int_equal(vmp_reader_image_find(r, "disk0", &img), 0);
    for (c = 0; c < DISK_CHUNKS; c++) {
        assert_int_equal(vmp_reader_read_chunk(r, img, c, chunk, CHUNK, &len), 0);
        assert_int_equal(len, CHUNK);
        assert_memory_equal(chunk, f->disk->data[c], CHUNK);
    }
    snapshot_state_free(&s);
    snapshot_state_free(&s); /* twice is harmless */
    vmp_reader_destroy(r);
    free(want);
    free(got);
    free(chunk);
}

static void test_snapshot_incremental_one_page(void **state)
{
    struct fx *f = *state;
    struct snapshot_stats st;
    struct snapshot_disk dk;
    struct snapshot_in in;
    struct snapshot_state s;
    uint8_t page[4096], got[4096];
    vmp_reader *r, *r2;
    char err[256] = "";

    save_first(f, &st);
    r = open_r(f->snap_path);
    memset(page, 0x5a, sizeof page);
    assert_int_equal(pwrite(f->ram_fd, page, sizeof page, 7 * CHUNK + 8192), sizeof page);
    make_in(f, r, &dk, &in);
    if (snapshot_save(&in, f->snap2_path, &st, err, sizeof err) != 0)
        fail_msg("save 2: %s", err);
    /* Only RAM chunk 7 is new; RAM chunks 0 and 3 and the four (now all
     * non-zero) disk chunks are copied. */
    assert_int_equal(st.chunks_new, 1);
    assert_int_equal(st.ram_new, 1);
    assert_int_equal(st.ram_copied, 2);
    assert_int_equal(st.chunks_copied, 6);
    assert_int_equal(st.bytes_new, CHUNK);

    r2 = open_r(f->snap2_path);
    assert_int_equal(vmp_reader_verify(r2, NULL, NULL, NULL), 0);
    if (snapshot_load(r2, &s, NULL, err, sizeof err) != 0)
        fail_msg("load 2: %s", err);
    assert_int_equal(pread(s.ram_fd, got, sizeof got, 7 * CHUNK + 8192), sizeof got);
    assert_memory_equal(got, page, sizeof page);
    snapshot_state_free(&s);

    /* A snapshot over its own source path: the open source stays readable
     * through the rename. */
    make_in(f, r2, &dk, &in);
    if (snapshot_save(&in, f->snap2_path, &st, err, sizeof err) != 0)
        fail_msg("save over source: %s", err);
    assert_int_equal(st.chunks_new, 0);
    vmp_reader_destroy(r2);
    r2 = open_r(f->snap2_path);
    assert_int_equal(vmp_reader_verify(r2, NULL, NULL, NULL), 0);
    vmp_reader_destroy(r2);
    vmp_reader_destroy(r);
}

static int abort_halfway(void *ctx, uint64_t done, uint64_t total)
{
    int *calls = ctx;

    (*calls)++;
    return done * 2 >= total;
}

static void test_snapshot_failure_keeps_old_file(void **state)
{
    struct fx *f = *state;
    struct snapshot_stats st;
    struct snapshot_disk dk;
    struct snapshot_in in;
    uint8_t before[VMP_DIGEST_BYTES], after[VMP_DIGEST_BYTES];
    unsigned nfiles;
    int calls = 0, rc;
    vmp_reader *src, *r;
    char err[256] = "";

    save_first(f, &st);
    r = open_r(f->snap_path);
    vmp_reader_manifest_digest(r, before);
    vmp_reader_destroy(r);
    nfiles = count_files(f->dir);

    /* Fault 1: the progress callback gives up halfway. */
    src = open_r(f->src_path);
    make_in(f, src, &dk, &in);
    in.progress = abort_halfway;
    in.progress_ctx = &calls;
    rc = snapshot_save(&in, f->snap_path, &st, err, sizeof err);
    assert_int_equal(rc, VMP_ERR_CALLBACK);
    assert_true(calls > 1);
    assert_non_null(strstr(err, "aborted"));

    /* Fault 2: reading a dirty disk chunk fails. */
    in.progress = NULL;
    f->disk->dirty[3] = 1;
    f->disk->fail_reads = 1;
    err[0] = '\0';
    rc = snapshot_save(&in, f->snap_path, &st, err, sizeof err);
    assert_int_equal(rc, VMP_ERR_CALLBACK);
    assert_non_null(strstr(err, "dirty chunk 3"));
    vmp_reader_destroy(src);

    /* The old snapshot is intact and verifies; no temporary file is left. */
    r = open_r(f->snap_path);
    vmp_reader_manifest_digest(r, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    vmp_reader_destroy(r);
    assert_int_equal(count_files(f->dir), nfiles);
}

static void test_snapshot_load_refuses_powered_off(void **state)
{
    struct fx *f = *state;
    struct snapshot_state s;
    vmp_reader *r = open_r(f->src_path);
    char err[256] = "";

    assert_int_equal(snapshot_load(r, &s, NULL, err, sizeof err), VMP_ERR_STATE);
    assert_non_null(strstr(err, "not suspended"));
    assert_int_equal(s.ram_fd, -1);
    snapshot_state_free(&s);
    vmp_reader_destroy(r);
}

static void test_snapshot_save_refuses_bad_input(void **state)
{
    struct fx *f = *state;
    struct snapshot_disk dk;
    struct snapshot_in in;
    vmp_reader *src = open_r(f->src_path);
    char err[256] = "";

    make_in(f, src, &dk, &in);
    in.ram_bytes = RAM_BYTES / 2; /* disagrees with the config */
    assert_int_equal(snapshot_save(&in, f->snap_path, NULL, err, sizeof err), VMP_ERR_INVALID);
    assert_int_equal(access(f->snap_path, F_OK), -1);
    vmp_reader_destroy(src);
}

/* The board's own disk backend: a guest write lands in its working file,
 * marks the chunk dirty, and the snapshot stores that chunk alone anew. */
static void test_snapshot_diskback_dirty_chunk(void **state)
{
    struct fx *f = *state;
    struct snapshot_stats st;
    struct snapshot_disk dk;
    struct snapshot_in in;
    struct diskback *db = NULL;
    const struct blk_backend *be;
    uint8_t sectors[8 * BLK_SECTOR_BYTES], *chunk = malloc(CHUNK);
    uint64_t sector = (uint64_t)3 * CHUNK / BLK_SECTOR_BYTES + 5;
    unsigned img, c;
    size_t len;
    vmp_reader *src = open_r(f->src_path), *r;
    char err[256] = "";

    assert_non_null(chunk);
    assert_int_equal(vmp_reader_image_find(src, "disk0", &img), 0);
    if (diskback_open(src, img, f->dir, &db, err, sizeof err) != 0)
        fail_msg("diskback_open: %s", err);
    be = diskback_backend(db);
    memset(sectors, 0xc3, sizeof sectors);
    assert_int_equal(be->write(be->opaque, sector, 8, sectors), 0);
    assert_int_equal(diskback_dirty_count(db), 1);

    make_in(f, src, &dk, &in);
    snapshot_disk_diskback(&dk, db, img);
    if (snapshot_save(&in, f->snap_path, &st, err, sizeof err) != 0)
        fail_msg("save: %s", err);
    /* Disk: chunk 3 new, chunks 0 and 1 copied, 2 zero; RAM: 3 new. */
    assert_int_equal(st.chunks_new, 4);
    assert_int_equal(st.chunks_copied, 2);
    diskback_close(db);

    r = open_r(f->snap_path);
    assert_int_equal(vmp_reader_image_find(r, "disk0", &img), 0);
    memcpy(f->disk->data[3] + 5 * BLK_SECTOR_BYTES, sectors, sizeof sectors);
    for (c = 0; c < DISK_CHUNKS; c++) {
        assert_int_equal(vmp_reader_read_chunk(r, img, c, chunk, CHUNK, &len), 0);
        assert_memory_equal(chunk, f->disk->data[c], CHUNK);
    }
    vmp_reader_destroy(r);
    vmp_reader_destroy(src);
    free(chunk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_incremental_one_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_failure_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_load_refuses_powered_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_save_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_diskback_dirty_chunk, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
