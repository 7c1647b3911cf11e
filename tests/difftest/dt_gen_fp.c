/*
 * dt_gen_fp.c - random x87, SSE/SSE2/SSE3/SSSE3/SSE4.1 and MMX
 * instructions for the differential tester (dt_gen.h).
 *
 * Exceptions stay masked (FCW and MXCSR as dt_gen_init sets them, and the
 * FLDCW/LDMXCSR values below keep every mask bit), so a random sequence
 * never ends in #MF or #XM; the chosen cases test those. FNSTENV/FNSAVE
 * are left out: they store FIP/FDP, which the translator cannot match
 * bit for bit without emulating them (see FINDINGS.md).
 *
 * Encodings: SDM 2D appendix A.5 (x87 escape opcode maps) and A.3 (the
 * two- and three-byte maps with their mandatory prefixes).
 */
#include <string.h>

#include "dt_gen_int.h"

/* ---- x87 -------------------------------------------------------------- */

static void fp_mem_op(struct gen *g, const char *name, uint8_t opc, unsigned sub, unsigned size_bytes)
{
    struct gen_rm rm;
    memset(&rm, 0, sizeof rm);
    rm.is_mem = 1;
    gen_mem(g, size_bytes, 1, 0, 0, &rm.m);
    gen_begin(g, name, DT_CAT_X87);
    gen_emit_rm(g, 0, 4, 0, &opc, 1, sub, &rm);
    gen_end(g);
}

static void fp_two(struct gen *g, const char *name, uint8_t a, uint8_t b)
{
    gen_begin(g, name, DT_CAT_X87);
    gen_b(g, a);
    gen_b(g, b);
    gen_end(g);
}

void gen_x87(struct gen *g)
{
    static const uint8_t d9ops[] = {0xe0, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed,
                                    0xee, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
                                    0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xd0};
    static const uint16_t cws[] = {0x037f, 0x027f, 0x007f, 0x0f7f, 0x0b7f, 0x077f, 0x033f};
    unsigned k = gen_below(g, 13), i = gen_below(g, 8), op = gen_below(g, 8);

    switch (k) {
    case 0: /* fld m32/m64/m80 */
        op = gen_below(g, 3);
        fp_mem_op(g, "fld m", op == 0 ? 0xd9 : op == 1 ? 0xdd : 0xdb, op == 2 ? 5 : 0,
                  op == 0 ? 4 : op == 1 ? 8 : 10);
        break;
    case 1: /* fild m16/m32/m64 */
        op = gen_below(g, 3);
        fp_mem_op(g, "fild m", op == 1 ? 0xdb : 0xdf, op == 2 ? 5 : 0, op == 0 ? 2 : op == 1 ? 4 : 8);
        break;
    case 2: /* fst/fstp m32/m64, fstp m80 */
        op = gen_below(g, 5);
        if (op < 4)
            fp_mem_op(g, "fst/fstp m", op < 2 ? 0xd9 : 0xdd, 2 + (op & 1), op < 2 ? 4 : 8);
        else
            fp_mem_op(g, "fstp m80", 0xdb, 7, 10);
        break;
    case 3: /* fist/fistp m16/m32, fistp m64, fisttp */
        op = gen_below(g, 6);
        if (op < 4)
            fp_mem_op(g, "fist/fistp m", op < 2 ? 0xdf : 0xdb, 2 + (op & 1), op < 2 ? 2 : 4);
        else if (op == 4)
            fp_mem_op(g, "fistp m64", 0xdf, 7, 8);
        else if (g->f->sse3) {
            op = gen_below(g, 3);
            fp_mem_op(g, "fisttp m", op == 0 ? 0xdf : op == 1 ? 0xdb : 0xdd, 1, op == 0 ? 2 : op == 1 ? 4 : 8);
        }
        break;
    case 4: { /* arithmetic with a memory operand */
        static const uint8_t esc[4] = {0xd8, 0xdc, 0xda, 0xde};
        static const uint8_t sz[4] = {4, 8, 4, 2};
        unsigned e = gen_below(g, 4);
        fp_mem_op(g, "fadd..fdivr m", esc[e], op, sz[e]);
        break;
    }
    case 5: /* arithmetic st(0), st(i) and st(i), st(0) and the popping forms */
        op = gen_below(g, 3);
        if (op == 0) {
            fp_two(g, "fop st, st(i)", 0xd8, (uint8_t)(0xc0 + 8 * gen_below(g, 8) + i));
        } else {
            static const uint8_t sub[6] = {0, 1, 4, 5, 6, 7}; /* DC/DE /2 /3 are aliases */
            fp_two(g, op == 1 ? "fop st(i), st" : "fopp st(i), st", op == 1 ? 0xdc : 0xde,
                   (uint8_t)(0xc0 + 8 * sub[gen_below(g, 6)] + i));
        }
        break;
    case 6: /* D9 E0-FF: fchs fabs ftst fxam constants f2xm1 ... fcos, fnop */
        fp_two(g, "d9 e0-ff", 0xd9, d9ops[gen_below(g, sizeof d9ops)]);
        break;
    case 7: /* fxch, fld st(i), fst/fstp st(i), ffree */
        op = gen_below(g, 5);
        if (op == 0)
            fp_two(g, "fxch", 0xd9, (uint8_t)(0xc8 + i));
        else if (op == 1)
            fp_two(g, "fld st(i)", 0xd9, (uint8_t)(0xc0 + i));
        else if (op == 2)
            fp_two(g, "fst st(i)", 0xdd, (uint8_t)(0xd0 + i));
        else if (op == 3)
            fp_two(g, "fstp st(i)", 0xdd, (uint8_t)(0xd8 + i));
        else
            fp_two(g, "ffree", 0xdd, (uint8_t)(0xc0 + i));
        break;
    case 8: /* compares */
        op = gen_below(g, 8);
        if (op == 0)
            fp_two(g, "fcom st(i)", 0xd8, (uint8_t)(0xd0 + i));
        else if (op == 1)
            fp_two(g, "fcomp st(i)", 0xd8, (uint8_t)(0xd8 + i));
        else if (op == 2)
            fp_two(g, "fucom st(i)", 0xdd, (uint8_t)(0xe0 + i));
        else if (op == 3)
            fp_two(g, "fucomp st(i)", 0xdd, (uint8_t)(0xe8 + i));
        else if (op == 4)
            fp_two(g, gen_chance(g, 50) ? "fucompp" : "fcompp", gen_chance(g, 50) ? 0xda : 0xde,
                   0xe9); /* DA E9 fucompp; DE E9 is fsubp: both fine */
        else if (g->f->fcomi) {
            static const uint8_t esc[4] = {0xdb, 0xdb, 0xdf, 0xdf};
            static const uint8_t base[4] = {0xf0, 0xe8, 0xf0, 0xe8};
            op -= 5;
            fp_two(g, "fcomi/fucomi(p)", esc[op], (uint8_t)(base[op] + i));
            gen_flags(g, F_ARITH, 0);
        }
        break;
    case 9: /* status and control words */
        op = gen_below(g, 6);
        if (op == 0 && !(g->reserved & 1)) {
            fp_two(g, "fnstsw ax", 0xdf, 0xe0);
            gen_clobber(g, 1);
        } else if (op == 1) {
            fp_mem_op(g, "fnstsw m16", 0xdd, 7, 2);
        } else if (op == 2) {
            fp_mem_op(g, "fnstcw m16", 0xd9, 7, 2);
        } else if (op == 3) {
            struct gen_rm rm;
            uint8_t opc = 0xc7;
            memset(&rm, 0, sizeof rm);
            rm.is_mem = 1;
            gen_mem(g, 2, 2, 0, 0, &rm.m);
            gen_begin(g, "mov m16, cw; fldcw m16", DT_CAT_X87);
            gen_emit_rm(g, 0, 2, 0, &opc, 1, 0, &rm);
            gen_w(g, cws[gen_below(g, sizeof cws / sizeof cws[0])]);
            opc = 0xd9;
            gen_emit_rm(g, 0, 4, 0, &opc, 1, 5, &rm);
            gen_end(g);
        } else if (op == 4) {
            fp_two(g, "fnclex", 0xdb, 0xe2);
        } else {
            gen_begin(g, "fwait", DT_CAT_X87);
            gen_b(g, 0x9b);
            gen_end(g);
        }
        break;
    case 10: /* fcmovcc: reads CF ZF PF */
        if (!g->f->fcomi)
            break;
        gen_need_flags(g);
        fp_two(g, "fcmovcc", gen_chance(g, 50) ? 0xda : 0xdb, (uint8_t)(0xc0 + 8 * gen_below(g, 4) + i));
        break;
    case 11: /* fninit now and then: resets FCW, FSW, tags */
        if (gen_chance(g, 30))
            fp_two(g, "fninit", 0xdb, 0xe3);
        break;
    default: /* integer-to-float round trips through memory */
        fp_mem_op(g, "fild m32", 0xdb, 0, 4);
        break;
    }
}

/* ---- SSE and MMX ------------------------------------------------------ */

enum sse_kind {
    SK_XX,      /* xmm, xmm/m */
    SK_XSTORE,  /* xmm/m, xmm */
    SK_GX,      /* r32, xmm (or m when size) */
    SK_XG,      /* xmm, r/m32 */
    SK_GSTORE,  /* r/m32, xmm */
    SK_XIMM,    /* 66 0F 71-73 /n ib: xmm shifts by an immediate */
    SK_MM,      /* mm, mm/m64 */
    SK_MMSTORE, /* mm/m64, mm */
    SK_MMG,     /* mm, r/m32 */
    SK_GMM,     /* r/m32, mm */
    SK_EMMS,
};

enum sse_feat { SF_SSE, SF_SSE2, SF_SSE3, SF_SSSE3, SF_SSE41, SF_MMX };

#define SSE_IMM 1u
#define SSE_FLAGS 2u
#define SSE_REGONLY 4u
#define SSE_MEMONLY 8u

struct sse_op {
    uint8_t pfx;        /* mandatory prefix: 0, 0x66, 0xF3, 0xF2 */
    uint8_t map;        /* 0: 0F, 0x38: 0F 38, 0x3a: 0F 3A */
    uint8_t op;
    uint8_t kind;
    uint8_t feat;
    uint8_t size;       /* memory operand bytes; 0 for register only */
    uint8_t align;
    uint8_t flags;
    uint8_t sub;        /* SK_XIMM: ModRM.reg */
};

static const struct sse_op sse_ops[] = {
    /* SSE, packed single and moves */
    {0, 0, 0x10, SK_XX, SF_SSE, 16, 1, 0, 0},      {0, 0, 0x11, SK_XSTORE, SF_SSE, 16, 1, 0, 0},
    {0, 0, 0x28, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x29, SK_XSTORE, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x12, SK_XX, SF_SSE, 8, 1, 0, 0},       {0, 0, 0x16, SK_XX, SF_SSE, 8, 1, 0, 0},
    {0, 0, 0x14, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x15, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x51, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x52, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x53, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x54, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x55, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x56, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x57, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x58, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x59, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x5c, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x5d, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0x5e, SK_XX, SF_SSE, 16, 16, 0, 0},
    {0, 0, 0x5f, SK_XX, SF_SSE, 16, 16, 0, 0},     {0, 0, 0xc2, SK_XX, SF_SSE, 16, 16, SSE_IMM, 0},
    {0, 0, 0xc6, SK_XX, SF_SSE, 16, 16, SSE_IMM, 0}, {0, 0, 0x2e, SK_XX, SF_SSE, 4, 1, SSE_FLAGS, 0},
    {0, 0, 0x2f, SK_XX, SF_SSE, 4, 1, SSE_FLAGS, 0}, {0, 0, 0x50, SK_GX, SF_SSE, 0, 1, SSE_REGONLY, 0},
    {0, 0, 0x5a, SK_XX, SF_SSE2, 8, 1, 0, 0},      {0, 0, 0x5b, SK_XX, SF_SSE2, 16, 16, 0, 0},
    /* SSE scalar single (F3) */
    {0xf3, 0, 0x10, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x11, SK_XSTORE, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x51, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x52, SK_XX, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x53, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x58, SK_XX, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x59, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x5c, SK_XX, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x5d, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x5e, SK_XX, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x5f, SK_XX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0xc2, SK_XX, SF_SSE, 4, 1, SSE_IMM, 0},
    {0xf3, 0, 0x2a, SK_XG, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x2c, SK_GX, SF_SSE, 4, 1, 0, 0},
    {0xf3, 0, 0x2d, SK_GX, SF_SSE, 4, 1, 0, 0},    {0xf3, 0, 0x5a, SK_XX, SF_SSE2, 4, 1, 0, 0},
    {0xf3, 0, 0x5b, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0xf3, 0, 0xe6, SK_XX, SF_SSE2, 8, 1, 0, 0},
    {0xf3, 0, 0x6f, SK_XX, SF_SSE2, 16, 1, 0, 0},  {0xf3, 0, 0x7f, SK_XSTORE, SF_SSE2, 16, 1, 0, 0},
    {0xf3, 0, 0x7e, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf3, 0, 0x70, SK_XX, SF_SSE2, 16, 16, SSE_IMM, 0},
    {0xf3, 0, 0x12, SK_XX, SF_SSE3, 16, 16, 0, 0}, {0xf3, 0, 0x16, SK_XX, SF_SSE3, 16, 16, 0, 0},
    /* SSE2 scalar double (F2) */
    {0xf2, 0, 0x10, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0x11, SK_XSTORE, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0x51, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0x58, SK_XX, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0x59, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0x5c, SK_XX, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0x5d, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0x5e, SK_XX, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0x5f, SK_XX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0xc2, SK_XX, SF_SSE2, 8, 1, SSE_IMM, 0},
    {0xf2, 0, 0x2a, SK_XG, SF_SSE2, 4, 1, 0, 0},   {0xf2, 0, 0x2c, SK_GX, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0x2d, SK_GX, SF_SSE2, 8, 1, 0, 0},   {0xf2, 0, 0x5a, SK_XX, SF_SSE2, 8, 1, 0, 0},
    {0xf2, 0, 0xe6, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0xf2, 0, 0x70, SK_XX, SF_SSE2, 16, 16, SSE_IMM, 0},
    {0xf2, 0, 0x7c, SK_XX, SF_SSE3, 16, 16, 0, 0}, {0xf2, 0, 0xf0, SK_XX, SF_SSE3, 16, 1, SSE_MEMONLY, 0},
    {0xf2, 0, 0x12, SK_XX, SF_SSE3, 8, 1, 0, 0},
    /* SSE2 packed double and integer (66) */
    {0x66, 0, 0x10, SK_XX, SF_SSE2, 16, 1, 0, 0},  {0x66, 0, 0x11, SK_XSTORE, SF_SSE2, 16, 1, 0, 0},
    {0x66, 0, 0x28, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x29, SK_XSTORE, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x51, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x54, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x57, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x58, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x59, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x5a, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x5b, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x5c, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x5d, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x5e, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x5f, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xc2, SK_XX, SF_SSE2, 16, 16, SSE_IMM, 0},
    {0x66, 0, 0xc6, SK_XX, SF_SSE2, 16, 16, SSE_IMM, 0}, {0x66, 0, 0x14, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x2e, SK_XX, SF_SSE2, 8, 1, SSE_FLAGS, 0}, {0x66, 0, 0x2f, SK_XX, SF_SSE2, 8, 1, SSE_FLAGS, 0},
    {0x66, 0, 0x50, SK_GX, SF_SSE2, 0, 1, SSE_REGONLY, 0}, {0x66, 0, 0x60, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x61, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x62, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x63, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x64, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x66, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x67, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x68, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x6b, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x6c, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x6d, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x74, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x75, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x76, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0x6e, SK_XG, SF_SSE2, 4, 1, 0, 0},
    {0x66, 0, 0x7e, SK_GSTORE, SF_SSE2, 4, 1, 0, 0}, {0x66, 0, 0x6f, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x7f, SK_XSTORE, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xd6, SK_XSTORE, SF_SSE2, 8, 1, 0, 0},
    {0x66, 0, 0x70, SK_XX, SF_SSE2, 16, 16, SSE_IMM, 0}, {0x66, 0, 0xd7, SK_GX, SF_SSE2, 0, 1, SSE_REGONLY, 0},
    {0x66, 0, 0xc5, SK_GX, SF_SSE2, 0, 1, SSE_REGONLY | SSE_IMM, 0},
    {0x66, 0, 0xc4, SK_XG, SF_SSE2, 2, 1, SSE_IMM, 0},
    {0x66, 0, 0xd1, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xd2, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xd3, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xd4, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xd5, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xd8, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xda, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xdb, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xdc, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xde, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xdf, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xe0, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xe1, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xe2, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xe3, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xe4, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xe5, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xe6, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xe8, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xea, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xeb, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xec, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xee, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xef, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xf1, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xf2, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xf3, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xf4, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xf5, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xf6, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xf8, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xfa, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xfb, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xfc, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0xfd, SK_XX, SF_SSE2, 16, 16, 0, 0}, {0x66, 0, 0xfe, SK_XX, SF_SSE2, 16, 16, 0, 0},
    {0x66, 0, 0x71, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 2}, {0x66, 0, 0x71, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 4},
    {0x66, 0, 0x72, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 6}, {0x66, 0, 0x73, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 3},
    {0x66, 0, 0x73, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 7}, {0x66, 0, 0x73, SK_XIMM, SF_SSE2, 0, 1, SSE_IMM, 2},
    {0x66, 0, 0x7c, SK_XX, SF_SSE3, 16, 16, 0, 0}, {0x66, 0, 0xd0, SK_XX, SF_SSE3, 16, 16, 0, 0},
    /* SSSE3 and SSE4.1 */
    {0x66, 0x38, 0x00, SK_XX, SF_SSSE3, 16, 16, 0, 0}, {0x66, 0x38, 0x04, SK_XX, SF_SSSE3, 16, 16, 0, 0},
    {0x66, 0x38, 0x0b, SK_XX, SF_SSSE3, 16, 16, 0, 0}, {0x66, 0x38, 0x1d, SK_XX, SF_SSSE3, 16, 16, 0, 0},
    {0x66, 0x3a, 0x0f, SK_XX, SF_SSSE3, 16, 16, SSE_IMM, 0},
    {0x66, 0x38, 0x17, SK_XX, SF_SSE41, 16, 16, SSE_FLAGS, 0},
    {0x66, 0x38, 0x29, SK_XX, SF_SSE41, 16, 16, 0, 0}, {0x66, 0x38, 0x40, SK_XX, SF_SSE41, 16, 16, 0, 0},
    {0x66, 0x38, 0x3d, SK_XX, SF_SSE41, 16, 16, 0, 0}, {0x66, 0x3a, 0x0a, SK_XX, SF_SSE41, 4, 1, SSE_IMM, 0},
    {0x66, 0x3a, 0x0c, SK_XX, SF_SSE41, 16, 16, SSE_IMM, 0},
    {0x66, 0x3a, 0x16, SK_GSTORE, SF_SSE41, 4, 1, SSE_IMM, 0},
    {0x66, 0x3a, 0x22, SK_XG, SF_SSE41, 4, 1, SSE_IMM, 0},
    /* MMX */
    {0, 0, 0x6f, SK_MM, SF_MMX, 8, 1, 0, 0},       {0, 0, 0x7f, SK_MMSTORE, SF_MMX, 8, 1, 0, 0},
    {0, 0, 0xfc, SK_MM, SF_MMX, 8, 1, 0, 0},       {0, 0, 0xfe, SK_MM, SF_MMX, 8, 1, 0, 0},
    {0, 0, 0xef, SK_MM, SF_MMX, 8, 1, 0, 0},       {0, 0, 0xd5, SK_MM, SF_MMX, 8, 1, 0, 0},
    {0, 0, 0x61, SK_MM, SF_MMX, 8, 1, 0, 0},       {0, 0, 0x75, SK_MM, SF_MMX, 8, 1, 0, 0},
    {0, 0, 0xf9, SK_MM, SF_MMX, 8, 1, 0, 0},       {0, 0, 0x6e, SK_MMG, SF_MMX, 4, 1, 0, 0},
    {0, 0, 0x7e, SK_GMM, SF_MMX, 4, 1, 0, 0},      {0, 0, 0x77, SK_EMMS, SF_MMX, 0, 1, 0, 0},
};

static int sse_has(const struct gen *g, unsigned feat)
{
    switch (feat) {
    case SF_SSE: return g->f->sse;
    case SF_SSE2: return g->f->sse2;
    case SF_SSE3: return g->f->sse3;
    case SF_SSSE3: return g->f->ssse3;
    case SF_SSE41: return g->f->sse41;
    default: return g->f->mmx;
    }
}

static void sse_mxcsr(struct gen *g)
{
    struct gen_rm rm;
    uint8_t opc[2] = {0x0f, 0xae};
    memset(&rm, 0, sizeof rm);
    rm.is_mem = 1;
    gen_mem(g, 4, 4, 0, 0, &rm.m);
    if (gen_chance(g, 50)) {
        /* masked exceptions, any rounding, FTZ/DAZ */
        uint32_t v = 0x1f80u | (gen_below(g, 4) << 13) | (gen_chance(g, 30) ? 0x8000u : 0) |
                     (gen_chance(g, 30) ? 0x40u : 0);
        uint8_t mov = 0xc7;
        gen_begin(g, "mov m32, v; ldmxcsr m32", DT_CAT_SSE);
        gen_emit_rm(g, 0, 4, 0, &mov, 1, 0, &rm);
        gen_d(g, v);
        gen_emit_rm(g, 0, 4, 0, opc, 2, 2, &rm);
    } else {
        gen_begin(g, "stmxcsr m32", DT_CAT_SSE);
        gen_emit_rm(g, 0, 4, 0, opc, 2, 3, &rm);
    }
    gen_end(g);
}

void gen_sse(struct gen *g)
{
    const struct sse_op *o;
    struct gen_rm rm;
    uint8_t opc[3];
    unsigned nopc = 0, reg, tries = 0;
    int mem;

    if (!g->f->sse && !g->f->mmx)
        return;
    if (g->f->sse && gen_chance(g, 4)) {
        sse_mxcsr(g);
        return;
    }
    do {
        o = &sse_ops[gen_below(g, sizeof sse_ops / sizeof sse_ops[0])];
    } while (!sse_has(g, o->feat) && ++tries < 64);
    if (!sse_has(g, o->feat))
        return;
    if (o->kind == SK_EMMS) {
        gen_begin(g, "emms", DT_CAT_SSE);
        gen_b(g, 0x0f);
        gen_b(g, 0x77);
        gen_end(g);
        return;
    }
    opc[nopc++] = 0x0f;
    if (o->map)
        opc[nopc++] = o->map;
    opc[nopc++] = o->op;
    mem = o->size && !(o->flags & SSE_REGONLY) && ((o->flags & SSE_MEMONLY) || gen_chance(g, 40));
    memset(&rm, 0, sizeof rm);
    if (mem) {
        rm.is_mem = 1;
        gen_mem(g, o->size, o->align, 0, 0, &rm.m);
    }
    switch (o->kind) {
    case SK_GX: /* gpr destination, xmm (or memory) source */
        reg = gen_dst(g);
        if (!mem)
            rm.reg = gen_below(g, 8);
        break;
    case SK_XG: /* xmm destination, gpr or memory source */
        reg = gen_below(g, 8);
        if (!mem)
            rm.reg = gen_any(g);
        break;
    case SK_GSTORE: /* gpr or memory destination */
        reg = gen_below(g, 8);
        if (!mem)
            rm.reg = gen_dst(g);
        break;
    case SK_MMG:
        reg = gen_below(g, 8);
        if (!mem)
            rm.reg = gen_any(g);
        break;
    case SK_GMM:
        reg = gen_below(g, 8);
        if (!mem)
            rm.reg = gen_dst(g);
        break;
    case SK_XIMM:
        reg = o->sub;
        rm.reg = gen_below(g, 8);
        break;
    default:
        reg = gen_below(g, 8);
        if (!mem)
            rm.reg = gen_below(g, 8);
        break;
    }
    gen_begin(g, "sse/mmx", DT_CAT_SSE);
    gen_emit_rm(g, 0, 4, o->pfx, opc, nopc, reg, &rm);
    if (o->flags & SSE_IMM)
        gen_b(g, (uint8_t)(o->kind == SK_XIMM ? gen_below(g, 20) : gen_next(&g->r)));
    gen_end(g);
    if (o->kind == SK_GX)
        gen_clobber(g, 1u << reg);
    if ((o->kind == SK_GSTORE || o->kind == SK_GMM) && !mem)
        gen_clobber(g, 1u << rm.reg);
    if (o->flags & SSE_FLAGS)
        gen_flags(g, F_ARITH, 0);
}
