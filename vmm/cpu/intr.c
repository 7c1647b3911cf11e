/*
 * intr.c - exception and interrupt delivery, double faults and IRET (SDM 3A
 * chapter 6; SDM 2 INT n and IRET pseudocode). intr.h lists what is left
 * out.
 */
#include <string.h>

#include "intr.h"
#include "mmu.h"
#include "seg.h"

int intr_has_error_code(uint8_t vector)
{
    switch (vector) {
    case SYS_DF: case SYS_TS: case SYS_NP: case SYS_SS: case SYS_GP: case SYS_PF: case SYS_AC:
        return 1;
    default:
        return 0;
    }
}

static int intr_real(struct sys_ctx *c, uint8_t vector, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint32_t esp = st->gpr[VMP_ESP];
    uint16_t ivt[2];
    if ((uint32_t)vector * 4 + 3 > st->idtr.limit)
        return sys_fail(f, SYS_GP, 1, 0);
    if (mmu_read(c, st->idtr.base + vector * 4u, ivt, 4, 0, f) < 0)
        return -1;
    if (seg_push(c, &st->seg[VMP_SS], &esp, st->eflags, 2, 0, f) < 0 ||
        seg_push(c, &st->seg[VMP_SS], &esp, st->seg[VMP_CS].selector, 2, 0, f) < 0 ||
        seg_push(c, &st->seg[VMP_SS], &esp, st->eip, 2, 0, f) < 0)
        return -1;
    st->gpr[VMP_ESP] = esp;
    st->eflags &= ~(SYS_FL_IF | SYS_FL_TF | SYS_FL_AC | SYS_FL_RF);
    st->seg[VMP_CS].selector = ivt[1];
    st->seg[VMP_CS].base = (uint32_t)ivt[1] << 4;
    st->eip = ivt[0];
    return 0;
}

int intr_deliver(struct sys_ctx *c, uint8_t vector, int has_error, uint32_t error,
                 enum intr_kind kind, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint32_t ext = kind == INTR_EXTERNAL ? 1u : 0u;
    uint32_t idt_err = (uint32_t)vector * 8 + 2 + ext;
    unsigned cpl = sys_cpl(st);
    uint32_t gate[2];

    if (!(st->cr0 & SYS_CR0_PE))
        return intr_real(c, vector, f);
    if ((uint32_t)vector * 8 + 7 > st->idtr.limit)
        return sys_fail(f, SYS_GP, 1, idt_err);
    if (mmu_read(c, st->idtr.base + vector * 8u, gate, 8, 0, f) < 0)
        return -1;
    unsigned type = (gate[1] >> 8) & 0x1fu, gdpl = (gate[1] >> 13) & 3u;
    int is32 = type == 0x0e || type == 0x0f;
    if (type != 0x0e && type != 0x0f && type != 0x06 && type != 0x07 && type != 0x05)
        return sys_fail(f, SYS_GP, 1, idt_err);
    if (kind == INTR_SOFT && gdpl < cpl)
        return sys_fail(f, SYS_GP, 1, idt_err);
    if (!(gate[1] & 0x8000u))
        return sys_fail(f, SYS_NP, 1, idt_err);
    uint16_t sel = (uint16_t)(gate[0] >> 16);
    if (type == 0x05) /* task gate: SDM 2 INT n, TASK-GATE */
        return seg_task_switch(c, sel, SEG_TASK_INT, has_error, error, ext, f);
    uint32_t offset = (gate[0] & 0xffffu) | (is32 ? gate[1] & 0xffff0000u : 0);
    uint64_t raw;
    struct vmp_x86_seg cs;
    if ((sel & 0xfffcu) == 0)
        return sys_fail(f, SYS_GP, 1, ext);
    if (seg_desc_read(c, sel, &raw, f) < 0) {
        if (f->vector == SYS_GP)
            f->error = (sel & 0xfffcu) | ext;
        return -1;
    }
    seg_from_desc(raw, sel, &cs);
    unsigned ctype = cs.attr & SEG_A_TYPE, dpl = SEG_A_DPL(cs.attr);
    if (!(cs.attr & SEG_A_S) || !(ctype & SEG_T_CODE) || dpl > cpl)
        return sys_fail(f, SYS_GP, 1, (sel & 0xfffcu) | ext);
    if (!(cs.attr & SEG_A_P))
        return sys_fail(f, SYS_NP, 1, (sel & 0xfffcu) | ext);
    if (st->eflags & SYS_FL_VM)
        return sys_fail(f, SYS_GP, 1, (sel & 0xfffcu) | ext); /* no virtual-8086 mode */

    unsigned new_cpl = (ctype & SEG_T_CONF) ? cpl : dpl;
    unsigned size = is32 ? 4 : 2;
    struct vmp_x86_seg ss = st->seg[VMP_SS];
    uint32_t esp = st->gpr[VMP_ESP];
    unsigned access = new_cpl == 3 ? MMU_USER : 0;
    if (new_cpl < cpl) {
        if (seg_inner_stack(c, new_cpl, ext, &ss, &esp, f) < 0)
            return -1;
        if (seg_push(c, &ss, &esp, st->seg[VMP_SS].selector, size, access, f) < 0 ||
            seg_push(c, &ss, &esp, st->gpr[VMP_ESP], size, access, f) < 0)
            goto stack_fault;
    }
    if (seg_push(c, &ss, &esp, st->eflags, size, access, f) < 0 ||
        seg_push(c, &ss, &esp, st->seg[VMP_CS].selector, size, access, f) < 0 ||
        seg_push(c, &ss, &esp, st->eip, size, access, f) < 0 ||
        (has_error && seg_push(c, &ss, &esp, error, size, access, f) < 0))
        goto stack_fault;
    if (offset > cs.limit)
        return sys_fail(f, SYS_GP, 1, ext);
    cs.selector = (uint16_t)((sel & 0xfffcu) | new_cpl);
    st->seg[VMP_CS] = cs;
    st->seg[VMP_SS] = ss;
    st->gpr[VMP_ESP] = esp;
    st->eip = offset;
    st->eflags &= ~(SYS_FL_TF | SYS_FL_NT | SYS_FL_RF | SYS_FL_VM);
    if (!(type & 1u))
        st->eflags &= ~SYS_FL_IF; /* interrupt gate (SDM 3A 6.12.1.3) */
    return 0;
stack_fault:
    /* SDM 3A 6.12.1: a fault pushing the frame is #SS(selector) or #PF */
    if (f->vector == SYS_SS)
        f->error = new_cpl < cpl ? (ss.selector & 0xfffcu) | ext : ext;
    return -1;
}

/* SDM 3A table 6-4 */
static int intr_contributory(uint8_t v)
{
    return v == SYS_DE || v == SYS_TS || v == SYS_NP || v == SYS_SS || v == SYS_GP;
}

int intr_raise(struct sys_ctx *c, uint8_t vector, int has_error, uint32_t error, uint32_t cr2,
               enum intr_kind kind)
{
    struct sys_fault f;
    for (int round = 0; round < 4; round++) {
        if (vector == SYS_PF)
            c->st->cr2 = cr2;
        if (intr_deliver(c, vector, has_error, error, kind, &f) == 0)
            return 0;
        if (f.in_new_task) {
            /* a task gate's switch took place: the fault is the new task's
             * own, not one while delivering (SDM 3A 7.3) */
            vector = f.vector;
            has_error = f.has_error;
            error = f.error;
            cr2 = f.cr2;
            kind = INTR_EXCEPTION;
            continue;
        }
        if (vector == SYS_DF)
            return -1; /* triple fault: shutdown (SDM 3A 6.15, interrupt 8) */
        int first_cls = kind == INTR_EXCEPTION ? vector : -1;
        int df = (first_cls >= 0 && intr_contributory((uint8_t)first_cls) &&
                  intr_contributory(f.vector)) ||
                 (first_cls == SYS_PF && (f.vector == SYS_PF || intr_contributory(f.vector)));
        if (df) {
            vector = SYS_DF;
            has_error = 1;
            error = 0;
        } else {
            vector = f.vector;
            has_error = f.has_error;
            error = f.error;
            cr2 = f.cr2;
        }
        kind = INTR_EXCEPTION;
    }
    return -1;
}

int intr_iret(struct sys_ctx *c, unsigned opsize_bytes, struct sys_fault *f)
{
    struct vmp_x86_state *st = c->st;
    uint32_t esp = st->gpr[VMP_ESP], eip, cs, fl;
    unsigned access = seg_access(st), cpl = sys_cpl(st);
    uint32_t iopl = (st->eflags & SYS_FL_IOPL) >> 12;

    if ((st->cr0 & SYS_CR0_PE) && (st->eflags & SYS_FL_VM))
        return sys_fail(f, SYS_GP, 1, 0); /* virtual-8086 mode: not implemented */
    if ((st->cr0 & SYS_CR0_PE) && (st->eflags & SYS_FL_NT)) {
        /* SDM 2 IRET, TASK-RETURN: to the task in the current TSS's link */
        uint16_t link = 0;
        if (mmu_read(c, st->tr.base, &link, 2, 0, f) < 0)
            return -1;
        return seg_task_switch(c, link, SEG_TASK_IRET, 0, 0, 0, f);
    }
    if (seg_pop(c, &st->seg[VMP_SS], &esp, &eip, opsize_bytes, access, f) < 0 ||
        seg_pop(c, &st->seg[VMP_SS], &esp, &cs, opsize_bytes, access, f) < 0 ||
        seg_pop(c, &st->seg[VMP_SS], &esp, &fl, opsize_bytes, access, f) < 0)
        return -1;
    /* the flags IRET may change (SDM 2 IRET): arithmetic, TF, DF, NT, RF,
     * AC, ID always; IF when CPL <= IOPL; IOPL at CPL 0 */
    uint32_t mask = 0x4dd5u | SYS_FL_TF | SYS_FL_RF | SYS_FL_AC | SYS_FL_ID;
    if (cpl <= iopl)
        mask |= SYS_FL_IF;
    if (cpl == 0)
        mask |= SYS_FL_IOPL;
    if (opsize_bytes == 2)
        mask &= 0xffffu;
    if (!(st->cr0 & SYS_CR0_PE)) {
        st->gpr[VMP_ESP] = esp;
        st->seg[VMP_CS].selector = (uint16_t)cs;
        st->seg[VMP_CS].base = (cs & 0xffffu) << 4;
        st->eip = eip & 0xffffu;
        st->eflags = (st->eflags & ~mask) | (fl & mask) | 2u;
        return 0;
    }
    if (cpl == 0 && (fl & SYS_FL_VM) && opsize_bytes == 4)
        return sys_fail(f, SYS_GP, 1, 0);
    if (seg_return_frame(c, (uint16_t)cs, eip, esp, opsize_bytes, 0, f) < 0)
        return -1;
    st->eflags = (st->eflags & ~mask) | (fl & mask) | 2u;
    return 0;
}
