/*
 * dt_chosen.c - hand-picked cases for the differential tester: the edges
 * random sequences rarely reach. Each is a short program assembled here
 * with labels, run natively and translated from the same state; most
 * must agree, and the native end is checked too, so a case that stopped
 * testing what it names fails loudly. One case is a separate check: an
 * SSE2 instruction under the pentium3 profile runs natively but must
 * raise #UD translated (CPU feature masking, DESIGN.md).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "dt_cmp.h"
#include "dt_gen.h"
#include "dt_run.h"

/* ---- a tiny assembler: bytes, labels, rel8/rel32/abs32 fixups ---------- */

struct asmb {
    uint8_t b[DT_CODE_BYTES];
    unsigned n;
    int lab[16];
    struct {
        unsigned at, label, kind; /* kind 1 rel8, 4 rel32, 0 abs32 */
    } fix[32];
    unsigned nfix;
};

static void as_bytes(struct asmb *a, const char *hex)
{
    unsigned v;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        if (sscanf(hex, "%2x", &v) != 1 || a->n >= sizeof a->b)
            return;
        a->b[a->n++] = (uint8_t)v;
        hex += 2;
    }
}

static void as_d(struct asmb *a, uint32_t v)
{
    memcpy(a->b + a->n, &v, 4);
    a->n += 4;
}

/* Pads with INT3 up to a code offset. */
static void as_org(struct asmb *a, unsigned off)
{
    while (a->n < off)
        a->b[a->n++] = 0xcc;
}

static void as_label(struct asmb *a, unsigned l)
{
    a->lab[l] = (int)a->n;
}

static void as_fix(struct asmb *a, unsigned l, unsigned kind)
{
    a->fix[a->nfix].at = a->n;
    a->fix[a->nfix].label = l;
    a->fix[a->nfix].kind = kind;
    a->nfix++;
    a->n += kind == 1 ? 1 : 4;
}

static void as_done(struct asmb *a)
{
    unsigned i;
    for (i = 0; i < a->nfix; i++) {
        unsigned at = a->fix[i].at;
        int32_t target = a->lab[a->fix[i].label];
        if (a->fix[i].kind == 1) {
            a->b[at] = (uint8_t)(int8_t)(target - (int32_t)(at + 1));
        } else if (a->fix[i].kind == 4) {
            int32_t d = target - (int32_t)(at + 4);
            memcpy(a->b + at, &d, 4);
        } else {
            uint32_t abs = DT_CODE_GLA + (uint32_t)target;
            memcpy(a->b + at, &abs, 4);
        }
    }
}

/* ---- the cases --------------------------------------------------------- */

enum chosen_expect {
    CE_SAME,        /* both sides agree (everything compared) */
    CE_XLAT_UD,     /* native runs to INT3; translated (pentium3 profile) #UD at the start */
};

struct chosen {
    const char *name;
    void (*build)(struct asmb *a, struct dt_init *init);
    int native_vector;      /* how it must end natively: -1 INT3, else a vector */
    unsigned flags;
    enum chosen_expect expect;
};

#define CF_CODE_RWX 1u      /* self-modifying code */
#define CF_LOW_RO 2u        /* the low region read-only */

static void c_rep_movsd_fault(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[6] = DT_DATA_GLA;                     /* esi */
    in->cpu.gpr[7] = DT_DATA_GLA + DT_DATA_BYTES - 0x100; /* edi: 64 dwords before the hole */
    in->cpu.gpr[1] = 128;                             /* ecx */
    as_bytes(a, "fc f3 a5 cc");                       /* cld; rep movsd */
}

static void c_rep_stosb_down_fault(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[7] = DT_DATA_GLA + 0x10;
    in->cpu.gpr[1] = 100;
    as_bytes(a, "fd f3 aa fc cc");                    /* std; rep stosb; cld */
}

static void c_rep_movsb_src_fault(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[6] = DT_DATA_GLA + DT_DATA_BYTES - 0x10;
    in->cpu.gpr[7] = DT_DATA_GLA;
    in->cpu.gpr[1] = 64;
    as_bytes(a, "fc f3 a4 cc");
}

static void c_rep_movsw_16bit(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[6] = 0xabcd0000u | (DT_LOW_GLA + 0x100); /* upper halves ignored with 0x67 */
    in->cpu.gpr[7] = 0x12340000u | (DT_LOW_GLA + 0x800);
    in->cpu.gpr[1] = 0x77770000u | 40;
    as_bytes(a, "fc f3 67 66 a5 cc");
}

static void c_div_zero(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b9 00 00 00 00 f7 f1 cc");           /* mov ecx, 0; div ecx */
}

static void c_idiv_overflow(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b8 00 00 00 80 99 b9 ff ff ff ff f7 f9 cc"); /* INT_MIN / -1 */
}

static void c_aam_zero(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "d4 00 cc");
}

static void c_ud2(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "90 0f 0b cc");
}

static void c_lock_reg(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "f0 01 c0 cc");                       /* lock add eax, eax: #UD */
}

static void c_pf_read(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "a1");
    as_d(a, DT_UNMAPPED_GLA + 0x10);
    as_bytes(a, "cc");
}

static void c_pf_write_ro(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "8b 05");                             /* a read of it works */
    as_d(a, DT_LOW_GLA + 0x20);
    as_bytes(a, "c7 05");                             /* the write faults */
    as_d(a, DT_LOW_GLA + 0x20);
    as_d(a, 0x12345678);
    as_bytes(a, "cc");
}

static void c_jmp_unmapped(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b8");
    as_d(a, DT_UNMAPPED_GLA);
    as_bytes(a, "ff e0 cc");
}

static void c_push_below_stack(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "bc");                                /* mov esp, bottom of the stack region */
    as_d(a, DT_STACK_GLA + 4);
    as_bytes(a, "50 50 cc");                          /* the second push faults, ESP stays */
}

static void c_movaps_misaligned(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "0f 28 05");
    as_d(a, DT_DATA_GLA + 0x101);
    as_bytes(a, "cc");
}

static void c_smc_same_block(struct asmb *a, struct dt_init *in)
{
    (void)in;
    /* mov byte [imm of the next mov], 0x55; mov eax, 0x11: runs as 0x55 */
    as_bytes(a, "c6 05");
    as_d(a, DT_CODE_GLA + 8);
    as_bytes(a, "55 b8 11 00 00 00 cc");
}

static void c_smc_loop(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b9 03 00 00 00");                    /* mov ecx, 3 */
    as_label(a, 0);
    as_bytes(a, "83 c0 01");                          /* add eax, 1 (imm at label+2) */
    as_bytes(a, "c6 05");
    as_d(a, DT_CODE_GLA + 5 + 2);
    as_bytes(a, "05");                                /* mov byte [that imm], 5 */
    as_bytes(a, "e2");
    as_fix(a, 0, 1);                                  /* loop */
    as_bytes(a, "cc");
}

static void c_smc_rep_stos(struct asmb *a, struct dt_init *in)
{
    /* rep stosb writes NOPs over the instructions that follow it */
    in->cpu.gpr[0] = 0x90;
    in->cpu.gpr[1] = 5;
    as_bytes(a, "fc bf");
    as_fix(a, 0, 0);                                  /* mov edi, label 0 */
    as_bytes(a, "f3 aa");
    as_label(a, 0);
    as_bytes(a, "b8 11 11 11 11 cc");                 /* becomes 5 NOPs; then INT3 */
}

static void c_call_table(struct asmb *a, struct dt_init *in)
{
    uint32_t table = DT_DATA_GLA + 0x100;
    unsigned i;
    (void)in;
    for (i = 0; i < 3; i++) {
        as_bytes(a, "c7 05");
        as_d(a, table + 4 * i);
        as_fix(a, 1 + i, 0);                          /* mov dword [table+4i], f_i */
    }
    as_bytes(a, "31 c0 31 c9");                       /* xor eax, eax; xor ecx, ecx */
    as_label(a, 0);
    as_bytes(a, "ff 14 8d");
    as_d(a, table);                                   /* call [table + ecx*4] */
    as_bytes(a, "41 83 f9 03 75");                    /* inc ecx; cmp ecx, 3; jne */
    as_fix(a, 0, 1);
    as_bytes(a, "8b 15");
    as_d(a, table);                                   /* mov edx, [table] */
    as_bytes(a, "ff d2 cc");                          /* call edx (f0 again) */
    as_label(a, 1);
    as_bytes(a, "83 c0 01 c3");                       /* f0: add eax, 1; ret */
    as_label(a, 2);
    as_bytes(a, "c1 e0 02 c3");                       /* f1: shl eax, 2; ret */
    as_label(a, 3);
    as_bytes(a, "35 55 55 00 00 c3");                 /* f2: xor eax, 0x5555; ret */
}

static void c_deep_recursion(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[4] = DT_STACK_GLA + DT_STACK_BYTES - 0x10; /* esp at the top */
    in->cpu.gpr[0] = 0;
    as_bytes(a, "b9 58 02 00 00 e8");                 /* mov ecx, 600; call f */
    as_fix(a, 0, 4);
    as_bytes(a, "cc");
    as_label(a, 0);                                   /* f: */
    as_bytes(a, "55 89 e5 51 49 74");                 /* push ebp; mov ebp, esp; push ecx; dec ecx; jz */
    as_fix(a, 1, 1);
    as_bytes(a, "e8");
    as_fix(a, 0, 4);                                  /* call f */
    as_label(a, 1);
    as_bytes(a, "59 01 c8 03 45 04 5d c3");           /* pop ecx; add eax, ecx; add eax, [ebp+4]; pop ebp; ret */
}

static void c_into(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b0 7f 04 01 ce cc");                 /* mov al, 0x7f; add al, 1 (OF); into: #OF after it */
}

static void c_bound(struct asmb *a, struct dt_init *in)
{
    uint32_t b = DT_DATA_GLA + 0x200;
    (void)in;
    as_bytes(a, "c7 05");
    as_d(a, b);
    as_d(a, 10);
    as_bytes(a, "c7 05");
    as_d(a, b + 4);
    as_d(a, 20);
    as_bytes(a, "b8 0f 00 00 00 62 05");
    as_d(a, b);                                       /* bound eax(15), [10, 20]: fine */
    as_bytes(a, "b8 15 00 00 00 62 05");
    as_d(a, b);                                       /* bound eax(21): #BR */
    as_bytes(a, "cc");
}

static void c_hlt(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "90 f4 cc");                          /* HLT at CPL 3: #GP(0) */
}

static void c_cli(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "fa cc");                             /* CLI with IOPL 0: #GP(0) */
}

static void c_x87_mf(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "db e3 66 c7 05");                    /* fninit: an empty stack */
    as_d(a, DT_DATA_GLA);
    as_bytes(a, "7b 03 d9 2d");                       /* mov word [d], 0x37b (ZE unmasked); fldcw */
    as_d(a, DT_DATA_GLA);
    as_bytes(a, "d9 e8 d9 ee de f9 9b cc");           /* fld1; fldz; fdivp; fwait: #MF at fwait */
}

static void c_sse_xm(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "c7 05");
    as_d(a, DT_DATA_GLA);
    as_d(a, 0x1d80);                                  /* ZM unmasked */
    as_bytes(a, "0f ae 15");
    as_d(a, DT_DATA_GLA);                             /* ldmxcsr */
    as_bytes(a, "0f 57 c9 b8 01 00 00 00 f3 0f 2a c0 f3 0f 5e c1 cc"); /* 1.0 / 0.0: #XM */
}

static void c_fs_16bit_wrap(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x100;
    in->cpu.gpr[3] = 0x1234fff0u; /* ebx: bx = 0xfff0 */
    in->cpu.gpr[6] = 0x00000020u; /* esi: bx + si wraps to 0x10 */
    as_bytes(a, "67 64 8b 00 67 64 89 48 08 cc");     /* mov eax, fs:[bx+si]; mov fs:[bx+si+8], ecx */
}

static void c_gs_32bit_wrap(struct asmb *a, struct dt_init *in)
{
    in->cpu.gs_base = DT_DATA_GLA + 0x2000;
    in->cpu.gpr[3] = 0xfffff000u; /* gs:[ebx] = base - 0x1000 */
    as_bytes(a, "65 8b 03 65 89 4b 04 cc");           /* mov eax, gs:[ebx]; mov gs:[ebx+4], ecx */
}

static void c_xlat_fs(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x300;
    in->cpu.gpr[3] = 0x40;
    in->cpu.gpr[0] = 0xaabbcc85u;
    as_bytes(a, "64 d7 d7 cc");                       /* xlat fs:[ebx+al]; xlat [ebx+al]: #PF (low) */
}

static void c_enter_nested(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "89 e5 c8 10 00 03 89 e3 c9 c8 08 00 00 c9 cc"); /* mov ebp, esp; enter 16, 3; ...; leave */
}

static void c_pusha16(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "66 60 60 66 61 61 66 6a 80 66 9c 66 9d cc");
}

static void c_insn_straddles_unmapped(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "e9");
    as_fix(a, 0, 4);
    as_org(a, DT_CODE_BYTES - 2);
    as_label(a, 0);
    as_bytes(a, "b8 11");                             /* mov eax, imm32: its last 3 bytes are unmapped */
}

static void c_insn_straddles_pages(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "e9");
    as_fix(a, 0, 4);
    as_org(a, 0x1000 - 3);
    as_label(a, 0);
    as_bytes(a, "b8 11 22 33 44 05 01 00 00 00 cc");  /* mov eax, imm32 across the page; add */
}

static void c_load_straddles_unmapped(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "8b 05");
    as_d(a, DT_DATA_GLA + DT_DATA_BYTES - 2);
    as_bytes(a, "cc");
}

static void c_store_straddles_unmapped(struct asmb *a, struct dt_init *in)
{
    in->cpu.gpr[0] = 0x11223344;
    as_bytes(a, "89 05");                             /* no byte may land before the #PF */
    as_d(a, DT_DATA_GLA + DT_DATA_BYTES - 2);
    as_bytes(a, "cc");
}

static void c_jmp_mem(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "c7 05");
    as_d(a, DT_DATA_GLA + 0x40);
    as_fix(a, 0, 0);
    as_bytes(a, "ff 25");
    as_d(a, DT_DATA_GLA + 0x40);                      /* jmp [m] */
    as_bytes(a, "cc cc");
    as_label(a, 0);
    as_bytes(a, "b8 01 00 00 00 cc");
}

static void c_fs_null_access(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "31 c0 8e e0 64 a1");                 /* mov fs, 0; mov eax, fs:[m]: #GP(0) */
    as_d(a, DT_DATA_GLA);
    as_bytes(a, "cc");
}

static void c_bad_selector_load(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b8 ff 00 00 00 8e e8 cc");           /* mov gs, 0xff (no such descriptor): #GP */
}

static void c_fnstenv(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "d9 e8 dd 05");                       /* fld1; fld qword [m] (FDP) */
    as_d(a, DT_DATA_GLA + 0x80);
    as_bytes(a, "d9 35");                             /* fnstenv [m]: FIP, FCS, FOP, FDP, FDS */
    as_d(a, DT_DATA_GLA + 0x100);
    as_bytes(a, "cc");
}

static void c_fxsave(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "d9 e8 0f ae 05");                    /* fld1; fxsave [m] */
    as_d(a, DT_DATA_GLA + 0x200);
    as_bytes(a, "cc");
}

static void c_fxrstor(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "0f ae 05");                          /* fxsave [m]; change state; fxrstor [m] */
    as_d(a, DT_DATA_GLA + 0x200);
    as_bytes(a, "d9 e8 0f 57 c0 0f ae 0d");
    as_d(a, DT_DATA_GLA + 0x200);
    as_bytes(a, "cc");
}

/* FINDINGS.md 1: bytes past offset 0xFFFFFFFF are beyond the flat
 * segment's limit (#GP(0)) even where base + offset wraps to mapped
 * memory; a negative offset that does not cross still reads below the base */
static void c_fs_offset_crosses_4g(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x100;
    in->cpu.gpr[3] = 0xfffffffeu;
    as_bytes(a, "64 8b 4b fa 64 8b 03 cc");           /* mov ecx, fs:[ebx-6]; mov eax, fs:[ebx] */
}

static void c_gs_disp_crosses_4g(struct asmb *a, struct dt_init *in)
{
    in->cpu.gs_base = DT_DATA_GLA + 0x100;
    as_bytes(a, "65 a1 fc ff ff ff");                 /* mov eax, gs:[0xfffffffc] (fits) */
    as_bytes(a, "65 c7 05 fd ff ff ff 14 00 40 00 cc"); /* mov dword gs:[0xfffffffd], imm */
}

static void c_moffs_crosses_4g(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x100;
    as_bytes(a, "64 a1 fe ff ff ff cc");              /* mov eax, fs:[0xfffffffe] */
}

static void c_sse_fs_crosses_4g(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x104;
    in->cpu.gpr[3] = 0xfffffffcu;
    as_bytes(a, "64 0f 10 03 cc");                    /* movups xmm0, fs:[ebx]: 12 bytes past */
}

/* FINDINGS.md 2 was 1: alignment follows the linear address here */
static void c_movaps_fs_unaligned_base(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x104;
    in->cpu.gpr[3] = 0x0c;
    as_bytes(a, "64 0f 28 03 64 0f 29 43 10 cc");     /* movaps xmm0, fs:[ebx]; movaps fs:[ebx+16], xmm0 */
}

static void c_fnsave(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "d9 e8 d9 eb dc 0d");                 /* fld1; fldpi; fmul qword [m] */
    as_d(a, DT_DATA_GLA + 0x80);
    as_bytes(a, "dd 35");                             /* fnsave [m]: pointers, registers, FNINIT */
    as_d(a, DT_DATA_GLA + 0x100);
    as_bytes(a, "d9 e8 de c9 d9 35");                 /* fld1; fmulp (no operand); fnstenv [m] */
    as_d(a, DT_DATA_GLA + 0x180);
    as_bytes(a, "cc");
}

static void c_fxsave_fs(struct asmb *a, struct dt_init *in)
{
    in->cpu.fs_base = DT_DATA_GLA + 0x10;
    in->cpu.gpr[3] = 0x200;
    as_bytes(a, "d9 e8 64 0f ae 03 cc");              /* fld1; fxsave fs:[ebx] */
}

static void c_sse2_masked(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "66 0f fe c1 cc");                    /* paddd xmm0, xmm1 */
}

/* FINDINGS.md 3: TF single-steps (SDM 3A 17.3.1.4): no #DB after the POPF
 * that sets TF, one after the next instruction, EIP past it */
static void c_tf_popf(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "68 00 01 00 00 9d 90 cc");           /* push 0x100; popf; nop */
}

/* a POPF that clears TF began with TF set: the trap follows it */
static void c_tf_popf_clears(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "6a 00 68 00 01 00 00 9d 9d 90 cc");  /* push 0; push 0x100; popf; popf; nop */
}

/* the step of an indirect jump stops at its target, not in a block there */
static void c_tf_indirect_jump(struct asmb *a, struct dt_init *in)
{
    (void)in;
    as_bytes(a, "b8");                                /* mov eax, target */
    as_d(a, DT_CODE_GLA + 16);
    as_bytes(a, "68 00 01 00 00 9d ff e0");           /* push 0x100; popf; jmp eax */
    as_org(a, 16);
    as_bytes(a, "90 90 cc");
}

static const struct chosen chosen_cases[] = {
    {"rep-movsd-fault-midway", c_rep_movsd_fault, 14, 0, CE_SAME},
    {"rep-stosb-df1-fault", c_rep_stosb_down_fault, 14, 0, CE_SAME},
    {"rep-movsb-source-fault", c_rep_movsb_src_fault, 14, 0, CE_SAME},
    {"rep-movsw-16bit-addressing", c_rep_movsw_16bit, -1, 0, CE_SAME},
    {"div-by-zero", c_div_zero, 0, 0, CE_SAME},
    {"idiv-overflow", c_idiv_overflow, 0, 0, CE_SAME},
    {"aam-zero", c_aam_zero, 0, 0, CE_SAME},
    {"ud2", c_ud2, 6, 0, CE_SAME},
    {"lock-on-register", c_lock_reg, 6, 0, CE_SAME},
    {"pf-read-unmapped", c_pf_read, 14, 0, CE_SAME},
    {"pf-write-read-only", c_pf_write_ro, 14, CF_LOW_RO, CE_SAME},
    {"jmp-to-unmapped", c_jmp_unmapped, 14, 0, CE_SAME},
    {"push-below-stack", c_push_below_stack, 14, 0, CE_SAME},
    {"movaps-misaligned", c_movaps_misaligned, 13, 0, CE_SAME},
    {"smc-same-block", c_smc_same_block, -1, CF_CODE_RWX, CE_SAME},
    {"smc-in-loop", c_smc_loop, -1, CF_CODE_RWX, CE_SAME},
    {"smc-rep-stos-over-code", c_smc_rep_stos, -1, CF_CODE_RWX, CE_SAME},
    {"indirect-calls-through-table", c_call_table, -1, 0, CE_SAME},
    {"deep-recursion", c_deep_recursion, -1, 0, CE_SAME},
    {"into-overflow", c_into, 4, 0, CE_SAME},
    {"bound-range", c_bound, 5, 0, CE_SAME},
    {"hlt-at-cpl3", c_hlt, 13, 0, CE_SAME},
    {"cli-at-iopl0", c_cli, 13, 0, CE_SAME},
    {"x87-unmasked-mf", c_x87_mf, 16, 0, CE_SAME},
    {"sse-unmasked-xm", c_sse_xm, 19, 0, CE_SAME},
    {"fs-16bit-wrap", c_fs_16bit_wrap, -1, 0, CE_SAME},
    {"gs-32bit-wrap", c_gs_32bit_wrap, -1, 0, CE_SAME},
    {"xlat-fs", c_xlat_fs, 14, 0, CE_SAME},
    {"enter-nested-leave", c_enter_nested, -1, 0, CE_SAME},
    {"pusha-popa-16bit", c_pusha16, -1, 0, CE_SAME},
    {"insn-straddles-unmapped", c_insn_straddles_unmapped, 14, 0, CE_SAME},
    {"insn-straddles-pages", c_insn_straddles_pages, -1, 0, CE_SAME},
    {"load-straddles-unmapped", c_load_straddles_unmapped, 14, 0, CE_SAME},
    {"store-straddles-unmapped", c_store_straddles_unmapped, 14, 0, CE_SAME},
    {"jmp-through-memory", c_jmp_mem, -1, 0, CE_SAME},
    {"fnstenv-instruction-pointer", c_fnstenv, -1, 0, CE_SAME},
    {"fxsave-32bit-layout", c_fxsave, -1, 0, CE_SAME},
    {"fxsave-fxrstor-round-trip", c_fxrstor, -1, 0, CE_SAME},
    {"fs-offset-crosses-4g", c_fs_offset_crosses_4g, 13, 0, CE_SAME},
    {"gs-disp-crosses-4g", c_gs_disp_crosses_4g, 13, 0, CE_SAME},
    {"moffs-crosses-4g", c_moffs_crosses_4g, 13, 0, CE_SAME},
    {"sse-fs-crosses-4g", c_sse_fs_crosses_4g, 13, 0, CE_SAME},
    {"movaps-fs-unaligned-base", c_movaps_fs_unaligned_base, -1, 0, CE_SAME},
    {"fnsave-fnstenv-pointers", c_fnsave, -1, 0, CE_SAME},
    {"fxsave-through-fs", c_fxsave_fs, -1, 0, CE_SAME},
    {"fs-null-selector-access", c_fs_null_access, 13, 0, CE_SAME},
    {"load-bad-selector", c_bad_selector_load, 13, 0, CE_SAME},
    {"tf-popf-single-step", c_tf_popf, 1, 0, CE_SAME},
    {"tf-popf-clearing-tf-traps", c_tf_popf_clears, 1, 0, CE_SAME},
    {"tf-indirect-jump", c_tf_indirect_jump, 1, 0, CE_SAME},
    {"sse2-masked-by-pentium3", c_sse2_masked, -1, 0, CE_XLAT_UD},
};

static int chosen_skipped(const struct dt_ctx *ctx, const char *name)
{
    const char *p = ctx->skip_chosen;
    size_t n = strlen(name);
    while (p && *p) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int chosen_native_ok(const struct chosen *cc, const struct dt_result *r)
{
    if (cc->native_vector < 0)
        return r->status == DT_ST_INT3;
    return r->status == DT_ST_EXC && r->vector == (uint32_t)cc->native_vector;
}

/* The masked-feature check: its own translated worker with pentium3. */
static int chosen_masked(struct dt_ctx *ctx, const struct chosen *cc, const struct dt_init *init,
                         const struct asmb *as)
{
    struct dt_worker w;
    const struct dt_result *rn, *rx;
    char sn[200], sx[200];
    int ok;

    if (ctx->b_is_native || !dt_xlat_available()) {
        printf("chosen %-30s skipped (needs the translator)\n", cc->name);
        return 0;
    }
    if (dt_worker_start(&w, DT_W_XLAT, "pentium3") != 0)
        return -1;
    dt_build_case(dt_worker_case(&ctx->a), init, as->b, as->n, PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE);
    memcpy(dt_worker_case(&w), dt_worker_case(&ctx->a), DT_XCHG_BYTES / 2);
    dt_worker_go(&ctx->a);
    dt_worker_go(&w);
    if (dt_worker_wait(&ctx->a, 3000) != 0 || dt_worker_wait(&w, 3000) != 0) {
        dt_worker_stop(&w);
        return -1;
    }
    rn = (const struct dt_result *)(dt_worker_case(&ctx->a) + DT_RESULT_OFF);
    rx = (const struct dt_result *)(dt_worker_case(&w) + DT_RESULT_OFF);
    ok = rn->status == DT_ST_INT3 && rx->status == DT_ST_EXC && rx->vector == 6 && rx->fin.eip == DT_CODE_GLA;
    dt_result_str(rn, sn, sizeof sn);
    dt_result_str(rx, sx, sizeof sx);
    printf("chosen %-30s %s (native: %s; translated with pentium3: %s; want #UD at 0x%x)\n", cc->name,
           ok ? "ok" : "FAILED", sn, sx, DT_CODE_GLA);
    dt_worker_stop(&w);
    return ok ? 0 : 1;
}

int dt_run_chosen(struct dt_ctx *ctx, const char *only)
{
    static struct dt_init init;
    static char diff[8192];
    unsigned i, failed = 0, ran = 0;

    for (i = 0; i < sizeof chosen_cases / sizeof chosen_cases[0]; i++) {
        const struct chosen *cc = &chosen_cases[i];
        struct asmb as;
        const struct dt_result *rn;
        char sn[200];
        int rc;

        if (only && strcmp(only, cc->name) != 0)
            continue;
        if (chosen_skipped(ctx, cc->name)) {
            printf("chosen %-30s SKIPPED (--skip-chosen: a known divergence, FINDINGS.md)\n", cc->name);
            continue;
        }
        ran++;
        memset(&as, 0, sizeof as);
        dt_gen_init(0xc0ffee00u + i, &init);
        init.cpu.eflags &= ~0x400u; /* DF=0 unless the case sets it */
        cc->build(&as, &init);
        as_done(&as);
        if (cc->expect == CE_XLAT_UD) {
            rc = chosen_masked(ctx, cc, &init, &as);
            if (rc < 0)
                return -1;
            failed += (unsigned)rc;
            continue;
        }
        dt_build_case(dt_worker_case(&ctx->a), &init, as.b, as.n,
                      PROT_READ | PROT_EXEC | (cc->flags & CF_CODE_RWX ? PROT_WRITE : 0),
                      cc->flags & CF_LOW_RO ? PROT_READ : PROT_READ | PROT_WRITE);
        rc = dt_run_built(ctx, 0, 0, diff, sizeof diff);
        if (rc == DT_HARNESS_ERROR)
            return -1;
        rn = (const struct dt_result *)(dt_worker_case(&ctx->a) + DT_RESULT_OFF);
        dt_result_str(rn, sn, sizeof sn);
        if (!chosen_native_ok(cc, rn)) {
            printf("chosen %-30s FAILED: natively it ended with %s, not as the case intends\n", cc->name, sn);
            failed++;
            continue;
        }
        if (rc == DT_MISMATCH) {
            printf("chosen %-30s MISMATCH (native: %s)\n", cc->name, sn);
            dt_print_code(as.b, as.n);
            printf("  differences:\n%s", diff);
            failed++;
            continue;
        }
        printf("chosen %-30s ok (%s)\n", cc->name, sn);
    }
    if (only && ran == 0) {
        printf("chosen: no case named %s\n", only);
        return 1;
    }
    printf("difftest: chosen %u cases, %u failed\n", ran, failed);
    fflush(stdout);
    return (int)failed;
}
