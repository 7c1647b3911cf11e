/*
 * test_sys_mmu.c - the system-mode page walker (vmm/cpu/mmu.c): 4 KiB and
 * 4 MiB pages, U/S and R/W at both levels, CR0.WP, accessed and dirty bits,
 * reserved bits, #PF error codes, and linear reads/writes across pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu.h"

#define RAM_BYTES (8u << 20)
#define PD 0x1000u
#define PT 0x2000u

struct env {
    struct vmp_x86_state st;
    struct sys_ctx c;
    uint8_t *ram;
};

static uint32_t rd32(struct env *e, uint32_t gpa)
{
    uint32_t v;
    memcpy(&v, e->ram + gpa, 4);
    return v;
}

static void wr32(struct env *e, uint32_t gpa, uint32_t v)
{
    memcpy(e->ram + gpa, &v, 4);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    e->ram = calloc(1, RAM_BYTES);
    e->c = (struct sys_ctx){&e->st, e->ram, RAM_BYTES};
    e->st.cr0 = SYS_CR0_PE | SYS_CR0_PG;
    e->st.cr3 = PD;
    /* PDE 0 -> PT (present, writable, user); PTEs below */
    wr32(e, PD + 0, PT | 0x7);
    wr32(e, PT + 4 * 5, 0x5000 | 0x7);     /* 0x5000: user RW */
    wr32(e, PT + 4 * 6, 0x6000 | 0x5);     /* 0x6000: user RO */
    wr32(e, PT + 4 * 7, 0x7000 | 0x3);     /* 0x7000: supervisor RW */
    wr32(e, PT + 4 * 8, 0x9000 | 0x107);   /* 0x8000 -> 0x9000, global */
    /* PDE 0x300 (0xC0000000): 4 MiB page at 4 MiB, supervisor, global */
    wr32(e, PD + 4 * 0x300, 0x400000 | 0x183);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    free(e->ram);
    free(e);
    return 0;
}

static void test_mmu_paging_off_is_identity(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    e->st.cr0 = SYS_CR0_PE;
    assert_int_equal(mmu_translate(&e->c, 0x12345678, MMU_WRITE | MMU_USER, &w, &f), 0);
    assert_int_equal(w.gpa, 0x12345678);
    assert_true(w.map_writable);
}

static void test_mmu_4k_sets_accessed_then_dirty(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    assert_int_equal(mmu_translate(&e->c, 0x5123, MMU_USER, &w, &f), 0);
    assert_int_equal(w.gpa, 0x5123);
    assert_true(w.user);
    assert_true(w.writable);
    assert_false(w.map_writable); /* not dirty: map read-only */
    assert_int_equal(rd32(e, PT + 20) & 0x60, 0x20);
    assert_int_equal(rd32(e, PD) & 0x20, 0x20);
    assert_int_equal(mmu_translate(&e->c, 0x5123, MMU_USER | MMU_WRITE, &w, &f), 0);
    assert_true(w.map_writable);
    assert_int_equal(rd32(e, PT + 20) & 0x60, 0x60);
    /* a later read of a dirty page may map it writable */
    assert_int_equal(mmu_translate(&e->c, 0x5000, MMU_USER, &w, &f), 0);
    assert_true(w.map_writable);
}

static void test_mmu_not_present_error_codes(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    /* PTE missing */
    assert_int_equal(mmu_translate(&e->c, 0x3000, MMU_USER | MMU_WRITE, &w, &f), -1);
    assert_int_equal(f.vector, SYS_PF);
    assert_int_equal(f.error, MMU_PF_W | MMU_PF_U);
    assert_int_equal(f.cr2, 0x3000);
    /* PDE missing, supervisor read */
    assert_int_equal(mmu_translate(&e->c, 0x80001234, 0, &w, &f), -1);
    assert_int_equal(f.error, 0);
    assert_int_equal(f.cr2, 0x80001234);
}

static void test_mmu_protection_error_codes(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    /* user write to a read-only user page */
    assert_int_equal(mmu_translate(&e->c, 0x6000, MMU_USER | MMU_WRITE, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_W | MMU_PF_U);
    /* user read of a supervisor page */
    assert_int_equal(mmu_translate(&e->c, 0x7000, MMU_USER, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_U);
    /* U/S of the PDE counts too */
    wr32(e, PD, PT | 0x3);
    assert_int_equal(mmu_translate(&e->c, 0x5000, MMU_USER, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_U);
    /* a fault sets no accessed bit */
    assert_int_equal(rd32(e, PT + 20) & 0x20, 0);
}

static void test_mmu_cr0_wp(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    /* supervisor writes ignore R/W without WP */
    assert_int_equal(mmu_translate(&e->c, 0x6000, MMU_WRITE, &w, &f), 0);
    assert_true(w.writable);
    e->st.cr0 |= SYS_CR0_WP;
    assert_int_equal(mmu_translate(&e->c, 0x6000, MMU_WRITE, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_W);
    assert_int_equal(mmu_translate(&e->c, 0x6000, 0, &w, &f), 0);
    assert_false(w.writable);
}

static void test_mmu_large_page_and_global(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    /* without CR4.PSE the PS bit is ignored: the PDE points at a table */
    wr32(e, 0x400000 + 4 * 5, 0);
    assert_int_equal(mmu_translate(&e->c, 0xC0005000, 0, &w, &f), -1);
    e->st.cr4 = SYS_CR4_PSE;
    assert_int_equal(mmu_translate(&e->c, 0xC0123456, MMU_WRITE, &w, &f), 0);
    assert_int_equal(w.gpa, 0x523456);
    assert_true(w.large);
    assert_false(w.global); /* G needs CR4.PGE */
    assert_int_equal(rd32(e, PD + 4 * 0x300) & 0x60, 0x60);
    assert_int_equal(mmu_translate(&e->c, 0xC0000000, MMU_USER, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_U);
    e->st.cr4 |= SYS_CR4_PGE;
    assert_int_equal(mmu_translate(&e->c, 0xC0000000, 0, &w, &f), 0);
    assert_true(w.global);
    assert_int_equal(mmu_translate(&e->c, 0x8000, 0, &w, &f), 0);
    assert_true(w.global);
    assert_int_equal(w.gpa, 0x9000);
    /* reserved bits 21:13 of a 4 MiB PDE */
    wr32(e, PD + 4 * 0x301, 0x800000 | 0x2000 | 0x83);
    assert_int_equal(mmu_translate(&e->c, 0xC0400000, 0, &w, &f), -1);
    assert_int_equal(f.error, MMU_PF_P | MMU_PF_RSVD);
}

static void test_mmu_tables_outside_ram_not_present(void **state)
{
    struct env *e = *state;
    struct mmu_walk w;
    struct sys_fault f;
    wr32(e, PD + 4, 0xD0000000u | 0x7);
    assert_int_equal(mmu_translate(&e->c, 0x400000, 0, &w, &f), -1);
    assert_int_equal(f.error, 0);
}

static void test_mmu_read_write_across_pages(void **state)
{
    struct env *e = *state;
    struct sys_fault f;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    /* 0x5ffc..0x6003 crosses into the read-only page: user write faults on
     * the second page and writes nothing */
    assert_int_equal(mmu_write(&e->c, 0x5ffc, buf, 8, MMU_USER, &f), -1);
    assert_int_equal(f.cr2, 0x6000);
    assert_int_equal(e->ram[0x5ffc], 0);
    /* supervisor without WP may write both */
    assert_int_equal(mmu_write(&e->c, 0x5ffc, buf, 8, 0, &f), 0);
    assert_memory_equal(e->ram + 0x5ffc, buf, 4);
    assert_memory_equal(e->ram + 0x6000, buf + 4, 4);
    assert_int_equal(mmu_read(&e->c, 0x5ffc, out, 8, MMU_USER, &f), 0);
    assert_memory_equal(out, buf, 8);
    /* physical addresses outside RAM read as all ones */
    e->st.cr0 = SYS_CR0_PE;
    assert_int_equal(mmu_read(&e->c, RAM_BYTES - 4, out, 8, 0, &f), 0);
    assert_int_equal(out[4], 0xff);
    assert_int_equal(out[7], 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mmu_paging_off_is_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_4k_sets_accessed_then_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_not_present_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_protection_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_cr0_wp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_large_page_and_global, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_tables_outside_ram_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_read_write_across_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
