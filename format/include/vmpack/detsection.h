/*
 * vmpack/detsection.h - the "vm.determinism" section: deterministic mode's
 * seed, clock rate, RTC start and clock at the save, in the byte layout of
 * spec/machine.md 7 (64 bytes, little-endian, field by field). The board
 * writes it at a suspend in deterministic mode and `vmpack create
 * --deterministic` for a powered-off container; the VMM and `vmpack
 * inspect` read it.
 *
 * Lifecycle:
 *   1. writer side: vmp_det_encode(&d, buf), then vmp_writer_add_section(w,
 *      VMP_DET_SECTION_ID, VMP_DET_SECTION_VERSION, VMP_SECTION_REQUIRED,
 *      buf, VMP_DET_SECTION_BYTES);
 *   2. reader side: vmp_reader_section_find + vmp_reader_section_read, then
 *      vmp_det_decode(buf, len, &d, err, sizeof err).
 * No allocation. Thread safety: pure functions.
 */
#ifndef VMPACK_DETSECTION_H
#define VMPACK_DETSECTION_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMP_DET_SECTION_ID      "vm.determinism"
#define VMP_DET_SECTION_VERSION 1  /* the container section's version */
#define VMP_DET_SECTION_BYTES   64 /* layout version 1 */
#define VMP_DET_SEED_BYTES      32
#define VMP_DET_NS_PER_INSN_MAX 1000

struct vmp_det {
    uint32_t ns_per_insn;                /* 1..VMP_DET_NS_PER_INSN_MAX */
    uint8_t seed[VMP_DET_SEED_BYTES];    /* virtio-rng's seed */
    int64_t rtc_unix_seconds;            /* the RTC at power on */
    uint64_t clock_ns;                   /* the virtual clock at the save (0: powered off) */
    uint64_t icount;                     /* instructions at the save (0: powered off) */
};

/* Writes the section's VMP_DET_SECTION_BYTES bytes (layout version 1). */
void vmp_det_encode(const struct vmp_det *d, uint8_t out[VMP_DET_SECTION_BYTES]);

/* Parses the section. 0; VMP_ERR_FORMAT if len is not
 * VMP_DET_SECTION_BYTES, the layout version is not 1 or ns_per_insn is out
 * of range (message in err, naming the section; errlen may be 0). */
int vmp_det_decode(const uint8_t *buf, size_t len, struct vmp_det *d, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
