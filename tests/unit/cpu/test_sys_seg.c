/*
 * test_sys_seg.c - protected-mode segmentation (vmm/cpu/seg.c): segment
 * register loads and their #GP/#NP/#SS error codes, the accessed bit, far
 * JMP/CALL/RET within and across privilege levels, SYSENTER/SYSEXIT,
 * LAR/LSL/VERR/VERW, call gates, task switches by JMP/CALL/IRET. The machine is
 * sys_env.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sys_env.h"

static void expect_fault(int rc, const struct sys_fault *f, uint8_t vector, uint32_t error)
{
    assert_int_equal(rc, -1);
    assert_int_equal(f->vector, vector);
    assert_true(f->has_error);
    assert_int_equal(f->error, error);
}

static void test_seg_load_data_sets_cache_and_accessed(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    assert_int_equal(seg_load(&e->c, VMP_DS, 0x43, &f), 0);
    assert_int_equal(e->st.seg[VMP_DS].selector, 0x43);
    assert_int_equal(e->st.seg[VMP_DS].base, 0x12345000);
    assert_int_equal(e->st.seg[VMP_DS].limit, 0xfff);
    assert_int_equal(SEG_A_DPL(e->st.seg[VMP_DS].attr), 3);
    assert_int_equal(e->ram[ENV_GDT + 8 * 8 + 5], 0xf3); /* accessed bit written back */
    assert_int_equal(seg_load(&e->c, VMP_ES, 0x10, &f), 0);
    assert_int_equal(e->st.seg[VMP_ES].limit, 0xffffffffu);
    /* a readable code segment may be loaded into a data register */
    assert_int_equal(seg_load(&e->c, VMP_FS, 0x08, &f), 0);
    /* null selector: an unusable segment, no fault */
    assert_int_equal(seg_load(&e->c, VMP_GS, 0x0003, &f), 0);
    assert_int_equal(e->st.seg[VMP_GS].attr & SEG_A_P, 0);
}

static void test_seg_load_faults(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    struct vmp_x86_seg before = e->st.seg[VMP_DS];
    expect_fault(seg_load(&e->c, VMP_DS, 0x30, &f), &f, SYS_NP, 0x30);
    expect_fault(seg_load(&e->c, VMP_DS, 0x38, &f), &f, SYS_GP, 0x38); /* execute-only */
    expect_fault(seg_load(&e->c, VMP_DS, 0x28, &f), &f, SYS_GP, 0x28); /* TSS */
    expect_fault(seg_load(&e->c, VMP_DS, 0x103, &f), &f, SYS_GP, 0x100); /* past the GDT */
    expect_fault(seg_load(&e->c, VMP_DS, 0x0c, &f), &f, SYS_GP, 0x0c); /* LDT: none */
    assert_memory_equal(&e->st.seg[VMP_DS], &before, sizeof before);
    /* SS: null, RPL != CPL, DPL != CPL, not writable, not present */
    expect_fault(seg_load(&e->c, VMP_SS, 0x00, &f), &f, SYS_GP, 0);
    expect_fault(seg_load(&e->c, VMP_SS, 0x13, &f), &f, SYS_GP, 0x10);
    expect_fault(seg_load(&e->c, VMP_SS, 0x20, &f), &f, SYS_GP, 0x20);
    expect_fault(seg_load(&e->c, VMP_SS, 0x08, &f), &f, SYS_GP, 0x08);
    env_desc(e, 6, 0x00cf12000000ffffull);
    expect_fault(seg_load(&e->c, VMP_SS, 0x30, &f), &f, SYS_SS, 0x30);
    /* CPL 3 may not load DPL 0 data */
    env_set_cpl(e, 3);
    expect_fault(seg_load(&e->c, VMP_DS, 0x10, &f), &f, SYS_GP, 0x10);
    assert_int_equal(seg_load(&e->c, VMP_DS, 0x23, &f), 0);
    /* but a conforming code segment is fine for data */
    assert_int_equal(seg_load(&e->c, VMP_ES, 0x50, &f), 0);
}

static void test_seg_load_real_mode(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    e->st.cr0 = 0;
    assert_int_equal(seg_load(&e->c, VMP_SS, 0x1234, &f), 0);
    assert_int_equal(e->st.seg[VMP_SS].base, 0x12340);
}

static void test_seg_far_jmp(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    assert_int_equal(seg_far_jmp(&e->c, 0x08, 0x1234, 4, &f), 0);
    assert_int_equal(e->st.eip, 0x1234);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x08);
    /* to a DPL 3 non-conforming segment from CPL 0: #GP(sel) */
    expect_fault(seg_far_jmp(&e->c, 0x1b, 0, 4, &f), &f, SYS_GP, 0x18);
    /* data segment, the current (busy) TSS, null */
    expect_fault(seg_far_jmp(&e->c, 0x10, 0, 4, &f), &f, SYS_GP, 0x10);
    env_desc(e, 5, 0x00008b0030000067ull);
    expect_fault(seg_far_jmp(&e->c, 0x28, 0, 4, &f), &f, SYS_GP, 0x28);
    assert_int_equal(f.in_new_task, 0);
    expect_fault(seg_far_jmp(&e->c, 0x00, 0, 4, &f), &f, SYS_GP, 0);
    /* through the call gate (to 0x08:0x5000): the gate's offset, not the JMP's */
    assert_int_equal(seg_far_jmp(&e->c, 0x4b, 0x1111, 4, &f), 0);
    assert_int_equal(e->st.eip, 0x5000);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x08);
    /* from CPL 3 into the conforming DPL 0 segment: CPL stays 3 */
    env_set_cpl(e, 3);
    assert_int_equal(seg_far_jmp(&e->c, 0x50, 0x42, 4, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x53);
    assert_int_equal(sys_cpl(&e->st), 3);
    /* offset beyond the limit: #GP(0) */
    env_desc(e, 3, 0x0040fa000000ffffull); /* limit 0xffff, byte granular */
    expect_fault(seg_far_jmp(&e->c, 0x1b, 0x10000, 4, &f), &f, SYS_GP, 0);
}

static void test_seg_far_call_ret_same_level(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    e->st.eip = 0x4444;
    assert_int_equal(seg_far_call(&e->c, 0x08, 0x5555, 4, &f), 0);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x8000 - 8);
    assert_int_equal(env_rd32(e, 0x8000 - 8), 0x4444);
    assert_int_equal(env_rd32(e, 0x8000 - 4), 0x08);
    assert_int_equal(e->st.eip, 0x5555);
    assert_int_equal(seg_far_ret(&e->c, 4, 8, &f), 0);
    assert_int_equal(e->st.eip, 0x4444);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x8000 + 8);
}

static void test_seg_far_ret_to_outer_level(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    uint32_t frame[4] = {0x7000, 0x1b, 0x6000, 0x23};
    memcpy(e->ram + 0x7ff0, frame, sizeof frame);
    e->st.gpr[VMP_ESP] = 0x7ff0;
    assert_int_equal(seg_far_ret(&e->c, 4, 0, &f), 0);
    assert_int_equal(sys_cpl(&e->st), 3);
    assert_int_equal(e->st.eip, 0x7000);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x6000);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x23);
    /* DS held a DPL 0 segment: nulled on the way out */
    assert_int_equal(e->st.seg[VMP_DS].selector, 0);
    assert_int_equal(e->st.seg[VMP_DS].attr, 0);
    /* a return to an inner level is refused */
    frame[1] = 0x08;
    memcpy(e->ram + 0x5ff0, frame, sizeof frame);
    e->st.gpr[VMP_ESP] = 0x5ff0;
    expect_fault(seg_far_ret(&e->c, 4, 0, &f), &f, SYS_GP, 0x08);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x5ff0);
    /* an outer return whose SS has the wrong RPL */
    env_set_cpl(e, 0);
    frame[1] = 0x1b;
    frame[3] = 0x20;
    memcpy(e->ram + 0x5ff0, frame, sizeof frame);
    expect_fault(seg_far_ret(&e->c, 4, 0, &f), &f, SYS_GP, 0x20);
    assert_int_equal(sys_cpl(&e->st), 0);
}

static void test_seg_sysenter_sysexit(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    env_set_cpl(e, 3);
    expect_fault(seg_sysenter(&e->c, &f), &f, SYS_GP, 0); /* no MSR setup */
    e->st.msr.sysenter_cs = 0x08;
    e->st.msr.sysenter_esp = 0xa000;
    e->st.msr.sysenter_eip = 0xc0001000u;
    assert_int_equal(seg_sysenter(&e->c, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x08);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x10);
    assert_int_equal(e->st.gpr[VMP_ESP], 0xa000);
    assert_int_equal(e->st.eip, 0xc0001000u);
    assert_int_equal(e->st.eflags & SYS_FL_IF, 0);
    e->st.gpr[VMP_ECX] = 0xbff0;
    e->st.gpr[VMP_EDX] = 0x8048000;
    assert_int_equal(seg_sysexit(&e->c, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x1b);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x23);
    assert_int_equal(e->st.gpr[VMP_ESP], 0xbff0);
    assert_int_equal(e->st.eip, 0x8048000);
    expect_fault(seg_sysexit(&e->c, &f), &f, SYS_GP, 0); /* CPL 3 */
}

static void test_seg_lar_lsl_verr_verw(void **state)
{
    struct env *e = *state;
    uint32_t v = 0;
    assert_int_equal(seg_lar(&e->c, 0x08, &v), 1);
    assert_int_equal(v, 0x00c09a00); /* bits 19:16 (limit) masked */
    assert_int_equal(seg_lsl(&e->c, 0x43, &v), 1);
    assert_int_equal(v, 0xfff);
    assert_int_equal(seg_lsl(&e->c, 0x08, &v), 1);
    assert_int_equal(v, 0xffffffffu);
    assert_int_equal(seg_lar(&e->c, 0x48, &v), 1); /* call gate: LAR yes */
    assert_int_equal(seg_lsl(&e->c, 0x48, &v), 0); /* LSL no */
    assert_int_equal(seg_lsl(&e->c, 0x28, &v), 1);
    assert_int_equal(v, 0x67);
    assert_int_equal(seg_lar(&e->c, 0x00, &v), 0);
    assert_int_equal(seg_lar(&e->c, 0x200, &v), 0);
    assert_int_equal(seg_verr(&e->c, 0x08), 1);
    assert_int_equal(seg_verr(&e->c, 0x38), 0); /* execute-only */
    assert_int_equal(seg_verw(&e->c, 0x10), 1);
    assert_int_equal(seg_verw(&e->c, 0x08), 0);
    env_set_cpl(e, 3);
    assert_int_equal(seg_lar(&e->c, 0x10, &v), 0); /* DPL 0 from CPL 3 */
    assert_int_equal(seg_verw(&e->c, 0x23), 1);
    assert_int_equal(seg_verr(&e->c, 0x53), 1); /* conforming: no DPL check */
}

/*
 * Task switches: a second 32-bit TSS at 0x4000 (selector 0x58) and a task
 * gate to it (0x60) beside the environment's TSS 0x28, made busy as the
 * current task's. The new task's image: EIP 0x7777, EAX 0xa1, ESP 0x6000,
 * flat ring 0 segments, EFLAGS 0x2 (the reserved bit), CR3 0x5000.
 */
#define TSS2 0x4000u

static void task_env(struct env *e)
{
    e->st.gdtr.limit = 14 * 8 - 1;
    env_desc(e, 5, 0x00008b0030000067ull);         /* 0x28 busy: the current task */
    env_desc(e, 11, 0x0000890040000067ull);        /* 0x58 available TSS at 0x4000 */
    env_desc(e, 12, 0x0000e50000580000ull);        /* 0x60 task gate DPL 3 -> 0x58 */
    env_desc(e, 13, 0x0000890050000050ull);        /* 0x68 TSS with limit 0x50 */
    memset(e->ram + TSS2, 0, 0x68);
    env_wr32(e, TSS2 + 0x1c, 0x5000);
    env_wr32(e, TSS2 + 0x20, 0x7777);
    env_wr32(e, TSS2 + 0x24, 0x2);
    env_wr32(e, TSS2 + 0x28, 0xa1);
    env_wr32(e, TSS2 + 0x38, 0x6000);
    for (unsigned i = 0; i < 6; i++)
        env_wr32(e, TSS2 + 0x48 + 4 * i, i == VMP_CS ? 0x08 : 0x10);
    e->st.gpr[VMP_EAX] = 0x1111;
    e->st.gpr[VMP_EDI] = 0x7d7d;
    e->st.eflags = 0x246;
}

static void test_seg_task_jmp_saves_and_loads(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    task_env(e);
    e->st.eip = 0x1234; /* the instruction after the JMP */
    assert_int_equal(seg_far_jmp(&e->c, 0x58, 0xdead, 4, &f), 0);
    /* the old task's state in its TSS */
    assert_int_equal(env_rd32(e, ENV_TSS + 0x20), 0x1234);
    assert_int_equal(env_rd32(e, ENV_TSS + 0x24), 0x246);
    assert_int_equal(env_rd32(e, ENV_TSS + 0x28), 0x1111);
    assert_int_equal(env_rd32(e, ENV_TSS + 0x44), 0x7d7d);
    assert_int_equal(env_rd32(e, ENV_TSS + 0x4c), 0x08);
    /* busy bits: JMP frees the old task, no back link, no NT */
    assert_int_equal(e->ram[ENV_GDT + 5 * 8 + 5], 0x89);
    assert_int_equal(e->ram[ENV_GDT + 11 * 8 + 5], 0x8b);
    assert_int_equal(env_rd32(e, TSS2) & 0xffff, 0);
    assert_int_equal(e->st.tr.selector, 0x58);
    assert_int_equal(e->st.tr.base, TSS2);
    assert_int_equal(e->st.eflags, 0x2);
    assert_int_equal(e->st.eip, 0x7777);
    assert_int_equal(e->st.gpr[VMP_EAX], 0xa1);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x6000);
    assert_true(e->st.cr0 & SYS_CR0_TS);
    assert_int_equal(e->st.cr3, 0); /* paging off: CR3 not loaded */
    assert_int_equal(e->st.seg[VMP_SS].limit, 0xffffffffu);
    /* and back: the first task goes on after its JMP */
    e->st.eip = 0x7780;
    assert_int_equal(seg_far_jmp(&e->c, 0x28, 0, 4, &f), 0);
    assert_int_equal(e->st.eip, 0x1234);
    assert_int_equal(e->st.gpr[VMP_EDI], 0x7d7d);
    assert_int_equal(env_rd32(e, TSS2 + 0x20), 0x7780);
    assert_int_equal(e->ram[ENV_GDT + 11 * 8 + 5], 0x89);
}

static void test_seg_task_call_gate_nests_and_iret_returns(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    task_env(e);
    /* paging on: two page directories, each one 4 MiB identity page */
    e->st.cr4 |= SYS_CR4_PSE;
    e->st.cr0 |= SYS_CR0_PG;
    e->st.cr3 = 0xa000;
    env_wr32(e, 0xa000, 0x83);
    env_wr32(e, 0x5000, 0x83);
    env_wr32(e, ENV_TSS + 0x1c, 0xa000);
    e->st.eip = 0x2222;
    /* through the task gate: CALL nests (NT, back link, both busy), CR3 loads */
    assert_int_equal(seg_far_call(&e->c, 0x63, 0, 4, &f), 0);
    assert_int_equal(e->st.tr.selector, 0x58);
    assert_int_equal(e->st.eflags, 0x2 | SYS_FL_NT);
    assert_int_equal(env_rd32(e, TSS2) & 0xffff, 0x28);
    assert_int_equal(e->ram[ENV_GDT + 5 * 8 + 5], 0x8b);
    assert_int_equal(e->ram[ENV_GDT + 11 * 8 + 5], 0x8b);
    assert_int_equal(e->st.cr3, 0x5000);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x6000); /* CALL pushes nothing */
    /* a second CALL to the busy task: #GP(TSS) */
    expect_fault(seg_far_call(&e->c, 0x58, 0, 4, &f), &f, SYS_GP, 0x58);
    /* IRET with NT: back to 0x28, the nested task freed, NT saved clear */
    e->st.eip = 0x7790;
    e->st.gpr[VMP_EAX] = 0xa2;
    assert_int_equal(intr_iret(&e->c, 4, &f), 0);
    assert_int_equal(e->st.tr.selector, 0x28);
    assert_int_equal(e->st.eip, 0x2222);
    assert_int_equal(e->st.cr3, 0xa000); /* the first TSS's CR3 field */
    assert_int_equal(e->st.eflags, 0x246);
    assert_int_equal(e->ram[ENV_GDT + 11 * 8 + 5], 0x89);
    assert_int_equal(e->ram[ENV_GDT + 5 * 8 + 5], 0x8b);
    assert_int_equal(env_rd32(e, TSS2 + 0x24), 0x2);
    assert_int_equal(env_rd32(e, TSS2 + 0x20), 0x7790);
    assert_int_equal(env_rd32(e, TSS2 + 0x28), 0xa2);
}

static void test_seg_task_faults(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    task_env(e);
    e->st.eip = 0x3333;
    /* TSS DPL 0 from CPL 3; gate DPL 3 from CPL 3 is allowed, a limit
     * below 0x67, a TSS not present: nothing changes */
    env_set_cpl(e, 3);
    expect_fault(seg_far_jmp(&e->c, 0x5b, 0, 4, &f), &f, SYS_GP, 0x58);
    env_set_cpl(e, 0);
    expect_fault(seg_far_jmp(&e->c, 0x68, 0, 4, &f), &f, SYS_TS, 0x68);
    env_desc(e, 11, 0x0000090040000067ull);
    expect_fault(seg_far_jmp(&e->c, 0x60, 0, 4, &f), &f, SYS_NP, 0x58);
    assert_int_equal(f.in_new_task, 0);
    assert_int_equal(e->st.tr.selector, 0x28);
    assert_int_equal(e->st.eip, 0x3333);
    /* a code segment that is not there: #TS(CS) in the new task */
    env_desc(e, 11, 0x0000890040000067ull);
    env_wr32(e, TSS2 + 0x4c, 0x78);
    expect_fault(seg_far_jmp(&e->c, 0x58, 0, 4, &f), &f, SYS_TS, 0x78);
    assert_int_equal(f.in_new_task, 1);
    assert_int_equal(e->st.tr.selector, 0x58);
    assert_int_equal(e->st.eip, 0x7777);
    /* a 16-bit TSS: not implemented, #GP(sel) */
    env_desc(e, 13, 0x0000810050000067ull);
    expect_fault(seg_far_jmp(&e->c, 0x68, 0, 4, &f), &f, SYS_GP, 0x68);
}

/* CALL through a call gate from ring 3 to ring 0 with two parameters
 * (SDM 3A 5.8.5): the TSS's ring 0 stack gets SS, ESP, the parameters,
 * CS, EIP; RET 8 returns to ring 3 and drops the parameters from both
 * stacks. A gate of DPL 0 is refused at CPL 3; JMP through a gate to a
 * more privileged non-conforming segment is #GP(code selector). */
static void test_seg_call_gate_to_ring0(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    env_desc(e, 9, 0x0000ec0200085000ull); /* 0x48: DPL 3, 2 parameters -> 0x08:0x5000 */
    env_set_cpl(e, 3);
    e->st.gpr[VMP_ESP] = 0x6ff8;
    env_wr32(e, 0x6ff8, 0xaaaa);           /* the first parameter (pushed last) */
    env_wr32(e, 0x6ffc, 0xbbbb);
    e->st.eip = 0x8048020;
    assert_int_equal(seg_far_call(&e->c, 0x4b, 0, 4, &f), 0);
    assert_int_equal(sys_cpl(&e->st), 0);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x08);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x10);
    assert_int_equal(e->st.eip, 0x5000);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x9000 - 24);
    assert_int_equal(env_rd32(e, 0x9000 - 24), 0x8048020); /* EIP */
    assert_int_equal(env_rd32(e, 0x9000 - 20), 0x1b);      /* CS */
    assert_int_equal(env_rd32(e, 0x9000 - 16), 0xaaaa);
    assert_int_equal(env_rd32(e, 0x9000 - 12), 0xbbbb);
    assert_int_equal(env_rd32(e, 0x9000 - 8), 0x6ff8);     /* ESP */
    assert_int_equal(env_rd32(e, 0x9000 - 4), 0x23);       /* SS */
    assert_int_equal(seg_far_ret(&e->c, 4, 8, &f), 0);
    assert_int_equal(sys_cpl(&e->st), 3);
    assert_int_equal(e->st.eip, 0x8048020);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x7000);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x23);
    /* gate DPL 0 from CPL 3; JMP to ring 0 through a gate */
    env_desc(e, 9, 0x00008c0200085000ull);
    expect_fault(seg_far_call(&e->c, 0x4b, 0, 4, &f), &f, SYS_GP, 0x48);
    env_desc(e, 9, 0x0000ec0200085000ull);
    expect_fault(seg_far_jmp(&e->c, 0x4b, 0, 4, &f), &f, SYS_GP, 0x08);
    assert_int_equal(sys_cpl(&e->st), 3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
    const struct CMUnitTest tests[] = {
        T(test_seg_load_data_sets_cache_and_accessed),
        T(test_seg_load_faults),
        T(test_seg_load_real_mode),
        T(test_seg_far_jmp),
        T(test_seg_far_call_ret_same_level),
        T(test_seg_far_ret_to_outer_level),
        T(test_seg_sysenter_sysexit),
        T(test_seg_lar_lsl_verr_verw),
        T(test_seg_call_gate_to_ring0),
        T(test_seg_task_jmp_saves_and_loads),
        T(test_seg_task_call_gate_nests_and_iret_returns),
        T(test_seg_task_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
