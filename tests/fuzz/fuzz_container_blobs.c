/*
 * fuzz_container_blobs - libFuzzer target that gets past the digests: the
 * input replaces one blob of a valid signed container (the first byte
 * selects which: config, manifest, chunk index, chunk, x86-cpu section,
 * signature, or index.json), every digest that refers to it is fixed up,
 * and the result is opened and read in full. This drives the JSON, chunk
 * index, zstd and section parsers with arbitrary bytes, which
 * fuzz_container_open rarely reaches because a mutated blob fails its
 * digest first.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fmt_test.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SEL_CONFIG, SEL_MANIFEST, SEL_INDEX, SEL_CHUNK, SEL_SECTION, SEL_SIGNATURE, SEL_INDEX_JSON, SEL_N };

static char *dir;
static char tmpl_path[512], case_path[512];
static int case_fd = -1; /* a memfd: cases never touch the disk */
static struct tedit tmpl;
static uint8_t digests[SEL_N][32];

static void cleanup(void)
{
    tedit_free(&tmpl);
    tmpdir_remove(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    vmp_reader *r;
    dir = tmpdir_make();
    if (!dir)
        abort();
    snprintf(tmpl_path, sizeof tmpl_path, "%s/template.vmpack", dir);
    case_fd = memfd_create("case", MFD_CLOEXEC);
    if (case_fd < 0)
        abort();
    snprintf(case_path, sizeof case_path, "/proc/self/fd/%d", case_fd);
    if (sample_write_small(tmpl_path, 1, err, sizeof err) || vmp_reader_create(&r) ||
        vmp_reader_open(r, tmpl_path) || tedit_load(&tmpl, tmpl_path)) {
        fprintf(stderr, "fuzz_container_blobs: no template: %s\n", err);
        abort();
    }
    struct vmp_image_info in;
    struct vmp_chunk_info ci;
    struct vmp_section_info si;
    struct vmp_signature_info sg;
    vmp_reader_manifest_digest(r, digests[SEL_MANIFEST]);
    tedit_config(&tmpl, digests[SEL_CONFIG]);
    vmp_reader_image_info(r, 0, &in);
    memcpy(digests[SEL_INDEX], in.index_digest, 32);
    vmp_reader_chunk_info(r, 0, 0, &ci);
    memcpy(digests[SEL_CHUNK], ci.cdigest, 32);
    vmp_reader_section_info(r, 0, &si);
    memcpy(digests[SEL_SECTION], si.digest, 32);
    vmp_reader_signature_info(r, 0, &sg);
    memcpy(digests[SEL_SIGNATURE], sg.digest, 32);
    vmp_reader_destroy(r);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    unsigned sel = data[0] % SEL_N;
    struct tedit t = {calloc(tmpl.n, sizeof *t.m), tmpl.n};
    if (!t.m)
        return 0;
    for (size_t i = 0; i < tmpl.n; i++) {
        t.m[i] = tmpl.m[i];
        t.m[i].data = malloc(tmpl.m[i].len + 1);
        memcpy(t.m[i].data, tmpl.m[i].data, tmpl.m[i].len);
    }
    if (sel == SEL_INDEX_JSON) {
        struct tmember *m = tedit_find(&t, "index.json");
        free(m->data);
        m->data = malloc(size);
        memcpy(m->data, data + 1, size - 1);
        m->len = size - 1;
    } else {
        tedit_replace_blob(&t, digests[sel], data + 1, size - 1);
    }
    if (tedit_save(&t, case_path) == 0) {
        vmp_reader *r;
        if (!vmp_reader_create(&r)) {
            if (!vmp_reader_open_fd(r, case_fd))
                fuzz_read_all(r);
            vmp_reader_destroy(r);
        }
    }
    tedit_free(&t);
    return 0;
}
