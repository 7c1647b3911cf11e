/*
 * test_sys_seg.c - protected-mode segmentation (vmm/cpu/seg.c): segment
 * register loads and their #GP/#NP/#SS error codes, the accessed bit, far
 * JMP/CALL/RET within and across privilege levels, SYSENTER/SYSEXIT,
 * LAR/LSL/VERR/VERW. The machine is sys_env.h's.
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
    /* data segment, TSS, call gate (not implemented), null */
    expect_fault(seg_far_jmp(&e->c, 0x10, 0, 4, &f), &f, SYS_GP, 0x10);
    expect_fault(seg_far_jmp(&e->c, 0x28, 0, 4, &f), &f, SYS_GP, 0x28);
    expect_fault(seg_far_jmp(&e->c, 0x4b, 0, 4, &f), &f, SYS_GP, 0x48);
    expect_fault(seg_far_jmp(&e->c, 0x00, 0, 4, &f), &f, SYS_GP, 0);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
