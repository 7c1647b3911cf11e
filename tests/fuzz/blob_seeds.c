/* blob_seeds - writes the seed corpus of fuzz_container_blobs into argv[1]:
 * for each selector, the selector byte followed by the template's blob
 * (see fuzz_container_blobs.c), so fuzzing starts from valid documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_test.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char *dir = tmpdir_make(), err[512];
    const char *p = tpath(dir, "t.vmpack");
    struct tedit t;
    vmp_reader *r;
    if (!dir || sample_write_small(p, 1, err, sizeof err) || vmp_reader_create(&r) || vmp_reader_open(r, p) ||
        tedit_load(&t, p))
        return 1;
    uint8_t d[7][32];
    struct vmp_image_info in;
    struct vmp_chunk_info ci;
    struct vmp_section_info si;
    struct vmp_signature_info sg;
    tedit_config(&t, d[0]);
    vmp_reader_manifest_digest(r, d[1]);
    vmp_reader_image_info(r, 0, &in);
    memcpy(d[2], in.index_digest, 32);
    vmp_reader_chunk_info(r, 0, 0, &ci);
    memcpy(d[3], ci.cdigest, 32);
    vmp_reader_section_info(r, 0, &si);
    memcpy(d[4], si.digest, 32);
    vmp_reader_signature_info(r, 0, &sg);
    memcpy(d[5], sg.digest, 32);
    for (int k = 0; k < 7; k++) {
        struct tmember *m = k == 6 ? tedit_find(&t, "index.json") : tedit_blob(&t, d[k]);
        if (!m)
            return 1;
        char out[4096];
        snprintf(out, sizeof out, "%s/sel%d", argv[1], k);
        uint8_t *b = malloc(m->len + 1);
        b[0] = (uint8_t)k;
        memcpy(b + 1, m->data, m->len);
        if (file_write(out, b, m->len + 1))
            return 1;
        free(b);
    }
    vmp_reader_destroy(r);
    tedit_free(&t);
    tmpdir_remove(dir);
    return 0;
}
