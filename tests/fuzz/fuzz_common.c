/* fuzz_common.c - what the container fuzz targets do with a container
 * that opened: read everything it refers to. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

void fuzz_read_all(vmp_reader *r)
{
    const struct vmp_config *c = vmp_reader_config(r);
    (void)c->cmdline[0];
    for (unsigned i = 0; i < vmp_reader_image_count(r); i++) {
        struct vmp_image_info in;
        struct vmp_image_stats st;
        if (vmp_reader_image_info(r, i, &in) || vmp_reader_image_stats(r, i, &st))
            continue;
        /* bounded work per input: at most 64 chunks of at most 1 MiB */
        if (in.chunk_bytes > (1u << 20))
            continue;
        uint8_t *buf = malloc(in.chunk_bytes);
        if (!buf)
            continue;
        for (uint64_t k = 0; k < in.nchunks && k < 64; k++) {
            struct vmp_chunk_info ci;
            vmp_reader_chunk_info(r, i, k, &ci);
            vmp_reader_read_chunk(r, i, k, buf, in.chunk_bytes, NULL);
        }
        free(buf);
    }
    for (unsigned i = 0; i < vmp_reader_section_count(r); i++) {
        struct vmp_section_info si;
        void *d;
        size_t n;
        if (vmp_reader_section_info(r, i, &si) || vmp_reader_section_read(r, i, &d, &n))
            continue;
        if (!strcmp(si.id, VMP_X86_SECTION_ID)) {
            struct vmp_x86_state st;
            char err[256];
            vmp_x86_state_decode(d, n, si.version, &st, err, sizeof err);
        }
        free(d);
    }
    static const struct vmp_section_support sup[] = {{VMP_X86_SECTION_ID, 1}};
    unsigned skipped;
    vmp_reader_sections_check(r, sup, 1, &skipped);
    for (int b = 0; b < 2; b++) {
        void *d;
        size_t n;
        if (!vmp_reader_boot_read(r, b, &d, &n))
            free(d);
    }
    for (unsigned i = 0; i < vmp_reader_signature_count(r); i++) {
        struct vmp_signature_info si;
        vmp_reader_signature_info(r, i, &si);
    }
    struct vmp_container_stats cs;
    vmp_reader_stats(r, &cs);
    struct vmp_public_key pk = {{0}};
    vmp_reader_verify(r, &pk, NULL, NULL);
}

