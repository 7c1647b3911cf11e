/* xlat_harness.c - the user-mode fixture of the translator tests (xlat_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "xlat_harness.h"

void make_profile(struct vmp_cpu_profile *p, uint32_t edx1)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, "test");
    p->nleaves = 2;
    p->leaves[0].leaf = 0;
    p->leaves[0].eax = 1;
    memcpy(&p->leaves[0].ebx, "Genu", 4);
    memcpy(&p->leaves[0].edx, "ineI", 4);
    memcpy(&p->leaves[0].ecx, "ntel", 4);
    p->leaves[1].leaf = 1;
    p->leaves[1].eax = 0x000006d8;
    p->leaves[1].edx = edx1;
}

struct cpu *new_cpu(uint32_t edx1)
{
    struct vmp_cpu_profile p;
    make_profile(&p, edx1);
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &p};
    struct cpu *cpu = NULL;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    assert_int_equal(cpu_user_map(cpu, 0, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, DATA, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, STACK_TOP - 0x80000, 0x80000, PROT_READ | PROT_WRITE, -1, 0), 0);
    return cpu;
}

void load(struct cpu *cpu, const uint8_t *code, size_t n, int prot)
{
    assert_true(n <= 0x2000);
    assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE), 0);
    memcpy(cpu_user_ptr(cpu, CODE), code, n);
    assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, prot), 0);
    struct vmp_x86_state *s = cpu_state(cpu);
    s->eip = CODE;
    s->gpr[4] = STACK_TOP;
}

struct cpu *run_code(const uint8_t *code, size_t n, uint32_t edx1, struct cpu_exit *ex)
{
    struct cpu *cpu = new_cpu(edx1);
    load(cpu, code, n, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, ex), 0);
    return cpu;
}

uint32_t rd32(struct cpu *cpu, uint32_t gla)
{
    uint32_t v;
    memcpy(&v, cpu_user_ptr(cpu, gla), 4);
    return v;
}

void wr32(struct cpu *cpu, uint32_t gla, uint32_t v)
{
    memcpy(cpu_user_ptr(cpu, gla), &v, 4);
}

void assert_int80(struct cpu *cpu, const struct cpu_exit *ex, const uint8_t *code, size_t n)
{
    if (ex->reason != CPU_EXIT_INT)
        print_error("exit %d vector %d at eip 0x%x: %s\n", ex->reason, ex->vector,
                    cpu_state(cpu)->eip, cpu_errmsg(cpu));
    assert_int_equal(ex->reason, CPU_EXIT_INT);
    assert_int_equal(ex->vector, 0x80);
    /* EIP is after the INT 0x80, inside the code */
    assert_true(cpu_state(cpu)->eip > CODE && cpu_state(cpu)->eip <= CODE + n);
    assert_int_equal(memcmp(cpu_user_ptr(cpu, cpu_state(cpu)->eip - 2), "\xcd\x80", 2), 0);
    (void)code;
}
