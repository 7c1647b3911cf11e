/*
 * mkfixture.c - makes containers the CLI cannot make yet (suspended, with
 * state sections) through libvmpack's writer, so the e2e tests can check
 * how inspect and diff show them.
 *
 * usage: mkfixture OUT.vmpk PAYLOAD [EXTRA_SECTION_ID]
 *   a suspended container, 1 MiB of memory, CPU profile i686, a 1 MiB
 *   RAM image (chunk 2 holds PAYLOAD), section "test-state" v1 required
 *   holding PAYLOAD (after an x86-cpu section, the same in every fixture,
 *   which a suspended container needs), and optionally an optional section EXTRA_SECTION_ID v2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmpack/vmpack.h>

#define RAM_BYTES (1u << 20)
#define CHUNK_BYTES (64u << 10)

int main(int argc, char **argv)
{
    static struct vmp_config cfg;
    static struct vmp_x86_state st;
    uint8_t cpu[VMP_X86_SECTION_V1_BYTES];
    size_t cpu_len = 0;
    struct vmp_image_desc d = {"ram", VMP_IMAGE_RAM, 0, RAM_BYTES, CHUNK_BYTES};
    vmp_writer *w = NULL;
    unsigned id;
    char *chunk = NULL;
    int rc;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: mkfixture OUT.vmpk PAYLOAD [EXTRA_SECTION_ID]\n");
        return 2;
    }
    vmp_config_init(&cfg);
    cfg.power = VMP_POWER_SUSPENDED;
    cfg.mem_bytes = RAM_BYTES;
    if (vmp_profile_builtin("i686", &cfg.cpu) != 0)
        return 1;
    st.eip = 0x100000;
    st.eflags = 0x2;
    if (vmp_x86_state_encode(&st, cpu, sizeof cpu, &cpu_len) != 0)
        return 1;
    chunk = calloc(1, CHUNK_BYTES);
    if (chunk == NULL)
        return 1;
    memcpy(chunk, argv[2], strlen(argv[2]));
    if ((rc = vmp_writer_create(&w)) != 0 || (rc = vmp_writer_open(w, argv[1])) != 0 ||
        (rc = vmp_writer_set_config(w, &cfg)) != 0 ||
        (rc = vmp_writer_image_begin(w, &d, &id)) != 0 ||
        (rc = vmp_writer_image_put_chunk(w, id, 2, chunk, CHUNK_BYTES)) != 0 ||
        (rc = vmp_writer_image_end(w, id)) != 0 ||
        (rc = vmp_writer_add_section(w, VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION,
                                     VMP_SECTION_REQUIRED, cpu, cpu_len)) != 0 ||
        (rc = vmp_writer_add_section(w, "test-state", 1, VMP_SECTION_REQUIRED, argv[2],
                                     strlen(argv[2]))) != 0 ||
        (argc == 4 && (rc = vmp_writer_add_section(w, argv[3], 2, 0, "x", 1)) != 0) ||
        (rc = vmp_writer_commit(w, NULL)) != 0) {
        fprintf(stderr, "mkfixture: %s: %s\n", argv[1], w ? vmp_writer_errmsg(w) : "no memory");
        vmp_writer_destroy(w);
        free(chunk);
        return 1;
    }
    vmp_writer_destroy(w);
    free(chunk);
    return 0;
}
