/* test_container_bad.c - one test per failure mode of reading untrusted
 * containers (spec/container.md 2-6, 9): truncation, flipped bytes, a
 * missing blob, bad JSON, unknown sections, a future version, unsafe tar
 * members, decompression bombs, sizes claiming terabytes. Each asserts
 * the status and that the message names what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "fmt_test.h"

struct fx {
    char *dir;
    const char *good;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tmpdir_make();
    if (!f->dir)
        return -1;
    f->good = strdup(tpath(f->dir, "good.vmpack"));
    char err[256];
    if (sample_write(f->good, 0, err, sizeof err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tmpdir_remove(f->dir);
    free((void *)f->good);
    free(f);
    return 0;
}

/* Writes the edited container t at p and frees t; returns p. */
static const char *save_edit(struct tedit *t, const char *p)
{
    assert_int_equal(tedit_save(t, p), 0);
    tedit_free(t);
    return p;
}

/* Opens path; returns the status and copies the message. */
static int try_open(const char *path, char *msg, size_t msglen, vmp_reader **keep)
{
    vmp_reader *r;
    assert_int_equal(vmp_reader_create(&r), 0);
    int rc = vmp_reader_open(r, path);
    snprintf(msg, msglen, "%s", vmp_reader_errmsg(r));
    if (keep && !rc)
        *keep = r;
    else
        vmp_reader_destroy(r);
    return rc;
}

static void expect_open(const char *path, int want, const char *needle)
{
    char msg[512];
    int rc = try_open(path, msg, sizeof msg, NULL);
    if (rc != want)
        fail_msg("open: got %d (%s), want %d: %s", rc, vmp_strerror(rc), want, msg);
    if (needle && !strstr(msg, needle))
        fail_msg("message \"%s\" does not name \"%s\"", msg, needle);
}

static void test_container_open_truncated_at_many_offsets(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *b = file_read(f->good, &len);
    assert_non_null(b);
    const char *cut = tpath(f->dir, "cut.vmpack");
    size_t end = len - 1024; /* the two zero blocks */
    int tried = 0;
    for (size_t off = 0; off < end; off += (off % 512 == 0) ? 1 : 511, off += (off > 600 && off % 3 == 0) ? 97 : 0) {
        assert_int_equal(file_write(cut, b, off), 0);
        vmp_reader *r = NULL;
        char msg[512];
        int rc = try_open(cut, msg, sizeof msg, &r);
        if (rc == 0) {
            rc = vmp_reader_verify(r, NULL, NULL, NULL);
            vmp_reader_destroy(r);
        }
        if (rc == 0)
            fail_msg("truncated at %zu of %zu: opened and verified", off, len);
        tried++;
    }
    assert_true(tried > 100);
    free(b);
}

/* Flips a byte in the middle of the blob d and checks the reader
 * notices, at open or at the read that concerns it. */
static void flip_blob(struct fx *f, const uint8_t d[32], const char *kind, int at_open)
{
    struct tedit t;
    assert_int_equal(tedit_load(&t, f->good), 0);
    struct tmember *m = tedit_blob(&t, d);
    assert_non_null(m);
    m->data[m->len / 2] ^= 0x20;
    const char *p = save_edit(&t, tpath(f->dir, "flip.vmpack"));
    char msg[512];
    vmp_reader *r = NULL;
    int rc = try_open(p, msg, sizeof msg, &r);
    if (at_open) {
        if (rc != VMP_ERR_DIGEST)
            fail_msg("%s flipped: open gave %d: %s", kind, rc, msg);
        assert_non_null(strstr(msg, "hashes to"));
        return;
    }
    if (rc)
        fail_msg("%s flipped: open should succeed (checked on read), gave %s", kind, msg);
    rc = vmp_reader_verify(r, NULL, NULL, NULL);
    assert_int_equal(rc, VMP_ERR_DIGEST);
    assert_non_null(strstr(vmp_reader_errmsg(r), "hashes to"));
    vmp_reader_destroy(r);
}

static void test_container_flipped_byte_in_each_blob_kind(void **state)
{
    struct fx *f = *state;
    /* sign it, so a signature blob exists too */
    struct vmp_secret_key sk;
    struct vmp_public_key pk;
    assert_int_equal(vmp_key_generate(&sk, &pk), 0);
    char err[512];
    if (vmp_container_sign(f->good, &sk, err, sizeof err))
        fail_msg("sign: %s", err);
    vmp_reader *r;
    char msg[512];
    assert_int_equal(try_open(f->good, msg, sizeof msg, &r), 0);
    uint8_t d[32];
    vmp_reader_manifest_digest(r, d);
    flip_blob(f, d, "manifest", 1);
    struct tedit t;
    tedit_load(&t, f->good);
    assert_int_equal(tedit_config(&t, d), 0);
    tedit_free(&t);
    flip_blob(f, d, "config", 1);
    struct vmp_image_info in;
    vmp_reader_image_info(r, 0, &in);
    flip_blob(f, in.index_digest, "chunk index", 1);
    struct vmp_signature_info si;
    assert_int_equal(vmp_reader_signature_info(r, 0, &si), 0);
    flip_blob(f, si.digest, "signature", 1);
    struct vmp_chunk_info ci;
    vmp_reader_chunk_info(r, 0, 3, &ci);
    flip_blob(f, ci.cdigest, "chunk", 0);
    struct vmp_section_info sec;
    vmp_reader_section_info(r, 0, &sec);
    flip_blob(f, sec.digest, "section", 0);
    int present;
    vmp_reader_boot_info(r, VMP_BOOT_KERNEL, &present, NULL, d);
    flip_blob(f, d, "kernel", 0);
    vmp_reader_boot_info(r, VMP_BOOT_INITRD, &present, NULL, d);
    flip_blob(f, d, "initrd", 0);
    vmp_reader_destroy(r);

    /* the read of a flipped chunk itself fails before decompression */
    tedit_load(&t, f->good);
    struct tmember *m = tedit_blob(&t, ci.cdigest);
    m->data[m->len - 1] ^= 1;
    const char *p = tpath(f->dir, "flip.vmpack");
    assert_int_equal(try_open(save_edit(&t, p), msg, sizeof msg, &r), 0);
    uint8_t buf[SAMPLE_DISK_CHUNK];
    assert_int_equal(vmp_reader_read_chunk(r, 0, 3, buf, sizeof buf, NULL), VMP_ERR_DIGEST);
    assert_non_null(strstr(vmp_reader_errmsg(r), "image root chunk 3 at 0x3000"));
    void *data;
    size_t len;
    assert_int_equal(vmp_reader_read_chunk(r, 0, 4, buf, sizeof buf, NULL), 0);
    vmp_reader_destroy(r);

    /* a flipped section is refused when read */
    tedit_load(&t, f->good);
    m = tedit_blob(&t, sec.digest);
    m->data[10] ^= 1;
    assert_int_equal(try_open(save_edit(&t, p), msg, sizeof msg, &r), 0);
    assert_int_equal(vmp_reader_section_read(r, 0, &data, &len), VMP_ERR_DIGEST);
    vmp_reader_destroy(r);

    /* index.json and oci-layout are not blobs: their damage is malformed JSON */
    tedit_load(&t, f->good);
    tedit_find(&t, "index.json")->data[0] ^= 0x20;
    expect_open(save_edit(&t, p), VMP_ERR_FORMAT, "index.json at byte");
    tedit_load(&t, f->good);
    tedit_find(&t, "oci-layout")->data[25] ^= 0x01;
    expect_open(save_edit(&t, p), VMP_ERR_FORMAT, "oci-layout");
}

static void test_container_missing_blob(void **state)
{
    struct fx *f = *state;
    vmp_reader *r;
    char msg[512];
    assert_int_equal(try_open(f->good, msg, sizeof msg, &r), 0);
    struct vmp_chunk_info ci;
    vmp_reader_chunk_info(r, 1, 0, &ci);
    vmp_reader_destroy(r);
    struct tedit t;
    tedit_load(&t, f->good);
    struct tmember *m = tedit_blob(&t, ci.cdigest);
    assert_non_null(m);
    snprintf(m->name, sizeof m->name, "unrelated-file"); /* ignored by readers */
    const char *p = tpath(f->dir, "miss.vmpack");
    expect_open(save_edit(&t, p), VMP_ERR_FORMAT, "is missing from the tar");
}

/* Replaces the config by text and expects open to fail. */
static void with_config(struct fx *f, const char *from, const char *to, int want, const char *needle)
{
    struct tedit t;
    uint8_t d[32];
    tedit_load(&t, f->good);
    assert_int_equal(tedit_config(&t, d), 0);
    struct tmember *m = tedit_blob(&t, d);
    char *s = calloc(1, m->len + strlen(to) + 4096);
    if (from) {
        m->data[m->len] = 0;
        char *at = strstr((char *)m->data, from);
        if (!at)
            fail_msg("config has no \"%s\"", from);
        size_t pre = (size_t)(at - (char *)m->data);
        memcpy(s, m->data, pre);
        strcpy(s + pre, to);
        strcat(s, at + strlen(from));
    } else {
        strcpy(s, to);
    }
    assert_int_equal(tedit_replace_blob(&t, d, s, strlen(s)), 0);
    free(s);
    const char *p = tpath(f->dir, "cfg.vmpack");
    expect_open(save_edit(&t, p), want, needle);
}

static void test_container_bad_json(void **state)
{
    struct fx *f = *state;
    with_config(f, NULL, "{\"vmpack\":", VMP_ERR_FORMAT, "config at byte 10");
    with_config(f, NULL, "[1,2,3]", VMP_ERR_FORMAT, "config: expected a JSON object");
    with_config(f, "\"power\":\"suspended\"", "\"power\":\"suspended\",\"power\":\"off\"", VMP_ERR_FORMAT,
                "duplicate member name");
    with_config(f, "\"format_version\":1", "\"format_version\":1.0", VMP_ERR_FORMAT, "not an integer");
    with_config(f, "\"size\":1048576}", "\"size\":-1}", VMP_ERR_FORMAT, "negative number");
    with_config(f, "\"power\":\"suspended\"", "\"power\":\"susp\\u0000\"", VMP_ERR_FORMAT, "power");
    with_config(f, "\"power\":\"suspended\"", "\"power\":\"\xff\"", VMP_ERR_FORMAT, "invalid UTF-8");
    with_config(f, "\"power\":\"suspended\"", "\"power\":\"off\"", 0, NULL);
    with_config(f, "\"kind\":\"ram\"", "\"kind\":\"tape\"", VMP_ERR_FORMAT, "kind");
    char deep[200] = "\"x\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, ",\"power\"");
    with_config(f, "\"power\"", deep, VMP_ERR_LIMIT, "nested deeper than 32");
    with_config(f, "\"memory\":{\"size\":1048576}", "\"memory\":{\"size\":1099511627776}", VMP_ERR_LIMIT,
                "1099511627776 above the limit");
    with_config(f, "\"id\":\"vda\",\"image\":\"root\"", "\"id\":\"vda\",\"image\":\"../etc\"", VMP_ERR_FORMAT,
                "devices[1]");
}

static void test_container_future_version_refused_names_both(void **state)
{
    struct fx *f = *state;
    with_config(f, "\"format_version\":1", "\"format_version\":2", VMP_ERR_VERSION,
                "format version 2, this reader knows version 1");
    /* the manifest's annotation is checked too */
    struct tedit t;
    uint8_t d[32];
    tedit_load(&t, f->good);
    assert_int_equal(tedit_manifest(&t, d), 0);
    struct tmember *m = tedit_blob(&t, d);
    m->data[m->len] = 0;
    char *s = strdup((char *)m->data);
    char *at = strstr(s, "\"org.vmpack.format.version\":\"1\"");
    assert_non_null(at);
    at[strlen("\"org.vmpack.format.version\":\"")] = '7';
    tedit_replace_blob(&t, d, s, strlen(s));
    free(s);
    const char *p = tpath(f->dir, "v7.vmpack");
    expect_open(save_edit(&t, p), VMP_ERR_VERSION, "format version 7, this reader knows version 1");
}

static void write_with_sections(const char *path, const char *extra, uint32_t version, uint32_t flags)
{
    vmp_reader *src;
    assert_int_equal(vmp_reader_create(&src), 0);
    (void)src;
    vmp_reader_destroy(src);
    vmp_writer *w;
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, path), 0);
    struct vmp_config c;
    sample_config(&c);
    c.power = VMP_POWER_OFF;
    c.ndevices = 1;
    assert_int_equal(vmp_writer_set_config(w, &c), 0);
    struct vmp_x86_state st;
    sample_cpu(&st);
    uint8_t buf[VMP_X86_SECTION_V1_BYTES];
    size_t n;
    vmp_x86_state_encode(&st, buf, sizeof buf, &n);
    assert_int_equal(vmp_writer_add_section(w, VMP_X86_SECTION_ID, 1, VMP_SECTION_REQUIRED, buf, n), 0);
    assert_int_equal(vmp_writer_add_section(w, extra, version, flags, "future", 6), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
}

static void test_container_unknown_sections(void **state)
{
    struct fx *f = *state;
    const char *p = tpath(f->dir, "sec.vmpack");
    static const struct vmp_section_support sup[] = {{VMP_X86_SECTION_ID, 1}, {"dev/uart16550/com1", 1}};
    unsigned skipped = 99;
    char msg[512];
    vmp_reader *r;

    /* unknown optional: skipped */
    write_with_sections(p, "dev/hologram/h0", 1, 0);
    assert_int_equal(try_open(p, msg, sizeof msg, &r), 0);
    assert_int_equal(vmp_reader_sections_check(r, sup, 2, &skipped), 0);
    assert_int_equal(skipped, 1);
    vmp_reader_destroy(r);

    /* unknown required: refused, named */
    write_with_sections(p, "dev/hologram/h0", 1, VMP_SECTION_REQUIRED);
    assert_int_equal(try_open(p, msg, sizeof msg, &r), 0); /* inspecting never refuses */
    assert_int_equal(vmp_reader_sections_check(r, sup, 2, &skipped), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(vmp_reader_errmsg(r), "dev/hologram/h0"));
    vmp_reader_destroy(r);

    /* a known id at a newer version counts as unknown */
    write_with_sections(p, "dev/uart16550/com1", 3, VMP_SECTION_REQUIRED);
    assert_int_equal(try_open(p, msg, sizeof msg, &r), 0);
    assert_int_equal(vmp_reader_sections_check(r, sup, 2, &skipped), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(vmp_reader_errmsg(r), "version 3"));
    assert_non_null(strstr(vmp_reader_errmsg(r), "up to version 1"));
    vmp_reader_destroy(r);
    write_with_sections(p, "dev/uart16550/com1", 3, 0);
    assert_int_equal(try_open(p, msg, sizeof msg, &r), 0);
    assert_int_equal(vmp_reader_sections_check(r, sup, 2, &skipped), 0);
    assert_int_equal(skipped, 1);
    vmp_reader_destroy(r);
}

static void tar_with_member(struct fx *f, const char *name, char type, const char *link, int want,
                            const char *needle)
{
    struct tedit t;
    tedit_load(&t, f->good);
    assert_int_equal(tedit_add(&t, name, type, link, "evil\n", 5), 0);
    /* move it before index.json so the reader sees it early */
    struct tmember tmp = t.m[t.n - 1];
    memmove(&t.m[2], &t.m[1], (t.n - 2) * sizeof t.m[0]);
    t.m[1] = tmp;
    const char *p = tpath(f->dir, "evil.vmpack");
    expect_open(save_edit(&t, p), want, needle);
}

static void test_container_tar_unsafe_members_refused(void **state)
{
    struct fx *f = *state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    const char *sub = tpath(f->dir, "sub");
    mkdir(sub, 0700);
    assert_int_equal(chdir(sub), 0);
    char abs[128];
    snprintf(abs, sizeof abs, "/tmp/vmpfmt-evil-%d", (int)getpid());
    tar_with_member(f, "../evil", '0', NULL, VMP_ERR_FORMAT, "'..' in name refused");
    tar_with_member(f, "blobs/../../evil", '0', NULL, VMP_ERR_FORMAT, "'..' in name refused");
    tar_with_member(f, abs, '0', NULL, VMP_ERR_FORMAT, "absolute name refused");
    tar_with_member(f, "blobs/sha256/link", '2', "/etc/passwd", VMP_ERR_FORMAT, "symbolic link");
    tar_with_member(f, "blobs/sha256/hard", '1', "/etc/passwd", VMP_ERR_FORMAT, "hard link");
    tar_with_member(f, "dev", '3', NULL, VMP_ERR_FORMAT, "special file");
    tar_with_member(f, "./harmless-extra", '0', NULL, 0, NULL);
    /* nothing was written anywhere */
    assert_int_not_equal(access(tpath(f->dir, "evil"), F_OK), 0);
    assert_int_not_equal(access("../evil", F_OK), 0);
    assert_int_not_equal(access(abs, F_OK), 0);
    assert_int_not_equal(access("blobs", F_OK), 0);
    assert_int_equal(chdir(cwd), 0);
}

static void test_container_tar_bad_header_refused(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *b = file_read(f->good, &len);
    const char *p = tpath(f->dir, "hdr.vmpack");
    b[0] ^= 1; /* oci-layout's name: checksum no longer matches */
    file_write(p, b, len);
    expect_open(p, VMP_ERR_FORMAT, "checksum");
    b[0] ^= 1;
    b[124] = (uint8_t)0x80; /* base-256 size */
    file_write(p, b, len);
    expect_open(p, VMP_ERR_FORMAT, "checksum");
    free(b);
}

/* A chunk blob that decodes past its declared size, digests all fixed up. */
static void bomb(struct fx *f, int with_size, const char *needle)
{
    size_t big = 16u << 20;
    void *zeros = calloc(1, big);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, with_size);
    size_t cap = ZSTD_compressBound(big);
    void *z = malloc(cap);
    size_t zn;
    if (with_size) {
        zn = ZSTD_compress2(cc, z, cap, zeros, big);
    } else {
        /* streaming without a pledged size leaves the size out of the frame */
        ZSTD_inBuffer in = {zeros, big, 0};
        ZSTD_outBuffer out = {z, cap, 0};
        while (ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end))
            ;
        zn = out.pos;
    }
    assert_false(ZSTD_isError(zn));
    assert_true(zn < 4096);
    ZSTD_freeCCtx(cc);
    vmp_reader *r;
    char msg[512];
    assert_int_equal(try_open(f->good, msg, sizeof msg, &r), 0);
    struct vmp_chunk_info ci;
    vmp_reader_chunk_info(r, 0, 0, &ci);
    vmp_reader_destroy(r);
    struct tedit t;
    tedit_load(&t, f->good);
    assert_int_equal(tedit_replace_blob(&t, ci.cdigest, z, zn), 0);
    const char *p = tpath(f->dir, "bomb.vmpack");
    assert_int_equal(try_open(save_edit(&t, p), msg, sizeof msg, &r), 0);
    uint8_t buf[SAMPLE_DISK_CHUNK];
    assert_int_equal(vmp_reader_read_chunk(r, 0, 0, buf, sizeof buf, NULL), VMP_ERR_DECOMPRESS);
    if (!strstr(vmp_reader_errmsg(r), needle))
        fail_msg("\"%s\" lacks \"%s\"", vmp_reader_errmsg(r), needle);
    assert_int_equal(vmp_reader_verify(r, NULL, NULL, NULL), VMP_ERR_DECOMPRESS);
    vmp_reader_destroy(r);
    free(z);
    free(zeros);
}

static void test_container_chunk_decodes_past_declared_size(void **state)
{
    bomb(*state, 1, "image root chunk 0 at 0x0: frame declares 16777216 bytes, index says 4096");
    bomb(*state, 0, "image root chunk 0 at 0x0: decodes to more than 4096 bytes, index says 4096");
}

static void patch_octal(uint8_t *h, size_t off, size_t width, uint64_t v)
{
    h[off + width - 1] = 0;
    for (size_t i = width - 1; i-- > 0; v >>= 3)
        h[off + i] = (uint8_t)('0' + (v & 7));
    memset(h + 148, ' ', 8);
    unsigned s = 0;
    for (int i = 0; i < 512; i++)
        s += h[i];
    h[148 + 7] = ' ';
    h[148 + 6] = 0;
    for (int i = 5; i >= 0; i--, s >>= 3)
        h[148 + i] = (uint8_t)('0' + (s & 7));
}

static void test_container_size_fields_claiming_terabytes(void **state)
{
    struct fx *f = *state;
    size_t len;
    uint8_t *b = file_read(f->good, &len);
    const char *p = tpath(f->dir, "tb.vmpack");
    /* a tar member of 8 GiB - 1 in a file of a few KiB (largest ustar octal) */
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    patch_octal(c, 124, 12, 077777777777ull);
    file_write(p, c, len);
    expect_open(p, VMP_ERR_TRUNCATED, "size 8589934591 runs past end of file");
    /* a pax size record of one TiB */
    struct tedit t;
    tedit_load(&t, f->good);
    static const char rec[] = "25 size=1099511627776000\n";
    tedit_add(&t, "pax", 'x', NULL, rec, sizeof rec - 1);
    struct tmember tmp = t.m[t.n - 1];
    memmove(&t.m[1], &t.m[0], (t.n - 1) * sizeof t.m[0]);
    t.m[0] = tmp;
    expect_open(save_edit(&t, p), VMP_ERR_TRUNCATED, "size 1099511627776000 runs past end of file");
    /* a chunk index claiming 2^40 entries */
    vmp_reader *r;
    char msg[512];
    assert_int_equal(try_open(f->good, msg, sizeof msg, &r), 0);
    struct vmp_image_info in;
    vmp_reader_image_info(r, 0, &in);
    vmp_reader_destroy(r);
    tedit_load(&t, f->good);
    struct tmember *m = tedit_blob(&t, in.index_digest);
    uint8_t *ix = malloc(m->len);
    memcpy(ix, m->data, m->len);
    ix[24 + 5] = 1; /* count += 2^40 */
    tedit_replace_blob(&t, in.index_digest, ix, m->len);
    free(ix);
    expect_open(save_edit(&t, p), VMP_ERR_FORMAT, "entries need");
    /* an image of a petabyte */
    with_config(f, "\"size\":35864", "\"size\":1125899906842624", VMP_ERR_LIMIT, "above the limit");
    free(c);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_container_open_truncated_at_many_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_flipped_byte_in_each_blob_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_missing_blob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_future_version_refused_names_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_unknown_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_tar_unsafe_members_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_tar_bad_header_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_chunk_decodes_past_declared_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_size_fields_claiming_terabytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
