/*
 * dt_gen_alu.c - random integer instructions for the differential tester
 * (dt_gen.h): arithmetic and logic, shifts and rotates, multiply and
 * divide, bit instructions, atomics, flag instructions and BCD.
 *
 * Encodings: SDM 2A chapter 2 and the opcode maps of SDM 2D appendix A;
 * undefined flags per instruction from each instruction's "Flags
 * Affected" section (SDM 2A/2B), recorded with gen_flags.
 */
#include <string.h>

#include "dt_gen_int.h"

void gen_clobber_rm(struct gen *g, const struct gen_rm *rm, unsigned osz)
{
    if (!rm->is_mem)
        gen_clobber(g, 1u << gen_gpr_of(rm->reg, osz));
}

unsigned gen_osz(struct gen *g)
{
    unsigned k = gen_below(g, 100);
    return k < 25 ? 1 : k < 45 ? 2 : 4;
}

uint32_t gen_rand_imm(struct gen *g, unsigned size_bytes)
{
    static const uint32_t edge[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                    0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe};
    uint32_t v = gen_chance(g, 30) ? edge[gen_below(g, 12)] : (uint32_t)gen_next(&g->r);
    if (size_bytes == 1)
        v &= 0xff;
    if (size_bytes == 2)
        v &= 0xffff;
    return v;
}

/* ---- integer instructions ---------------------------------------------- */

void gen_alu(struct gen *g)
{
    static const char *const names[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    unsigned op = gen_below(g, 8), osz = gen_osz(g), form = gen_below(g, 6);
    unsigned w = osz == 1 ? 0 : 1, immsz = osz, reg;
    int writes = op != 7, lock;
    struct gen_rm rm;
    uint8_t opc;
    uint32_t imm = 0;

    if (op == 2 || op == 3)
        gen_need_flags(g);
    if (form == 2) { /* AL/AX/EAX, imm */
        if (writes && (g->reserved & 1))
            return;
        imm = gen_rand_imm(g, immsz);
        gen_begin(g, names[op], DT_CAT_ALU);
        if (osz == 2)
            gen_b(g, 0x66);
        gen_b(g, (uint8_t)(op * 8 + 4 + w));
        g->it->imm_at = g->it->len;
        g->it->imm_size = (uint8_t)immsz;
        gen_imm(g, imm, immsz);
        gen_end(g);
        if (writes)
            gen_clobber(g, 1u << R_EAX);
    } else if (form >= 3) { /* 80/81/83/82 /op */
        gen_pick_rm(g, &rm, osz, writes, 40, 0, 1);
        if (form == 5 && osz != 1) {
            opc = 0x83;
            immsz = 1;
        } else if (form == 5 && gen_chance(g, 30)) {
            opc = 0x82; /* the 80 alias that 64-bit mode lacks */
        } else {
            opc = (uint8_t)(0x80 | w);
        }
        imm = gen_rand_imm(g, immsz);
        lock = rm.is_mem && writes && gen_chance(g, 15);
        gen_begin(g, names[op], DT_CAT_ALU);
        gen_emit_rm(g, lock, osz, 0, &opc, 1, op, &rm);
        gen_imm(g, imm, immsz);
        gen_end(g);
        if (writes)
            gen_clobber_rm(g, &rm, osz);
    } else if (form == 0) { /* r/m, reg */
        gen_pick_rm(g, &rm, osz, writes, 45, 0, 1);
        reg = gen_any(g);
        opc = (uint8_t)(op * 8 + w);
        lock = rm.is_mem && writes && gen_chance(g, 15);
        gen_begin(g, names[op], DT_CAT_ALU);
        gen_emit_rm(g, lock, osz, 0, &opc, 1, reg, &rm);
        gen_end(g);
        if (writes)
            gen_clobber_rm(g, &rm, osz);
    } else { /* reg, r/m */
        gen_pick_rm(g, &rm, osz, 0, 45, 0, 1);
        reg = osz == 1 ? gen_dst8(g) : gen_dst(g);
        opc = (uint8_t)(op * 8 + 2 + w);
        gen_begin(g, names[op], DT_CAT_ALU);
        gen_emit_rm(g, 0, osz, 0, &opc, 1, reg, &rm);
        gen_end(g);
        if (writes)
            gen_clobber(g, 1u << gen_gpr_of(reg, osz));
    }
    gen_flags(g, F_ARITH, (op == 1 || op == 4 || op == 6) ? F_AF : 0);
}

/* Hint NOPs and prefetches take a memory operand but never access it:
 * any address will do, mapped or not (SDM 2B NOP, PREFETCHh). */
static void gen_nop_hint(struct gen *g)
{
    unsigned mod = gen_below(g, 3), rm = gen_below(g, 8), i;
    uint8_t op = gen_chance(g, 50) ? 0x1f : (uint8_t)(0x18 + gen_below(g, 8));
    gen_begin(g, op == 0x18 ? "prefetch m" : "nop/hint m", DT_CAT_ALU);
    if (gen_chance(g, 20))
        gen_b(g, gen_chance(g, 50) ? 0x64 : 0x65);
    if (gen_chance(g, 20))
        gen_b(g, 0x66);
    gen_b(g, 0x0f);
    gen_b(g, op);
    gen_b(g, (uint8_t)(mod << 6 | (op == 0x18 ? gen_below(g, 4) : gen_below(g, 8)) << 3 | rm));
    if (rm == 4) {
        uint8_t sib = (uint8_t)gen_next(&g->r);
        gen_b(g, sib);
        if (mod == 0 && (sib & 7) == 5)
            mod = 2;
    } else if (mod == 0 && rm == 5) {
        mod = 2;
    }
    for (i = 0; i < (mod == 1 ? 1u : mod == 2 ? 4u : 0u); i++)
        gen_b(g, (uint8_t)gen_next(&g->r));
    gen_end(g);
}

void gen_misc_alu(struct gen *g)
{
    unsigned k = gen_below(g, 13), osz = gen_osz(g), reg;
    struct gen_rm rm;
    uint8_t opc;

    switch (k) {
    case 0: /* test */
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        if (gen_chance(g, 50)) {
            opc = osz == 1 ? 0x84 : 0x85;
            gen_begin(g, "test r/m, r", DT_CAT_ALU);
            gen_emit_rm(g, 0, osz, 0, &opc, 1, gen_any(g), &rm);
        } else {
            opc = osz == 1 ? 0xf6 : 0xf7;
            gen_begin(g, "test r/m, imm", DT_CAT_ALU);
            gen_emit_rm(g, 0, osz, 0, &opc, 1, 0, &rm);
            gen_imm(g, gen_rand_imm(g, osz), osz);
        }
        gen_end(g);
        gen_flags(g, F_ARITH, F_AF);
        break;
    case 1: /* inc/dec */
        if (osz != 1 && gen_chance(g, 40)) {
            reg = gen_dst(g);
            gen_begin(g, "inc/dec r (40-4F)", DT_CAT_ALU);
            if (osz == 2)
                gen_b(g, 0x66);
            gen_b(g, (uint8_t)(0x40 + 8 * gen_below(g, 2) + reg));
            gen_end(g);
            gen_clobber(g, 1u << reg);
        } else {
            gen_pick_rm(g, &rm, osz, 1, 40, 0, 1);
            opc = osz == 1 ? 0xfe : 0xff;
            gen_begin(g, "inc/dec r/m", DT_CAT_ALU);
            gen_emit_rm(g, rm.is_mem && gen_chance(g, 15), osz, 0, &opc, 1, gen_below(g, 2), &rm);
            gen_end(g);
            gen_clobber_rm(g, &rm, osz);
        }
        gen_flags(g, F_ARITH & ~F_CF, 0);
        break;
    case 2: /* not / neg */
        gen_pick_rm(g, &rm, osz, 1, 40, 0, 1);
        opc = osz == 1 ? 0xf6 : 0xf7;
        reg = 2 + gen_below(g, 2);
        gen_begin(g, reg == 2 ? "not" : "neg", DT_CAT_ALU);
        gen_emit_rm(g, rm.is_mem && gen_chance(g, 15), osz, 0, &opc, 1, reg, &rm);
        gen_end(g);
        gen_clobber_rm(g, &rm, osz);
        if (reg == 3)
            gen_flags(g, F_ARITH, 0);
        break;
    case 3: /* mov r/m, r and r, r/m */
        gen_pick_rm(g, &rm, osz, gen_chance(g, 50), 50, 0, 1);
        reg = osz == 1 ? gen_dst8(g) : gen_dst(g);
        if (!rm.is_mem || gen_chance(g, 50)) {
            opc = osz == 1 ? 0x8a : 0x8b;
            gen_begin(g, "mov r, r/m", DT_CAT_ALU);
            gen_emit_rm(g, 0, osz, 0, &opc, 1, reg, &rm);
            gen_clobber(g, 1u << gen_gpr_of(reg, osz));
        } else {
            opc = osz == 1 ? 0x88 : 0x89;
            gen_begin(g, "mov m, r", DT_CAT_ALU);
            gen_emit_rm(g, 0, osz, 0, &opc, 1, gen_any(g), &rm);
        }
        gen_end(g);
        break;
    case 4: /* mov r/m, imm and mov r, imm */
        if (gen_chance(g, 50)) {
            gen_pick_rm(g, &rm, osz, 1, 70, 0, 1);
            opc = osz == 1 ? 0xc6 : 0xc7;
            gen_begin(g, "mov r/m, imm", DT_CAT_ALU);
            gen_emit_rm(g, 0, osz, 0, &opc, 1, 0, &rm);
            gen_imm(g, gen_rand_imm(g, osz), osz);
            gen_end(g);
            gen_clobber_rm(g, &rm, osz);
        } else {
            reg = osz == 1 ? gen_dst8(g) : gen_dst(g);
            gen_begin(g, "mov r, imm", DT_CAT_ALU);
            if (osz == 2)
                gen_b(g, 0x66);
            gen_b(g, (uint8_t)((osz == 1 ? 0xb0 : 0xb8) + reg));
            gen_imm(g, gen_rand_imm(g, osz), osz);
            gen_end(g);
            gen_clobber(g, 1u << gen_gpr_of(reg, osz));
        }
        break;
    case 5: { /* moffs: A0-A3 */
        struct gen_mop m;
        if (g->reserved & 1)
            break;
        gen_mem(g, osz, 1, 0, 0, &m);
        if (m.addr16)
            break; /* moffs with 0x67 is a 16-bit offset: keep it simple */
        gen_begin(g, "mov moffs", DT_CAT_ALU);
        if (m.pfx[0])
            gen_b(g, m.pfx[0]);
        if (osz == 2)
            gen_b(g, 0x66);
        k = gen_below(g, 2);
        gen_b(g, (uint8_t)(0xa0 + 2 * k + (osz != 1)));
        gen_d(g, m.ea);
        gen_end(g);
        if (k == 0)
            gen_clobber(g, 1u << R_EAX);
        break;
    }
    case 6: { /* lea */
        struct gen_mop m;
        reg = gen_dst(g);
        gen_mem(g, 4, 1, 0, 0, &m);
        rm.is_mem = 1;
        rm.m = m;
        if (rm.m.npfx && rm.m.pfx[0] != 0x67)
            rm.m.pfx[0] = 0; /* a segment prefix means nothing to LEA */
        opc = 0x8d;
        gen_begin(g, "lea", DT_CAT_ALU);
        gen_emit_rm(g, 0, osz == 2 ? 2 : 4, 0, &opc, 1, reg, &rm);
        gen_end(g);
        if (osz != 2 && !g->body && !m.addr16)
            gen_know(g, reg, m.ea);
        else
            gen_clobber(g, 1u << reg);
        break;
    }
    case 7: { /* movzx / movsx */
        uint8_t op2[2] = {0x0f, (uint8_t)(0xb6 + 8 * gen_below(g, 2) + gen_below(g, 2))};
        unsigned src = (op2[1] & 1) ? 2 : 1;
        unsigned dsz = (src == 2 || gen_chance(g, 70)) ? 4 : 2;
        gen_pick_rm(g, &rm, src, 0, 40, src, 1);
        reg = gen_dst(g);
        gen_begin(g, "movzx/movsx", DT_CAT_ALU);
        gen_emit_rm(g, 0, dsz, 0, op2, 2, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << reg);
        break;
    }
    case 8: /* cbw/cwde, cwd/cdq */
        if (g->reserved & 5)
            break;
        gen_begin(g, "cbw/cwde/cwd/cdq", DT_CAT_ALU);
        if (gen_chance(g, 30))
            gen_b(g, 0x66);
        k = gen_below(g, 2);
        gen_b(g, (uint8_t)(0x98 + k));
        gen_end(g);
        gen_clobber(g, k ? 1u << R_EDX : 1u << R_EAX);
        break;
    case 9: /* xor r, r: a known zero */
        reg = gen_dst(g);
        gen_begin(g, "xor r, r", DT_CAT_ALU);
        gen_b(g, 0x31);
        gen_b(g, (uint8_t)(0xc0 | reg << 3 | reg));
        gen_end(g);
        gen_flags(g, F_ARITH, F_AF);
        if (!g->body)
            gen_know(g, reg, 0);
        else
            gen_clobber(g, 1u << reg);
        break;
    case 11:
        gen_nop_hint(g);
        break;
    case 10: /* xlat */
        if (g->reserved & 1)
            break;
        {
            uint32_t base = DT_DATA_GLA + 64 + gen_below(g, DT_DATA_BYTES - 512);
            if (!(g->reserved & (1u << R_EBX)))
                gen_set(g, R_EBX, base);
            else
                break;
            gen_begin(g, "xlat", DT_CAT_ALU);
            gen_b(g, 0xd7);
            gen_end(g);
            gen_clobber(g, 1u << R_EAX);
        }
        break;
    default: /* 16-bit ALU with 0x66: reg, reg forms */
        reg = gen_dst(g);
        k = gen_below(g, 8);
        if (k == 2 || k == 3)
            gen_need_flags(g);
        gen_begin(g, "alu r16, r16", DT_CAT_ALU);
        gen_b(g, 0x66);
        gen_b(g, (uint8_t)(k * 8 + 3));
        gen_b(g, (uint8_t)(0xc0 | reg << 3 | gen_any(g)));
        gen_end(g);
        if (k != 7)
            gen_clobber(g, 1u << reg);
        gen_flags(g, F_ARITH, (k == 1 || k == 4 || k == 6) ? F_AF : 0);
        break;
    }
}

void gen_shift(struct gen *g)
{
    static const char *const names[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal/shl", "sar"};
    unsigned osz = gen_osz(g), bits = osz * 8, op, form = gen_below(g, 4), count = 0;
    int count_known = 1;
    struct gen_rm rm;
    uint8_t opc[2];

    if (form == 3 && osz != 1) { /* shld / shrd */
        unsigned ccl = gen_below(g, 2), cnt = 0;
        int known = 1;
        if (ccl) {
            if (osz == 2 && (!(g->known & 2) || (g->reg[R_ECX] & 31) > 16)) {
                if (g->reserved & 2)
                    return;
                gen_set(g, R_ECX, ((uint32_t)gen_next(&g->r) & 0xffffff00u) | gen_below(g, 17));
            }
            known = (g->known & 2) != 0;
            cnt = g->reg[R_ECX] & 31;
        } else {
            cnt = gen_below(g, osz == 2 ? 17 : 32) | (gen_chance(g, 10) ? 0x20 : 0);
        }
        gen_pick_rm(g, &rm, osz, 1, 40, 0, 1);
        opc[0] = 0x0f;
        opc[1] = (uint8_t)((gen_below(g, 2) ? 0xa4 : 0xac) + ccl);
        gen_begin(g, "shld/shrd", DT_CAT_SHIFT);
        gen_emit_rm(g, 0, osz, 0, opc, 2, gen_any(g), &rm);
        if (!ccl)
            gen_b(g, (uint8_t)cnt);
        gen_end(g);
        gen_clobber_rm(g, &rm, osz);
        cnt &= 31;
        if (!known)
            gen_flags(g, 0, F_AF | F_OF | F_CF);
        else if (cnt)
            gen_flags(g, F_ARITH, F_AF | (cnt != 1 ? F_OF : 0));
        return;
    }
    op = gen_below(g, 8);
    if (op == 6)
        op = 4; /* /6 is an undocumented alias: the decoder may reject it */
    if (op == 2 || op == 3)
        gen_need_flags(g);
    gen_pick_rm(g, &rm, osz, 1, 40, 0, 1);
    if (form == 0) {
        opc[0] = osz == 1 ? 0xd0 : 0xd1;
        count = 1;
    } else if (form == 1) {
        opc[0] = osz == 1 ? 0xd2 : 0xd3;
        count_known = (g->known & 2) != 0 && !g->body;
        count = g->reg[R_ECX] & 0xff;
    } else {
        opc[0] = osz == 1 ? 0xc0 : 0xc1;
        count = gen_chance(g, 80) ? gen_below(g, 33) : gen_below(g, 256);
    }
    gen_begin(g, names[op], DT_CAT_SHIFT);
    gen_emit_rm(g, 0, osz, 0, opc, 1, op, &rm);
    if (form >= 2)
        gen_b(g, (uint8_t)count);
    gen_end(g);
    gen_clobber_rm(g, &rm, osz);
    if (!count_known) {
        gen_flags(g, 0, op < 4 ? F_OF : (F_OF | F_AF | F_CF));
        return;
    }
    count &= 31;
    if (count == 0)
        return;
    if (op < 4) /* rotates: CF, and OF for count 1 */
        gen_flags(g, F_CF | (count == 1 ? F_OF : 0), count == 1 ? 0 : F_OF);
    else
        gen_flags(g, F_ARITH, F_AF | (count == 1 ? 0 : F_OF) | (count >= bits ? F_CF : 0));
}

void gen_muldiv(struct gen *g)
{
    unsigned osz = gen_osz(g), k = gen_below(g, 6), reg;
    struct gen_rm rm;
    uint8_t opc[2];

    if (g->reserved & 5)
        return;
    if (k <= 1) { /* mul / imul r/m */
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        opc[0] = osz == 1 ? 0xf6 : 0xf7;
        gen_begin(g, k ? "imul r/m" : "mul r/m", DT_CAT_MULDIV);
        gen_emit_rm(g, 0, osz, 0, opc, 1, 4 + k, &rm);
        gen_end(g);
        gen_clobber(g, osz == 1 ? 1u : 5u);
        gen_flags(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
    } else if (k <= 3) { /* div / idiv: mostly with a dividend that fits */
        int sign = k == 3;
        if (gen_chance(g, 85)) {
            gen_begin(g, sign ? "cdq/cwd/cbw (dividend)" : "mov edx/ah, 0 (dividend)", DT_CAT_MULDIV);
            if (osz == 1) {
                if (sign)
                    gen_w(g, 0x9866); /* cbw */
                else
                    gen_w(g, 0x00b4); /* mov ah, 0 */
            } else {
                if (osz == 2)
                    gen_b(g, 0x66);
                if (sign) {
                    gen_b(g, 0x99);
                } else {
                    gen_b(g, 0xba);
                    gen_imm(g, 0, osz);
                }
            }
            gen_end(g);
            gen_clobber(g, 5);
        }
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        if (!rm.is_mem && gen_gpr_of(rm.reg, osz) <= R_EDX && gen_chance(g, 80))
            rm.reg = osz == 1 ? 3 : R_EBX; /* not the dividend */
        opc[0] = osz == 1 ? 0xf6 : 0xf7;
        gen_begin(g, sign ? "idiv" : "div", DT_CAT_MULDIV);
        gen_emit_rm(g, 0, osz, 0, opc, 1, 6 + (unsigned)sign, &rm);
        gen_end(g);
        gen_clobber(g, osz == 1 ? 1u : 5u);
        gen_flags(g, 0, F_ARITH);
    } else { /* imul r, r/m [, imm] */
        if (osz == 1)
            osz = 4;
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        reg = gen_dst(g);
        gen_begin(g, "imul r, r/m[, imm]", DT_CAT_MULDIV);
        if (k == 4) {
            opc[0] = 0x0f;
            opc[1] = 0xaf;
            gen_emit_rm(g, 0, osz, 0, opc, 2, reg, &rm);
        } else if (gen_chance(g, 50)) {
            opc[0] = 0x6b;
            gen_emit_rm(g, 0, osz, 0, opc, 1, reg, &rm);
            gen_b(g, (uint8_t)gen_next(&g->r));
        } else {
            opc[0] = 0x69;
            gen_emit_rm(g, 0, osz, 0, opc, 1, reg, &rm);
            gen_imm(g, gen_rand_imm(g, osz), osz);
        }
        gen_end(g);
        gen_clobber(g, 1u << reg);
        gen_flags(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
    }
}

void gen_bits(struct gen *g)
{
    unsigned k = gen_below(g, 9), osz = gen_chance(g, 30) ? 2 : 4, reg;
    struct gen_rm rm;
    uint8_t opc[3];

    switch (k) {
    case 0:
    case 1: { /* bt/bts/btr/btc r/m, r | r/m, imm8 */
        unsigned op = gen_below(g, 4);
        int mem = gen_chance(g, 40);
        memset(&rm, 0, sizeof rm);
        if (k == 0) {
            /* register offset: a memory form reaches [ea + (off >> 3)] */
            do {
                reg = gen_dst(g);
            } while (reg == R_ESP);
            if (mem) {
                rm.is_mem = 1;
                g->avoid = (uint8_t)(1u << reg);
                gen_mem(g, osz, 1, 64, 0, &rm.m);
                g->avoid = 0;
                if (!(g->known & (1u << reg)) || g->reg[reg] + 256 > 511 || gen_chance(g, 50)) {
                    /* the offset last: a setup for it must not move the base */
                    if (rm.m.addr16 || (rm.m.nb > 1 && (rm.m.b[0] & 7) == 4 && ((rm.m.b[1] >> 3) & 7) == reg) ||
                        (rm.m.b[0] & 7) == reg || ((rm.m.b[0] & 7) == 4 && (rm.m.b[1] & 7) == reg))
                        return;
                    gen_set(g, reg, (uint32_t)((int32_t)gen_below(g, 512) - 256));
                }
            } else {
                rm.reg = gen_dst(g);
            }
            opc[0] = 0x0f;
            opc[1] = (uint8_t)(0xa3 + 8 * op);
            gen_begin(g, "bt/bts/btr/btc r/m, r", DT_CAT_BITS);
            gen_emit_rm(g, mem && op && gen_chance(g, 20), osz, 0, opc, 2, reg, &rm);
        } else {
            gen_pick_rm(g, &rm, osz, 1, 40, 0, 1);
            opc[0] = 0x0f;
            opc[1] = 0xba;
            gen_begin(g, "bt/bts/btr/btc r/m, imm8", DT_CAT_BITS);
            gen_emit_rm(g, rm.is_mem && op && gen_chance(g, 20), osz, 0, opc, 2, 4 + op, &rm);
            gen_b(g, (uint8_t)gen_next(&g->r));
        }
        gen_end(g);
        if (op)
            gen_clobber_rm(g, &rm, osz);
        gen_flags(g, F_CF, F_OF | F_SF | F_AF | F_PF);
        break;
    }
    case 2: { /* bsf / bsr with a non-zero source (zero leaves the destination undefined) */
        if (g->body)
            return;
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        if (rm.is_mem) {
            opc[0] = 0xc7;
            gen_begin(g, "mov m, imm (non-zero bsf source)", DT_CAT_BITS);
            gen_emit_rm(g, 0, osz, 0, opc, 1, 0, &rm);
            gen_imm(g, gen_rand_imm(g, osz) | (1u << gen_below(g, osz * 8)), osz);
            gen_end(g);
        } else if (!(g->known & (1u << rm.reg)) || (g->reg[rm.reg] & (osz == 2 ? 0xffff : ~0u)) == 0) {
            if (g->reserved & (1u << rm.reg))
                return;
            gen_set(g, rm.reg, (uint32_t)gen_next(&g->r) | (1u << gen_below(g, osz * 8)));
        }
        reg = gen_dst(g);
        opc[0] = 0x0f;
        opc[1] = (uint8_t)(0xbc + gen_below(g, 2));
        gen_begin(g, "bsf/bsr", DT_CAT_BITS);
        gen_emit_rm(g, 0, osz, 0, opc, 2, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << reg);
        gen_flags(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
        break;
    }
    case 3: { /* popcnt / lzcnt / tzcnt (F3 0F B8/BD/BC) */
        unsigned which = gen_below(g, 3);
        if ((which == 0 && !g->f->popcnt) || (which == 1 && !g->f->lzcnt) || (which == 2 && !g->f->bmi1))
            return;
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        reg = gen_dst(g);
        opc[0] = 0x0f;
        opc[1] = which == 0 ? 0xb8 : which == 1 ? 0xbd : 0xbc;
        gen_begin(g, which == 0 ? "popcnt" : which == 1 ? "lzcnt" : "tzcnt", DT_CAT_BITS);
        gen_emit_rm(g, 0, osz, 0xf3, opc, 2, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << reg);
        if (which == 0)
            gen_flags(g, F_ARITH, 0);
        else
            gen_flags(g, F_ZF | F_CF, F_OF | F_SF | F_PF | F_AF);
        break;
    }
    case 4: /* bswap r32 */
        reg = gen_dst(g);
        gen_begin(g, "bswap", DT_CAT_BITS);
        gen_b(g, 0x0f);
        gen_b(g, (uint8_t)(0xc8 + reg));
        gen_end(g);
        gen_clobber(g, 1u << reg);
        break;
    case 5:
    case 6: /* setcc r/m8 */
        gen_need_flags(g);
        gen_pick_rm(g, &rm, 1, 1, 30, 1, 1);
        opc[0] = 0x0f;
        opc[1] = (uint8_t)(0x90 + gen_below(g, 16));
        gen_begin(g, "setcc", DT_CAT_BITS);
        gen_emit_rm(g, 0, 4, 0, opc, 2, 0, &rm);
        gen_end(g);
        gen_clobber_rm(g, &rm, 1);
        break;
    case 7: /* cmovcc */
        if (!g->f->cmov)
            return;
        gen_need_flags(g);
        gen_pick_rm(g, &rm, osz, 0, 40, 0, 1);
        reg = gen_dst(g);
        opc[0] = 0x0f;
        opc[1] = (uint8_t)(0x40 + gen_below(g, 16));
        gen_begin(g, "cmovcc", DT_CAT_BITS);
        gen_emit_rm(g, 0, osz, 0, opc, 2, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << reg);
        break;
    default: /* movbe (memory only) */
        if (!g->f->movbe)
            return;
        {
            unsigned store = gen_below(g, 2);
            rm.is_mem = 1;
            gen_mem(g, osz, 1, 0, 0, &rm.m);
            reg = gen_dst(g);
            opc[0] = 0x0f;
            opc[1] = 0x38;
            opc[2] = (uint8_t)(0xf0 + store);
            gen_begin(g, "movbe", DT_CAT_BITS);
            gen_emit_rm(g, 0, osz, 0, opc, 3, reg, &rm);
            gen_end(g);
            if (!store)
                gen_clobber(g, 1u << reg);
        }
        break;
    }
}

void gen_atomic(struct gen *g)
{
    unsigned k = gen_below(g, 5), osz = gen_osz(g), reg;
    struct gen_rm rm;
    uint8_t opc[2];

    switch (k) {
    case 0: /* xchg r/m, r */
        gen_pick_rm(g, &rm, osz, 1, 50, 0, 1);
        reg = osz == 1 ? gen_dst8(g) : gen_dst(g);
        opc[0] = osz == 1 ? 0x86 : 0x87;
        gen_begin(g, "xchg r/m, r", DT_CAT_ATOMIC);
        gen_emit_rm(g, rm.is_mem && gen_chance(g, 20), osz, 0, opc, 1, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << gen_gpr_of(reg, osz));
        gen_clobber_rm(g, &rm, osz);
        break;
    case 1: /* xchg eax, r */
        reg = gen_dst(g);
        if (g->reserved & 1)
            return;
        gen_begin(g, "xchg eax, r", DT_CAT_ATOMIC);
        if (osz == 2)
            gen_b(g, 0x66);
        gen_b(g, (uint8_t)(0x90 + reg));
        gen_end(g);
        gen_clobber(g, 1u | 1u << reg);
        break;
    case 2:
    case 3: /* xadd / cmpxchg */
        if (g->reserved & 1)
            return;
        gen_pick_rm(g, &rm, osz, 1, 50, 0, 1);
        reg = osz == 1 ? gen_dst8(g) : gen_dst(g);
        opc[0] = 0x0f;
        opc[1] = (uint8_t)((k == 2 ? 0xc0 : 0xb0) + (osz != 1));
        gen_begin(g, k == 2 ? "xadd" : "cmpxchg", DT_CAT_ATOMIC);
        gen_emit_rm(g, rm.is_mem && gen_chance(g, 40), osz, 0, opc, 2, reg, &rm);
        gen_end(g);
        gen_clobber(g, 1u << gen_gpr_of(reg, osz) | (k == 3 ? 1u : 0));
        gen_clobber_rm(g, &rm, osz);
        gen_flags(g, F_ARITH, 0);
        break;
    default: /* cmpxchg8b m64 */
        if (g->reserved & 5)
            return;
        rm.is_mem = 1;
        gen_mem(g, 8, 1, 0, 0, &rm.m);
        opc[0] = 0x0f;
        opc[1] = 0xc7;
        gen_begin(g, "cmpxchg8b", DT_CAT_ATOMIC);
        gen_emit_rm(g, gen_chance(g, 40), 4, 0, opc, 2, 1, &rm);
        gen_end(g);
        gen_clobber(g, 5);
        gen_flags(g, F_ZF, 0);
        break;
    }
}

void gen_flagops(struct gen *g)
{
    unsigned k = gen_below(g, 10);
    switch (k) {
    case 0: /* lahf */
        if (g->reserved & 1)
            return;
        gen_need_flags(g);
        gen_begin(g, "lahf", DT_CAT_FLAGS);
        gen_b(g, 0x9f);
        gen_end(g);
        gen_clobber(g, 1);
        break;
    case 1: /* sahf */
        gen_begin(g, "sahf", DT_CAT_FLAGS);
        gen_b(g, 0x9e);
        gen_end(g);
        gen_flags(g, F_CF | F_PF | F_AF | F_ZF | F_SF, 0);
        break;
    case 2: /* clc stc cmc */
        k = gen_below(g, 3);
        if (k == 2)
            gen_need_flags(g);
        gen_begin(g, "clc/stc/cmc", DT_CAT_FLAGS);
        gen_b(g, k == 0 ? 0xf8 : k == 1 ? 0xf9 : 0xf5);
        gen_end(g);
        gen_flags(g, F_CF, 0);
        break;
    case 3: /* cld std */
        k = gen_below(g, 2);
        gen_begin(g, "cld/std", DT_CAT_FLAGS);
        gen_b(g, k ? 0xfd : 0xfc);
        gen_end(g);
        g->df = (int)k;
        break;
    case 4: /* daa das */
    case 5: /* aaa aas */
        if (g->reserved & 1)
            return;
        gen_need_flags(g);
        gen_begin(g, "daa/das/aaa/aas", DT_CAT_FLAGS);
        gen_b(g, (uint8_t)((k == 4 ? 0x27 : 0x37) + 8 * gen_below(g, 2)));
        gen_end(g);
        gen_clobber(g, 1);
        if (k == 4)
            gen_flags(g, F_ARITH, F_OF);
        else
            gen_flags(g, F_AF | F_CF, F_OF | F_SF | F_ZF | F_PF);
        break;
    case 6: /* aam aad */
        if (g->reserved & 1)
            return;
        gen_begin(g, "aam/aad", DT_CAT_FLAGS);
        gen_b(g, (uint8_t)(0xd4 + gen_below(g, 2)));
        gen_b(g, (uint8_t)(gen_chance(g, 50) ? 10 : 1 + gen_below(g, 255)));
        gen_end(g);
        gen_clobber(g, 1);
        gen_flags(g, F_SF | F_ZF | F_PF, F_OF | F_AF | F_CF);
        break;
    case 7: /* salc: the undocumented AL = CF ? 0xFF : 0 */
        if (g->reserved & 1)
            return;
        gen_need_flags(g);
        gen_begin(g, "salc", DT_CAT_FLAGS);
        gen_b(g, 0xd6);
        gen_end(g);
        gen_clobber(g, 1);
        break;
    default: /* pushf; or push imm; popf */
        if (!(g->known & (1u << R_ESP)) || g->reg[R_ESP] < DT_STACK_GLA + 0x200)
            return;
        if (k == 8) {
            gen_need_flags(g);
            gen_begin(g, "pushf", DT_CAT_FLAGS);
            gen_b(g, 0x9c);
            gen_end(g);
            gen_know(g, R_ESP, g->reg[R_ESP] - 4);
        } else {
            /* arithmetic flags, DF, NT and ID: what CPL 3 may change; no
             * TF (a trap), no AC (alignment checks) */
            uint32_t v = ((uint32_t)gen_next(&g->r) & (F_ARITH | F_DF | 0x4000u | 0x200000u)) | 0x2u;
            gen_begin(g, "push imm32; popf", DT_CAT_FLAGS);
            gen_b(g, 0x68);
            gen_d(g, v);
            gen_b(g, 0x9d);
            gen_end(g);
            gen_flags(g, F_ARITH, 0);
            g->df = (v & F_DF) != 0;
        }
        break;
    }
}

/* An instruction whose memory operand lies in an unmapped page (or
 * straddles into one): the case ends in #PF, and the registers, flags and
 * memory at that point must match (precise exceptions, DESIGN.md). */
void gen_fault(struct gen *g)
{
    if (!gen_chance(g, 30))
        return;
    g->want_fault = 1;
    switch (gen_below(g, 4)) {
    case 0:
        gen_alu(g);
        break;
    case 1:
        gen_misc_alu(g);
        break;
    case 2:
        gen_atomic(g);
        break;
    default:
        gen_sse(g);
        break;
    }
    g->want_fault = 0;
}
