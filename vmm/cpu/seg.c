/*
 * seg.c - protected-mode segmentation (SDM 3A chapters 3 and 5, and the
 * pseudocode of MOV, POP, JMP, CALL, RET, LAR, LSL, VERR/VERW, SYSENTER and
 * SYSEXIT in SDM 2). seg.h says what is and is not checked.
 */
#include <string.h>

#include "mmu.h"
#include "seg.h"

#define SEL_ERR(sel) ((uint32_t)((sel) & 0xfffcu))

unsigned seg_access(const struct vmp_x86_state *st)
{
    return sys_cpl(st) == 3 ? MMU_USER : 0;
}

void seg_from_desc(uint64_t raw, uint16_t selector, struct vmp_x86_seg *out)
{
    uint32_t lo = (uint32_t)raw, hi = (uint32_t)(raw >> 32);
    uint32_t limit = (lo & 0xffffu) | (hi & 0x000f0000u);
    out->selector = selector;
    out->base = (lo >> 16) | ((hi & 0xffu) << 16) | (hi & 0xff000000u);
    out->attr = (uint16_t)(((hi >> 8) & 0xffu) | (((hi >> 20) & 0xfu) << 8));
    out->limit = (out->attr & SEG_A_G) ? (limit << 12) | 0xfffu : limit;
}

/* Linear address of the descriptor, or -1 if the selector is outside its table. */
static int seg_desc_gla(const struct vmp_x86_state *st, uint16_t selector, uint32_t *gla)
{
    uint32_t index_bytes = selector & 0xfff8u;
    uint32_t base, limit;
    if (selector & 4) {
        /* an LDTR holding the null selector has no table (SDM 3A 3.5.1) */
        if ((st->ldtr.selector & 0xfffcu) == 0 || !(st->ldtr.attr & SEG_A_P))
            return -1;
        base = st->ldtr.base;
        limit = st->ldtr.limit;
    } else {
        base = st->gdtr.base;
        limit = st->gdtr.limit;
    }
    if (index_bytes + 7 > limit)
        return -1;
    *gla = base + index_bytes;
    return 0;
}

int seg_desc_read(struct sys_ctx *c, uint16_t selector, uint64_t *raw, struct sys_fault *f)
{
    uint32_t gla;
    if ((selector & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, 0);
    if (seg_desc_gla(c->st, selector, &gla) < 0)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    /* descriptor table reads are implicit supervisor accesses (SDM 3A 4.6) */
    return mmu_read(c, gla, raw, 8, 0, f);
}

/* Set the accessed bit of a descriptor in memory, as the CPU does on load. */
static int seg_mark_accessed(struct sys_ctx *c, uint16_t selector, uint64_t *raw,
                             struct sys_fault *f)
{
    uint32_t gla;
    if (*raw & (1ull << 40))
        return 0;
    if (seg_desc_gla(c->st, selector, &gla) < 0)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    uint8_t b = (uint8_t)(*raw >> 40) | SEG_T_A;
    if (mmu_write(c, gla + 5, &b, 1, 0, f) < 0)
        return -1;
    *raw |= 1ull << 40;
    return 0;
}

static unsigned seg_raw_attr(uint64_t raw)
{
    uint32_t hi = (uint32_t)(raw >> 32);
    return ((hi >> 8) & 0xffu) | (((hi >> 20) & 0xfu) << 8);
}

int seg_load(struct sys_ctx *c, int sreg, uint16_t selector, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    struct vmp_x86_seg *s = &st->seg[sreg];
    unsigned cpl = sys_cpl(st), rpl = selector & 3u;
    uint64_t raw;

    if (sreg == VMP_CS || sreg < 0 || sreg >= VMP_NSEG)
        return sys_fail(f, SYS_UD, 0, 0);
    if (!(st->cr0 & SYS_CR0_PE)) {
        s->selector = selector;
        s->base = (uint32_t)selector << 4;
        return 0;
    }
    if ((selector & 0xfffcu) == 0) {
        if (sreg == VMP_SS)
            return sys_fail(f, SYS_GP, 1, 0);
        /* a null selector loads an unusable segment (SDM 3A 3.4.2) */
        s->selector = selector;
        s->attr = 0;
        s->base = 0;
        s->limit = 0;
        return 0;
    }
    if (seg_desc_read(c, selector, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    int is_code = (attr & SEG_A_S) && (type & SEG_T_CODE);
    int is_data = (attr & SEG_A_S) && !(type & SEG_T_CODE);
    if (sreg == VMP_SS) {
        if (rpl != cpl || !is_data || !(type & SEG_T_W) || dpl != cpl)
            return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
        if (!(attr & SEG_A_P))
            return sys_fail(f, SYS_SS, 1, SEL_ERR(selector));
    } else {
        if (!is_data && !(is_code && (type & SEG_T_W)))
            return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
        if ((is_data || !(type & SEG_T_CONF)) && (rpl > dpl || cpl > dpl))
            return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
        if (!(attr & SEG_A_P))
            return sys_fail(f, SYS_NP, 1, SEL_ERR(selector));
    }
    if (seg_mark_accessed(c, selector, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, selector, s);
    return 0;
}

int seg_push(struct sys_ctx *c, const struct vmp_x86_seg *ss, uint32_t *esp, uint32_t value,
             unsigned bytes, unsigned access, struct sys_fault *f)
{
    uint32_t mask = (ss->attr & SEG_A_DB) ? 0xffffffffu : 0xffffu;
    uint32_t sp = (*esp - bytes) & mask;
    if (mmu_write(c, ss->base + sp, &value, bytes, access, f) < 0) {
        if (f->vector != SYS_PF)
            f->vector = SYS_SS;
        return -1;
    }
    *esp = (*esp & ~mask) | sp;
    return 0;
}

int seg_pop(struct sys_ctx *c, const struct vmp_x86_seg *ss, uint32_t *esp, uint32_t *value,
            unsigned bytes, unsigned access, struct sys_fault *f)
{
    uint32_t mask = (ss->attr & SEG_A_DB) ? 0xffffffffu : 0xffffu;
    uint32_t sp = *esp & mask, v = 0;
    if (mmu_read(c, ss->base + sp, &v, bytes, access, f) < 0)
        return -1;
    *value = v;
    *esp = (*esp & ~mask) | ((sp + bytes) & mask);
    return 0;
}

/* The checks of far JMP/CALL on a code segment descriptor (SDM 2 JMP). */
static int seg_check_far_target(struct sys_ctx *c, uint16_t selector, uint32_t offset,
                                struct vmp_x86_seg *out, struct sys_fault *f)
{
    unsigned cpl = sys_cpl(c->st), rpl = selector & 3u;
    uint64_t raw;
    if (seg_desc_read(c, selector, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    if (!(attr & SEG_A_S) || !(type & SEG_T_CODE))
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector)); /* gates, TSS, data */
    if (type & SEG_T_CONF) {
        if (dpl > cpl)
            return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    } else if (rpl > cpl || dpl != cpl) {
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    }
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, SEL_ERR(selector));
    if (seg_mark_accessed(c, selector, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, (uint16_t)((selector & 0xfffcu) | cpl), out);
    if (offset > out->limit)
        return sys_fail(f, SYS_GP, 1, 0);
    return 0;
}

static int seg_real_far(struct sys_ctx *c, uint16_t selector, uint32_t offset, unsigned opsize)
{
    struct vmp_x86_state *st = c->st;
    st->seg[VMP_CS].selector = selector;
    st->seg[VMP_CS].base = (uint32_t)selector << 4;
    st->eip = opsize == 2 ? offset & 0xffffu : offset;
    return 0;
}

int seg_far_jmp(struct sys_ctx *c, uint16_t selector, uint32_t offset, unsigned opsize_bytes,
                struct sys_fault *f)
{
    struct vmp_x86_seg cs;
    if (opsize_bytes == 2)
        offset &= 0xffffu;
    if (!(c->st->cr0 & SYS_CR0_PE))
        return seg_real_far(c, selector, offset, opsize_bytes);
    if (seg_check_far_target(c, selector, offset, &cs, f) < 0)
        return -1;
    c->st->seg[VMP_CS] = cs;
    c->st->eip = offset;
    return 0;
}

int seg_far_call(struct sys_ctx *c, uint16_t selector, uint32_t offset, unsigned opsize_bytes,
                 struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    struct vmp_x86_seg cs;
    uint32_t esp = st->gpr[VMP_ESP];
    unsigned access = seg_access(st);
    if (opsize_bytes == 2)
        offset &= 0xffffu;
    if ((st->cr0 & SYS_CR0_PE) && seg_check_far_target(c, selector, offset, &cs, f) < 0)
        return -1;
    if (seg_push(c, &st->seg[VMP_SS], &esp, st->seg[VMP_CS].selector, opsize_bytes, access,
                 f) < 0 ||
        seg_push(c, &st->seg[VMP_SS], &esp, st->eip, opsize_bytes, access, f) < 0)
        return -1;
    st->gpr[VMP_ESP] = esp;
    if (!(st->cr0 & SYS_CR0_PE))
        return seg_real_far(c, selector, offset, opsize_bytes);
    st->seg[VMP_CS] = cs;
    st->eip = offset;
    return 0;
}

void seg_null_invalid(struct vmp_x86_state *st)
{
    static const int regs[] = {VMP_ES, VMP_DS, VMP_FS, VMP_GS};
    unsigned cpl = sys_cpl(st);
    for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        struct vmp_x86_seg *s = &st->seg[regs[i]];
        unsigned type = s->attr & SEG_A_TYPE;
        int conf_code = (type & SEG_T_CODE) && (type & SEG_T_CONF);
        if ((s->attr & SEG_A_S) && !conf_code && SEG_A_DPL(s->attr) < cpl) {
            s->selector = 0;
            s->attr = 0;
            s->base = 0;
            s->limit = 0;
        }
    }
}

/* Checks of the CS selector popped by far RET or IRET (SDM 2 RET, IRET). */
static int seg_check_return_cs(struct sys_ctx *c, uint16_t selector, struct vmp_x86_seg *out,
                               struct sys_fault *f)
{
    unsigned cpl = sys_cpl(c->st), rpl = selector & 3u;
    uint64_t raw;
    if (seg_desc_read(c, selector, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    if (!(attr & SEG_A_S) || !(type & SEG_T_CODE) || rpl < cpl)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    if ((type & SEG_T_CONF) ? dpl > rpl : dpl != rpl)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, SEL_ERR(selector));
    if (seg_mark_accessed(c, selector, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, selector, out);
    return 0;
}

/* The SS popped on a return to privilege level rpl. */
static int seg_check_return_ss(struct sys_ctx *c, uint16_t selector, unsigned rpl,
                               struct vmp_x86_seg *out, struct sys_fault *f)
{
    uint64_t raw;
    if (seg_desc_read(c, selector, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE;
    if ((selector & 3u) != rpl || !(attr & SEG_A_S) || (type & SEG_T_CODE) ||
        !(type & SEG_T_W) || SEG_A_DPL(attr) != rpl)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_SS, 1, SEL_ERR(selector));
    if (seg_mark_accessed(c, selector, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, selector, out);
    return 0;
}

/*
 * Finish a far RET or IRET once EIP and CS are popped: esp_after points
 * past what was popped. Same level: load CS:EIP. Outer level: pop ESP and
 * SS too, load them, and null the data segments the outer level may not
 * use.
 */
int seg_return_frame(struct sys_ctx *c, uint16_t cs_sel, uint32_t eip, uint32_t esp_after,
                     unsigned opsize_bytes, uint16_t imm, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    struct vmp_x86_seg cs, ss;
    unsigned rpl = cs_sel & 3u, access = seg_access(st);
    if ((cs_sel & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, 0);
    if (seg_check_return_cs(c, cs_sel, &cs, f) < 0)
        return -1;
    if (eip > cs.limit)
        return sys_fail(f, SYS_GP, 1, 0);
    if (rpl == sys_cpl(st)) {
        st->seg[VMP_CS] = cs;
        st->eip = eip;
        st->gpr[VMP_ESP] = esp_after + imm;
        return 0;
    }
    uint32_t esp = esp_after + imm, new_esp, new_ss;
    if (seg_pop(c, &st->seg[VMP_SS], &esp, &new_esp, opsize_bytes, access, f) < 0 ||
        seg_pop(c, &st->seg[VMP_SS], &esp, &new_ss, opsize_bytes, access, f) < 0)
        return -1;
    if ((new_ss & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, 0);
    if (seg_check_return_ss(c, (uint16_t)new_ss, rpl, &ss, f) < 0)
        return -1;
    st->seg[VMP_CS] = cs;
    st->seg[VMP_SS] = ss;
    st->eip = eip;
    st->gpr[VMP_ESP] = (ss.attr & SEG_A_DB) ? new_esp + imm : (new_esp + imm) & 0xffffu;
    seg_null_invalid(st);
    return 0;
}

int seg_far_ret(struct sys_ctx *c, unsigned opsize_bytes, uint16_t imm, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint32_t esp = st->gpr[VMP_ESP], eip, cs;
    unsigned access = seg_access(st);
    if (seg_pop(c, &st->seg[VMP_SS], &esp, &eip, opsize_bytes, access, f) < 0 ||
        seg_pop(c, &st->seg[VMP_SS], &esp, &cs, opsize_bytes, access, f) < 0)
        return -1;
    if (!(st->cr0 & SYS_CR0_PE)) {
        st->gpr[VMP_ESP] = esp + imm;
        return seg_real_far(c, (uint16_t)cs, eip, opsize_bytes);
    }
    return seg_return_frame(c, (uint16_t)cs, eip, esp, opsize_bytes, imm, f);
}

int seg_sysenter(struct sys_ctx *c, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint16_t cs = (uint16_t)st->msr.sysenter_cs;
    /* SDM 2 SYSENTER: #GP(0) in real mode or with IA32_SYSENTER_CS[15:2] = 0 */
    if (!(st->cr0 & SYS_CR0_PE) || (cs & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, 0);
    st->eflags &= ~(SYS_FL_VM | SYS_FL_IF | SYS_FL_RF);
    st->seg[VMP_CS] = (struct vmp_x86_seg){(uint16_t)(cs & 0xfffcu), SEG_ATTR_CODE32(0), 0,
                                           0xffffffffu};
    st->seg[VMP_SS] = (struct vmp_x86_seg){(uint16_t)((cs + 8) & 0xfffcu), SEG_ATTR_DATA32(0),
                                           0, 0xffffffffu};
    st->gpr[VMP_ESP] = st->msr.sysenter_esp;
    st->eip = st->msr.sysenter_eip;
    return 0;
}

int seg_sysexit(struct sys_ctx *c, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint16_t cs = (uint16_t)st->msr.sysenter_cs;
    if (!(st->cr0 & SYS_CR0_PE) || (cs & 0xfffcu) == 0 || sys_cpl(st) != 0)
        return sys_fail(f, SYS_GP, 1, 0);
    st->seg[VMP_CS] = (struct vmp_x86_seg){(uint16_t)((cs + 16) | 3), SEG_ATTR_CODE32(3), 0,
                                           0xffffffffu};
    st->seg[VMP_SS] = (struct vmp_x86_seg){(uint16_t)((cs + 24) | 3), SEG_ATTR_DATA32(3), 0,
                                           0xffffffffu};
    st->gpr[VMP_ESP] = st->gpr[VMP_ECX];
    st->eip = st->gpr[VMP_EDX];
    return 0;
}

/* Fetch for LAR/LSL/VERR/VERW: 0 (ZF=0) for anything that fails, including
 * a page fault on the table (hardware would raise it; documented gap). */
static int seg_probe(struct sys_ctx *c, uint16_t selector, unsigned *attr, uint64_t *raw)
{
    struct sys_fault f;
    if ((selector & 0xfffcu) == 0 || seg_desc_read(c, selector, raw, &f) < 0)
        return 0;
    *attr = seg_raw_attr(*raw);
    unsigned type = *attr & SEG_A_TYPE, dpl = SEG_A_DPL(*attr);
    int conf_code = (*attr & SEG_A_S) && (type & SEG_T_CODE) && (type & SEG_T_CONF);
    if (!conf_code && (dpl < sys_cpl(c->st) || dpl < (selector & 3u)))
        return 0;
    return 1;
}

int seg_lar(struct sys_ctx *c, uint16_t selector, uint32_t *out)
{
    unsigned attr;
    uint64_t raw;
    if (!seg_probe(c, selector, &attr, &raw))
        return 0;
    /* SDM 2 LAR: system types 1-5, 9, B, C are valid */
    static const uint16_t sys_ok = 0x1a3eu;
    if (!(attr & SEG_A_S) && !((sys_ok >> (attr & SEG_A_TYPE)) & 1u))
        return 0;
    *out = (uint32_t)(raw >> 32) & 0x00f0ff00u;
    return 1;
}

int seg_lsl(struct sys_ctx *c, uint16_t selector, uint32_t *out)
{
    unsigned attr;
    uint64_t raw;
    struct vmp_x86_seg s;
    if (!seg_probe(c, selector, &attr, &raw))
        return 0;
    /* SDM 2 LSL: system types 1, 2, 3, 9, B (no gates) */
    static const uint16_t sys_ok = 0x0a0eu;
    if (!(attr & SEG_A_S) && !((sys_ok >> (attr & SEG_A_TYPE)) & 1u))
        return 0;
    seg_from_desc(raw, selector, &s);
    *out = s.limit;
    return 1;
}

int seg_verr(struct sys_ctx *c, uint16_t selector)
{
    unsigned attr;
    uint64_t raw;
    if (!seg_probe(c, selector, &attr, &raw) || !(attr & SEG_A_S))
        return 0;
    unsigned type = attr & SEG_A_TYPE;
    return !(type & SEG_T_CODE) || (type & SEG_T_W);
}

int seg_verw(struct sys_ctx *c, uint16_t selector)
{
    unsigned attr;
    uint64_t raw;
    if (!seg_probe(c, selector, &attr, &raw) || !(attr & SEG_A_S))
        return 0;
    unsigned type = attr & SEG_A_TYPE;
    return !(type & SEG_T_CODE) && (type & SEG_T_W);
}
