/*
 * test_decode_oracle.c - the host CPU as the decoder's oracle.
 *
 * A sweep over the opcode maps (one-byte, 0F, 0F 38, 0F 3A) with
 * representative prefixes and ModRM/SIB forms compares, for each encoding,
 * the decoder's verdict (legal or #UD) and length with what the host CPU
 * does when it runs the bytes in a 32-bit process.
 *
 * This file is two programs. Built normally (by CMake) it is the cmocka
 * test. Built with -m32 -DDECODE_ORACLE_HELPER (the test does this itself
 * at run time with gcc, so CMake needs no 32-bit toolchain support) it is
 * the helper that executes encodings:
 *   - the instruction's first k bytes are placed so that they end exactly
 *     at a page boundary followed by an unmapped page, and it is started
 *     with the trap flag set (from a signal handler, by rewriting the
 *     signal context), with every general register pointing into a mapped
 *     scratch area;
 *   - a #PF on the unmapped page at the instruction's own EIP means the
 *     instruction is longer than k; anything else (the single-step trap,
 *     a data fault, #GP, #DE, #UD) means the CPU fetched all of it. The
 *     smallest such k is the hardware length; SIGILL means #UD.
 *
 * What the oracle can tell: legality at CPL 3 in 32- and 16-bit code and
 * the length of every legal encoding; also, partly, two properties: a
 * single-step trap away from the next instruction means a branch
 * (X86F_BRANCH), a page fault on data means a memory access (X86F_MEM or
 * X86F_IMPLICIT_MEM). What it cannot: encodings that are #UD
 * at CPL 3 although legal at CPL 0 (MONITOR, MWAIT, CLAC, STAC, RSM
 * outside SMM), privileged instructions beyond "the encoding is legal"
 * (they #GP), anything the host CPU lacks (those are skipped), extensions
 * the decoder refuses on purpose (AVX/EVEX, SSE4A, GFNI, ...; skipped and
 * counted), and most semantics (kinds, flags, features): the table cases
 * in test_decode.c cover those.
 * SYSCALL, SYSENTER and INT 80h are not run: they would enter the host
 * kernel.
 */
#ifdef DECODE_ORACLE_HELPER

#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_VA     0x40000000u
#define PAGE        4096u
#define SCRATCH_VA  0x01000000u
#define SCRATCH_LEN 0x01000000u
#define REGVAL      0x01800000u
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE MAP_FIXED
#endif

struct oracle_req {
    uint8_t n, hint; /* bytes given; the decoder's length or 0 */
    uint8_t ud;      /* the decoder says #UD: hint is what it read */
    uint8_t d16;     /* run in a 16-bit code segment */
    uint8_t bytes[16];
};
struct oracle_res {
    int8_t sig;  /* SIGILL, SIGTRAP, SIGSEGV...; 0: longer than n;
                    -1: no 16-bit code segment (modify_ldt refused) */
    uint8_t len; /* smallest k that the CPU fetched completely */
    uint8_t pad[2];
    uint32_t addr; /* si_addr of the final run */
    uint32_t eip;  /* EIP at the signal, relative to the instruction */
};

enum { PH_IDLE, PH_RUN, PH_DONE };
static volatile int phase;
static volatile uint32_t run_start; /* EIP: linear, or the offset in the 16-bit segment */
uint32_t oracle_cs;
#define LDT_CS16 0x7u /* LDT entry 0, RPL 3 */
static volatile int res_sig;
static volatile uint32_t res_eip, res_addr;
static uint32_t main_seg[6]; /* cs ss ds es fs gs of the helper */
static uint8_t altstack[65536];

/* oracle_enter: saves the callee-saved registers, resets x87/SSE state,
 * loads every GPR with REGVAL and IRETs to run_start with TF set, so the
 * single-step trap comes after the instruction under test (SDM 3A 18.3.1.4:
 * TF set by IRET traps after the next instruction). oracle_landing is
 * where the signal handler sends the CPU back. */
__asm__(".text\n"
        "oracle_enter:\n\t"
        "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"
        "movl %esp, oracle_saved_esp\n\t"
        "fninit\n\t"
        "ldmxcsr oracle_mxcsr\n\t"
        "movl $0x017ffff4, %esp\n\t" /* REGVAL - 12: the IRET frame */
        "movl run_start, %eax\n\t"
        "movl %eax, (%esp)\n\t"
        "movl oracle_cs, %eax\n\t"
        "movl %eax, 4(%esp)\n\t"
        "movl $0x302, 8(%esp)\n\t"
        "movl $0x01800000, %eax\n\t"
        "movl %eax, %ebx\n\tmovl %eax, %ecx\n\tmovl %eax, %edx\n\t"
        "movl %eax, %esi\n\tmovl %eax, %edi\n\tmovl %eax, %ebp\n\t"
        "iret\n"
        "oracle_landing:\n\t"
        "movl oracle_saved_esp, %esp\n\t"
        "popl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\t"
        "ret\n");
void oracle_enter(void);
void oracle_landing(void);
uint32_t oracle_saved_esp;
uint32_t oracle_mxcsr = 0x1f80;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;

    if (phase != PH_RUN)
        _exit(100 + sig);
    res_sig = sig;
    res_eip = (uint32_t)g[REG_EIP];
    res_addr = (uint32_t)(uintptr_t)si->si_addr;
    g[REG_EIP] = (greg_t)(uintptr_t)oracle_landing;
    g[REG_EFL] = 0x202;
    g[REG_CS] = main_seg[0];
    g[REG_SS] = main_seg[1];
    g[REG_DS] = main_seg[2];
    g[REG_ES] = main_seg[3];
    g[REG_FS] = main_seg[4];
    g[REG_GS] = main_seg[5];
    phase = PH_DONE;
}

/* Runs the first k bytes; returns 1 if the CPU needed more bytes. */
static int run(const uint8_t *bytes, unsigned k, int d16)
{
    uint8_t *code = (uint8_t *)(uintptr_t)CODE_VA;
    memcpy(code + PAGE - k, bytes, k);
    run_start = (d16 ? 0 : CODE_VA) + PAGE - k;
    oracle_cs = d16 ? LDT_CS16 : main_seg[0];
    phase = PH_RUN;
    oracle_enter();
    if (phase != PH_DONE)
        _exit(90);
    phase = PH_IDLE;
    return res_sig == SIGSEGV && res_eip == run_start && res_addr >= CODE_VA + PAGE &&
           res_addr < CODE_VA + PAGE + 16;
}

static int read_full(void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(0, (char *)buf + got, len - got);
        if (r <= 0)
            return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

int main(void)
{
    if (mmap((void *)(uintptr_t)CODE_VA, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ||
        mprotect((void *)(uintptr_t)(CODE_VA + PAGE), PAGE, PROT_NONE) != 0 ||
        mmap((void *)(uintptr_t)SCRATCH_VA, SCRATCH_LEN, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED)
        return 2;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    if (sigaltstack(&ss, NULL) != 0)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    __asm__ volatile("movl %%cs, %0\n\tmovl %%ss, %1\n\tmovl %%ds, %2\n\t"
                     "movl %%es, %3\n\tmovl %%fs, %4\n\tmovl %%gs, %5"
                     : "=r"(main_seg[0]), "=r"(main_seg[1]), "=r"(main_seg[2]), "=r"(main_seg[3]),
                       "=r"(main_seg[4]), "=r"(main_seg[5]));
    static const int sigs[] = {SIGILL, SIGSEGV, SIGTRAP, SIGFPE, SIGBUS};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return 2;

    /* a 16-bit code segment over the code page (SDM 3A 3.4.5) */
    struct user_desc ud;
    memset(&ud, 0, sizeof ud);
    ud.entry_number = 0;
    ud.base_addr = CODE_VA;
    ud.limit = 0xffff;
    ud.seg_32bit = 0;
    ud.contents = MODIFY_LDT_CONTENTS_CODE;
    ud.useable = 1;
    int have_cs16 = syscall(SYS_modify_ldt, 1, &ud, sizeof ud) == 0;

    struct oracle_req rq;
    int r;
    while ((r = read_full(&rq, sizeof rq)) == 1) {
        struct oracle_res rs;
        memset(&rs, 0, sizeof rs);
        unsigned n = rq.n > 15 ? 15 : rq.n, k = 0;
        /* The decoder's verdict first: for a legal encoding k-1 bytes must
         * be too short and k enough; for #UD, k bytes must give SIGILL. */
        int d = rq.d16;
        if (d && !have_cs16) {
            rs.sig = -1;
            k = n + 1;
        } else if (rq.ud && rq.hint && rq.hint <= n && !run(rq.bytes, rq.hint, d) &&
                   res_sig == SIGILL) {
            k = rq.hint;
        } else if (!rq.ud && rq.hint && rq.hint <= n &&
                   (rq.hint == 1 || run(rq.bytes, rq.hint - 1u, d)) && !run(rq.bytes, rq.hint, d)) {
            k = rq.hint;
        } else {
            for (k = 1; k <= n; k++)
                if (!run(rq.bytes, k, d))
                    break;
        }
        if (k <= n) {
            rs.sig = (int8_t)res_sig;
            rs.len = (uint8_t)k;
            rs.addr = res_addr;
            rs.eip = res_eip - run_start;
        }
        if (write(1, &rs, sizeof rs) != (ssize_t)sizeof rs)
            return 3;
    }
    return r < 0 ? 4 : 0;
}

#else /* the cmocka test */

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"

struct oracle_req {
    uint8_t n, hint;
    uint8_t ud, d16;
    uint8_t bytes[16];
};
struct oracle_res {
    int8_t sig;
    uint8_t len;
    uint8_t pad[2];
    uint32_t addr;
    uint32_t eip;
};

static uint32_t host_words[VMP_FW_COUNT];

static void host_features(void)
{
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        host_words[VMP_FW_1_EDX] = d;
        host_words[VMP_FW_1_ECX] = c;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        host_words[VMP_FW_7_EBX] = b;
        host_words[VMP_FW_7_ECX] = c;
    }
    if (__get_cpuid(0x80000001u, &a, &b, &c, &d)) {
        host_words[VMP_FW_81_EDX] = d;
        host_words[VMP_FW_81_ECX] = c;
    }
}

static int host_has(unsigned feat)
{
    if (feat == VMP_FEAT_NONE)
        return 1;
    return (host_words[VMP_FEAT_WORD(feat)] >> VMP_FEAT_BIT(feat)) & 1;
}

/* Encodings the decoder refuses on purpose though this host runs them
 * (decode.h lists them), and ones whose CPL-3 behaviour says nothing. */
static int known_difference(const struct x86_insn *in, int rc, const uint8_t *b)
{
    unsigned op = in->opcode, mod = in->modrm >> 6, reg = (in->modrm >> 3) & 7;
    int has_modrm = in->modrm_off != 0;
    if (rc == X86_DEC_UD) {
        switch (in->map) {
        case X86_MAP_1:
            /* VEX (C4 C5) and EVEX (62) */
            return (op == 0xc4 || op == 0xc5 || op == 0x62) && has_modrm && mod == 3;
        case X86_MAP_0F:
            if ((op == 0x78 || op == 0x79) && (in->rep == 0xf2 || in->rep == 0))
                return 1; /* SSE4A EXTRQ/INSERTQ */
            if (op == 0x2b && in->rep)
                return 1; /* SSE4A MOVNTSS/MOVNTSD */
            if (op == 0x01 && has_modrm && mod == 3 && in->modrm >= 0xd8)
                return 1; /* SVM, CLZERO, MONITORX, RDPKRU, RDPRU... */
            if (op == 0xae && has_modrm)
                return 1; /* CLWB, CET, WAITPKG, PTWRITE */
            if (op == 0xc7 && has_modrm && (reg == 3 || reg == 4 || reg == 5 || reg == 7))
                return 1; /* XSAVEC XSAVES XRSTORS, RDPID */
            if ((op == 0x20 || op == 0x22) && in->prefix_len)
                return 1; /* AMD: LOCK MOV CR0 is CR8 */
            if (op == 0x01 && has_modrm && mod == 3 && reg == 0)
                return 1; /* VMX: what VMCALL does at CPL 3 depends on the hypervisor */
            if (op == 0x00 && memchr(b, 0xf0, in->prefix_len))
                return 1; /* AMD Zen runs LOCK VERW m16; the SDM says #UD */
            return 0;
        case X86_MAP_0F38:
            return op == 0x82 || op == 0xcf || op == 0xf8 || op == 0xf9; /* INVPCID GFNI MOVDIR */
        case X86_MAP_0F3A:
            return op == 0xce || op == 0xcf; /* GFNI */
        default:
            return 0;
        }
    }
    /* legal, but #UD at CPL 3 or outside SMM */
    if (in->kind == X86K_MONITOR || in->kind == X86K_MWAIT || in->kind == X86K_RSM)
        return 1;
    if (in->map == X86_MAP_0F && op == 0x01 && (in->modrm == 0xca || in->modrm == 0xcb))
        return 1; /* CLAC STAC */
    return 0;
}

/* Would enter the host kernel: not run. */
static int dangerous(const struct x86_insn *in)
{
    if (in->map == X86_MAP_1 && in->opcode == 0xcd)
        return 1;
    if (in->map == X86_MAP_0F && (in->opcode == 0x05 || in->opcode == 0x34))
        return 1;
    if (in->map == X86_MAP_0F && in->opcode == 0x01 && (in->modrm >> 6) == 3 &&
        ((in->modrm >> 3) & 7) == 3)
        return 1; /* VMMCALL and friends */
    return 0;
}

struct enc {
    uint8_t b[16];
    uint8_t n;
    uint8_t d32;
};

static struct enc *encs;
static size_t nenc, capenc;

static int gen_d32 = 1;

static void add_enc(const uint8_t *pfx, size_t npfx, const uint8_t *op, size_t nop,
                    const uint8_t *tail, size_t ntail)
{
    if (nenc == capenc) {
        capenc = capenc ? capenc * 2 : 65536;
        encs = realloc(encs, capenc * sizeof *encs);
        assert_non_null(encs);
    }
    struct enc *e = &encs[nenc++];
    memset(e, 0, sizeof *e);
    size_t n = 0;
    for (size_t i = 0; i < npfx && n < 15; i++)
        e->b[n++] = pfx[i];
    for (size_t i = 0; i < nop && n < 15; i++)
        e->b[n++] = op[i];
    for (size_t i = 0; i < ntail && n < 15; i++)
        e->b[n++] = tail[i];
    while (n < 15)
        e->b[n++] = 0;
    e->n = 15;
    e->d32 = (uint8_t)gen_d32;
}

/* d32: the code segment's D bit; npf: how many of the prefix sets to use */
static void gen_sweep(int d32, unsigned npf_sets)
{
    static const uint8_t pfxs[][3] = {
        {0},
        {1, 0x66},
        {1, 0x67},
        {1, 0xf3},
        {1, 0xf2},
        {1, 0xf0},
        {2, 0x66, 0xf3},
        {2, 0xf2, 0x66},
        {2, 0x2e, 0x67},
        {2, 0xf0, 0x66},
        {2, 0xf3, 0xf2},
        {2, 0xf2, 0xf3},
        {1, 0x64},
        {2, 0xf2, 0xf0},
    };
    gen_d32 = d32;
    if (npf_sets > sizeof pfxs / sizeof pfxs[0])
        npf_sets = sizeof pfxs / sizeof pfxs[0];
    /* ModRM forms, each followed by SIB/displacement/immediate bytes */
    static const uint8_t mem_forms[][3] = {
        {0x00, 0x00, 0x00}, /* [eax] / [bx+si] */
        {0x05, 0x10, 0x00}, /* [disp32] / [di] */
        {0x04, 0x25, 0x00}, /* SIB, base 101 with mod 00: disp32 */
        {0x44, 0x24, 0x08}, /* [esp+disp8] */
        {0x80, 0x00, 0x01}, /* [eax+disp32] / [bx+si+disp16] */
        {0x46, 0x08, 0x00}, /* [esi+disp8] / [bp+disp8] */
        {0x06, 0x00, 0x02}, /* [esi] / [disp16] */
        {0x84, 0x8d, 0x00}, /* SIB with mod 10 */
    };
    for (unsigned map = 0; map < 4; map++) {
        for (unsigned opc = 0; opc < 256; opc++) {
            uint8_t op[3];
            size_t nop = 0;
            if (map == X86_MAP_0F || map == X86_MAP_0F38 || map == X86_MAP_0F3A)
                op[nop++] = 0x0f;
            if (map == X86_MAP_0F38)
                op[nop++] = 0x38;
            if (map == X86_MAP_0F3A)
                op[nop++] = 0x3a;
            op[nop++] = (uint8_t)opc;
            if (map == X86_MAP_1) {
                static const uint8_t skip[] = {0x0f, 0x26, 0x2e, 0x36, 0x3e, 0x64,
                                               0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3};
                if (memchr(skip, (int)opc, sizeof skip))
                    continue;
            }
            if (map == X86_MAP_0F && (opc == 0x38 || opc == 0x3a))
                continue;
            /* every ModRM with mod = 3 where rm selects the instruction */
            int all_rm = (map == X86_MAP_1 && opc >= 0xd8 && opc <= 0xdf) ||
                         (map == X86_MAP_0F && (opc == 0x01 || opc == 0xae || opc == 0xc7));
            /* where ModRM.reg selects the instruction (SDM 2A table A-6) */
            static const uint8_t grp1[] = {0x80, 0x81, 0x82, 0x83, 0x8c, 0x8e, 0x8f, 0xc0, 0xc1,
                                           0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xd8, 0xd9, 0xda,
                                           0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf6, 0xf7, 0xfe, 0xff};
            static const uint8_t grp0f[] = {0x00, 0x01, 0x0d, 0x18, 0x20, 0x21, 0x22,
                                            0x23, 0x71, 0x72, 0x73, 0xae, 0xba, 0xc7};
            int group = (map == X86_MAP_1 && memchr(grp1, (int)opc, sizeof grp1)) ||
                        (map == X86_MAP_0F && memchr(grp0f, (int)opc, sizeof grp0f));
            int three = map == X86_MAP_0F38 || map == X86_MAP_0F3A;
            /* the 3-byte maps take their ModRM like the others: in 16-bit
             * code and with the rarer prefix sets only the 2-byte maps */
            if (three && !d32)
                continue;
            for (unsigned p = 0; p < npf_sets && !(three && p >= 8); p++) {
                const uint8_t *pf = &pfxs[p][1];
                size_t npf = pfxs[p][0];
                /* no prefix (and 66 in the 3-byte maps): every form */
                int full = three ? (p <= 1) : (p == 0);
                for (unsigned reg = 0; reg < 8; reg++) {
                    if (!group && !full && reg != 0 && reg != 5)
                        continue;
                    if (three && reg != 0 && reg != 5)
                        continue;
                    for (unsigned f = 0; f < sizeof mem_forms / sizeof mem_forms[0]; f++) {
                        if (!(full && (!three || reg == 0)) && f != 0 && f != 2)
                            continue;
                        uint8_t tail[6] = {(uint8_t)(mem_forms[f][0] | reg << 3),
                                           mem_forms[f][1],
                                           mem_forms[f][2],
                                           0,
                                           0,
                                           0};
                        add_enc(pf, npf, op, nop, tail, sizeof tail);
                    }
                    for (unsigned rm = 0; rm < 8; rm++) {
                        if (!all_rm && rm != 0 && !(full && rm == 3))
                            continue;
                        uint8_t tail[4] = {(uint8_t)(0xc0 | reg << 3 | rm), 0x01, 0, 0};
                        add_enc(pf, npf, op, nop, tail, sizeof tail);
                    }
                }
            }
        }
    }
    /* prefix runs and the 15-byte limit */
    for (unsigned n = 1; n <= 14; n++) {
        uint8_t pf[14];
        memset(pf, 0x3e, sizeof pf);
        static const uint8_t op1[] = {0x90}, op2[] = {0x8b}, op3[] = {0x05};
        static const uint8_t t2[] = {0x84, 0x24, 0x00, 0x00, 0x00, 0x00};
        add_enc(pf, n, op1, 1, NULL, 0);
        add_enc(pf, n, op2, 1, t2, sizeof t2);
        add_enc(pf, n, op3, 1, t2 + 2, 4);
    }
    static const uint8_t int3[] = {0xcd, 0x03};
    add_enc(NULL, 0, int3, 2, NULL, 0);
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case 0:
        return "longer-than-15";
    case SIGILL:
        return "SIGILL(#UD)";
    case SIGTRAP:
        return "SIGTRAP(ran)";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGFPE:
        return "SIGFPE";
    case SIGBUS:
        return "SIGBUS";
    default:
        return "other";
    }
}

static void hexstr(const uint8_t *b, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02x ", b[i]);
}

static void test_decode_oracle_sweep(void **state)
{
    (void)state;
    char dir[] = "/tmp/vmp-decode-oracle-XXXXXX";
    char helper[128], in_path[128], out_path[128], cmd[1024];
    if (!mkdtemp(dir))
        fail_msg("mkdtemp failed");
    snprintf(helper, sizeof helper, "%s/helper32", dir);
    snprintf(in_path, sizeof in_path, "%s/req", dir);
    snprintf(out_path, sizeof out_path, "%s/res", dir);
    const char *cc = getenv("VMP_ORACLE_CC");
    snprintf(cmd, sizeof cmd,
             "%s -m32 -static -O1 -fno-stack-protector -fno-pie -no-pie -DDECODE_ORACLE_HELPER "
             "-o %s %s 2>%s/cc.log",
             cc ? cc : "gcc", helper, __FILE__, dir);
    if (system(cmd) != 0) {
        print_message("cannot build the 32-bit helper (%s); is gcc-multilib installed?\n", cmd);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)system(cmd);
        skip();
    }
    host_features();
    gen_sweep(1, 99);
    gen_sweep(0, 4);

    struct x86_insn *ins = calloc(nenc, sizeof *ins);
    int *rcs = calloc(nenc, sizeof *rcs);
    uint8_t *sent = calloc(nenc, 1);
    assert_true(ins && rcs && sent);
    FILE *f = fopen(in_path, "wb");
    assert_non_null(f);
    size_t nsent = 0;
    for (size_t i = 0; i < nenc; i++) {
        rcs[i] = x86_decode(encs[i].b, encs[i].n, encs[i].d32, &ins[i]);
        if ((rcs[i] == X86_DEC_OK || rcs[i] == X86_DEC_UD) && dangerous(&ins[i]))
            continue;
        struct oracle_req rq;
        memset(&rq, 0, sizeof rq);
        rq.n = encs[i].n;
        rq.hint = (rcs[i] == X86_DEC_OK || rcs[i] == X86_DEC_UD) ? ins[i].len : 0;
        rq.ud = rcs[i] == X86_DEC_UD;
        rq.d16 = !encs[i].d32;
        memcpy(rq.bytes, encs[i].b, 16);
        assert_int_equal(fwrite(&rq, sizeof rq, 1, f), 1);
        sent[i] = 1;
        nsent++;
    }
    fclose(f);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(cmd, sizeof cmd, "%s <%s >%s", helper, in_path, out_path);
    int st = system(cmd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(st, 0);
    f = fopen(out_path, "rb");
    assert_non_null(f);

    unsigned compared = 0, mismatches = 0, skipped_feat = 0, skipped_known = 0, no16 = 0;
    for (size_t i = 0; i < nenc; i++) {
        if (!sent[i])
            continue;
        struct oracle_res rs;
        assert_int_equal(fread(&rs, sizeof rs, 1, f), 1);
        const struct x86_insn *in = &ins[i];
        int rc = rcs[i];
        int hw_ud = rs.sig == SIGILL;
        int hw_long = rs.sig == 0 || (rs.sig == SIGSEGV && rs.addr == 0 && rs.len == 15);
        char why[160] = "";
        if (rs.sig == -1) {
            no16++;
            continue;
        }
        if (rc == X86_DEC_OK && !(host_has(in->feature) && host_has(in->feature2))) {
            skipped_feat++;
            continue;
        }
        if (known_difference(in, rc, encs[i].b) && (rc == X86_DEC_OK) == hw_ud) {
            skipped_known++;
            continue;
        }
        compared++;
        if (rc == X86_DEC_TOO_LONG) {
            if (!hw_long)
                snprintf(why, sizeof why, "decoder TOO_LONG, cpu %s len %u", sig_name(rs.sig),
                         rs.len);
        } else if (rc == X86_DEC_OK) {
            if (hw_ud)
                snprintf(why, sizeof why, "decoder OK len %u kind %s, cpu #UD", in->len,
                         x86_kind_name(in->kind));
            else if (rs.len != in->len)
                snprintf(why, sizeof why, "decoder len %u kind %s, cpu len %u (%s)", in->len,
                         x86_kind_name(in->kind), rs.len, sig_name(rs.sig));
        } else if (rc == X86_DEC_UD) {
            if (!hw_ud)
                snprintf(why, sizeof why, "decoder #UD, cpu %s len %u", sig_name(rs.sig), rs.len);
        } else {
            snprintf(why, sizeof why, "decoder status %d", rc);
        }
        /* Beyond length and legality: the single-step trap landing
         * elsewhere than the next instruction means a branch, and a page
         * fault on data means a memory access. */
        if (!why[0] && rc == X86_DEC_OK && rs.sig == SIGTRAP && rs.eip != in->len &&
            !(in->flags & X86F_BRANCH) && !(rs.eip == 0 && (in->flags & (X86F_REP | X86F_REPNE))))
            snprintf(why, sizeof why, "decoder kind %s without BRANCH, cpu went to +%#x",
                     x86_kind_name(in->kind), rs.eip);
        if (!why[0] && rc == X86_DEC_OK && rs.sig == SIGSEGV && rs.addr != 0 && rs.eip == 0 &&
            !(in->flags & (X86F_MEM | X86F_IMPLICIT_MEM)))
            snprintf(why, sizeof why, "decoder kind %s without memory, cpu faulted at %#x",
                     x86_kind_name(in->kind), rs.addr);
        if (why[0]) {
            if (mismatches < 300) {
                char hx[64];
                unsigned show = rs.len > in->len ? rs.len : in->len;
                hexstr(encs[i].b, show ? show : 15, hx);
                print_message("MISMATCH %s(%d-bit code): %s\n", hx, encs[i].d32 ? 32 : 16, why);
            }
            mismatches++;
        }
    }
    fclose(f);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("oracle: %zu encodings generated, %zu run on the cpu in %.2f s; %u compared, "
                  "%u mismatches; skipped: %u need features the host lacks, %u known differences, "
                  "%u 16-bit (no modify_ldt)\n",
                  nenc, nsent, secs, compared, mismatches, skipped_feat, skipped_known, no16);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)system(cmd);
    free(ins);
    free(rcs);
    free(sent);
    free(encs);
    encs = NULL;
    nenc = capenc = 0;
    assert_true(compared > 10000);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_oracle_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
