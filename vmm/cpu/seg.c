/*
 * seg.c - protected-mode segmentation (SDM 3A chapters 3 and 5, and the
 * pseudocode of MOV, POP, JMP, CALL, RET, LAR, LSL, VERR/VERW, SYSENTER and
 * SYSEXIT in SDM 2) and task switches (SDM 3A 7.3). seg.h says what is
 * and is not checked.
 */
#include <string.h>

#include "mmu.h"
#include "seg.h"

#define SEL_ERR(sel) ((uint32_t)((sel) & 0xfffcu))

static unsigned seg_access_cpl(unsigned cpl)
{
    return cpl == 3 ? MMU_USER : 0;
}

unsigned seg_access(const struct vmp_x86_state *st)
{
    return seg_access_cpl(sys_cpl(st));
}

static unsigned seg_raw_attr(uint64_t raw)
{
    uint32_t hi = (uint32_t)(raw >> 32);
    return ((hi >> 8) & 0xffu) | (((hi >> 20) & 0xfu) << 8);
}

void seg_from_desc(uint64_t raw, uint16_t selector, struct vmp_x86_seg *out)
{
    uint32_t lo = (uint32_t)raw, hi = (uint32_t)(raw >> 32);
    uint32_t limit = (lo & 0xffffu) | (hi & 0x000f0000u);
    out->selector = selector;
    out->base = (lo >> 16) | ((hi & 0xffu) << 16) | (hi & 0xff000000u);
    out->attr = (uint16_t)seg_raw_attr(raw);
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

int seg_inner_stack(struct sys_ctx *c, unsigned dpl, uint32_t ext, struct vmp_x86_seg *ss,
                    uint32_t *esp, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint32_t at = 4 + dpl * 8, ss_sel32 = 0;
    uint64_t raw;
    if (!(st->tr.attr & SEG_A_P) || at + 5 > st->tr.limit)
        return sys_fail(f, SYS_TS, 1, (st->tr.selector & 0xfffcu) | ext);
    if (mmu_read(c, st->tr.base + at, esp, 4, 0, f) < 0 ||
        mmu_read(c, st->tr.base + at + 4, &ss_sel32, 2, 0, f) < 0)
        return -1;
    uint16_t sel = (uint16_t)ss_sel32;
    if ((sel & 0xfffcu) == 0)
        return sys_fail(f, SYS_TS, 1, ext);
    if ((sel & 3u) != dpl || seg_desc_read(c, sel, &raw, f) < 0)
        return sys_fail(f, SYS_TS, 1, (sel & 0xfffcu) | ext);
    seg_from_desc(raw, sel, ss);
    unsigned type = ss->attr & SEG_A_TYPE;
    if (!(ss->attr & SEG_A_S) || (type & SEG_T_CODE) || !(type & SEG_T_W) ||
        SEG_A_DPL(ss->attr) != dpl)
        return sys_fail(f, SYS_TS, 1, (sel & 0xfffcu) | ext);
    if (!(ss->attr & SEG_A_P))
        return sys_fail(f, SYS_SS, 1, (sel & 0xfffcu) | ext);
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

static int seg_far_system(struct sys_ctx *c, uint16_t selector, enum seg_task_kind kind,
                          struct sys_fault *f);

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
    int t = seg_far_system(c, selector, SEG_TASK_JMP, f);
    if (t <= 0)
        return t;
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
    int t = seg_far_system(c, selector, SEG_TASK_CALL, f);
    if (t <= 0)
        return t;
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

/*
 * Task switches (SDM 3A 7.3, and the SWITCH-TASKS steps of JMP, CALL, INT n
 * and IRET in SDM 2). 32-bit TSS layout (SDM 3A figure 7-2):
 */
#define TSS_LINK 0x00u
#define TSS_CR3 0x1cu
#define TSS_EIP 0x20u
#define TSS_EFLAGS 0x24u
#define TSS_GPR 0x28u   /* EAX..EDI */
#define TSS_SREG 0x48u  /* ES CS SS DS FS GS, 4 bytes each */
#define TSS_LDT 0x60u
#define TSS_BYTES 0x68u /* a 32-bit TSS's limit is at least 0x67 */
#define TSS_SAVE_BYTES (TSS_LDT - TSS_EIP) /* the dynamic fields a switch saves */

#define DESC_TSS32 0x9u   /* available 32-bit TSS; | 2 when busy */
#define DESC_TSS16 0x1u
#define DESC_TASK_GATE 0x5u
#define DESC_LDT 0x2u
#define DESC_BUSY 0x2u

/* EFLAGS bits a TSS image can load (the reserved ones read as 0, bit 1 as 1) */
#define TSS_EFLAGS_MASK 0x003f7fd5u

static int seg_in_new_task(struct sys_fault *f)
{
    f->in_new_task = 1;
    return -1;
}

/*
 * The TSS descriptor a task switch goes to: in the GDT, a 32-bit TSS, busy
 * for IRET and available otherwise, present. Faults: #GP(sel) (IRET: #TS)
 * and #NP(sel), EXT as given. A 16-bit TSS (286 tasks) is not implemented:
 * #GP(sel).
 */
static int seg_tss_lookup(struct sys_ctx *c, uint16_t sel, enum seg_task_kind kind, uint32_t ext,
                          uint64_t *raw, struct sys_fault *f)
{
    uint8_t bad = kind == SEG_TASK_IRET ? SYS_TS : SYS_GP;
    uint32_t err = SEL_ERR(sel) | ext;
    if ((sel & 4u) || (sel & 0xfffcu) == 0)
        return sys_fail(f, bad, 1, err);
    if (seg_desc_read(c, sel, raw, f) < 0) {
        if (f->vector == SYS_GP)
            sys_fail(f, bad, 1, err);
        return -1;
    }
    unsigned attr = seg_raw_attr(*raw), type = attr & SEG_A_TYPE;
    if ((attr & SEG_A_S) || (type & ~DESC_BUSY) != DESC_TSS32)
        return sys_fail(f, (type & ~DESC_BUSY) == DESC_TSS16 ? SYS_GP : bad, 1, err);
    if (!(type & DESC_BUSY) != (kind != SEG_TASK_IRET))
        return sys_fail(f, bad, 1, err);
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, err);
    return 0;
}

/* Set or clear the busy bit of the GDT's TSS descriptor sel. */
static int seg_tss_busy(struct sys_ctx *c, uint16_t sel, int busy, struct sys_fault *f)
{
    uint32_t gla = c->st->gdtr.base + (sel & 0xfff8u);
    uint8_t b;
    if (mmu_read(c, gla + 5, &b, 1, 0, f) < 0)
        return -1;
    b = busy ? (uint8_t)(b | DESC_BUSY) : (uint8_t)(b & ~DESC_BUSY);
    return mmu_write(c, gla + 5, &b, 1, 0, f);
}

/* A segment load that fails in the new task: #GP becomes #TS, and EXT. */
static int seg_task_fault(struct sys_fault *f, uint32_t ext)
{
    if (f->vector == SYS_GP)
        f->vector = SYS_TS;
    if (f->vector != SYS_PF)
        f->error |= ext;
    return seg_in_new_task(f);
}

/* The new task's CS (SDM 3A table 7-1: #TS for a bad selector or type or a
 * DPL that does not match the RPL, #NP when not present). */
static int seg_task_load_cs(struct sys_ctx *c, uint16_t sel, uint32_t ext, struct sys_fault *f)
{
    uint64_t raw;
    uint32_t err = SEL_ERR(sel) | ext;
    if ((sel & 0xfffcu) == 0)
        return sys_fail(f, SYS_TS, 1, ext);
    if (seg_desc_read(c, sel, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    if (!(attr & SEG_A_S) || !(type & SEG_T_CODE) ||
        ((type & SEG_T_CONF) ? dpl > (sel & 3u) : dpl != (sel & 3u)))
        return sys_fail(f, SYS_TS, 1, err);
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, err);
    if (seg_mark_accessed(c, sel, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, sel, &c->st->seg[VMP_CS]);
    return 0;
}

/* The new task's LDT: null (no LDT) or an LDT descriptor in the GDT. */
static int seg_task_load_ldt(struct sys_ctx *c, uint16_t sel, uint32_t ext, struct sys_fault *f)
{
    uint64_t raw;
    if ((sel & 0xfffcu) == 0)
        return 0;
    if ((sel & 4u) || seg_desc_read(c, sel, &raw, f) < 0) {
        if ((sel & 4u) || f->vector == SYS_GP)
            sys_fail(f, SYS_TS, 1, SEL_ERR(sel) | ext);
        return -1;
    }
    unsigned attr = seg_raw_attr(raw);
    if ((attr & SEG_A_S) || (attr & SEG_A_TYPE) != DESC_LDT || !(attr & SEG_A_P))
        return sys_fail(f, SYS_TS, 1, SEL_ERR(sel) | ext);
    seg_from_desc(raw, sel, &c->st->ldtr);
    return 0;
}

int seg_task_switch(struct sys_ctx *c, uint16_t sel, enum seg_task_kind kind, int has_error,
                    uint32_t error, uint32_t ext, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint64_t raw;
    uint32_t img[TSS_BYTES / 4], save[TSS_SAVE_BYTES / 4];
    struct vmp_x86_seg ntss;
    uint16_t old_sel = st->tr.selector;

    if (seg_tss_lookup(c, sel, kind, ext, &raw, f) < 0)
        return -1;
    seg_from_desc(raw, sel, &ntss);
    if (ntss.limit < TSS_BYTES - 1)
        return sys_fail(f, SYS_TS, 1, SEL_ERR(sel) | ext);
    /* the current task's TSS must hold what is saved */
    if ((st->tr.attr & (SEG_A_S | SEG_A_TYPE)) != (DESC_TSS32 | DESC_BUSY) ||
        st->tr.limit < TSS_LDT - 1)
        return sys_fail(f, SYS_TS, 1, SEL_ERR(old_sel) | ext);
    if (mmu_read(c, ntss.base, img, sizeof img, 0, f) < 0)
        return -1;
    if (img[TSS_EFLAGS / 4] & SYS_FL_VM)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(sel) | ext); /* no virtual-8086 tasks */

    /* step 8: the current state into the old TSS (IRET saves NT clear) */
    save[0] = st->eip;
    save[1] = kind == SEG_TASK_IRET ? st->eflags & ~SYS_FL_NT : st->eflags;
    for (int i = 0; i < 8; i++)
        save[2 + i] = st->gpr[i];
    for (int i = 0; i < VMP_NSEG; i++)
        save[10 + i] = st->seg[i].selector;
    if (mmu_write(c, st->tr.base + TSS_EIP, save, sizeof save, 0, f) < 0)
        return -1;
    /* step 9: nesting links the new task back to the old one */
    int nest = kind == SEG_TASK_CALL || kind == SEG_TASK_INT;
    if (nest && mmu_write(c, ntss.base + TSS_LINK, &old_sel, 2, 0, f) < 0)
        return -1;
    /* steps 6 and 10: busy bits */
    if ((kind == SEG_TASK_JMP || kind == SEG_TASK_IRET) && seg_tss_busy(c, old_sel, 0, f) < 0)
        return -1;
    if (kind != SEG_TASK_IRET && seg_tss_busy(c, sel, 1, f) < 0)
        return -1;

    /* commit (step 11 on): the new task's registers; descriptors follow,
     * and what fails from here on is the new task's fault */
    ntss.attr |= DESC_BUSY;
    st->tr = ntss;
    st->cr0 |= SYS_CR0_TS;
    if (st->cr0 & SYS_CR0_PG)
        st->cr3 = img[TSS_CR3 / 4];
    st->eflags = (img[TSS_EFLAGS / 4] & TSS_EFLAGS_MASK) | 2u | (nest ? SYS_FL_NT : 0);
    st->eip = img[TSS_EIP / 4];
    for (int i = 0; i < 8; i++)
        st->gpr[i] = img[TSS_GPR / 4 + i];
    for (int i = 0; i < VMP_NSEG; i++) /* selectors now, caches once checked */
        st->seg[i] = (struct vmp_x86_seg){(uint16_t)img[TSS_SREG / 4 + i], 0, 0, 0};
    st->ldtr = (struct vmp_x86_seg){(uint16_t)img[TSS_LDT / 4], 0, 0, 0};

    if (seg_task_load_ldt(c, st->ldtr.selector, ext, f) < 0 ||
        seg_task_load_cs(c, st->seg[VMP_CS].selector, ext, f) < 0)
        return seg_task_fault(f, ext);
    static const int data_regs[] = {VMP_SS, VMP_DS, VMP_ES, VMP_FS, VMP_GS};
    for (unsigned i = 0; i < sizeof data_regs / sizeof data_regs[0]; i++) {
        int r = data_regs[i];
        uint16_t s = st->seg[r].selector;
        if (seg_load(c, r, s, f) < 0)
            return seg_task_fault(f, ext);
    }
    if (has_error) {
        uint32_t esp = st->gpr[VMP_ESP];
        unsigned size = (st->seg[VMP_SS].attr & SEG_A_DB) ? 4 : 2;
        if (seg_push(c, &st->seg[VMP_SS], &esp, error, size, seg_access(st), f) < 0) {
            if (f->vector == SYS_SS)
                f->error = ext;
            return seg_in_new_task(f);
        }
        st->gpr[VMP_ESP] = esp;
    }
    if (st->eip > st->seg[VMP_CS].limit) {
        sys_fail(f, SYS_GP, 1, ext);
        return seg_in_new_task(f);
    }
    return 0;
}

/*
 * Far JMP/CALL through a call gate (SDM 2 JMP, CALL: CALL-GATE; SDM 3A
 * 5.8.3-5.8.5): JMP to a code segment at the same level (or a conforming
 * one), CALL to the same level or, for a non-conforming more privileged
 * segment, on the inner stack from the TSS with the caller's SS:ESP, the
 * gate's parameter count of parameters copied, CS:EIP pushed. 16-bit
 * gates push and copy words.
 */
static int seg_far_gate(struct sys_ctx *c, uint16_t gsel, uint64_t graw, int call,
                        struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    unsigned cpl = sys_cpl(st), gattr = seg_raw_attr(graw), gdpl = SEG_A_DPL(gattr);
    unsigned size = (gattr & SEG_A_TYPE) == 0xcu ? 4 : 2;
    unsigned nparams = (unsigned)(graw >> 32) & 0x1fu;
    uint16_t sel = (uint16_t)(graw >> 16);
    uint32_t off = (uint32_t)(graw & 0xffffu);
    uint64_t raw;
    struct vmp_x86_seg cs;
    if (size == 4)
        off |= (uint32_t)(graw >> 32) & 0xffff0000u;
    if (gdpl < cpl || (gsel & 3u) > gdpl)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(gsel));
    if (!(gattr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, SEL_ERR(gsel));
    if ((sel & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, 0);
    if (seg_desc_read(c, sel, &raw, f) < 0)
        return -1;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    int conf = (type & SEG_T_CONF) != 0;
    if (!(attr & SEG_A_S) || !(type & SEG_T_CODE) || dpl > cpl || (!call && !conf && dpl != cpl))
        return sys_fail(f, SYS_GP, 1, SEL_ERR(sel));
    if (!(attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, SEL_ERR(sel));
    unsigned new_cpl = call && !conf ? dpl : cpl;
    seg_from_desc(raw, (uint16_t)((sel & 0xfffcu) | new_cpl), &cs);
    if (off > cs.limit)
        return sys_fail(f, SYS_GP, 1, 0);
    struct vmp_x86_seg ss = st->seg[VMP_SS];
    uint32_t esp = st->gpr[VMP_ESP];
    if (call && new_cpl < cpl) {
        /* MORE-PRIVILEGE: the caller's SS:ESP and parameters on the inner stack */
        const struct vmp_x86_seg *oss = &st->seg[VMP_SS];
        uint32_t omask = (oss->attr & SEG_A_DB) ? 0xffffffffu : 0xffffu, params[31];
        for (unsigned i = 0; i < nparams; i++) {
            params[i] = 0;
            if (mmu_read(c, oss->base + ((st->gpr[VMP_ESP] + i * size) & omask), &params[i], size,
                         seg_access(st), f) < 0)
                return -1;
        }
        if (seg_inner_stack(c, new_cpl, 0, &ss, &esp, f) < 0)
            return -1;
        if (seg_push(c, &ss, &esp, oss->selector, size, 0, f) < 0 ||
            seg_push(c, &ss, &esp, st->gpr[VMP_ESP], size, 0, f) < 0)
            goto stack_fault;
        for (unsigned i = nparams; i-- > 0;)
            if (seg_push(c, &ss, &esp, params[i], size, 0, f) < 0)
                goto stack_fault;
    }
    if (call && (seg_push(c, &ss, &esp, st->seg[VMP_CS].selector, size, seg_access_cpl(new_cpl), f) < 0 ||
                 seg_push(c, &ss, &esp, st->eip, size, seg_access_cpl(new_cpl), f) < 0))
        goto stack_fault;
    if (seg_mark_accessed(c, sel, &raw, f) < 0)
        return -1;
    st->seg[VMP_CS] = cs;
    st->seg[VMP_SS] = ss;
    st->gpr[VMP_ESP] = esp;
    st->eip = off;
    return 0;
stack_fault:
    if (f->vector == SYS_SS)
        f->error = new_cpl < cpl ? SEL_ERR(ss.selector) : 0;
    return -1;
}

/*
 * Far JMP/CALL whose selector names a system descriptor: a call gate
 * (seg_far_gate), or a TSS or task gate: a task switch (SDM 2 JMP, CALL:
 * TASK-GATE, TASK-STATE-SEGMENT); anything else is #GP(selector).
 */
static int seg_far_task(struct sys_ctx *c, uint16_t selector, uint64_t raw, enum seg_task_kind kind,
                        struct sys_fault *f)
{
    unsigned cpl = sys_cpl(c->st), rpl = selector & 3u;
    unsigned attr = seg_raw_attr(raw), type = attr & SEG_A_TYPE, dpl = SEG_A_DPL(attr);
    uint16_t tss = selector;
    if (type == 0xcu || type == 0x4u)
        return seg_far_gate(c, selector, raw, kind == SEG_TASK_CALL, f);
    if (dpl < cpl || dpl < rpl)
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    if (type == DESC_TASK_GATE) {
        if (!(attr & SEG_A_P))
            return sys_fail(f, SYS_NP, 1, SEL_ERR(selector));
        tss = (uint16_t)(raw >> 16);
    } else if ((type & ~DESC_BUSY) != DESC_TSS32) {
        return sys_fail(f, SYS_GP, 1, SEL_ERR(selector));
    }
    return seg_task_switch(c, tss, kind, 0, 0, 0, f);
}

/* 1: selector names a code segment (or real mode): the caller goes on;
 * else the task switch's 0 or -1. */
static int seg_far_system(struct sys_ctx *c, uint16_t selector, enum seg_task_kind kind,
                          struct sys_fault *f)
{
    uint64_t raw;
    if (!(c->st->cr0 & SYS_CR0_PE))
        return 1;
    if ((selector & 0xfffcu) == 0)
        return 1; /* the code-segment path raises #GP(0) */
    if (seg_desc_read(c, selector, &raw, f) < 0)
        return -1;
    if (seg_raw_attr(raw) & SEG_A_S)
        return 1;
    return seg_far_task(c, selector, raw, kind, f);
}
