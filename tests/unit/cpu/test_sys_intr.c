/*
 * test_sys_intr.c - exception and interrupt delivery (vmm/cpu/intr.c):
 * gates at the same level and through the TSS to ring 0, INT n's gate DPL
 * check, error codes, IF for interrupt vs trap gates, IRET to the same and
 * an outer level, #DF and triple fault, #DF through a task gate, IRET
 * with NT, real-mode IVT delivery, and IDT
 * error codes with the EXT bit. The machine is sys_env.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sys_env.h"

static int setup(void **state)
{
    env_setup(state);
    struct env *e = *state;
    env_gate(e, 0x80, 0x08, 0xc0005000u, 0xf, 3, 1); /* trap gate, DPL 3 */
    env_gate(e, SYS_GP, 0x08, 0x6000, 0xe, 0, 1);
    env_gate(e, SYS_PF, 0x08, 0x7000, 0xe, 0, 0);    /* not present */
    env_gate(e, SYS_DF, 0x08, 0x8800, 0xe, 0, 1);
    env_gate(e, 0x20, 0x08, 0x2020, 0xe, 0, 1);
    return 0;
}

static void test_intr_soft_from_user_switches_stack(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    env_set_cpl(e, 3);
    e->st.gpr[VMP_ESP] = 0x6ffc;
    e->st.eip = 0x8048010;
    e->st.eflags = 0x246;
    assert_int_equal(intr_deliver(&e->c, 0x80, 0, 0, INTR_SOFT, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].selector, 0x08);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x10);
    assert_int_equal(e->st.eip, 0xc0005000u);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x9000 - 20);
    assert_int_equal(env_rd32(e, 0x9000 - 20), 0x8048010); /* EIP */
    assert_int_equal(env_rd32(e, 0x9000 - 16), 0x1b);      /* CS */
    assert_int_equal(env_rd32(e, 0x9000 - 12), 0x246);     /* EFLAGS */
    assert_int_equal(env_rd32(e, 0x9000 - 8), 0x6ffc);     /* ESP */
    assert_int_equal(env_rd32(e, 0x9000 - 4), 0x23);       /* SS */
    assert_true(e->st.eflags & SYS_FL_IF);                 /* trap gate keeps IF */
    /* IRET back to ring 3 */
    e->st.seg[VMP_DS] = e->st.seg[VMP_SS];
    assert_int_equal(intr_iret(&e->c, 4, &f), 0);
    assert_int_equal(sys_cpl(&e->st), 3);
    assert_int_equal(e->st.eip, 0x8048010);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x6ffc);
    assert_int_equal(e->st.seg[VMP_SS].selector, 0x23);
    assert_int_equal(e->st.seg[VMP_DS].selector, 0); /* DPL 0 data nulled */
}

static void test_intr_soft_gate_dpl_checked(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    env_set_cpl(e, 3);
    struct vmp_x86_state before = e->st;
    assert_int_equal(intr_deliver(&e->c, SYS_GP, 0, 0, INTR_SOFT, &f), -1);
    assert_int_equal(f.vector, SYS_GP);
    assert_int_equal(f.error, SYS_GP * 8 + 2);
    assert_memory_equal(&e->st, &before, sizeof before);
    /* the same vector raised by the CPU ignores the gate DPL */
    assert_int_equal(intr_deliver(&e->c, SYS_GP, 1, 0x1234, INTR_EXCEPTION, &f), 0);
    assert_int_equal(e->st.eip, 0x6000);
    assert_int_equal(env_rd32(e, 0x9000 - 24), 0x1234);    /* error code */
    assert_int_equal(e->st.eflags & SYS_FL_IF, 0);         /* interrupt gate */
}

static void test_intr_same_level_frame_and_iret(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    e->st.gpr[VMP_ESP] = 0x7000;
    e->st.eip = 0x1111;
    e->st.eflags = 0x202 | SYS_FL_TF;
    assert_int_equal(intr_deliver(&e->c, 0x20, 0, 0, INTR_EXTERNAL, &f), 0);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x7000 - 12);
    assert_int_equal(env_rd32(e, 0x7000 - 12), 0x1111);
    assert_int_equal(env_rd32(e, 0x7000 - 4), 0x302);
    assert_int_equal(e->st.eflags & (SYS_FL_IF | SYS_FL_TF), 0);
    assert_int_equal(intr_iret(&e->c, 4, &f), 0);
    assert_int_equal(e->st.eip, 0x1111);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x7000);
    assert_int_equal(e->st.eflags, 0x302);
}

static void test_intr_iret_flag_privilege(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    /* at CPL 3 with IOPL 0, IRET may change neither IF nor IOPL */
    env_set_cpl(e, 3);
    e->st.eflags = 0x002;
    uint32_t frame[3] = {0x100, 0x1b, 0x3202 | 0x1};
    memcpy(e->ram + 0x5000, frame, sizeof frame);
    e->st.gpr[VMP_ESP] = 0x5000;
    assert_int_equal(intr_iret(&e->c, 4, &f), 0);
    assert_int_equal(e->st.eflags, 0x003);
    /* IRET with NT set returns to the TSS's back link: a null one is #TS(0) */
    e->st.eflags |= SYS_FL_NT;
    e->st.gpr[VMP_ESP] = 0x5000;
    assert_int_equal(intr_iret(&e->c, 4, &f), -1);
    assert_int_equal(f.vector, SYS_TS);
    assert_int_equal(f.error, 0);
}

/* #DF through a task gate, as Linux i386 sets it up (doublefault_32.c): a
 * #PF whose delivery faults becomes #DF, which switches to the TSS at
 * 0x4000 (selector 0x58) with error code 0 on its stack, NT and the back
 * link set, CR0.TS set. */
static void test_intr_double_fault_task_gate(void **state)
{
    struct env *e = *state;
    e->st.gdtr.limit = 12 * 8 - 1;
    env_desc(e, 5, 0x00008b0030000067ull);          /* current task, busy */
    env_desc(e, 11, 0x0000890040000067ull);         /* the #DF task's TSS */
    env_gate(e, SYS_DF, 0x58, 0, 0x5, 0, 1);        /* task gate */
    memset(e->ram + 0x4000, 0, 0x68);
    env_wr32(e, 0x4000 + 0x20, 0xdf00);             /* EIP */
    env_wr32(e, 0x4000 + 0x24, 0x2);
    env_wr32(e, 0x4000 + 0x38, 0x6000);             /* ESP */
    for (unsigned i = 0; i < 6; i++)
        env_wr32(e, 0x4000 + 0x48 + 4 * i, i == VMP_CS ? 0x08 : 0x10);
    e->st.gpr[VMP_ESP] = 0x5000;
    e->st.eip = 0x4242;
    env_gate(e, SYS_PF, 0x30, 0x7000, 0xe, 0, 1);   /* #PF gate to a data segment: #GP */
    assert_int_equal(intr_raise(&e->c, SYS_PF, 1, 2, 0xbad000u, INTR_EXCEPTION), 0);
    assert_int_equal(e->st.tr.selector, 0x58);
    assert_int_equal(e->st.eip, 0xdf00);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x6000 - 4);
    assert_int_equal(env_rd32(e, 0x6000 - 4), 0);    /* #DF's error code */
    assert_int_equal(env_rd32(e, 0x4000) & 0xffff, 0x28);
    assert_true(e->st.eflags & SYS_FL_NT);
    assert_true(e->st.cr0 & SYS_CR0_TS);
    assert_int_equal(env_rd32(e, 0x3000 + 0x20), 0x4242); /* the faulting EIP */
    assert_int_equal(e->ram[ENV_GDT + 5 * 8 + 5], 0x8b);
    assert_int_equal(e->ram[ENV_GDT + 11 * 8 + 5], 0x8b);
}

static void test_intr_idt_limit_and_not_present(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    e->st.idtr.limit = 0x21 * 8 - 1;
    assert_int_equal(intr_deliver(&e->c, 0x30, 0, 0, INTR_EXTERNAL, &f), -1);
    assert_int_equal(f.vector, SYS_GP);
    assert_int_equal(f.error, 0x30 * 8 + 2 + 1); /* IDT and EXT bits */
    assert_int_equal(intr_deliver(&e->c, SYS_PF, 1, 2, INTR_EXCEPTION, &f), -1);
    assert_int_equal(f.vector, SYS_NP);
    assert_int_equal(f.error, SYS_PF * 8 + 2);
    /* a gate to a non-code segment */
    env_gate(e, 0x21 - 1, 0x10, 0, 0xe, 0, 1);
    assert_int_equal(intr_deliver(&e->c, 0x20, 0, 0, INTR_EXTERNAL, &f), -1);
    assert_int_equal(f.error, 0x10 | 1);
}

static void test_intr_double_and_triple_fault(void **state)
{
    struct env *e = *state;
    e->st.gpr[VMP_ESP] = 0x7000;
    e->st.eip = 0x4242;
    /* #PF whose gate is not present: #NP is contributory -> #DF */
    assert_int_equal(intr_raise(&e->c, SYS_PF, 1, 6, 0xdead0000u, INTR_EXCEPTION), 0);
    assert_int_equal(e->st.cr2, 0xdead0000u);
    assert_int_equal(e->st.eip, 0x8800);
    assert_int_equal(env_rd32(e, 0x7000 - 16), 0); /* #DF error code 0 */
    assert_int_equal(env_rd32(e, 0x7000 - 12), 0x4242);
    /* #DF not deliverable either: shutdown */
    env_gate(e, SYS_DF, 0x08, 0x8800, 0xe, 0, 0);
    assert_int_equal(intr_raise(&e->c, SYS_PF, 1, 6, 0, INTR_EXCEPTION), -1);
}

static void test_intr_benign_then_fault_is_serial(void **state)
{
    struct env *e = *state;
    e->st.gpr[VMP_ESP] = 0x7000;
    /* an external interrupt whose gate is missing raises #NP, delivered as such */
    env_gate(e, 0x20, 0x08, 0x2020, 0xe, 0, 0);
    assert_int_equal(intr_raise(&e->c, 0x20, 0, 0, 0, INTR_EXTERNAL), 0);
    env_gate(e, SYS_NP, 0x08, 0x0b00, 0xe, 0, 1);
    e->st.gpr[VMP_ESP] = 0x7000;
    assert_int_equal(intr_raise(&e->c, 0x20, 0, 0, 0, INTR_EXTERNAL), 0);
    assert_int_equal(e->st.eip, 0x0b00);
    assert_int_equal(env_rd32(e, 0x7000 - 16), 0x20 * 8 + 3);
}

static void test_intr_real_mode_ivt(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    e->st.cr0 = 0;
    e->st.idtr = (struct vmp_x86_dtr){0, 0x3ff};
    e->st.seg[VMP_CS] = (struct vmp_x86_seg){0x1000, 0x9b, 0x10000, 0xffff};
    e->st.seg[VMP_SS] = (struct vmp_x86_seg){0x0000, 0x93, 0, 0xffff};
    e->st.gpr[VMP_ESP] = 0x7c00;
    e->st.eip = 0x22;
    env_wr32(e, 0x10 * 4, 0xf000e000u); /* int 0x10 -> f000:e000 */
    assert_int_equal(intr_deliver(&e->c, 0x10, 0, 0, INTR_SOFT, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].base, 0xf0000);
    assert_int_equal(e->st.eip, 0xe000);
    assert_int_equal(e->st.gpr[VMP_ESP], 0x7c00 - 6);
    assert_int_equal(e->ram[0x7c00 - 6], 0x22);
    assert_int_equal(intr_iret(&e->c, 2, &f), 0);
    assert_int_equal(e->st.seg[VMP_CS].base, 0x10000);
    assert_int_equal(e->st.eip, 0x22);
    assert_true(e->st.eflags & SYS_FL_IF);
}

static void test_intr_has_error_code(void **state)
{
    (void)state;
    assert_true(intr_has_error_code(SYS_GP));
    assert_true(intr_has_error_code(SYS_DF));
    assert_false(intr_has_error_code(SYS_UD));
    assert_false(intr_has_error_code(SYS_BP));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, env_teardown)
    const struct CMUnitTest tests[] = {
        T(test_intr_soft_from_user_switches_stack),
        T(test_intr_soft_gate_dpl_checked),
        T(test_intr_same_level_frame_and_iret),
        T(test_intr_iret_flag_privilege),
        T(test_intr_idt_limit_and_not_present),
        T(test_intr_double_and_triple_fault),
        T(test_intr_double_fault_task_gate),
        T(test_intr_benign_then_fault_is_serial),
        T(test_intr_real_mode_ivt),
        T(test_intr_has_error_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
