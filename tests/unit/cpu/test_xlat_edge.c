/*
 * test_xlat_edge.c - the corners of the translator, one case per rewrite
 * rule that the common path does not reach: AH..BH with FS/GS addresses,
 * pop to an FS memory operand, opcode 82, nested ENTER, BOUND, #XM/#MF,
 * 4 GiB straddles, TLS segment loads, NT through popf, and the hashed
 * indirect-branch lookup.
 *
 * Guest layout: page 0 RW (wrap-around tests), code at 0x1000 (R-X, or
 * RWX for self-modifying code), data 0x10000-0x1ffff RW, stack below
 * 0x180000. The guest code below was assembled with `as --32` and linked
 * at 0x1000; its source is in the comment above each array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "cpu.h"
#include "xlat_harness.h"


/*
 *     mov dword ptr [0x10000], 10
 *     mov dword ptr [0x10004], 20
 *     mov eax, 15
 *     bound eax, [0x10000]
 *     mov eax, 21
 *     bound eax, [0x10000]
 *     int 0x80
 */
static const uint8_t code_bound[] = {
    0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xc7, 0x05,
    0x04, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00, 0xb8, 0x0f, 0x00, 0x00,
    0x00, 0x62, 0x05, 0x00, 0x00, 0x01, 0x00, 0xb8, 0x15, 0x00, 0x00, 0x00,
    0x62, 0x05, 0x00, 0x00, 0x01, 0x00, 0xcd, 0x80,
};
/*
 *     mov ebp, esp
 *     enter 8, 2
 *     mov ebx, esp
 *     mov ecx, ebp
 *     leave
 *     int 0x80
 */
static const uint8_t code_enter2[] = {
    0x89, 0xe5, 0xc8, 0x08, 0x00, 0x02, 0x89, 0xe3, 0x89, 0xe9, 0xc9, 0xcd,
    0x80,
};
/*
 *     mov eax, 0x11223344
 *     mov ecx, 0x55667788
 *     mov ebx, 0x99aabbcc
 *     mov ah, fs:[4]
 *     add fs:[8], ch
 *     mov bh, fs:[0x50000]
 *     int 0x80
 */
static const uint8_t code_highbyte[] = {
    0xb8, 0x44, 0x33, 0x22, 0x11, 0xb9, 0x88, 0x77, 0x66, 0x55, 0xbb, 0xcc,
    0xbb, 0xaa, 0x99, 0x64, 0x8a, 0x25, 0x04, 0x00, 0x00, 0x00, 0x64, 0x00,
    0x2d, 0x08, 0x00, 0x00, 0x00, 0x64, 0x8a, 0x3d, 0x00, 0x00, 0x05, 0x00,
    0xcd, 0x80,
};
/*
 *     mov dword ptr [0x10000], offset g0
 *     mov dword ptr [0x10004], offset g1
 *     xor ebx, ebx
 *     mov esi, 1000
 * 2:  mov ecx, esi
 *     and ecx, 1
 *     call dword ptr [0x10000+ecx*4]
 *     dec esi
 *     jnz 2b
 *     int 0x80
 * g0: add ebx, 1
 *     ret
 * g1: add ebx, 1000
 *     ret
 */
static const uint8_t code_indir[] = {
    0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x2c, 0x10, 0x00, 0x00, 0xc7, 0x05,
    0x04, 0x00, 0x01, 0x00, 0x30, 0x10, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0xe8,
    0x03, 0x00, 0x00, 0x89, 0xf1, 0x83, 0xe1, 0x01, 0xff, 0x14, 0x8d, 0x00,
    0x00, 0x01, 0x00, 0x4e, 0x75, 0xf1, 0xcd, 0x80, 0x83, 0xc3, 0x01, 0xc3,
    0x81, 0xc3, 0xe8, 0x03, 0x00, 0x00, 0xc3,
};
/*
 *     mov word ptr [0x10000], 0x037b
 *     fldcw [0x10000]
 *     fld1
 *     fldz
 *     fdivp st(1), st
 *     fld1
 *     int 0x80
 */
static const uint8_t code_mf[] = {
    0x66, 0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x7b, 0x03, 0xd9, 0x2d, 0x00,
    0x00, 0x01, 0x00, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0xd9, 0xe8, 0xcd,
    0x80,
};
/*
 *     pushfd
 *     pop eax
 *     or eax, 0x4000
 *     push eax
 *     popfd
 *     pushfd
 *     pop ebx
 *     and eax, 0xffffbfff
 *     push eax
 *     popfd
 *     pushfd
 *     pop ecx
 *     int 0x80
 */
static const uint8_t code_ntflag[] = {
    0x9c, 0x58, 0x0d, 0x00, 0x40, 0x00, 0x00, 0x50, 0x9d, 0x9c, 0x5b, 0x25,
    0xff, 0xbf, 0xff, 0xff, 0x50, 0x9d, 0x9c, 0x59, 0xcd, 0x80,
};
/*
 *     push 0x12345678
 *     pop dword ptr fs:[0x10]
 *     mov eax, 0
 *     .byte 0x82, 0xc0, 0x05
 *     int 0x80
 */
static const uint8_t code_popfs[] = {
    0x68, 0x78, 0x56, 0x34, 0x12, 0x64, 0x8f, 0x05, 0x10, 0x00, 0x00, 0x00,
    0xb8, 0x00, 0x00, 0x00, 0x00, 0x82, 0xc0, 0x05, 0xcd, 0x80,
};
/*
 *     mov eax, [0xfffffffe]
 *     int 0x80
 */
static const uint8_t code_straddle[] = {
    0xa1, 0xfe, 0xff, 0xff, 0xff, 0xcd, 0x80,
};
/*
 *     mov eax, 0x33
 *     mov gs, eax
 *     mov eax, gs:[4]
 *     mov ecx, gs
 *     int 0x80
 */
static const uint8_t code_tls[] = {
    0xb8, 0x33, 0x00, 0x00, 0x00, 0x8e, 0xe8, 0x65, 0xa1, 0x04, 0x00, 0x00,
    0x00, 0x8c, 0xe9, 0xcd, 0x80,
};
/*
 *     mov dword ptr [0x10000], 0x1d80
 *     ldmxcsr [0x10000]
 *     xorps xmm1, xmm1
 *     mov eax, 1
 *     cvtsi2ss xmm0, eax
 *     divss xmm0, xmm1
 *     int 0x80
 */
static const uint8_t code_xm[] = {
    0xc7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x80, 0x1d, 0x00, 0x00, 0x0f, 0xae,
    0x15, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x57, 0xc9, 0xb8, 0x01, 0x00, 0x00,
    0x00, 0xf3, 0x0f, 0x2a, 0xc0, 0xf3, 0x0f, 0x5e, 0xc1, 0xcd, 0x80,
};

/* --- cases --------------------------------------------------------------- */

static void test_xlat_high_byte_regs_with_fs(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x10004, 0xa5);
    wr32(cpu, 0x10008, 0x10);
    load(cpu, code_highbyte, sizeof code_highbyte, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_FS].base = 0x10000;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    /* mov bh, fs:[0x50000] faults: the byte swap around it is undone */
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 14);
    assert_int_equal(ex.fault_gla, 0x60000);
    assert_int_equal(R(cpu, EAX), 0x1122a544);
    assert_int_equal(R(cpu, ECX), 0x55667788);
    assert_int_equal(R(cpu, EBX), 0x99aabbcc);
    assert_int_equal(rd32(cpu, 0x10008), 0x10 + 0x77);
    assert_int_equal(cpu_user_map(cpu, 0x60000, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
    memcpy(cpu_user_ptr(cpu, 0x60000), "\x3c", 1);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_highbyte, sizeof code_highbyte);
    assert_int_equal(R(cpu, EBX), 0x99aa3ccc);
    cpu_destroy(cpu);
}

static void test_xlat_pop_to_fs_memory_and_opcode_82(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    load(cpu, code_popfs, sizeof code_popfs, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_FS].base = 0x10000;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_popfs, sizeof code_popfs);
    assert_int_equal(rd32(cpu, 0x10010), 0x12345678);
    assert_int_equal(R(cpu, ESP), STACK_TOP);
    assert_int_equal(R(cpu, EAX), 5); /* 82 /0 ib: add al, 5 */
    cpu_destroy(cpu);
}

static void test_xlat_enter_nested_reads_its_own_push(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(enter2, ex);
    assert_int80(cpu, &ex, code_enter2, sizeof code_enter2);
    /* SDM 2A ENTER level 2: push ebp; frame = esp; push [ebp-4] (the ebp
     * just pushed, as ebp == the old esp); push frame; esp -= 8 */
    uint32_t frame = STACK_TOP - 4;
    assert_int_equal(R(cpu, ECX), frame);
    assert_int_equal(R(cpu, EBX), STACK_TOP - 12 - 8);
    assert_int_equal(rd32(cpu, STACK_TOP - 4), STACK_TOP);
    assert_int_equal(rd32(cpu, STACK_TOP - 8), STACK_TOP);
    assert_int_equal(rd32(cpu, STACK_TOP - 12), frame);
    assert_int_equal(R(cpu, ESP), STACK_TOP);  /* leave */
    assert_int_equal(R(cpu, EBP), STACK_TOP);
    cpu_destroy(cpu);
}

static void test_xlat_bound_raises_br(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(bound, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 5);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 36); /* the second BOUND: a fault */
    assert_int_equal(R(cpu, EAX), 21);
    cpu_destroy(cpu);
}

static void test_xlat_sse_exception_is_xm_x87_is_mf(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(xm, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 19);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 29); /* divss */
    cpu_destroy(cpu);
    cpu = RUN(mf, ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 16);
    /* x87 reports at the next x87 instruction (the fld1 after fdivp) */
    assert_int_equal(cpu_state(cpu)->eip, CODE + 21);
    cpu_destroy(cpu);
}

static void test_xlat_access_straddling_4g_is_gp(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    assert_int_equal(cpu_user_map(cpu, 0xfffff000u, 0x1000, PROT_READ, -1, 0), 0);
    load(cpu, code_straddle, sizeof code_straddle, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 13);
    assert_int_equal(ex.error_code, 0);
    assert_int_equal(cpu_state(cpu)->eip, CODE);
    cpu_destroy(cpu);
}

static void test_xlat_tls_descriptor_segment_load(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x12004, 0x7777);
    assert_int_equal(cpu_user_set_tls(cpu, 6, 0x12000, 0xfffff, 0x4093 | 0x80), 0);
    load(cpu, code_tls, sizeof code_tls, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_tls, sizeof code_tls);
    assert_int_equal(R(cpu, EAX), 0x7777);
    assert_int_equal(R(cpu, ECX), 0x33);
    assert_int_equal(cpu_state(cpu)->seg[VMP_GS].base, 0x12000);
    cpu_destroy(cpu);
}

static void test_xlat_popf_keeps_nt(void **st)
{
    (void)st;
    struct cpu_exit ex;
    struct cpu *cpu = RUN(ntflag, ex);
    assert_int80(cpu, &ex, code_ntflag, sizeof code_ntflag);
    assert_int_equal(R(cpu, EBX) & 0x4000, 0x4000);
    assert_int_equal(R(cpu, ECX) & 0x4000, 0);
    cpu_destroy(cpu);
}

static void test_xlat_hashed_indirect_lookup(void **st)
{
    (void)st;
    struct vmp_cpu_profile p;
    make_profile(&p, FEAT_SSE2_EDX);
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &p,
                             .debug_flags = CPU_DEBUG_HASH_LOOKUP};
    struct cpu *cpu = NULL;
    struct cpu_exit ex;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    assert_int_equal(cpu_user_map(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, DATA, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, STACK_TOP - 0x10000, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    load(cpu, code_indir, sizeof code_indir, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_indir, sizeof code_indir);
    assert_int_equal(R(cpu, EBX), 500 * 1000 + 500);
    struct cpu_stats stats;
    cpu_get_stats(cpu, &stats);
    assert_true(stats.exits < 50); /* the table, not C, resolved the 2000 branches */
    cpu_destroy(cpu);
}

static void test_xlat_small_cache_flushes_and_stays_correct(void **st)
{
    (void)st;
    struct vmp_cpu_profile p;
    make_profile(&p, FEAT_SSE2_EDX);
    /* room for about two worst-case blocks: the loop below needs more, so
     * the cache is flushed while direct and indirect links are in use */
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &p, .code_cache_bytes = 40 << 10};
    struct cpu *cpu = NULL;
    struct cpu_exit ex;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    assert_int_equal(cpu_user_map(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, DATA, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, STACK_TOP - 0x10000, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    /* code: 1000 blocks "add ebx, 1; jmp next", the last one loops back
     * 50 times through an indirect jump */
    uint8_t *c = cpu_user_ptr(cpu, CODE);
    size_t off = 0;
    c[off++] = 0xBE; /* mov esi, 50 */
    uint32_t v = 50;
    memcpy(c + off, &v, 4);
    off += 4;
    uint32_t loop = CODE + (uint32_t)off;
    for (int i = 0; i < 1000; i++) {
        c[off++] = 0x83; c[off++] = 0xC3; c[off++] = 1;   /* add ebx, 1 */
        c[off++] = 0xEB; c[off++] = 0;                    /* jmp next */
    }
    c[off++] = 0x4E;                                      /* dec esi */
    c[off++] = 0x74; c[off++] = 7;                        /* jz out */
    c[off++] = 0xB8;                                      /* mov eax, loop */
    memcpy(c + off, &loop, 4);
    off += 4;
    c[off++] = 0xFF; c[off++] = 0xE0;                     /* jmp eax */
    c[off++] = 0xCD; c[off++] = 0x80;                     /* out: int 0x80 */
    assert_int_equal(cpu_user_protect(cpu, CODE, 0x2000, PROT_READ | PROT_EXEC), 0);
    cpu_state(cpu)->eip = CODE;
    cpu_state(cpu)->gpr[VMP_ESP] = STACK_TOP;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, c, off);
    assert_int_equal(R(cpu, EBX), 50 * 1000);
    struct cpu_stats stats;
    cpu_get_stats(cpu, &stats);
    assert_true(stats.cache_flushes >= 2);
    cpu_destroy(cpu);
}

static void *kick_after_progress(void *arg)
{
    /* wait until the guest has counted to 100000 in memory (at most 10 s) */
    volatile uint32_t *count = cpu_user_ptr(arg, 0x10000);
    struct timespec ts = {0, 1000 * 1000};
    for (int i = 0; i < 10000 && *count < 100000; i++)
        nanosleep(&ts, NULL);
    cpu_kick(arg);
    return NULL;
}

static void test_xlat_kick_stops_indirect_loop(void **st)
{
    (void)st;
    /* mov eax, 1f; 1: add ecx, 1; mov [0x10000], ecx; jmp eax: only an
     * indirect branch loops */
    static const uint8_t spin[] = {0xB8, 0x05, 0x10, 0x00, 0x00, 0x83, 0xC1, 0x01, 0x89, 0x0D,
                                   0x00, 0x00, 0x01, 0x00, 0xFF, 0xE0};
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    pthread_t t;
    load(cpu, spin, sizeof spin, PROT_READ | PROT_EXEC);
    assert_int_equal(pthread_create(&t, NULL, kick_after_progress, cpu), 0);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    pthread_join(t, NULL);
    assert_int_equal(ex.reason, CPU_EXIT_KICK);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 5);
    assert_true(R(cpu, ECX) >= 100000);
    cpu_destroy(cpu);
}

static void test_xlat_16bit_indirect_jump(void **st)
{
    (void)st;
    /* mov eax, 0xabcd1008; jmp ax (66 ff e0) -> 0x1008: int 0x80 */
    static const uint8_t code[] = {0xB8, 0x08, 0x10, 0xCD, 0xAB, 0x66, 0xFF, 0xE0, 0xCD, 0x80};
    struct cpu_exit ex;
    struct cpu *cpu = run_code(code, sizeof code, FEAT_SSE2_EDX, &ex);
    assert_int80(cpu, &ex, code, sizeof code);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 10);
    cpu_destroy(cpu);
}

static void test_xlat_scas_cmps_backwards(void **st)
{
    (void)st;
    /* std; mov edi, 0x1003f; mov al, 7; mov ecx, 64; repne scasb; cld; int 0x80 */
    static const uint8_t scas[] = {0xFD, 0xBF, 0x3F, 0x00, 0x01, 0x00, 0xB0, 0x07, 0xB9, 0x40,
                                   0x00, 0x00, 0x00, 0xF2, 0xAE, 0xFC, 0xCD, 0x80};
    /* std; mov esi, 0x1003f; mov edi, 0x1103f; mov ecx, 64; repe cmpsb; cld; int 0x80 */
    static const uint8_t cmps[] = {0xFD, 0xBE, 0x3F, 0x00, 0x01, 0x00, 0xBF, 0x3F, 0x10, 0x01,
                                   0x00, 0xB9, 0x40, 0x00, 0x00, 0x00, 0xF3, 0xA6, 0xFC, 0xCD,
                                   0x80};
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    uint8_t *a = cpu_user_ptr(cpu, 0x10000), *b = cpu_user_ptr(cpu, 0x11000);
    for (int i = 0; i < 64; i++)
        a[i] = b[i] = (uint8_t)(i + 1);
    a[3] = 7;
    b[10] = 0xEE;
    load(cpu, scas, sizeof scas, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, scas, sizeof scas);
    assert_int_equal(R(cpu, EDI), 0x10005);   /* the 7 at index 6, found from the top */
    assert_int_equal(R(cpu, ECX), 6);
    assert_int_equal(cpu_state(cpu)->eflags & 0x440, 0x40); /* ZF, DF clear again */
    load(cpu, cmps, sizeof cmps, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, cmps, sizeof cmps);
    assert_int_equal(R(cpu, ESI), 0x10009);   /* stopped after the mismatch at 10 */
    assert_int_equal(R(cpu, ECX), 10);
    assert_int_equal(cpu_state(cpu)->eflags & 0x41, 0x01); /* 11 < 0xEE: CF, not ZF */
    cpu_destroy(cpu);
}

static void test_xlat_null_fs_access_and_bad_selector_fault(void **st)
{
    (void)st;
    /* xor eax, eax; mov fs, ax; mov eax, fs:[0x10000] */
    static const uint8_t nullfs[] = {0x31, 0xC0, 0x8E, 0xE0, 0x64, 0xA1, 0x00, 0x00, 0x01, 0x00,
                                     0xCD, 0x80};
    /* mov eax, 0xff; mov gs, ax */
    static const uint8_t badsel[] = {0xB8, 0xFF, 0x00, 0x00, 0x00, 0x8E, 0xE8, 0xCD, 0x80};
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    cpu_state(cpu)->seg[VMP_FS].selector = 0x7b;
    load(cpu, nullfs, sizeof nullfs, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 13);
    assert_int_equal(ex.error_code, 0);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 4);
    /* a usable FS again: the same code reads through it */
    cpu_state(cpu)->seg[VMP_FS].selector = 0x7b;
    cpu_state(cpu)->seg[VMP_FS].base = 0x10;
    cpu_state(cpu)->eip = CODE + 4;
    wr32(cpu, 0x10010, 0x5151);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, nullfs, sizeof nullfs);
    assert_int_equal(R(cpu, EAX), 0x5151);
    load(cpu, badsel, sizeof badsel, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 13);
    assert_int_equal(ex.error_code, 0xfc);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 5);
    cpu_destroy(cpu);
}

static void test_xlat_high_byte_reg_16bit_address_fault_undoes_swap(void **st)
{
    (void)st;
    /* mov esi, 0x8000; mov ebx, 0x99aa1100; addr16 mov bh, [bx+si]; int 0x80 */
    static const uint8_t code[] = {0xBE, 0x00, 0x80, 0x00, 0x00, 0xBB, 0x00, 0x11, 0xAA, 0x99,
                                   0x67, 0x8A, 0x38, 0xCD, 0x80};
    struct cpu_exit ex;
    struct cpu *cpu = run_code(code, sizeof code, FEAT_SSE2_EDX, &ex);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 14);
    assert_int_equal(ex.fault_gla, 0x9100);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 10);
    assert_int_equal(R(cpu, EBX), 0x99aa1100); /* BH and BL as before the access */
    assert_int_equal(cpu_user_map(cpu, 0x9000, 0x1000, PROT_READ | PROT_WRITE, -1, 0), 0);
    memcpy(cpu_user_ptr(cpu, 0x9100), "\x5e", 1);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code, sizeof code);
    assert_int_equal(R(cpu, EBX), 0x99aa5e00);
    cpu_destroy(cpu);
}

static void test_xlat_pc_thunk_call_inlined_and_invalidated(void **st)
{
    (void)st;
    /* call 0x2000; int 0x80; ... 0x2000 (the next page): mov ebx, [esp]; ret */
    static uint8_t code[0x1004];
    memset(code, 0x90, sizeof code);
    memcpy(code, "\xE8\xFB\x0F\x00\x00\xCD\x80", 7);
    memcpy(code + 0x1000, "\x8B\x1C\x24\xC3", 4);
    struct cpu_exit ex;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    load(cpu, code, sizeof code, PROT_READ | PROT_WRITE | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_INT);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 7);
    assert_int_equal(R(cpu, EBX), CODE + 5);
    assert_int_equal(R(cpu, ESP), STACK_TOP);
    assert_int_equal(rd32(cpu, STACK_TOP - 4), CODE + 5); /* the call's store happened */
    /* the thunk now loads ECX: the inlined copy must not survive */
    memcpy(cpu_user_ptr(cpu, CODE + 0x1001), "\x0c", 1);
    cpu_state(cpu)->eip = CODE;
    R(cpu, EBX) = 0;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_INT);
    assert_int_equal(R(cpu, ECX), CODE + 5);
    assert_int_equal(R(cpu, EBX), 0);
    cpu_destroy(cpu);
}

static void test_xlat_rdrand_only_with_the_feature(void **st)
{
    (void)st;
    /* rdrand eax; setc bl; int 0x80 */
    static const uint8_t code[] = {0x0F, 0xC7, 0xF0, 0x0F, 0x92, 0xC3, 0xCD, 0x80};
    struct vmp_cpu_profile p;
    struct cpu_exit ex;
    make_profile(&p, FEAT_SSE2_EDX);
    p.leaves[1].ecx |= 1u << 30; /* RDRAND */
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &p};
    struct cpu *cpu = NULL;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    assert_int_equal(cpu_user_map(cpu, CODE, 0x2000, PROT_READ | PROT_WRITE, -1, 0), 0);
    assert_int_equal(cpu_user_map(cpu, STACK_TOP - 0x10000, 0x10000, PROT_READ | PROT_WRITE, -1, 0), 0);
    load(cpu, code, sizeof code, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code, sizeof code);
    assert_int_equal(R(cpu, EBX) & 0xff, 1); /* CF: a value was delivered */
    cpu_destroy(cpu);
    cpu = run_code(code, sizeof code, FEAT_SSE2_EDX, &ex); /* no RDRAND in the profile */
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 6);
    assert_int_equal(cpu_state(cpu)->eip, CODE);
    cpu_destroy(cpu);
}

/* FS base 0x10100: offsets just below 4 GiB reach below the base; one
 * whose bytes pass offset 0xFFFFFFFF is beyond the limit (SDM 3A 5.3) */
static const uint8_t code_fs_limit[] = {
    0xbb, 0xfe, 0xff, 0xff, 0xff,               /* mov ebx, 0xfffffffe */
    0x64, 0x8b, 0x4b, 0xfa,                     /* mov ecx, fs:[ebx-6] (0x100f8) */
    0x64, 0x8b, 0x15, 0xfc, 0xff, 0xff, 0xff,   /* mov edx, fs:[0xfffffffc] (0x100fc) */
    0x64, 0x8a, 0x73, 0x01,                     /* mov dh, fs:[ebx+1] (0x100ff, fits) */
    0x64, 0x0f, 0xab, 0x4b, 0xfe,               /* bts fs:[ebx-2], ecx: ecx = -32 reaches 0xfffffff8 */
    0x64, 0x8b, 0x03,                           /* mov eax, fs:[ebx]: #GP(0) */
    0xcd, 0x80,
};

static void test_xlat_fs_offset_past_4g_is_gp(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    wr32(cpu, 0x100f8, 0xffffffe0u);
    wr32(cpu, 0x100fc, 0x44332211u);
    load(cpu, code_fs_limit, sizeof code_fs_limit, PROT_READ | PROT_EXEC);
    cpu_state(cpu)->seg[VMP_FS].base = 0x10100;
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int_equal(ex.reason, CPU_EXIT_EXCEPTION);
    assert_int_equal(ex.vector, 13);
    assert_int_equal(ex.error_code, 0);
    assert_int_equal(cpu_state(cpu)->eip, CODE + 25);
    assert_int_equal(R(cpu, ECX), 0xffffffe0u);
    assert_int_equal(R(cpu, EDX), 0x44334411u);
    /* bts moved 4 bytes down: bit 0 of the dword at offset 0xfffffff8 */
    assert_int_equal(rd32(cpu, 0x100f8), 0xffffffe1u);
    cpu_destroy(cpu);
}

/* fld1; fnstenv [DATA+0x200]; fxsave [DATA+0x400] */
static const uint8_t code_fpu_image[] = {
    0xd9, 0xe8, 0xd9, 0x35, 0x00, 0x02, 0x01, 0x00,
    0x0f, 0xae, 0x05, 0x00, 0x04, 0x01, 0x00, 0xcd, 0x80,
};

static void test_xlat_fnstenv_guest_pointers_fxsave_32bit_layout(void **st)
{
    (void)st;
    struct cpu *cpu = new_cpu(FEAT_SSE2_EDX);
    struct cpu_exit ex;
    for (uint32_t i = 0; i < 512; i += 4)
        wr32(cpu, 0x10400 + i, 0xabababab);
    load(cpu, code_fpu_image, sizeof code_fpu_image, PROT_READ | PROT_EXEC);
    assert_int_equal(cpu_run(cpu, &ex), 0);
    assert_int80(cpu, &ex, code_fpu_image, sizeof code_fpu_image);
    assert_int_equal(rd32(cpu, 0x1020c), CODE); /* FIP: the fld1 */
    assert_int_equal(rd32(cpu, 0x10210) & 0xffff, cpu_state(cpu)->seg[VMP_CS].selector);
    assert_int_equal((rd32(cpu, 0x10210) >> 16) & 0x7ff, 0x1e8); /* FOP of d9 e8 */
    assert_int_equal(rd32(cpu, 0x10214), 0); /* no memory operand: FDP, FDS 0 */
    assert_int_equal(rd32(cpu, 0x10218) & 0xffff, 0);
    /* XMM8-15's bytes of a 64-bit image stay as they were */
    for (uint32_t i = 288; i < 416; i += 4)
        assert_int_equal(rd32(cpu, 0x10400 + i), 0xabababab);
    assert_int_not_equal(rd32(cpu, 0x10400 + 160), 0xabababab); /* XMM0 was stored */
    cpu_destroy(cpu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xlat_high_byte_regs_with_fs),
        cmocka_unit_test(test_xlat_pop_to_fs_memory_and_opcode_82),
        cmocka_unit_test(test_xlat_enter_nested_reads_its_own_push),
        cmocka_unit_test(test_xlat_bound_raises_br),
        cmocka_unit_test(test_xlat_sse_exception_is_xm_x87_is_mf),
        cmocka_unit_test(test_xlat_access_straddling_4g_is_gp),
        cmocka_unit_test(test_xlat_tls_descriptor_segment_load),
        cmocka_unit_test(test_xlat_popf_keeps_nt),
        cmocka_unit_test(test_xlat_hashed_indirect_lookup),
        cmocka_unit_test(test_xlat_small_cache_flushes_and_stays_correct),
        cmocka_unit_test(test_xlat_kick_stops_indirect_loop),
        cmocka_unit_test(test_xlat_16bit_indirect_jump),
        cmocka_unit_test(test_xlat_scas_cmps_backwards),
        cmocka_unit_test(test_xlat_null_fs_access_and_bad_selector_fault),
        cmocka_unit_test(test_xlat_high_byte_reg_16bit_address_fault_undoes_swap),
        cmocka_unit_test(test_xlat_pc_thunk_call_inlined_and_invalidated),
        cmocka_unit_test(test_xlat_rdrand_only_with_the_feature),
        cmocka_unit_test(test_xlat_fs_offset_past_4g_is_gp),
        cmocka_unit_test(test_xlat_fnstenv_guest_pointers_fxsave_32bit_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
