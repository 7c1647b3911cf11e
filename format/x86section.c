/*
 * x86section.c - the "x86-cpu" section, version 1: struct vmp_x86_state
 * field by field, little-endian, in the layout of spec/container.md 6.3.
 */
#include "fmt_int.h"

#include <stdio.h>

static uint8_t *put_seg(uint8_t *p, const struct vmp_x86_seg *s)
{
    le16_put(p, s->selector);
    le16_put(p + 2, s->attr);
    le32_put(p + 4, s->base);
    le32_put(p + 8, s->limit);
    return p + 12;
}

static const uint8_t *get_seg(const uint8_t *p, struct vmp_x86_seg *s)
{
    s->selector = le16_get(p);
    s->attr = le16_get(p + 2);
    s->base = le32_get(p + 4);
    s->limit = le32_get(p + 8);
    return p + 12;
}

int vmp_x86_state_encode(const struct vmp_x86_state *st, uint8_t *buf, size_t buflen, size_t *out_len)
{
    if (buflen < VMP_X86_SECTION_V1_BYTES)
        return VMP_ERR_INVALID;
    uint8_t *p = buf;
    for (int i = 0; i < 8; i++, p += 4)
        le32_put(p, st->gpr[i]);
    le32_put(p, st->eip);
    le32_put(p + 4, st->eflags);
    p += 8;
    for (int i = 0; i < VMP_NSEG; i++)
        p = put_seg(p, &st->seg[i]);
    p = put_seg(p, &st->ldtr);
    p = put_seg(p, &st->tr);
    le32_put(p, st->gdtr.base);
    le16_put(p + 4, st->gdtr.limit);
    le32_put(p + 6, st->idtr.base);
    le16_put(p + 10, st->idtr.limit);
    p += 12;
    const uint32_t cr[4] = {st->cr0, st->cr2, st->cr3, st->cr4};
    for (int i = 0; i < 4; i++, p += 4)
        le32_put(p, cr[i]);
    for (int i = 0; i < 8; i++, p += 4)
        le32_put(p, st->dr[i]);
    le32_put(p, st->msr.sysenter_cs);
    le32_put(p + 4, st->msr.sysenter_esp);
    le32_put(p + 8, st->msr.sysenter_eip);
    le64_put(p + 12, st->msr.pat);
    le64_put(p + 20, st->msr.misc_enable);
    le64_put(p + 28, st->msr.apic_base);
    le64_put(p + 36, st->msr.tsc_adjust);
    p += 44;
    memcpy(p, st->fxsave, 512);
    p += 512;
    p[0] = st->pending.valid;
    p[1] = st->pending.vector;
    p[2] = st->pending.has_error_code;
    p[3] = st->pending.is_interrupt;
    le32_put(p + 4, st->pending.error_code);
    p[8] = st->halted;
    p[9] = st->intr_shadow;
    p[10] = st->nmi_blocked;
    p[11] = 0;
    le64_put(p + 12, st->icount);
    p += 20;
    if (out_len)
        *out_len = (size_t)(p - buf);
    return 0;
}

static int bad(char *err, size_t errlen, int rc, const char *fmt, unsigned a, unsigned b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
    return rc;
}

int vmp_x86_state_decode(const uint8_t *buf, size_t len, uint32_t version, struct vmp_x86_state *st,
                         char *err, size_t errlen)
{
    if (version != VMP_X86_SECTION_VERSION)
        return bad(err, errlen, VMP_ERR_VERSION, "section x86-cpu: version %u, this reader knows version %u",
                   version, VMP_X86_SECTION_VERSION);
    if (len != VMP_X86_SECTION_V1_BYTES)
        return bad(err, errlen, VMP_ERR_FORMAT, "section x86-cpu: %u bytes, version 1 is %u bytes",
                   (unsigned)(len > 0xffffffffu ? 0xffffffffu : len), VMP_X86_SECTION_V1_BYTES);
    memset(st, 0, sizeof *st);
    const uint8_t *p = buf;
    for (int i = 0; i < 8; i++, p += 4)
        st->gpr[i] = le32_get(p);
    st->eip = le32_get(p);
    st->eflags = le32_get(p + 4);
    p += 8;
    for (int i = 0; i < VMP_NSEG; i++)
        p = get_seg(p, &st->seg[i]);
    p = get_seg(p, &st->ldtr);
    p = get_seg(p, &st->tr);
    for (unsigned off = 40; off < 136; off += 12)
        if (le16_get(buf + off + 2) & 0xf000)
            return bad(err, errlen, VMP_ERR_FORMAT,
                       "section x86-cpu at 0x%x: segment attributes 0x%x use reserved bits 12..15", off + 2,
                       le16_get(buf + off + 2));
    st->gdtr.base = le32_get(p);
    st->gdtr.limit = le16_get(p + 4);
    st->idtr.base = le32_get(p + 6);
    st->idtr.limit = le16_get(p + 10);
    p += 12;
    st->cr0 = le32_get(p);
    st->cr2 = le32_get(p + 4);
    st->cr3 = le32_get(p + 8);
    st->cr4 = le32_get(p + 12);
    p += 16;
    for (int i = 0; i < 8; i++, p += 4)
        st->dr[i] = le32_get(p);
    if (st->dr[4] || st->dr[5])
        return bad(err, errlen, VMP_ERR_FORMAT, "section x86-cpu at 0x%x: DR4/DR5 are 0x%x, must be 0", 180,
                   st->dr[4] | st->dr[5]);
    st->msr.sysenter_cs = le32_get(p);
    st->msr.sysenter_esp = le32_get(p + 4);
    st->msr.sysenter_eip = le32_get(p + 8);
    st->msr.pat = le64_get(p + 12);
    st->msr.misc_enable = le64_get(p + 20);
    st->msr.apic_base = le64_get(p + 28);
    st->msr.tsc_adjust = le64_get(p + 36);
    p += 44;
    memcpy(st->fxsave, p, 512);
    p += 512;
    /* flag bytes: 0 or 1; reserved byte 763: 0 (spec/container.md 6.3) */
    static const unsigned flags[] = {752, 754, 755, 760, 761, 762};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (buf[flags[i]] > 1)
            return bad(err, errlen, VMP_ERR_FORMAT, "section x86-cpu at 0x%x: flag byte is %u, must be 0 or 1",
                       flags[i], buf[flags[i]]);
    if (buf[763])
        return bad(err, errlen, VMP_ERR_FORMAT, "section x86-cpu at 0x%x: reserved byte is %u, must be 0", 763,
                   buf[763]);
    st->pending.valid = p[0];
    st->pending.vector = p[1];
    st->pending.has_error_code = p[2];
    st->pending.is_interrupt = p[3];
    st->pending.error_code = le32_get(p + 4);
    st->halted = p[8];
    st->intr_shadow = p[9];
    st->nmi_blocked = p[10];
    st->icount = le64_get(p + 12);
    return 0;
}
