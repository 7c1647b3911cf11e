/*
 * detsection.c - the "vm.determinism" section (vmpack/detsection.h), in
 * the layout of spec/machine.md 7.
 */
#include "fmt_int.h"

#include <stdarg.h>
#include <stdio.h>

#define DET_LAYOUT_VERSION 1u /* the section's first field */

static int det_bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int det_bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen != 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return VMP_ERR_FORMAT;
}

void vmp_det_encode(const struct vmp_det *d, uint8_t out[VMP_DET_SECTION_BYTES])
{
    le32_put(out, DET_LAYOUT_VERSION);
    le32_put(out + 4, d->ns_per_insn);
    memcpy(out + 8, d->seed, VMP_DET_SEED_BYTES);
    le64_put(out + 40, (uint64_t)d->rtc_unix_seconds);
    le64_put(out + 48, d->clock_ns);
    le64_put(out + 56, d->icount);
}

int vmp_det_decode(const uint8_t *buf, size_t len, struct vmp_det *d, char *err, size_t errlen)
{
    if (len != VMP_DET_SECTION_BYTES)
        return det_bad(err, errlen, "section %s: %zu bytes, expected %d",
                       VMP_DET_SECTION_ID, len, VMP_DET_SECTION_BYTES);
    if (le32_get(buf) != DET_LAYOUT_VERSION)
        return det_bad(err, errlen, "section %s: layout version %u, expected %u",
                       VMP_DET_SECTION_ID, le32_get(buf), DET_LAYOUT_VERSION);
    d->ns_per_insn = le32_get(buf + 4);
    if (d->ns_per_insn == 0 || d->ns_per_insn > VMP_DET_NS_PER_INSN_MAX)
        return det_bad(err, errlen, "section %s: %u ns per instruction (1 to %d)",
                       VMP_DET_SECTION_ID, d->ns_per_insn, VMP_DET_NS_PER_INSN_MAX);
    memcpy(d->seed, buf + 8, VMP_DET_SEED_BYTES);
    d->rtc_unix_seconds = (int64_t)le64_get(buf + 40);
    d->clock_ns = le64_get(buf + 48);
    d->icount = le64_get(buf + 56);
    return 0;
}
