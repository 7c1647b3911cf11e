/*
 * test_icount.c - the retired-instruction count (cpu.h, "Instruction
 * count"): user-mode code with a known count is run and cpu_state()->icount
 * must be exact at every exit: straight code, a loop (chained blocks), a
 * fault in the middle of a block, REP string instructions (one that faults
 * midway and is restarted), C-emulated instructions, calls and returns
 * (direct, indirect, an inlined get_pc thunk), traps and #UD; the same in
 * deterministic mode and with the hashed lookup; and the icount deadline.
 * The code was assembled with `as --32` and linked at 0x1000.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "cpu.h"

#define CODE 0x1000u
#define DATA 0x10000u
#define STACK_TOP 0x180000u

static struct cpu *ic_cpu(unsigned debug_flags, int det)
{
    struct vmp_cpu_profile p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "test");
    p.nleaves = 2;
    p.leaves[0].eax = 1;
    memcpy(&p.leaves[0].ebx, "Genu", 4);
    memcpy(&p.leaves[0].edx, "ineI", 4);
    memcpy(&p.leaves[0].ecx, "ntel", 4);
    p.leaves[1].leaf = 1;
    p.leaves[1].eax = 0x000006d8;
    p.leaves[1].edx = 1u << 0 | 1u << 4 | 1u << 15 | 1u << 23 | 1u << 25 | 1u << 26;
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &p, .debug_flags = debug_flags};
    struct cpu *cpu = NULL;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    assert_int_equal(cpu_user_map(cpu, CODE, 0x2000, PROT_READ | PROT_EXEC, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, DATA, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, STACK_TOP - 0x10000, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    cpu_set_deterministic(cpu, det);
    return cpu;
}

static void ic_load(struct cpu *cpu, const uint8_t *code, size_t n)
{
    assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE), 0);
    memcpy(cpu_user_ptr(cpu, CODE), code, n);
    assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, PROT_READ | PROT_EXEC), 0);
    cpu_flush(cpu);
    cpu_state(cpu)->eip = CODE;
    cpu_state(cpu)->gpr[VMP_ESP] = STACK_TOP;
}

static void ic_run(struct cpu *cpu, enum cpu_exit_reason want, uint64_t icount)
{
    struct cpu_exit ex;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    if (ex.reason != want || cpu_state(cpu)->icount != icount)
        print_error("exit %d (vector %d) at eip 0x%x with icount %llu; want exit %d, icount %llu\n",
                    ex.reason, ex.vector, cpu_state(cpu)->eip,
                    (unsigned long long)cpu_state(cpu)->icount, want,
                    (unsigned long long)icount);
    assert_int_equal(ex.reason, want);
    assert_int_equal(cpu_state(cpu)->icount, icount);
}

/* Each case runs with the direct lookup table, the hashed one, and in
 * deterministic mode. */
static const struct { unsigned flags; int det; } ic_modes[] = {
    {0, 0}, {CPU_DEBUG_HASH_LOOKUP, 0}, {0, 1}, {CPU_DEBUG_HASH_LOOKUP, 1}};
#define FOR_MODES(m) for (size_t m = 0; m < sizeof ic_modes / sizeof ic_modes[0]; m++)
#define NEW_CPU(m) ic_cpu(ic_modes[m].flags, ic_modes[m].det)

/*
 *     mov eax, 1
 *     mov ebx, 2
 *     add eax, ebx
 *     int 0x80
 */
static const uint8_t code_straight[] = {
     0xb8, 0x01, 0x00, 0x00, 0x00, 0xbb, 0x02, 0x00, 0x00, 0x00, 0x01, 0xd8,
     0xcd, 0x80
};
/*
 *     mov ecx, 1000
 *     l: add eax, ecx
 *     dec ecx
 *     jnz l
 *     int 0x80
 */
static const uint8_t code_loop[] = {
     0xb9, 0xe8, 0x03, 0x00, 0x00, 0x01, 0xc8, 0x49, 0x75, 0xfb, 0xcd, 0x80
};
/*
 *     mov ecx, 3
 *     l: dec ecx
 *     jnz l
 *     nop
 *     nop
 *     mov eax, [0x50000000]
 *     add eax, 1
 *     int 0x80
 */
static const uint8_t code_fault[] = {
     0xb9, 0x03, 0x00, 0x00, 0x00, 0x49, 0x75, 0xfd, 0x90, 0x90, 0xa1, 0x00,
     0x00, 0x00, 0x50, 0x83, 0xc0, 0x01, 0xcd, 0x80
};
/*
 *     mov ecx, 10
 *     mov esi, 0x10000
 *     mov edi, 0x10100
 *     cld
 *     rep movsb
 *     mov ecx, 5
 *     rep stosd
 *     int 0x80
 */
static const uint8_t code_string[] = {
     0xb9, 0x0a, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x00,
     0x01, 0x01, 0x00, 0xfc, 0xf3, 0xa4, 0xb9, 0x05, 0x00, 0x00, 0x00, 0xf3,
     0xab, 0xcd, 0x80
};
/*
 *     mov eax, 0
 *     cpuid
 *     nop
 *     mov eax, 1
 *     cpuid
 *     int 0x80
 */
static const uint8_t code_helper[] = {
     0xb8, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x90, 0xb8, 0x01, 0x00, 0x00,
     0x00, 0x0f, 0xa2, 0xcd, 0x80
};
/*
 *     call f
 *     call t
 *     lea eax, [g]
 *     call eax
 *     mov ecx, 4
 *     l2: push ecx
 *     call f
 *     pop ecx
 *     loop l2
 *     int 0x80
 *     f: mov eax, 5
 *     ret
 *     t: mov ebx, [esp]
 *     ret
 *     g: jmp h
 *     h: ret
 */
static const uint8_t code_calls[] = {
     0xe8, 0x1d, 0x00, 0x00, 0x00, 0xe8, 0x1e, 0x00, 0x00, 0x00, 0x8d, 0x05,
     0x2c, 0x10, 0x00, 0x00, 0xff, 0xd0, 0xb9, 0x04, 0x00, 0x00, 0x00, 0x51,
     0xe8, 0x05, 0x00, 0x00, 0x00, 0x59, 0xe2, 0xf7, 0xcd, 0x80, 0xb8, 0x05,
     0x00, 0x00, 0x00, 0xc3, 0x8b, 0x1c, 0x24, 0xc3, 0xeb, 0x00, 0xc3
};
/*
 *     nop
 *     nop
 *     int3
 *     nop
 *     ud2
 */
static const uint8_t code_traps[] = {
     0x90, 0x90, 0xcc, 0x90, 0x0f, 0x0b
};
/*
 *     mov ecx, 0x2000
 *     mov esi, 0x10000
 *     mov edi, 0x1f000
 *     rep movsb
 *     int 0x80
 */
static const uint8_t code_sfault[] = {
     0xb9, 0x00, 0x20, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x00,
     0xf0, 0x01, 0x00, 0xf3, 0xa4, 0xcd, 0x80
};

/*
 *     nop
 *     nop
 *     mov byte ptr [0x100a], 5     (the immediate of the next instruction)
 *     mov eax, 1
 *     int 0x80
 */
static const uint8_t code_smc[] = {
     0x90, 0x90, 0xc6, 0x05, 0x0a, 0x10, 0x00, 0x00, 0x05, 0xb8, 0x01, 0x00,
     0x00, 0x00, 0xcd, 0x80
};

static void test_icount_straight(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_straight, sizeof code_straight);
        ic_run(cpu, CPU_EXIT_INT, 4); /* INT n retires */
        cpu_destroy(cpu);
    }
}

static void test_icount_loop_chained(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_loop, sizeof code_loop);
        ic_run(cpu, CPU_EXIT_INT, 1 + 3 * 1000 + 1);
        /* again from the cached and chained blocks: the count goes on */
        cpu_state(cpu)->eip = CODE;
        ic_run(cpu, CPU_EXIT_INT, 2 * 3002);
        cpu_destroy(cpu);
    }
}

static void test_icount_fault_mid_block(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_fault, sizeof code_fault);
        /* mov, 3 x (dec, jnz), nop, nop; the faulting load does not retire */
        ic_run(cpu, CPU_EXIT_EXCEPTION, 9);
        assert_int_equal(cpu_state(cpu)->eip, CODE + 10);
        assert_int_equal(cpu_user_map(cpu, 0x50000000u, 0x1000, PROT_READ, -1, 0), 0);
        ic_run(cpu, CPU_EXIT_INT, 12);
        cpu_destroy(cpu);
    }
}

static void test_icount_string(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_string, sizeof code_string);
        ic_run(cpu, CPU_EXIT_INT, 8); /* a REP instruction counts once */
        cpu_destroy(cpu);
    }
}

static void test_icount_string_fault_midway(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_sfault, sizeof code_sfault);
        /* rep movsb runs into the unmapped 0x20000 after 0x1000 bytes */
        ic_run(cpu, CPU_EXIT_EXCEPTION, 3);
        assert_int_equal(cpu_state(cpu)->gpr[VMP_ECX], 0x1000);
        assert_int_equal(cpu_user_map(cpu, 0x20000, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
        ic_run(cpu, CPU_EXIT_INT, 5);
        assert_int_equal(cpu_state(cpu)->gpr[VMP_ECX], 0);
        cpu_destroy(cpu);
    }
}

static void test_icount_helper(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_helper, sizeof code_helper);
        ic_run(cpu, CPU_EXIT_INT, 6); /* CPUID is emulated in C */
        cpu_destroy(cpu);
    }
}

static void test_icount_calls(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_calls, sizeof code_calls);
        /* call f: 3; call t (inlined thunk, still call+mov+ret): 3; lea,
         * call eax, jmp, ret: 4; mov ecx: 1; 4 x (push, call, mov, ret,
         * pop, loop): 24; int: 1 */
        ic_run(cpu, CPU_EXIT_INT, 36);
        cpu_state(cpu)->eip = CODE;
        cpu_state(cpu)->gpr[VMP_ESP] = STACK_TOP;
        ic_run(cpu, CPU_EXIT_INT, 72);
        cpu_destroy(cpu);
    }
}

/* 60 calls of an inlined get_pc thunk (t: mov ebx, [esp]; ret) in one
 * block, then int 0x80: 60 x 3 + 1 = 181 instructions counted by one add,
 * past a disp8's reach. */
static void test_icount_many_thunks(void **st)
{
    (void)st;
    enum { NCALL = 60, T = 5 * NCALL + 2 };
    uint8_t code[T + 4];
    for (int i = 0; i < NCALL; i++) {
        int32_t rel = T - (5 * i + 5);
        code[5 * i] = 0xe8;
        memcpy(&code[5 * i + 1], &rel, 4);
    }
    static const uint8_t tail[] = {0xcd, 0x80, 0x8b, 0x1c, 0x24, 0xc3};
    memcpy(&code[5 * NCALL], tail, sizeof tail);
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code, sizeof code);
        ic_run(cpu, CPU_EXIT_INT, 3 * NCALL + 1);
        cpu_destroy(cpu);
    }
}

static void test_icount_traps(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_traps, sizeof code_traps);
        ic_run(cpu, CPU_EXIT_EXCEPTION, 3); /* INT3 is a trap: it retires */
        assert_int_equal(cpu_state(cpu)->eip, CODE + 3);
        ic_run(cpu, CPU_EXIT_EXCEPTION, 4); /* UD2 faults: it does not */
        assert_int_equal(cpu_state(cpu)->eip, CODE + 4);
        cpu_destroy(cpu);
    }
}

/* A store into the block's own code: the signal exit restarts the store
 * (the two nops before it counted once), the new code runs. */
static void test_icount_smc_restart(void **st)
{
    (void)st;
    FOR_MODES(m) {
        struct cpu *cpu = NEW_CPU(m);
        ic_load(cpu, code_smc, sizeof code_smc);
        assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
        ic_run(cpu, CPU_EXIT_INT, 5);
        assert_int_equal(cpu_state(cpu)->gpr[VMP_EAX], 5);
        struct cpu_stats cs;
        cpu_get_stats(cpu, &cs);
        assert_true(cs.smc_invalidations > 0); /* the restart did happen */
        cpu_destroy(cpu);
    }
}

/* Deterministic mode: cpu_run stops at the first block boundary at or
 * past the deadline. The loop's first block is mov, add, dec, jnz (4),
 * each later one add, dec, jnz (3): the first boundary >= 500 is 502. */
static void test_icount_deadline(void **st)
{
    (void)st;
    struct cpu *cpu = ic_cpu(0, 1);
    ic_load(cpu, code_loop, sizeof code_loop);
    cpu_set_icount_deadline(cpu, 500);
    ic_run(cpu, CPU_EXIT_DEADLINE, 502);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 5);
    assert_int_equal(cpu_state(cpu)->gpr[VMP_ECX], 1000 - 1 - 166);
    /* at or past the deadline already: no progress */
    ic_run(cpu, CPU_EXIT_DEADLINE, 502);
    cpu_set_icount_deadline(cpu, 2000);
    ic_run(cpu, CPU_EXIT_DEADLINE, 2002);
    cpu_set_icount_deadline(cpu, UINT64_MAX);
    ic_run(cpu, CPU_EXIT_INT, 3002);
    assert_int_equal(cpu_state(cpu)->gpr[VMP_EAX], 1000 * 1001 / 2);
    cpu_destroy(cpu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icount_straight),
        cmocka_unit_test(test_icount_loop_chained),
        cmocka_unit_test(test_icount_fault_mid_block),
        cmocka_unit_test(test_icount_string),
        cmocka_unit_test(test_icount_string_fault_midway),
        cmocka_unit_test(test_icount_helper),
        cmocka_unit_test(test_icount_calls),
        cmocka_unit_test(test_icount_many_thunks),
        cmocka_unit_test(test_icount_traps),
        cmocka_unit_test(test_icount_smc_restart),
        cmocka_unit_test(test_icount_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
