/*
 * test_put_chunks.c - vmp_writer_image_put_chunks (writer.h): the file is
 * byte for byte the one put_chunk makes chunk after chunk, for any thread
 * count and batch size; outcomes say zero, stored or skipped; a chunk
 * whose digest matches its skip digest is not recorded; the bytes read
 * back are the bytes given; bad calls are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fmt_check.h"
#include "fmt_test.h"

#define RAM_CHUNK 16384u
#define RAM_CHUNKS 64u
#define RAM_BYTES (RAM_CHUNKS * RAM_CHUNK)

/* Chunks of every kind: zero, incompressible, compressible, and copies of
 * chunk 1 (so the writer's dedup sees equal chunks inside one batch). */
static void ram_fill(uint8_t *ram)
{
    uint32_t x = 0x9e3779b9u;

    for (uint32_t i = 0; i < RAM_CHUNKS; i++) {
        uint8_t *p = ram + (size_t)i * RAM_CHUNK;

        if (i % 5 == 0) {
            memset(p, 0, RAM_CHUNK);
        } else if (i % 7 == 1 && i != 1) {
            memcpy(p, ram + RAM_CHUNK, RAM_CHUNK);
        } else if (i % 3 == 2) {
            for (uint32_t k = 0; k < RAM_CHUNK; k++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[k] = (uint8_t)x;
            }
        } else {
            for (uint32_t k = 0; k < RAM_CHUNK; k++)
                p[k] = (uint8_t)((k / 64) * i);
        }
    }
}

/* Which chunks carry a skip digest: i % 4 == 3 their own (skipped unless
 * zero), i % 6 == 4 another chunk's (stored: it does not match). */
static const uint8_t *skip_for(uint32_t i, uint8_t (*dig)[VMP_DIGEST_BYTES])
{
    if (i % 4 == 3)
        return dig[i];
    if (i % 6 == 4)
        return dig[(i + 1) % RAM_CHUNKS];
    return NULL;
}

static int skipped(const uint8_t *ram, uint32_t i, uint8_t (*dig)[VMP_DIGEST_BYTES])
{
    const uint8_t *p = ram + (size_t)i * RAM_CHUNK;
    const uint8_t *s = skip_for(i, dig);

    for (uint32_t k = 0; k < RAM_CHUNK; k++)
        if (p[k])
            return s == dig[i];
    return 0;
}

enum how { SEQ, BATCH };

/* A suspended container whose RAM is ram, given by put_chunk one by one
 * (SEQ) or by put_chunks in batches of bs with threads threads (BATCH).
 * With skips, each batch's skipped chunks are put with put_chunk after
 * it (SEQ does the same order by hand). */
static void write_ram(const char *path, const uint8_t *ram, enum how how, unsigned threads,
                      size_t bs, int skips, uint8_t (*dig)[VMP_DIGEST_BYTES])
{
    vmp_writer *w = NULL;
    struct vmp_config c;
    struct vmp_x86_state st;
    uint8_t sec[VMP_X86_SECTION_V1_BYTES];
    size_t slen;
    unsigned id;

    sample_config(&c);
    c.mem_bytes = RAM_BYTES;
    c.ndevices = 0;
    sample_cpu(&st);
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_set_threads(w, threads), 0);
    assert_int_equal(vmp_writer_open(w, path), 0);
    assert_int_equal(vmp_writer_set_config(w, &c), 0);
    struct vmp_image_desc rd = {"ram", VMP_IMAGE_RAM, 0, RAM_BYTES, RAM_CHUNK};
    assert_int_equal(vmp_writer_image_begin(w, &rd, &id), 0);
    for (uint32_t base = 0; base < RAM_CHUNKS; base += (uint32_t)bs) {
        uint32_t n = RAM_CHUNKS - base < bs ? RAM_CHUNKS - base : (uint32_t)bs;
        struct vmp_chunk_put put[256];

        if (how == SEQ) {
            for (uint32_t i = base; i < base + n; i++)
                if (!skips || !skipped(ram, i, dig))
                    assert_int_equal(vmp_writer_image_put_chunk(w, id, i, ram + (size_t)i * RAM_CHUNK,
                                                                RAM_CHUNK),
                                     0);
        } else {
            for (uint32_t k = 0; k < n; k++)
                put[k] = (struct vmp_chunk_put){base + k, ram + (size_t)(base + k) * RAM_CHUNK,
                                                RAM_CHUNK, skips ? skip_for(base + k, dig) : NULL, 0};
            assert_int_equal(vmp_writer_image_put_chunks(w, id, put, n), 0);
            for (uint32_t k = 0; k < n; k++) {
                int want = skips && skipped(ram, base + k, dig) ? VMP_PUT_SKIPPED
                           : (base + k) % 5 == 0                ? VMP_PUT_ZERO
                                                                : VMP_PUT_STORED;
                assert_int_equal(put[k].outcome, want);
            }
        }
        if (skips)
            for (uint32_t i = base; i < base + n; i++)
                if (skipped(ram, i, dig))
                    assert_int_equal(vmp_writer_image_put_chunk(w, id, i, ram + (size_t)i * RAM_CHUNK,
                                                                RAM_CHUNK),
                                     0);
    }
    assert_int_equal(vmp_writer_image_end(w, id), 0);
    vmp_x86_state_encode(&st, sec, sizeof sec, &slen);
    assert_int_equal(vmp_writer_add_section(w, VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION,
                                            VMP_SECTION_REQUIRED, sec, slen),
                     0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la, lb;
    uint8_t *x = file_read(a, &la), *y = file_read(b, &lb);

    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

static void assert_ram_reads_back(const char *path, const uint8_t *ram)
{
    vmp_reader *r = open_ok(path);
    uint8_t *got = calloc(1, RAM_CHUNK);
    unsigned img;
    size_t len;

    assert_non_null(got);
    assert_int_equal(vmp_reader_image_find(r, "ram", &img), 0);
    for (uint32_t i = 0; i < RAM_CHUNKS; i++) {
        assert_int_equal(vmp_reader_read_chunk(r, img, i, got, RAM_CHUNK, &len), 0);
        assert_int_equal(len, RAM_CHUNK);
        assert_memory_equal(got, ram + (size_t)i * RAM_CHUNK, RAM_CHUNK);
    }
    free(got);
    vmp_reader_destroy(r);
}

static void test_put_chunks_same_file_any_threads(void **state)
{
    const char *dir = *state;
    uint8_t *ram = malloc(RAM_BYTES);
    static const unsigned threads[] = {1, 2, 4, 7};
    static const size_t batch[] = {1, 5, 16, 64};

    assert_non_null(ram);
    ram_fill(ram);
    write_ram(tpath(dir, "seq.vmpk"), ram, SEQ, 1, RAM_CHUNKS, 0, NULL);
    assert_ram_reads_back(tpath(dir, "seq.vmpk"), ram);
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        write_ram(tpath(dir, "batch.vmpk"), ram, BATCH, threads[t], batch[t], 0, NULL);
        assert_same_file(tpath(dir, "seq.vmpk"), tpath(dir, "batch.vmpk"));
    }
    free(ram);
}

static void test_put_chunks_skip(void **state)
{
    const char *dir = *state;
    uint8_t *ram = malloc(RAM_BYTES);
    uint8_t(*dig)[VMP_DIGEST_BYTES] = malloc(RAM_CHUNKS * sizeof *dig);

    assert_non_null(ram);
    assert_non_null(dig);
    ram_fill(ram);
    for (uint32_t i = 0; i < RAM_CHUNKS; i++)
        vmp_sha256(ram + (size_t)i * RAM_CHUNK, RAM_CHUNK, dig[i]);
    write_ram(tpath(dir, "seq.vmpk"), ram, SEQ, 1, 16, 1, dig);
    write_ram(tpath(dir, "b2.vmpk"), ram, BATCH, 2, 16, 1, dig);
    write_ram(tpath(dir, "b4.vmpk"), ram, BATCH, 4, 9, 1, dig);
    assert_same_file(tpath(dir, "seq.vmpk"), tpath(dir, "b2.vmpk"));
    write_ram(tpath(dir, "seq9.vmpk"), ram, SEQ, 1, 9, 1, dig);
    assert_same_file(tpath(dir, "seq9.vmpk"), tpath(dir, "b4.vmpk"));
    assert_ram_reads_back(tpath(dir, "b4.vmpk"), ram);
    free(dig);
    free(ram);
}

static void test_put_chunks_refused(void **state)
{
    const char *dir = *state;
    vmp_writer *w = NULL;
    struct vmp_config c;
    static uint8_t buf[RAM_CHUNK];
    struct vmp_chunk_put put[257];
    unsigned id;

    sample_config(&c);
    c.mem_bytes = RAM_BYTES;
    c.ndevices = 0;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, tpath(dir, "bad.vmpk")), 0);
    assert_int_equal(vmp_writer_set_config(w, &c), 0);
    put[0] = (struct vmp_chunk_put){0, buf, RAM_CHUNK, NULL, 0};
    /* no image open */
    assert_int_equal(vmp_writer_image_put_chunks(w, 0, put, 1), VMP_ERR_STATE);
    struct vmp_image_desc rd = {"ram", VMP_IMAGE_RAM, 0, RAM_BYTES, RAM_CHUNK};
    assert_int_equal(vmp_writer_image_begin(w, &rd, &id), 0);
    for (size_t k = 0; k < 257; k++)
        put[k] = (struct vmp_chunk_put){k % RAM_CHUNKS, buf, RAM_CHUNK, NULL, 0};
    assert_int_equal(vmp_writer_image_put_chunks(w, id, put, 257), VMP_ERR_INVALID);
    put[1].len = RAM_CHUNK - 1;
    assert_int_equal(vmp_writer_image_put_chunks(w, id, put, 2), VMP_ERR_INVALID);
    put[1] = (struct vmp_chunk_put){RAM_CHUNKS, buf, RAM_CHUNK, NULL, 0};
    assert_int_equal(vmp_writer_image_put_chunks(w, id, put, 2), VMP_ERR_INVALID);
    vmp_writer_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_chunks_same_file_any_threads, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_put_chunks_skip, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_put_chunks_refused, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
