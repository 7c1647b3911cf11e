/*
 * sys_env.h - a small protected-mode machine for the system-mode unit tests
 * (test_sys_seg.c, test_sys_intr.c): 1 MiB of RAM, paging off, a GDT at
 * 0x1000, an IDT at 0x2000, a 32-bit TSS at 0x3000, CPL 0 on flat segments.
 *
 * GDT: 0x08 code DPL0, 0x10 data DPL0, 0x18 code DPL3, 0x20 data DPL3,
 * 0x28 TSS (ESP0 0x9000, SS0 0x10), 0x30 data DPL0 not present, 0x38
 * execute-only code DPL0, 0x40 data DPL3 base 0x12345000 limit 0xfff
 * (byte granular), 0x48 32-bit call gate DPL3, 0x50 conforming code DPL0.
 */
#ifndef SYS_ENV_H
#define SYS_ENV_H

#include <stdlib.h>
#include <string.h>

#include "intr.h"
#include "mmu.h"
#include "seg.h"

#define ENV_RAM  (1u << 20)
#define ENV_GDT  0x1000u
#define ENV_IDT  0x2000u
#define ENV_TSS  0x3000u

struct env {
    struct vmp_x86_state st;
    struct sys_ctx c;
    uint8_t *ram;
};

static inline uint32_t env_rd32(struct env *e, uint32_t gpa)
{
    uint32_t v;
    memcpy(&v, e->ram + gpa, 4);
    return v;
}

static inline void env_wr32(struct env *e, uint32_t gpa, uint32_t v)
{
    memcpy(e->ram + gpa, &v, 4);
}

static inline void env_desc(struct env *e, unsigned index, uint64_t raw)
{
    memcpy(e->ram + ENV_GDT + index * 8, &raw, 8);
}

/* An IDT gate: type 0xE interrupt, 0xF trap. */
static inline void env_gate(struct env *e, unsigned vector, uint16_t sel, uint32_t offset,
                            unsigned type, unsigned dpl, int present)
{
    uint32_t lo = ((uint32_t)sel << 16) | (offset & 0xffffu);
    uint32_t hi = (offset & 0xffff0000u) | (type << 8) | (dpl << 13) | (present ? 0x8000u : 0);
    env_wr32(e, ENV_IDT + vector * 8, lo);
    env_wr32(e, ENV_IDT + vector * 8 + 4, hi);
}

static inline void env_set_cpl(struct env *e, unsigned cpl)
{
    if (cpl == 0) {
        e->st.seg[VMP_CS] = (struct vmp_x86_seg){0x08, SEG_ATTR_CODE32(0), 0, 0xffffffffu};
        e->st.seg[VMP_SS] = (struct vmp_x86_seg){0x10, SEG_ATTR_DATA32(0), 0, 0xffffffffu};
    } else {
        e->st.seg[VMP_CS] = (struct vmp_x86_seg){0x1b, SEG_ATTR_CODE32(3), 0, 0xffffffffu};
        e->st.seg[VMP_SS] = (struct vmp_x86_seg){0x23, SEG_ATTR_DATA32(3), 0, 0xffffffffu};
    }
}

static inline int env_setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    e->ram = calloc(1, ENV_RAM);
    e->c = (struct sys_ctx){&e->st, e->ram, ENV_RAM};
    e->st.cr0 = SYS_CR0_PE;
    e->st.eflags = 0x202;
    e->st.gdtr = (struct vmp_x86_dtr){ENV_GDT, 11 * 8 - 1};
    e->st.idtr = (struct vmp_x86_dtr){ENV_IDT, 256 * 8 - 1};
    env_desc(e, 1, 0x00cf9a000000ffffull);
    env_desc(e, 2, 0x00cf92000000ffffull);
    env_desc(e, 3, 0x00cffa000000ffffull);
    env_desc(e, 4, 0x00cff2000000ffffull);
    env_desc(e, 5, 0x0000890030000067ull);
    env_desc(e, 6, 0x00cf12000000ffffull);
    env_desc(e, 7, 0x00cf98000000ffffull);
    env_desc(e, 8, 0x1240f23450000fffull);
    env_desc(e, 9, 0x0000ec0000085000ull);
    env_desc(e, 10, 0x00cf9e000000ffffull);
    e->st.tr = (struct vmp_x86_seg){0x28, 0x8b, ENV_TSS, 0x67};
    env_wr32(e, ENV_TSS + 4, 0x9000);
    env_wr32(e, ENV_TSS + 8, 0x10);
    env_set_cpl(e, 0);
    e->st.gpr[VMP_ESP] = 0x8000;
    for (int s = 0; s < VMP_NSEG; s++)
        if (s != VMP_CS && s != VMP_SS)
            e->st.seg[s] = e->st.seg[VMP_SS];
    *state = e;
    return 0;
}

static inline int env_teardown(void **state)
{
    struct env *e = *state;
    free(e->ram);
    free(e);
    return 0;
}

#endif
