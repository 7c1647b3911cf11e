/* test_container.c - round trips through the writer and the reader:
 * config, images, sections, boot blobs, dedupe, determinism, copy by
 * digest (the suspend path), export, atomic replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt_check.h"
#include "fmt_test.h"

/* A writer open on p with the sample config, powered off, keeping its
 * first ndevices devices (the sample's second one needs disk "root"). */
static vmp_writer *open_writer_off(const char *p, uint32_t ndevices)
{
    vmp_writer *w;
    struct vmp_config c;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, p), 0);
    sample_config(&c);
    c.power = VMP_POWER_OFF;
    c.ndevices = ndevices;
    if (vmp_writer_set_config(w, &c))
        fail_msg("set_config: %s", vmp_writer_errmsg(w));
    return w;
}

static void test_container_roundtrip_config(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_reader *r = open_sample(p);
    struct vmp_config want;
    sample_config(&want);
    const struct vmp_config *c = vmp_reader_config(r);
    assert_int_equal(c->format_version, VMP_FORMAT_VERSION);
    assert_int_equal(c->power, VMP_POWER_SUSPENDED);
    assert_int_equal(c->mem_bytes, SAMPLE_MEM_BYTES);
    assert_string_equal(c->cmdline, want.cmdline);
    assert_string_equal(c->cpu.name, want.cpu.name);
    assert_int_equal(c->cpu.nleaves, want.cpu.nleaves);
    assert_memory_equal(c->cpu.leaves, want.cpu.leaves, want.cpu.nleaves * sizeof want.cpu.leaves[0]);
    assert_int_equal(c->ndevices, 2);
    assert_string_equal(c->devices[1].kind, "virtio-blk");
    assert_string_equal(c->devices[1].id, "vda");
    assert_string_equal(c->devices[1].image, "root");
    assert_string_equal(c->devices[0].image, "");
    vmp_reader_destroy(r);
}

static void test_container_roundtrip_images(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_reader *r = open_sample(p);
    assert_int_equal(vmp_reader_image_count(r), 2);
    unsigned disk, ram;
    assert_int_equal(vmp_reader_image_find(r, "root", &disk), 0);
    assert_int_equal(vmp_reader_image_find(r, "ram", &ram), 0);
    assert_int_equal(vmp_reader_image_find(r, "nope", &ram), VMP_ERR_NOT_FOUND);
    struct vmp_image_info in;
    assert_int_equal(vmp_reader_image_info(r, disk, &in), 0);
    assert_int_equal(in.size_bytes, SAMPLE_DISK_BYTES);
    assert_int_equal(in.chunk_bytes, SAMPLE_DISK_CHUNK);
    assert_int_equal(in.nchunks, 9);
    assert_int_equal(in.stored_chunks, 7); /* chunks 1 and 5 are zero */
    uint8_t *want = malloc(SAMPLE_MEM_BYTES), *got = malloc(SAMPLE_MEM_BYTES);
    sample_disk(want, 0);
    for (uint64_t i = 0; i < 9; i++) {
        size_t n;
        memset(got, 0xaa, SAMPLE_DISK_CHUNK);
        assert_int_equal(vmp_reader_read_chunk(r, disk, i, got, SAMPLE_DISK_CHUNK, &n), 0);
        assert_int_equal(n, i == 8 ? SAMPLE_DISK_CHUNK - 1000 : SAMPLE_DISK_CHUNK);
        assert_memory_equal(got, want + i * SAMPLE_DISK_CHUNK, n);
        struct vmp_chunk_info ci;
        assert_int_equal(vmp_reader_chunk_info(r, disk, i, &ci), 0);
        assert_int_equal(ci.zero, i == 1 || i == 5);
    }
    /* a buffer too small for the chunk is refused, not overrun */
    assert_int_equal(vmp_reader_read_chunk(r, disk, 0, got, 100, NULL), VMP_ERR_INVALID);
    assert_int_equal(vmp_reader_read_chunk(r, disk, 9, got, SAMPLE_DISK_CHUNK, NULL), VMP_ERR_NOT_FOUND);
    assert_int_equal(vmp_reader_image_info(r, ram, &in), 0);
    assert_int_equal(in.kind, VMP_IMAGE_RAM);
    assert_int_equal(in.chunk_bytes, VMP_RAM_CHUNK_DEFAULT);
    sample_ram(want);
    for (uint64_t i = 0; i < in.nchunks; i++)
        assert_int_equal(vmp_reader_read_chunk(r, ram, i, got + i * in.chunk_bytes, in.chunk_bytes, NULL), 0);
    assert_memory_equal(got, want, SAMPLE_MEM_BYTES);
    struct vmp_image_stats st;
    assert_int_equal(vmp_reader_image_stats(r, ram, &st), 0);
    assert_int_equal(st.chunks_total, 4);
    assert_int_equal(st.chunks_zero, 1);
    assert_int_equal(st.chunks_stored, 3);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    free(want);
    free(got);
    vmp_reader_destroy(r);
}

static void test_container_roundtrip_sections_and_boot(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_reader *r = open_sample(p);
    assert_int_equal(vmp_reader_section_count(r), 2);
    unsigned s;
    assert_int_equal(vmp_reader_section_find(r, VMP_X86_SECTION_ID, &s), 0);
    struct vmp_section_info si;
    assert_int_equal(vmp_reader_section_info(r, s, &si), 0);
    assert_int_equal(si.version, 1);
    assert_int_equal(si.flags, VMP_SECTION_REQUIRED);
    void *data;
    size_t len;
    assert_int_equal(vmp_reader_section_read(r, s, &data, &len), 0);
    struct vmp_x86_state want, got;
    sample_cpu(&want);
    char err[256];
    assert_int_equal(vmp_x86_state_decode(data, len, si.version, &got, err, sizeof err), 0);
    /* equal field by field: the encoding covers every field, and only them */
    uint8_t ea[VMP_X86_SECTION_V1_BYTES], eb[VMP_X86_SECTION_V1_BYTES];
    vmp_x86_state_encode(&want, ea, sizeof ea, NULL);
    vmp_x86_state_encode(&got, eb, sizeof eb, NULL);
    assert_memory_equal(ea, eb, sizeof ea);
    assert_int_equal(got.icount, want.icount);
    assert_int_equal(got.cr3, want.cr3);
    free(data);
    assert_int_equal(vmp_reader_section_find(r, "dev/uart16550/com1", &s), 0);
    assert_int_equal(vmp_reader_section_info(r, s, &si), 0);
    assert_int_equal(si.flags, 0);
    assert_int_equal(vmp_reader_section_read(r, s, &data, &len), 0);
    assert_int_equal(len, sizeof "uart state v1");
    assert_string_equal(data, "uart state v1");
    free(data);
    int present;
    uint64_t size;
    assert_int_equal(vmp_reader_boot_info(r, VMP_BOOT_KERNEL, &present, &size, NULL), 0);
    assert_int_equal(present, 1);
    assert_int_equal(vmp_reader_boot_read(r, VMP_BOOT_INITRD, &data, &len), 0);
    assert_string_equal(data, "INITRD cpio stand-in");
    free(data);
    vmp_reader_destroy(r);
}

static void test_container_dedupe_identical_chunks_stored_once(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_reader *r = open_sample(p);
    struct vmp_image_stats st;
    assert_int_equal(vmp_reader_image_stats(r, 0, &st), 0);
    assert_int_equal(st.chunks_total, 9);
    assert_int_equal(st.chunks_zero, 2);
    assert_int_equal(st.chunks_stored, 7);
    assert_int_equal(st.chunks_dedup, 1); /* chunk 2 == chunk 0 */
    struct vmp_chunk_info a, b;
    vmp_reader_chunk_info(r, 0, 0, &a);
    vmp_reader_chunk_info(r, 0, 2, &b);
    assert_memory_equal(a.cdigest, b.cdigest, 32);
    assert_true(st.bytes_compressed < st.bytes_uncompressed);
    vmp_reader_destroy(r);
}

/* Every blob digest of a container, sorted, for set comparisons. */
static size_t all_blobs(const char *path, uint8_t (*out)[32], size_t max)
{
    struct tedit t;
    assert_int_equal(tedit_load(&t, path), 0);
    size_t n = 0;
    for (size_t i = 0; i < t.n && n < max; i++) {
        const char *nm = t.m[i].name;
        if (strncmp(nm, "blobs/sha256/", 13) || strlen(nm) != 77)
            continue;
        for (int k = 0; k < 32; k++) {
            unsigned v;
            sscanf(nm + 13 + 2 * k, "%2x", &v);
            out[n][k] = (uint8_t)v;
        }
        n++;
    }
    tedit_free(&t);
    return n;
}

static int has(uint8_t (*set)[32], size_t n, const uint8_t *d)
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(set[i], d, 32))
            return 1;
    return 0;
}

static void test_container_differ_in_one_chunk_share_other_blobs(void **state)
{
    const char *pa = tpath(*state, "a.vmpack"), *pb = tpath(*state, "b.vmpack");
    write_sample(pa, 0);
    write_sample(pb, 1);
    vmp_reader *a = open_ok(pa), *b = open_ok(pb);
    /* exactly chunk 4 of the disk differs */
    for (uint64_t i = 0; i < 9; i++) {
        struct vmp_chunk_info ca, cb;
        vmp_reader_chunk_info(a, 0, i, &ca);
        vmp_reader_chunk_info(b, 0, i, &cb);
        if (i == 4)
            assert_memory_not_equal(ca.cdigest, cb.cdigest, 32);
        else
            assert_memory_equal(ca.cdigest, cb.cdigest, 32);
    }
    /* every blob other than that chunk, the disk's index, config and
     * manifest is shared */
    static uint8_t sa[64][32], sb[64][32];
    size_t na = all_blobs(pa, sa, 64), nb = all_blobs(pb, sb, 64);
    assert_int_equal(na, nb);
    size_t only_a = 0;
    for (size_t i = 0; i < na; i++)
        only_a += !has(sb, nb, sa[i]);
    assert_int_equal(only_a, 4);
    vmp_reader_destroy(a);
    vmp_reader_destroy(b);
}

static void test_container_deterministic_same_input_same_bytes(void **state)
{
    const char *pa = tpath(*state, "a.vmpack"), *pb = tpath(*state, "b.vmpack");
    write_sample(pa, 3);
    write_sample(pb, 3);
    size_t la, lb;
    uint8_t *a = file_read(pa, &la), *b = file_read(pb, &lb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

/* The suspend path: RAM and disk copied by digest from an open reader,
 * a few chunks overridden. */
static void test_container_copy_image_then_override(void **state)
{
    const char *pa = tpath(*state, "a.vmpack"), *pb = tpath(*state, "b.vmpack");
    write_sample(pa, 0);
    vmp_reader *src = open_ok(pa);
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, pb), 0);
    assert_int_equal(vmp_writer_set_config(w, vmp_reader_config(src)), 0);
    unsigned id;
    struct vmp_image_desc dd = {"root", VMP_IMAGE_DISK, 0, SAMPLE_DISK_BYTES, SAMPLE_DISK_CHUNK};
    assert_int_equal(vmp_writer_image_begin(w, &dd, &id), 0);
    assert_int_equal(vmp_writer_image_copy_image(w, id, src, 0), 0);
    uint8_t buf[SAMPLE_DISK_CHUNK];
    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 3, buf, sizeof buf), 0);
    memset(buf, 0, sizeof buf);
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 0, buf, sizeof buf), 0); /* now zero */
    assert_int_equal(vmp_writer_image_end(w, id), 0);
    struct vmp_image_desc rd = {"ram", VMP_IMAGE_RAM, 0, SAMPLE_MEM_BYTES, 0};
    assert_int_equal(vmp_writer_image_begin(w, &rd, &id), 0);
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(vmp_writer_image_copy_chunk(w, id, i, src, 1, 3 - i), 0); /* reversed */
    assert_int_equal(vmp_writer_image_end(w, id), 0);
    void *sec;
    size_t slen;
    unsigned s;
    assert_int_equal(vmp_reader_section_find(src, VMP_X86_SECTION_ID, &s), 0);
    assert_int_equal(vmp_reader_section_read(src, s, &sec, &slen), 0);
    assert_int_equal(vmp_writer_add_section(w, VMP_X86_SECTION_ID, 1, VMP_SECTION_REQUIRED, sec, slen), 0);
    free(sec);
    if (vmp_writer_commit(w, NULL))
        fail_msg("commit: %s", vmp_writer_errmsg(w));
    vmp_writer_destroy(w);

    vmp_reader *r = open_ok(pb);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    uint8_t want[SAMPLE_DISK_BYTES];
    sample_disk(want, 0);
    memset(want + 3 * SAMPLE_DISK_CHUNK, 'Z', SAMPLE_DISK_CHUNK);
    memset(want, 0, SAMPLE_DISK_CHUNK);
    for (uint64_t i = 0; i < 9; i++) {
        size_t n;
        assert_int_equal(vmp_reader_read_chunk(r, 0, i, buf, sizeof buf, &n), 0);
        assert_memory_equal(buf, want + i * SAMPLE_DISK_CHUNK, n);
        struct vmp_chunk_info ca, cb;
        vmp_reader_chunk_info(src, 0, i, &ca);
        vmp_reader_chunk_info(r, 0, i, &cb);
        if (i != 0 && i != 3)
            assert_memory_equal(ca.cdigest, cb.cdigest, 32); /* copied, not recompressed */
    }
    for (uint64_t i = 0; i < 4; i++) {
        struct vmp_chunk_info ca, cb;
        vmp_reader_chunk_info(src, 1, 3 - i, &ca);
        vmp_reader_chunk_info(r, 1, i, &cb);
        assert_int_equal(ca.zero, cb.zero);
        assert_memory_equal(ca.cdigest, cb.cdigest, 32);
    }
    vmp_reader_destroy(r);
    vmp_reader_destroy(src);
}

struct pattern {
    uint64_t calls;
};

static int pattern_source(void *ctx, uint64_t idx, void *buf, size_t len)
{
    struct pattern *p = ctx;
    p->calls++;
    memset(buf, idx % 3 ? (int)(idx & 0xff) : 0, len);
    return 0;
}

static void test_container_image_from_callback_and_fd_export(void **state)
{
    const char *p = tpath(*state, "c.vmpack"), *raw = tpath(*state, "disk.raw"),
               *out = tpath(*state, "out.raw");
    uint64_t size = 20 * 4096 + 123;
    vmp_writer *w = open_writer_off(p, 0);
    struct pattern pat = {0};
    struct vmp_image_desc d1 = {"cb", VMP_IMAGE_DISK, VMP_IMAGE_READ_ONLY, size, 4096};
    assert_int_equal(vmp_writer_add_image_cb(w, &d1, pattern_source, &pat), 0);
    assert_int_equal(pat.calls, 21);
    /* the same bytes from a file descriptor */
    uint8_t *img = calloc(1, size);
    for (uint64_t i = 0; i < 21; i++)
        pattern_source(&pat, i, img + i * 4096, i == 20 ? 123 : 4096);
    assert_int_equal(file_write(raw, img, size), 0);
    int fd = open(raw, O_RDONLY);
    struct vmp_image_desc d2 = {"fd", VMP_IMAGE_DISK, 0, size, 4096};
    assert_int_equal(vmp_writer_add_image_fd(w, &d2, fd), 0);
    close(fd);
    /* a short file is an error that names the image */
    fd = open(raw, O_RDONLY);
    struct vmp_image_desc d3 = {"short", VMP_IMAGE_DISK, 0, size + 4096, 4096};
    assert_int_equal(vmp_writer_add_image_fd(w, &d3, fd), VMP_ERR_IO);
    assert_non_null(strstr(vmp_writer_errmsg(w), "short"));
    close(fd);
    vmp_writer_destroy(w);
    /* the failed writer left no file and no temporary file behind */
    assert_int_not_equal(access(p, F_OK), 0);

    w = open_writer_off(p, 0);
    assert_int_equal(vmp_writer_add_image_cb(w, &d1, pattern_source, &pat), 0);
    fd = open(raw, O_RDONLY);
    assert_int_equal(vmp_writer_add_image_fd(w, &d2, fd), 0);
    close(fd);
    struct vmp_image_stats st;
    assert_int_equal(vmp_writer_image_stats(w, 1, &st), 0);
    assert_int_equal(st.chunks_dedup, st.chunks_stored); /* all already stored by "cb" */
    assert_int_equal(st.bytes_compressed, 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);

    vmp_reader *r = open_ok(p);
    struct vmp_image_info in;
    vmp_reader_image_info(r, 0, &in);
    assert_int_equal(in.flags, VMP_IMAGE_READ_ONLY);
    for (unsigned im = 0; im < 2; im++) {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_int_equal(vmp_reader_export_image_fd(r, im, fd, im ? VMP_EXPORT_SPARSE : 0), 0);
        close(fd);
        size_t n;
        uint8_t *got = file_read(out, &n);
        assert_int_equal(n, size);
        assert_memory_equal(got, img, size);
        free(got);
    }
    vmp_reader_destroy(r);
    free(img);
}

static void test_container_commit_replaces_atomically(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    assert_int_equal(file_write(p, "old content", 11), 0);
    chmod(p, 0640);
    /* a writer that never commits leaves the old file as it was */
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, p), 0);
    struct vmp_config c;
    sample_config(&c);
    assert_int_equal(vmp_writer_set_config(w, &c), 0);
    vmp_writer_destroy(w);
    size_t n;
    uint8_t *b = file_read(p, &n);
    assert_int_equal(n, 11);
    free(b);
    /* a suspended container without RAM is refused at commit */
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, p), 0);
    assert_int_equal(vmp_writer_set_config(w, &c), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), VMP_ERR_INVALID);
    assert_int_equal(vmp_writer_commit(w, NULL), VMP_ERR_STATE); /* spent */
    vmp_writer_destroy(w);
    write_sample(p, 0);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640); /* the target's mode is kept */
    /* nothing but the target is left in the folder */
    DIR *d = opendir(*state);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        files += e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    assert_int_equal(files, 1);
    vmp_writer_destroy(NULL);
    vmp_reader_destroy(NULL);
}

static void test_container_writer_refuses_bad_calls(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    struct vmp_config c;
    sample_config(&c);
    assert_int_equal(vmp_writer_set_config(w, &c), VMP_ERR_STATE); /* not open */
    assert_int_equal(vmp_writer_open(w, p), 0);
    c.mem_bytes = 4097;
    assert_int_equal(vmp_writer_set_config(w, &c), VMP_ERR_INVALID);
    unsigned id;
    struct vmp_image_desc bad = {"../x", VMP_IMAGE_DISK, 0, 4096, 4096};
    assert_int_equal(vmp_writer_image_begin(w, &bad, &id), VMP_ERR_INVALID);
    struct vmp_image_desc odd = {"d", VMP_IMAGE_DISK, 0, 4096, 5000};
    assert_int_equal(vmp_writer_image_begin(w, &odd, &id), VMP_ERR_INVALID);
    struct vmp_image_desc big = {"d", VMP_IMAGE_DISK, 0, VMP_IMAGE_MAX_BYTES + 1, 0};
    assert_int_equal(vmp_writer_image_begin(w, &big, &id), VMP_ERR_LIMIT);
    struct vmp_image_desc ok = {"d", VMP_IMAGE_DISK, 0, 8192, 4096};
    assert_int_equal(vmp_writer_image_begin(w, &ok, &id), 0);
    uint8_t buf[4096] = {1};
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 2, buf, 4096), VMP_ERR_INVALID);
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 0, buf, 100), VMP_ERR_INVALID);
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 1, buf, 4096), 0);
    assert_int_equal(vmp_writer_image_put_chunk(w, id, 1, buf, 4096), 0);
    assert_int_equal(vmp_writer_image_end(w, id), VMP_ERR_STATE); /* chunk 1 twice */
    vmp_writer_destroy(w);
}

static void write_pattern(const char *p, unsigned threads, uint32_t chunk)
{
    vmp_writer *w = open_writer_off(p, 0);
    assert_int_equal(vmp_writer_set_threads(w, threads), 0);
    struct pattern pat = {0};
    struct vmp_image_desc d = {"cb", VMP_IMAGE_DISK, 0, 300 * 4096 + 17, chunk};
    assert_int_equal(vmp_writer_add_image_cb(w, &d, pattern_source, &pat), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
}

/* Chunks compressed by several threads give the same file as one. */
static void test_container_threads_do_not_change_the_file(void **state)
{
    const uint32_t chunks[] = {4096, 65536};
    for (int k = 0; k < 2; k++) {
        const char *pa = tpath(*state, "t1.vmpack"), *pb = tpath(*state, "t3.vmpack");
        write_pattern(pa, 1, chunks[k]);
        write_pattern(pb, 3, chunks[k]);
        size_t la, lb;
        uint8_t *a = file_read(pa, &la), *b = file_read(pb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        vmp_reader *r = open_ok(pb);
        assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
        vmp_reader_destroy(r);
    }
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_set_threads(w, 0), VMP_ERR_INVALID);
    vmp_writer_destroy(w);
}

/* One blob in two roles (kernel == initrd == a section payload) is
 * stored and listed once, and the container still opens. */
static void test_container_blob_with_two_roles(void **state)
{
    const char *p = tpath(*state, "two.vmpack");
    vmp_writer *w = open_writer_off(p, 1);
    assert_int_equal(vmp_writer_set_kernel_mem(w, "same", 4), 0);
    assert_int_equal(vmp_writer_set_initrd_mem(w, "same", 4), 0);
    assert_int_equal(vmp_writer_add_section(w, "a", 1, 0, "same", 4), 0);
    assert_int_equal(vmp_writer_add_section(w, "empty", 1, 0, NULL, 0), 0);
    assert_int_equal(vmp_writer_add_section(w, "bad", 1, 0, NULL, 5), VMP_ERR_INVALID);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
    vmp_reader *r = open_ok(p);
    struct vmp_container_stats st;
    vmp_reader_stats(r, &st);
    assert_int_equal(st.blobs, 4); /* "same", "", config, manifest */
    void *d;
    size_t n;
    assert_int_equal(vmp_reader_boot_read(r, VMP_BOOT_INITRD, &d, &n), 0);
    assert_int_equal(n, 4);
    free(d);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    vmp_reader_destroy(r);
}

static int die_at_chunk_5(void *ctx, uint64_t idx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, (int)idx + 1, len);
    if (idx == 5)
        raise(SIGKILL);
    return 0;
}

/* spec/container.md 8: a writer killed mid-way leaves the old file whole. */
static void test_container_killed_writer_leaves_old_file(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    write_sample(p, 0);
    size_t n0;
    uint8_t *before = file_read(p, &n0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vmp_writer *w;
        struct vmp_config c;
        sample_config(&c);
        c.power = VMP_POWER_OFF;
        c.ndevices = 0;
        if (vmp_writer_create(&w) || vmp_writer_open(w, p) || vmp_writer_set_config(w, &c))
            _exit(1);
        struct vmp_image_desc d = {"big", VMP_IMAGE_DISK, 0, 64 * 4096, 4096};
        vmp_writer_add_image_cb(w, &d, die_at_chunk_5, NULL);
        _exit(2); /* not reached */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    size_t n1;
    uint8_t *after = file_read(p, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    vmp_reader *r = open_ok(p);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), 0);
    vmp_reader_destroy(r);
    free(before);
    free(after);
}

struct reader_job {
    vmp_reader *r;
    unsigned image;
    int failures;
};

static void *read_all_chunks(void *arg)
{
    struct reader_job *j = arg;
    struct vmp_image_info in;
    vmp_reader_image_info(j->r, j->image, &in);
    uint8_t *buf = malloc(in.chunk_bytes), *want = malloc(SAMPLE_MEM_BYTES);
    if (j->image == 0)
        sample_disk(want, 0);
    else
        sample_ram(want);
    for (int round = 0; round < 20; round++)
        for (uint64_t i = 0; i < in.nchunks; i++) {
            size_t n;
            if (vmp_reader_read_chunk(j->r, j->image, i, buf, in.chunk_bytes, &n) ||
                memcmp(buf, want + i * in.chunk_bytes, n))
                j->failures++;
        }
    free(buf);
    free(want);
    return NULL;
}

/* A config string the reader's JSON would refuse (spec/container.md 4) is
 * refused by the setter, naming the field and the byte offset; valid
 * UTF-8, control characters included, round-trips. */
static void test_container_writer_refuses_non_utf8_config(void **state)
{
    static const struct {
        const char *s;
        size_t at;
    } bad[] = {
        {"console=ttyS0 \xff", 14},          /* never a UTF-8 byte */
        {"a\xc3", 1},                        /* sequence cut by the end */
        {"ab\xc3(", 2},                      /* lead byte without continuation */
        {"\xc0\xaf", 0},                     /* overlong '/' */
        {"x=\xe0\x80\xaf", 2},               /* overlong, 3 bytes */
        {"abc\xed\xa0\x80", 3},              /* UTF-16 surrogate U+D800 */
        {"\xc3\xa9\xf4\x90\x80\x80", 2},     /* above U+10FFFF after a valid e-acute */
        {"ok \x80", 3},                      /* lone continuation byte */
    };
    const char *p = tpath(*state, "a.vmpack");
    struct vmp_config c;
    char want[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int field = 0; field < 2; field++) {
            vmp_writer *w;
            assert_int_equal(vmp_writer_create(&w), 0);
            assert_int_equal(vmp_writer_open(w, p), 0);
            sample_config(&c);
            if (field)
                snprintf(c.cpu.name, sizeof c.cpu.name, "%s", bad[i].s);
            else
                snprintf(c.cmdline, sizeof c.cmdline, "%s", bad[i].s);
            assert_int_equal(vmp_writer_set_config(w, &c), VMP_ERR_INVALID);
            snprintf(want, sizeof want, "%s at byte %zu: invalid UTF-8",
                     field ? "CPU profile name" : "command line", bad[i].at);
            if (!strstr(vmp_writer_errmsg(w), want))
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, vmp_writer_errmsg(w), want);
            vmp_writer_destroy(w);
        }
    }
    /* 2, 3 and 4 byte sequences, U+10FFFF and control characters pass and
     * come back unchanged */
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, p), 0);
    sample_config(&c);
    c.power = VMP_POWER_OFF;
    c.ndevices = 0; /* no disk image in this container */
    snprintf(c.cmdline, sizeof c.cmdline, "%s",
             "root=/dev/vda name=\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\ttab\nnl\x01\"q\\");
    snprintf(c.cpu.name, sizeof c.cpu.name, "%s", "cpu \xe2\x80\x94 \xc2\xb5");
    int rc = vmp_writer_set_config(w, &c);
    if (rc == 0)
        rc = vmp_writer_commit(w, NULL);
    if (rc)
        fail_msg("%s", vmp_writer_errmsg(w));
    vmp_writer_destroy(w);
    vmp_reader *r = open_ok(p);
    assert_string_equal(vmp_reader_config(r)->cmdline, c.cmdline);
    assert_string_equal(vmp_reader_config(r)->cpu.name, c.cpu.name);
    vmp_reader_destroy(r);
}

/* reader.h: read_chunk may be called from several threads at once. */
static void test_container_read_chunk_from_threads(void **state)
{
    const char *p = tpath(*state, "a.vmpack");
    vmp_reader *r = open_sample(p);
    struct reader_job jobs[4] = {{r, 0, 0}, {r, 1, 0}, {r, 0, 0}, {r, 1, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, read_all_chunks, &jobs[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    vmp_reader_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_container_roundtrip_config, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_roundtrip_images, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_roundtrip_sections_and_boot, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_dedupe_identical_chunks_stored_once, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_differ_in_one_chunk_share_other_blobs, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_deterministic_same_input_same_bytes, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_copy_image_then_override, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_image_from_callback_and_fd_export, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_commit_replaces_atomically, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_writer_refuses_bad_calls, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_writer_refuses_non_utf8_config, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_blob_with_two_roles, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_threads_do_not_change_the_file, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_killed_writer_leaves_old_file, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_container_read_chunk_from_threads, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
