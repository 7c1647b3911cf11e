/*
 * vmpack/x86section.h - the "x86-cpu" section: struct vmp_x86_state in
 * the byte layout of spec/container.md 6.3 (little-endian, field by
 * field, never a raw struct dump).
 *
 * Lifecycle:
 *   1. writer side: vmp_x86_state_encode(&st, buf, sizeof buf, &len), then
 *      vmp_writer_add_section(w, VMP_X86_SECTION_ID, VMP_X86_SECTION_VERSION,
 *      VMP_SECTION_REQUIRED, buf, len);
 *   2. reader side: vmp_reader_section_find + vmp_reader_section_read, then
 *      vmp_x86_state_decode(buf, len, info.version, &st, err, sizeof err).
 * No allocation. Thread safety: pure functions.
 */
#ifndef VMPACK_X86SECTION_H
#define VMPACK_X86SECTION_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/error.h>
#include <vmpack/x86state.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMP_X86_SECTION_ID "x86-cpu"
#define VMP_X86_SECTION_VERSION 1
/* Encoded size of version 1, in bytes (spec/container.md 6.3). */
#define VMP_X86_SECTION_V1_BYTES 772

/* Writes the encoding; 0, or VMP_ERR_INVALID if buflen is too small.
 * *out_len gets VMP_X86_SECTION_V1_BYTES. */
int vmp_x86_state_encode(const struct vmp_x86_state *st, uint8_t *buf, size_t buflen,
                         size_t *out_len);

/* Parses version `version` of the encoding. 0; VMP_ERR_VERSION for a
 * version other than 1; VMP_ERR_FORMAT if len is not the version's size
 * or a reserved field is not zero (message in err, errlen may be 0). */
int vmp_x86_state_decode(const uint8_t *buf, size_t len, uint32_t version,
                         struct vmp_x86_state *st, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
