/*
 * dt_gen_flow.c - random stack, string and control-flow items for the
 * differential tester (dt_gen.h): push/pop/pusha/enter/leave, a call to a
 * callee that returns, string instructions with their register setup,
 * forward branches (which land at group starts, where what is known on
 * both paths is merged), bounded loops and indirect branches.
 */
#include <string.h>

#include "dt_gen_int.h"

/* ---- stack ------------------------------------------------------------ */

static int gen_stack_room(const struct gen *g, unsigned below, unsigned above)
{
    return (g->known & (1u << R_ESP)) && g->reg[R_ESP] >= DT_STACK_GLA + 0x100 + below &&
           g->reg[R_ESP] + above + 0x100 <= DT_STACK_GLA + DT_STACK_BYTES;
}

static void gen_esp(struct gen *g, int32_t delta)
{
    gen_know(g, R_ESP, g->reg[R_ESP] + (uint32_t)delta);
}

static void gen_simple_body(struct gen *g, uint8_t *out, unsigned *outlen, unsigned max_bytes,
                            struct dt_item *effect);

void gen_stack(struct gen *g)
{
    unsigned k = gen_below(g, 11), reg, osz = gen_chance(g, 15) ? 2 : 4;
    struct gen_rm rm;
    uint8_t opc;

    if (!gen_stack_room(g, 64, 64))
        return;
    switch (k) {
    case 0: /* push r */
        gen_begin(g, "push r", DT_CAT_STACK);
        if (osz == 2)
            gen_b(g, 0x66);
        gen_b(g, (uint8_t)(0x50 + gen_any(g)));
        gen_end(g);
        gen_esp(g, -(int32_t)osz);
        break;
    case 1: /* push imm */
        gen_begin(g, "push imm", DT_CAT_STACK);
        if (osz == 2)
            gen_b(g, 0x66);
        if (gen_chance(g, 50)) {
            gen_b(g, 0x6a);
            gen_b(g, (uint8_t)gen_next(&g->r));
        } else {
            gen_b(g, 0x68);
            gen_imm(g, gen_rand_imm(g, osz), osz);
        }
        gen_end(g);
        gen_esp(g, -(int32_t)osz);
        break;
    case 2: /* push m */
        rm.is_mem = 1;
        gen_mem(g, osz, 1, 0, 0, &rm.m);
        opc = 0xff;
        gen_begin(g, "push m", DT_CAT_STACK);
        gen_emit_rm(g, 0, osz, 0, &opc, 1, 6, &rm);
        gen_end(g);
        gen_esp(g, -(int32_t)osz);
        break;
    case 3: /* pop r */
        do {
            reg = gen_dst(g);
        } while (reg == R_ESP);
        gen_begin(g, "pop r", DT_CAT_STACK);
        if (osz == 2)
            gen_b(g, 0x66);
        gen_b(g, (uint8_t)(0x58 + reg));
        gen_end(g);
        gen_clobber(g, 1u << reg);
        gen_esp(g, (int32_t)osz);
        break;
    case 4: /* pop m (the address is computed after ESP moves; avoid ESP) */
        memset(&rm, 0, sizeof rm);
        rm.is_mem = 1;
        gen_mem(g, osz, 1, 0, 1, &rm.m);
        opc = 0x8f;
        gen_begin(g, "pop m", DT_CAT_STACK);
        gen_emit_rm(g, 0, osz, 0, &opc, 1, 0, &rm);
        gen_end(g);
        gen_esp(g, (int32_t)osz);
        break;
    case 5: /* pusha, sometimes popa right after */
        if (g->reserved & ~(1u << R_ESP))
            return;
        if (gen_chance(g, 50)) {
            gen_begin(g, "pusha; popa", DT_CAT_STACK);
            gen_b(g, 0x60);
            gen_b(g, 0x61);
            gen_end(g);
        } else {
            gen_begin(g, "pusha", DT_CAT_STACK);
            gen_b(g, 0x60);
            gen_end(g);
            gen_esp(g, -32);
        }
        break;
    case 6: /* popa: every register but ESP from the stack */
        if (g->reserved & ~(1u << R_ESP))
            return;
        gen_begin(g, "popa", DT_CAT_STACK);
        gen_b(g, 0x61);
        gen_end(g);
        gen_clobber(g, 0xffu & ~(1u << R_ESP));
        gen_esp(g, 32);
        break;
    case 7: { /* enter size, level; leave */
        unsigned size = 4 * gen_below(g, 16), level = gen_below(g, 4);
        if (g->reserved & (1u << R_EBP))
            return;
        if (level)
            gen_set(g, R_EBP, g->reg[R_ESP] + 4 * gen_below(g, 16));
        gen_begin(g, "enter", DT_CAT_STACK);
        gen_b(g, 0xc8);
        gen_w(g, (uint16_t)size);
        gen_b(g, (uint8_t)level);
        gen_end(g);
        gen_know(g, R_EBP, g->reg[R_ESP] - 4);
        gen_esp(g, -(int32_t)(4 + 4 * level + size));
        if (gen_chance(g, 70)) {
            gen_begin(g, "leave", DT_CAT_STACK);
            gen_b(g, 0xc9);
            gen_end(g);
            gen_know(g, R_ESP, g->reg[R_EBP] + 4);
            gen_clobber(g, 1u << R_EBP);
        }
        break;
    }
    case 8: { /* push/pop segment registers */
        static const uint8_t push[] = {0x06, 0x0e, 0x16, 0x1e};
        gen_begin(g, "push sreg; pop es/ds", DT_CAT_STACK);
        if (gen_chance(g, 30)) {
            gen_b(g, 0x0f);
            gen_b(g, gen_chance(g, 50) ? 0xa0 : 0xa8); /* push fs / gs */
            gen_end(g);
            gen_esp(g, -4);
            break;
        }
        gen_b(g, push[gen_below(g, 4)]);
        if (gen_chance(g, 50)) {
            gen_b(g, 0x1e); /* push ds; pop es */
            gen_b(g, 0x07);
        }
        gen_end(g);
        gen_esp(g, -4);
        break;
    }
    default: { /* call to a callee that is skipped over, which returns */
        uint8_t body[96];
        struct dt_item effect;
        unsigned blen = 0, i, ret_imm = gen_chance(g, 25) ? 4u * gen_below(g, 3) : 0;
        if (g->body)
            return;
        for (i = 0; i < ret_imm / 4; i++) {
            gen_begin(g, "push imm8 (ret n)", DT_CAT_STACK);
            gen_b(g, 0x6a);
            gen_b(g, (uint8_t)i);
            gen_end(g);
            gen_esp(g, -4);
        }
        gen_esp(g, -4); /* the return address, inside the callee */
        gen_simple_body(g, body, &blen, sizeof body - 8, &effect);
        gen_esp(g, 4 + (int32_t)ret_imm);
        gen_begin(g, "call rel32; jmp over; callee; ret", DT_CAT_STACK);
        gen_b(g, 0xe8);
        gen_d(g, 2);
        gen_b(g, 0xeb);
        gen_b(g, (uint8_t)(blen + (ret_imm ? 3 : 1)));
        for (i = 0; i < blen; i++)
            gen_b(g, body[i]);
        if (ret_imm) {
            gen_b(g, 0xc2);
            gen_w(g, (uint16_t)ret_imm);
        } else {
            gen_b(g, 0xc3);
        }
        gen_end(g);
        gen_flags(g, effect.fdef, effect.fundef);
        break;
    }
    }
}

/* ---- segment loads ------------------------------------------------------- */

/* FS or GS (sreg 4 or 5) now holds the TLS selector `which` (0: FS's, 1: GS's). */
static void gen_seg_now(struct gen *g, unsigned sreg, unsigned which)
{
    if (sreg == 4) {
        g->fs_base = g->tls_base[which];
        g->fs_ok = 1;
    } else {
        g->gs_base = g->tls_base[which];
        g->gs_ok = 1;
    }
}

/* Loads of FS and GS with the two TLS selectors (what glibc does after
 * set_thread_area), and of DS/ES with the flat user selector: through
 * push/pop, mov from a register or memory, and lfs/lgs. */
void gen_segload(struct gen *g)
{
    unsigned k = gen_below(g, 5), sreg = 4 + gen_below(g, 2), which = gen_below(g, 2), reg;
    uint16_t sel = (uint16_t)(which ? DT_GS_SEL : DT_FS_SEL);
    struct gen_rm rm;
    uint8_t opc[2];

    if (g->body || !gen_stack_room(g, 16, 16))
        return;
    switch (k) {
    case 0: /* push fs/gs; pop fs/gs */
        if (!(sreg == 4 ? g->fs_ok : g->gs_ok))
            return;
        gen_begin(g, "push sreg; pop fs/gs", DT_CAT_SEG);
        gen_b(g, 0x0f);
        gen_b(g, sreg == 4 ? 0xa0 : 0xa8);
        gen_b(g, 0x0f);
        gen_b(g, gen_chance(g, 50) ? 0xa1 : 0xa9);
        gen_end(g);
        {
            uint8_t popped = g->seq->item[g->seq->n - 1].b[3];
            uint32_t base = sreg == 4 ? g->fs_base : g->gs_base;
            if (popped == 0xa1) {
                g->fs_base = base;
                g->fs_ok = 1;
            } else {
                g->gs_base = base;
                g->gs_ok = 1;
            }
        }
        break;
    case 1: /* mov r, sreg (zero-extends on this CPU family) */
        reg = gen_dst(g);
        gen_begin(g, "mov r32, sreg", DT_CAT_SEG);
        if (gen_chance(g, 30))
            gen_b(g, 0x66);
        gen_b(g, 0x8c);
        gen_b(g, (uint8_t)(0xc0 | gen_below(g, 6) << 3 | reg));
        gen_end(g);
        gen_clobber(g, 1u << reg);
        break;
    case 2: /* mov fs/gs, r */
        do {
            reg = gen_dst(g);
        } while (reg == R_ESP);
        gen_set(g, reg, ((uint32_t)gen_next(&g->r) & 0xffff0000u) | sel);
        gen_begin(g, "mov fs/gs, r", DT_CAT_SEG);
        gen_b(g, 0x8e);
        gen_b(g, (uint8_t)(0xc0 | sreg << 3 | reg));
        gen_end(g);
        gen_seg_now(g, sreg, which);
        break;
    case 3: { /* mov word [m], sel; mov sreg, [m] (DS and ES get the flat selector) */
        unsigned target = gen_below(g, 4); /* 0 ES, 1 DS, 2 FS, 3 GS */
        static const uint8_t sr[4] = {0, 3, 4, 5};
        uint16_t v = target < 2 ? (uint16_t)DT_USER_DS : sel;
        opc[0] = 0xc7;
        memset(&rm, 0, sizeof rm);
        rm.is_mem = 1;
        gen_mem(g, 2, 1, 0, 0, &rm.m);
        gen_begin(g, "mov m16, sel; mov sreg, m16", DT_CAT_SEG);
        gen_emit_rm(g, 0, 2, 0, opc, 1, 0, &rm);
        gen_w(g, v);
        opc[0] = 0x8e;
        gen_emit_rm(g, 0, 4, 0, opc, 1, sr[target], &rm);
        gen_end(g);
        if (target >= 2)
            gen_seg_now(g, sr[target], which);
        break;
    }
    default: { /* lfs/lgs r32, m16:32 through an absolute address */
        uint32_t t = DT_DATA_GLA + 64 + gen_below(g, DT_DATA_BYTES - 128);
        if (g->f->avoid & DT_AVOID_FARPTR)
            return;
        do {
            reg = gen_dst(g);
        } while (reg == R_ESP);
        gen_begin(g, "mov [m], far ptr; lfs/lgs r, [m]", DT_CAT_SEG);
        gen_b(g, 0xc7);
        gen_b(g, 0x05);
        gen_d(g, t);
        gen_d(g, (uint32_t)gen_next(&g->r));
        gen_b(g, 0x66);
        gen_b(g, 0xc7);
        gen_b(g, 0x05);
        gen_d(g, t + 4);
        gen_w(g, sel);
        gen_b(g, 0x0f);
        gen_b(g, sreg == 4 ? 0xb4 : 0xb5);
        gen_b(g, (uint8_t)(0x05 | reg << 3));
        gen_d(g, t);
        gen_end(g);
        gen_clobber(g, 1u << reg);
        gen_seg_now(g, sreg, which);
        break;
    }
    }
}

/* ---- strings ----------------------------------------------------------- */

void gen_string(struct gen *g)
{
    static const uint8_t ops[5] = {0xa4, 0xa6, 0xaa, 0xac, 0xae}; /* movs cmps stos lods scas */
    static const char *const names[5] = {"movs", "cmps", "stos", "lods", "scas"};
    unsigned op = gen_below(g, 5), osz = gen_osz(g);
    unsigned n = gen_chance(g, 10) ? 64 + gen_below(g, 240) : gen_below(g, 17); /* long ones cross pages */
    unsigned rep = gen_below(g, 4); /* 0 none, 1 rep/repe, 2 repne, 3 rep */
    int df = gen_chance(g, 30), a16 = gen_chance(g, 12);
    int seg = gen_chance(g, 20) ? (gen_chance(g, 50) ? 4 : 5) : 3;
    uint32_t src_base, span = (n + 1) * osz, src, dst;

    if ((seg == 4 && !g->fs_ok) || (seg == 5 && !g->gs_ok))
        seg = 3; /* a base we no longer know */
    src_base = seg == 4 ? g->fs_base : seg == 5 ? g->gs_base : 0;
    if (g->reserved & (1u << R_ECX | 1u << R_ESI | 1u << R_EDI | 1u << R_EAX) || g->body)
        return;
    if (rep == 0)
        n = 1;
    if (a16) {
        /* 16-bit addressing: SI, DI, CX, and ES:DI in the low region */
        src_base = 0;
        seg = 3;
        src = DT_LOW_GLA + 64 + gen_below(g, DT_LOW_BYTES - 128 - span) + (df ? span : 0);
        dst = DT_LOW_GLA + 64 + gen_below(g, DT_LOW_BYTES - 128 - span) + (df ? span : 0);
        gen_set(g, R_ESI, ((uint32_t)gen_next(&g->r) & 0xffff0000u) | src);
        gen_set(g, R_EDI, ((uint32_t)gen_next(&g->r) & 0xffff0000u) | dst);
        gen_set(g, R_ECX, ((uint32_t)gen_next(&g->r) & 0xffff0000u) | n);
    } else {
        src = DT_DATA_GLA + 64 + gen_below(g, DT_DATA_BYTES - 128 - span) + (df ? span : 0);
        dst = DT_DATA_GLA + 64 + gen_below(g, DT_DATA_BYTES - 128 - span) + (df ? span : 0);
        gen_set(g, R_ESI, src - src_base);
        gen_set(g, R_EDI, dst);
        gen_set(g, R_ECX, n);
    }
    if (op == 1 || op == 4)
        gen_need_flags(g);
    gen_begin(g, names[op], DT_CAT_STRING);
    if (df != g->df)
        gen_b(g, df ? 0xfd : 0xfc);
    if (rep)
        gen_b(g, rep == 2 ? 0xf2 : 0xf3);
    if (seg != 3)
        gen_b(g, (uint8_t)(0x60 + seg));
    if (a16)
        gen_b(g, 0x67);
    if (osz == 2)
        gen_b(g, 0x66);
    gen_b(g, (uint8_t)(ops[op] + (osz != 1)));
    if (df && gen_chance(g, 70)) {
        gen_b(g, 0xfc);
        df = 0;
    }
    gen_end(g);
    g->df = df;
    gen_clobber(g, 1u << R_ESI | 1u << R_EDI | 1u << R_ECX | (op == 3 ? 1u : 0));
    if (op == 1 || op == 4)
        gen_flags(g, F_ARITH, 0);
}

/* ---- branches ---------------------------------------------------------- */

/* The branch just emitted (its reloc `rel`) lands at the start of the
 * group `groups_ahead` groups after the next one starts. */
static void gen_add_pending(struct gen *g, unsigned rel, unsigned groups_ahead)
{
    struct gen_pending *p;
    if (g->npend >= DT_SEQ_MAX_ITEMS)
        return;
    p = &g->pend[g->npend++];
    p->item = g->seq->n - 1;
    p->rel = rel;
    p->left = groups_ahead;
    gen_snap(g, &p->snap);
}

/* A few instructions for a loop or callee body: no branches, no stack,
 * no strings; registers start unknown (they may differ per iteration). */
static void gen_simple_body(struct gen *g, uint8_t *out, unsigned *outlen, unsigned max_bytes,
                            struct dt_item *effect)
{
    unsigned start = g->seq->n, k = 1 + gen_below(g, 3), i, j;
    uint8_t saved_written = g->written, pre_known = g->known;
    uint32_t pre_reg[8];
    struct gen_snap s;

    memcpy(pre_reg, g->reg, sizeof pre_reg);
    g->body++;
    g->written = 0;
    g->known &= (uint8_t)(1u << R_ESP);
    g->undef = F_ARITH;
    for (i = 0; i < k && !gen_full(g); i++) {
        unsigned before = g->seq->n, bytes = 0;
        gen_snap(g, &s);
        switch (gen_below(g, 6)) {
        case 0:
            if (g->cats & DT_CAT_SHIFT) {
                gen_shift(g);
                break;
            }
            /* fall through */
        case 1:
            if (g->cats & DT_CAT_MULDIV) {
                gen_muldiv(g);
                break;
            }
            /* fall through */
        case 2:
            if (g->cats & DT_CAT_SSE) {
                gen_sse(g);
                break;
            }
            /* fall through */
        case 3:
            if (g->cats & DT_CAT_BITS) {
                gen_bits(g);
                break;
            }
            /* fall through */
        default:
            gen_alu(g);
            break;
        }
        for (j = start; j < g->seq->n; j++)
            bytes += g->seq->item[j].len;
        if (bytes > max_bytes) {
            gen_restore(g, &s);
            g->seq->n = before;
            break;
        }
    }
    *outlen = 0;
    effect->fdef = effect->fundef = 0;
    for (j = start; j < g->seq->n; j++) {
        memcpy(out + *outlen, g->seq->item[j].b, g->seq->item[j].len);
        *outlen += g->seq->item[j].len;
        gen_compose(effect, g->seq->item[j].fdef, g->seq->item[j].fundef);
    }
    g->seq->n = start;
    g->body--;
    /* after the body: registers it did not write keep their values */
    for (i = 0; i < 8; i++)
        if (!(g->written & (1u << i)) && (pre_known & (1u << i))) {
            g->known |= (uint8_t)(1u << i);
            g->reg[i] = pre_reg[i];
        }
    g->written |= saved_written;
}

void gen_branch(struct gen *g)
{
    unsigned k = gen_below(g, 8), here;
    struct dt_reloc *rel;

    if (g->body)
        return;
    switch (k) {
    case 0:
    case 1:
    case 2: /* jcc / jmp forward, rel8 or rel32 */
        if (k < 2)
            gen_need_flags(g);
        gen_begin(g, k < 2 ? "jcc forward" : "jmp forward", DT_CAT_BRANCH);
        rel = &g->it->rel[g->it->nrel++];
        if (gen_chance(g, 50)) {
            gen_b(g, k < 2 ? (uint8_t)(0x70 + gen_below(g, 16)) : 0xeb);
            rel->kind = DT_REL_REL8_ITEM;
            rel->at = g->it->len;
            gen_b(g, 0);
        } else {
            if (k < 2) {
                gen_b(g, 0x0f);
                gen_b(g, (uint8_t)(0x80 + gen_below(g, 16)));
            } else {
                gen_b(g, 0xe9);
            }
            rel->kind = DT_REL_REL32_ITEM;
            rel->at = g->it->len;
            gen_d(g, 0);
        }
        rel->end = g->it->len;
        here = rel->kind == DT_REL_REL8_ITEM ? 3 : 4;
        gen_end(g);
        gen_add_pending(g, 0, gen_below(g, here));
        break;
    case 3: /* jecxz / loop / loope / loopne forward, with 0x67: cx */
        if (g->reserved & 2)
            return;
        k = gen_below(g, 4); /* E0 loopne, E1 loope (read ZF), E2 loop, E3 jecxz */
        if (k <= 1)
            gen_need_flags(g);
        gen_begin(g, "jecxz/loop forward", DT_CAT_BRANCH);
        if (gen_chance(g, 20))
            gen_b(g, 0x67);
        gen_b(g, (uint8_t)(0xe0 + k));
        rel = &g->it->rel[g->it->nrel++];
        rel->kind = DT_REL_REL8_ITEM;
        rel->at = g->it->len;
        gen_b(g, 0);
        rel->end = g->it->len;
        gen_end(g);
        if (k != 3)
            gen_clobber(g, 2);
        gen_add_pending(g, 0, gen_below(g, 2));
        break;
    case 4:
    case 5: { /* bounded loop: mov ecx, n; L: body; loop L  |  dec ecx; jnz L */
        uint8_t body[100];
        struct dt_item effect;
        unsigned blen = 0, n = 1 + gen_below(g, 6), i, use_loop = k == 4;
        uint8_t saved_reserved = g->reserved;
        if (g->reserved & 2)
            return;
        gen_set(g, R_ECX, n);
        g->reserved |= 2;
        gen_clobber(g, 2);
        gen_simple_body(g, body, &blen, sizeof body - 8, &effect);
        g->reserved = saved_reserved;
        gen_begin(g, use_loop ? "loop: body; loop" : "loop: body; dec ecx; jnz", DT_CAT_BRANCH);
        for (i = 0; i < blen; i++)
            gen_b(g, body[i]);
        if (use_loop) {
            gen_b(g, 0xe2);
            gen_b(g, (uint8_t)(-(int)(blen + 2)));
        } else {
            gen_b(g, 0x49); /* dec ecx */
            gen_b(g, 0x75);
            gen_b(g, (uint8_t)(-(int)(blen + 3)));
        }
        gen_end(g);
        gen_flags(g, effect.fdef, effect.fundef);
        if (!use_loop)
            gen_flags(g, F_ARITH & ~F_CF, 0);
        gen_know(g, R_ECX, 0);
        break;
    }
    case 6: { /* indirect jmp or call through a register */
        unsigned reg;
        do {
            reg = gen_dst(g);
        } while (reg == R_ESP);
        if (gen_chance(g, 50) || !gen_stack_room(g, 16, 0)) {
            gen_begin(g, "mov r, label; jmp r", DT_CAT_BRANCH);
            gen_b(g, (uint8_t)(0xb8 + reg));
            rel = &g->it->rel[g->it->nrel++];
            rel->kind = DT_REL_ABS32_SELF;
            rel->at = g->it->len;
            gen_d(g, 0);
            gen_b(g, 0xff);
            gen_b(g, (uint8_t)(0xe0 + reg));
            rel->target = g->it->len;
            gen_end(g);
        } else {
            /* mov r, callee; call r; jmp over; callee: ret */
            gen_begin(g, "mov r, callee; call r; ret", DT_CAT_BRANCH);
            gen_b(g, (uint8_t)(0xb8 + reg));
            rel = &g->it->rel[g->it->nrel++];
            rel->kind = DT_REL_ABS32_SELF;
            rel->at = g->it->len;
            gen_d(g, 0);
            gen_b(g, 0xff);
            gen_b(g, (uint8_t)(0xd0 + reg));
            gen_b(g, 0xeb);
            gen_b(g, 0x01);
            rel->target = g->it->len;
            gen_b(g, 0xc3);
            gen_end(g);
        }
        gen_clobber(g, 1u << reg);
        break;
    }
    default: { /* call through a table in memory */
        struct gen_rm rm;
        uint8_t opc = 0xc7;
        if (!gen_stack_room(g, 16, 0))
            return;
        rm.is_mem = 1;
        gen_mem(g, 4, 1, 0, 1, &rm.m);
        if (rm.m.addr16)
            return;
        gen_begin(g, "mov [m], callee; call [m]; ret", DT_CAT_BRANCH);
        gen_emit_rm(g, 0, 4, 0, &opc, 1, 0, &rm);
        rel = &g->it->rel[g->it->nrel++];
        rel->kind = DT_REL_ABS32_SELF;
        rel->at = g->it->len;
        gen_d(g, 0);
        opc = 0xff;
        gen_emit_rm(g, 0, 4, 0, &opc, 1, 2, &rm);
        gen_b(g, 0xeb);
        gen_b(g, 0x01);
        rel->target = g->it->len;
        gen_b(g, 0xc3);
        gen_end(g);
        break;
    }
    }
}
