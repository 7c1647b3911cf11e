/*
 * dt_gen.c - random initial state and random instruction sequences for the
 * differential tester (dt_gen.h): the core (items, register and flag
 * tracking, memory operands, layout, category table). The instructions
 * are in dt_gen_alu.c, dt_gen_flow.c and dt_gen_fp.c.
 *
 * Encodings follow SDM 2A chapter 2 (ModRM/SIB, tables 2-1 to 2-3) and the
 * opcode maps of SDM 2D appendix A. Undefined flags per instruction are
 * from the "Flags Affected" section of each instruction in SDM 2A/2B.
 */
#include "dt_gen.h"

#include <string.h>

#include "dt_gen_int.h"

/* ---- randomness ---------------------------------------------------- */

uint64_t gen_next(struct gen_rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t gen_below(struct gen *g, uint32_t n)
{
    return n ? (uint32_t)(gen_next(&g->r) % n) : 0;
}

int gen_chance(struct gen *g, unsigned percent)
{
    return gen_below(g, 100) < percent;
}

uint64_t dt_case_seed(uint64_t seed, uint64_t index)
{
    struct gen_rng r = {seed ^ (index * 0xd1b54a32d192ed03ull)};
    gen_next(&r);
    return gen_next(&r);
}

/* ---- initial state --------------------------------------------------- */

/* A double as an 80-bit extended value (SDM 1 4.2.2): exact. */
static void gen_f80(double d, uint8_t out[10])
{
    uint64_t bits, mant;
    unsigned sign, exp;
    memcpy(&bits, &d, 8);
    sign = (unsigned)(bits >> 63);
    exp = (unsigned)(bits >> 52) & 0x7ff;
    mant = bits & ((1ull << 52) - 1);
    if (exp == 0 && mant == 0) {
        memset(out, 0, 10);
    } else if (exp == 0x7ff) {
        uint64_t m = 0x8000000000000000ull | (mant << 11);
        memcpy(out, &m, 8);
        exp = 0x7fff;
        out[8] = (uint8_t)exp;
        out[9] = (uint8_t)(exp >> 8);
    } else {
        int e = (int)exp - 1023;
        if (exp == 0) { /* denormal double: normalise */
            e = -1022;
            while (!(mant & (1ull << 52))) {
                mant <<= 1;
                e--;
            }
            mant &= (1ull << 52) - 1;
        }
        uint64_t m = 0x8000000000000000ull | (mant << 11);
        unsigned ex = (unsigned)(e + 16383);
        memcpy(out, &m, 8);
        out[8] = (uint8_t)ex;
        out[9] = (uint8_t)(ex >> 8);
    }
    out[9] |= (uint8_t)(sign << 7);
}

static double gen_double(struct gen *g)
{
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e300, -1e-300, 4.9e-324,
                                     2.2250738585072014e-308, 65536.0, 2147483648.0, -2147483649.0};
    uint64_t bits;
    double d;
    switch (gen_below(g, 4)) {
    case 0:
        return special[gen_below(g, sizeof special / sizeof special[0])];
    case 1:
        bits = gen_next(&g->r);
        memcpy(&d, &bits, 8);
        return d; /* any pattern: NaN, Inf, denormal */
    case 2:
        return (double)(int32_t)gen_next(&g->r);
    default:
        return (double)(int32_t)gen_next(&g->r) / (double)(1 + gen_below(g, 1000));
    }
}

void dt_gen_init(uint64_t case_seed, struct dt_init *init)
{
    static const uint16_t fcws[] = {0x037f, 0x037f, 0x027f, 0x007f, 0x0f7f, 0x0b7f, 0x077f, 0x033f};
    struct gen g;
    unsigned i;
    uint8_t *fx = init->cpu.fx;

    memset(&g, 0, sizeof g);
    g.r.s = case_seed ^ 0x5eed5eed5eedull;
    memset(init, 0, sizeof *init);
    for (i = 0; i < sizeof init->low; i += 8) {
        uint64_t v = gen_next(&g.r);
        memcpy(init->low + i, &v, 8);
    }
    for (i = 0; i < sizeof init->data; i += 8) {
        uint64_t v = gen_next(&g.r);
        if (gen_chance(&g, 30)) {
            double d = gen_double(&g);
            memcpy(&v, &d, 8);
        }
        memcpy(init->data + i, &v, 8);
    }
    for (i = 0; i < sizeof init->stack; i += 8) {
        uint64_t v = gen_next(&g.r);
        memcpy(init->stack + i, &v, 8);
    }
    for (i = 0; i < 8; i++) {
        unsigned k = gen_below(&g, 10);
        if (k < 4)
            init->cpu.gpr[i] = DT_DATA_GLA + gen_below(&g, DT_DATA_BYTES);
        else if (k < 6)
            init->cpu.gpr[i] = gen_below(&g, 256);
        else
            init->cpu.gpr[i] = (uint32_t)gen_next(&g.r);
    }
    init->cpu.gpr[R_ESP] = DT_STACK_GLA + 0x1000 + 4 * gen_below(&g, 64);
    init->cpu.eip = DT_CODE_GLA;
    init->cpu.eflags = 0x202u | ((uint32_t)gen_next(&g.r) & F_ARITH) | (gen_chance(&g, 15) ? F_DF : 0);
    init->cpu.fs_base = gen_chance(&g, 10) ? 0 : DT_DATA_GLA + gen_below(&g, 0x1000);
    init->cpu.gs_base = gen_chance(&g, 10) ? 0 : DT_DATA_GLA + 0x800 + gen_below(&g, 0x1800);
    init->cpu.fs_sel = DT_FS_SEL;
    init->cpu.gs_sel = DT_GS_SEL;

    /* FPU: masked exceptions, some precision and rounding control, a
     * random TOP and a random set of valid registers. */
    {
        uint16_t fcw = fcws[gen_below(&g, sizeof fcws / sizeof fcws[0])];
        uint16_t fsw = (uint16_t)(gen_below(&g, 8) << 11);
        uint32_t mxcsr = 0x1f80u | (gen_below(&g, 4) << 13);
        if (gen_chance(&g, 20))
            mxcsr |= 0x8000u; /* FTZ */
        if (gen_chance(&g, 20))
            mxcsr |= 0x0040u; /* DAZ */
        memcpy(fx + DT_FX_FCW, &fcw, 2);
        memcpy(fx + DT_FX_FSW, &fsw, 2);
        fx[DT_FX_FTW] = gen_chance(&g, 30) ? 0 : (uint8_t)gen_next(&g.r);
        memcpy(fx + DT_FX_MXCSR, &mxcsr, 4);
        for (i = 0; i < 8; i++)
            gen_f80(gen_double(&g), fx + DT_FX_ST0 + 16 * i);
        for (i = 0; i < 8 * 16; i += 8) {
            uint64_t v = gen_next(&g.r);
            if (gen_chance(&g, 40)) {
                double d = gen_double(&g);
                memcpy(&v, &d, 8);
            } else if (gen_chance(&g, 30)) {
                float a = (float)gen_double(&g), b = (float)gen_double(&g);
                memcpy(&v, &a, 4);
                memcpy((uint8_t *)&v + 4, &b, 4);
            }
            memcpy(fx + DT_FX_XMM0 + i, &v, 8);
        }
    }
}

/* ---- items ---------------------------------------------------------- */

static void gen_merge_in(struct gen *g, const struct gen_snap *s)
{
    unsigned i;
    for (i = 0; i < 8; i++)
        if (!(s->known & (1u << i)) || s->reg[i] != g->reg[i])
            g->known &= (uint8_t) ~(1u << i);
    g->undef |= s->undef;
    if (g->df != s->df)
        g->df = -1;
    if (!s->fs_ok || s->fs_base != g->fs_base)
        g->fs_ok = 0;
    if (!s->gs_ok || s->gs_base != g->gs_base)
        g->gs_ok = 0;
}

void gen_begin(struct gen *g, const char *name, unsigned cat)
{
    g->it = &g->seq->item[g->seq->n];
    memset(g->it, 0, sizeof *g->it);
    g->it->name = name;
    g->it->cat = (uint16_t)cat;
    g->it->group = (uint8_t)(g->group_next && !g->body);
    if (!g->body)
        g->group_next = 0;
}

/* A group (what one generator call emits: setup items and the
 * instruction) starts: forward branches land only here, where the
 * knowledge of both paths is merged before anything relies on it. */
static void gen_group_start(struct gen *g)
{
    unsigned i = 0;
    while (i < g->npend) {
        struct gen_pending *p = &g->pend[i];
        if (p->left == 0) {
            g->seq->item[p->item].rel[p->rel].target = (uint16_t)g->seq->n;
            gen_merge_in(g, &p->snap);
            *p = g->pend[--g->npend];
        } else {
            p->left--;
            i++;
        }
    }
    g->group_next = 1;
}

void gen_end(struct gen *g)
{
    if (g->want_read && !g->in_setup) {
        g->it->freads = 1;
        g->want_read = 0;
    }
    g->seq->n++;
    g->it = NULL;
}

int gen_full(const struct gen *g)
{
    return g->seq->n + 4 >= DT_SEQ_MAX_ITEMS;
}

void gen_b(struct gen *g, uint8_t b)
{
    if (g->it->len < DT_ITEM_MAX_BYTES)
        g->it->b[g->it->len++] = b;
}

void gen_w(struct gen *g, uint16_t w)
{
    gen_b(g, (uint8_t)w);
    gen_b(g, (uint8_t)(w >> 8));
}

void gen_d(struct gen *g, uint32_t d)
{
    gen_w(g, (uint16_t)d);
    gen_w(g, (uint16_t)(d >> 16));
}

void gen_imm(struct gen *g, uint32_t v, unsigned size_bytes)
{
    if (size_bytes == 1)
        gen_b(g, (uint8_t)v);
    else if (size_bytes == 2)
        gen_w(g, (uint16_t)v);
    else
        gen_d(g, v);
}

void gen_snap(const struct gen *g, struct gen_snap *s)
{
    memcpy(s->reg, g->reg, sizeof s->reg);
    s->known = g->known;
    s->undef = g->undef;
    s->df = g->df;
    s->fs_base = g->fs_base;
    s->gs_base = g->gs_base;
    s->fs_ok = g->fs_ok;
    s->gs_ok = g->gs_ok;
}

void gen_restore(struct gen *g, const struct gen_snap *s)
{
    memcpy(g->reg, s->reg, sizeof s->reg);
    g->known = s->known;
    g->undef = s->undef;
    g->df = s->df;
    g->fs_base = s->fs_base;
    g->gs_base = s->gs_base;
    g->fs_ok = s->fs_ok;
    g->gs_ok = s->gs_ok;
}

/* ---- registers and flags --------------------------------------------- */

unsigned gen_dst(struct gen *g)
{
    for (;;) {
        unsigned r = gen_below(g, 8);
        if (!(g->reserved & (1u << r)))
            return r;
    }
}

unsigned gen_gpr_of(unsigned reg, unsigned osz)
{
    return osz == 1 ? (reg & 3) : reg;
}

unsigned gen_dst8(struct gen *g)
{
    for (;;) {
        unsigned r = gen_below(g, 8);
        if (!(g->reserved & (1u << (r & 3))))
            return r;
    }
}

unsigned gen_any(struct gen *g)
{
    return gen_below(g, 8);
}

void gen_clobber(struct gen *g, unsigned mask)
{
    g->known &= (uint8_t)~mask;
    g->written |= (uint8_t)mask;
}

void gen_know(struct gen *g, unsigned reg, uint32_t value)
{
    g->reg[reg] = value;
    g->known |= (uint8_t)(1u << reg);
    g->written |= (uint8_t)(1u << reg);
}

void gen_set(struct gen *g, unsigned reg, uint32_t value)
{
    gen_begin(g, "mov r32, imm32", DT_CAT_ALU);
    gen_b(g, (uint8_t)(0xb8 + reg));
    gen_d(g, value);
    g->in_setup = 1;
    gen_end(g);
    g->in_setup = 0;
    gen_know(g, reg, value);
}

/* Effects compose as (d1,u1) then (d2,u2) = (d1|d2, (u1 & ~d2) | u2). */
void gen_compose(struct dt_item *it, uint32_t def, uint32_t undef)
{
    it->fundef = (uint16_t)((it->fundef & ~def) | undef);
    it->fdef = (uint16_t)(it->fdef | def | undef);
}

void gen_flags(struct gen *g, uint32_t def, uint32_t undef)
{
    g->undef = (g->undef & ~def) | undef;
    if (g->seq->n)
        gen_compose(&g->seq->item[g->seq->n - 1], def, undef);
}

static uint32_t gen_seq_flow(const struct dt_seq *seq, int *valid)
{
    uint32_t at[DT_SEQ_MAX_ITEMS + 1], u = 0;
    unsigned i, j;
    memset(at, 0, sizeof at);
    for (i = 0; i < seq->n; i++) {
        const struct dt_item *it = &seq->item[i];
        u |= at[i];
        if (it->freads && (u & F_ARITH))
            *valid = 0;
        u = (u & ~(uint32_t)it->fdef) | it->fundef;
        for (j = 0; j < it->nrel; j++)
            if (it->rel[j].kind == DT_REL_REL8_ITEM || it->rel[j].kind == DT_REL_REL32_ITEM)
                at[it->rel[j].target < seq->n ? it->rel[j].target : seq->n] |= u;
    }
    return (u | at[seq->n]) & F_ARITH;
}

uint32_t dt_seq_undef(const struct dt_seq *seq)
{
    int valid = 1;
    return gen_seq_flow(seq, &valid);
}

uint32_t dt_seq_undef_any(const struct dt_seq *seq)
{
    uint32_t u = 0;
    unsigned i;
    for (i = 0; i < seq->n; i++)
        u |= seq->item[i].fundef;
    return u & F_ARITH;
}

int dt_seq_valid(const struct dt_seq *seq)
{
    int valid = 1;
    unsigned i, j;
    gen_seq_flow(seq, &valid);
    /* an SMC store must still hit the immediate it was aimed at */
    for (i = 0; i < seq->n; i++)
        for (j = 0; j < seq->item[i].nrel; j++) {
            const struct dt_reloc *r = &seq->item[i].rel[j];
            if (r->kind == DT_REL_ABS32_ITEM &&
                (r->target >= seq->n || seq->item[r->target].imm_at != r->end))
                valid = 0;
        }
    return valid;
}

void gen_need_flags(struct gen *g)
{
    if (g->undef & F_ARITH) {
        gen_begin(g, "cmp esp, imm8 (defines flags)", DT_CAT_ALU);
        gen_b(g, 0x83);
        gen_b(g, 0xfc);
        gen_b(g, (uint8_t)gen_next(&g->r));
        gen_end(g);
        gen_flags(g, F_ARITH, 0);
    }
    g->want_read = 1;
}

/* ---- memory operands ------------------------------------------------- */

static int gen_fits8(int32_t v)
{
    return v >= -128 && v <= 127;
}

/* A register whose value we know, not in `avoid`, or -1. */
static int gen_known_reg(struct gen *g, unsigned avoid)
{
    unsigned cand[8], n = 0, i;
    for (i = 0; i < 8; i++)
        if ((g->known & (1u << i)) && !(avoid & (1u << i)))
            cand[n++] = i;
    return n ? (int)cand[gen_below(g, n)] : -1;
}

/* A writable register (not ESP), set to value by a setup item. */
static unsigned gen_setup_reg(struct gen *g, unsigned avoid, uint32_t value)
{
    unsigned r;
    avoid |= g->avoid;
    do {
        r = gen_dst(g);
    } while ((avoid & (1u << r)) || r == R_ESP);
    gen_set(g, r, value);
    return r;
}

static void gen_mop_mem16(struct gen *g, unsigned size_bytes, uint32_t seg_base, uint32_t lo,
                          uint32_t hi, unsigned align, struct gen_mop *m)
{
    /* rm: 0 bx+si, 1 bx+di, 2 bp+si, 3 bp+di, 4 si, 5 di, 6 bp, 7 bx */
    static const uint8_t r1[8] = {R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX};
    static const int8_t r2[8] = {R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1};
    uint32_t target = lo + gen_below(g, hi - lo - size_bytes);
    uint16_t ea16, sum;
    unsigned rm, mod;
    int32_t disp;

    target &= ~(align - 1);
    if (target < lo)
        target += align;
    ea16 = (uint16_t)(target - seg_base);
    m->linear = target;
    m->ea = ea16;
    m->addr16 = 1;
    m->pfx[m->npfx++] = 0x67;
    if (gen_chance(g, 15)) { /* [disp16] */
        m->b[m->nb++] = 0x06;
        m->b[m->nb++] = (uint8_t)ea16;
        m->b[m->nb++] = (uint8_t)(ea16 >> 8);
        return;
    }
    rm = gen_below(g, 8);
    if (r2[rm] >= 0 && !(g->known & (1u << r2[rm])))
        gen_set(g, (unsigned)r2[rm], (uint32_t)gen_next(&g->r) & 0xffff01ff);
    if (!(g->known & (1u << r1[rm])) || gen_chance(g, 25)) {
        /* near the target, so that the short forms come up */
        uint16_t other = (uint16_t)(r2[rm] >= 0 ? g->reg[r2[rm]] : 0);
        uint16_t want = (uint16_t)(ea16 - other - (gen_chance(g, 50) ? 0 : gen_below(g, 100)));
        gen_set(g, r1[rm], ((uint32_t)gen_next(&g->r) & 0xffff0000u) | want);
    }
    sum = (uint16_t)(g->reg[r1[rm]] + (r2[rm] >= 0 ? g->reg[r2[rm]] : 0));
    disp = (int16_t)(uint16_t)(ea16 - sum);
    if (disp == 0 && rm != 6 && gen_chance(g, 60))
        mod = 0;
    else if (gen_fits8(disp) && gen_chance(g, 70))
        mod = 1;
    else
        mod = 2;
    m->b[m->nb++] = (uint8_t)(mod << 6 | rm);
    if (mod == 1)
        m->b[m->nb++] = (uint8_t)disp;
    if (mod == 2) {
        m->b[m->nb++] = (uint8_t)disp;
        m->b[m->nb++] = (uint8_t)((uint16_t)disp >> 8);
    }
}

static void gen_put_disp(struct gen_mop *m, unsigned mod, uint32_t disp)
{
    unsigned i;
    if (mod == 1)
        m->b[m->nb++] = (uint8_t)disp;
    else if (mod == 2)
        for (i = 0; i < 4; i++)
            m->b[m->nb++] = (uint8_t)(disp >> (8 * i));
}

void gen_mem(struct gen *g, unsigned size_bytes, unsigned align, unsigned margin, int no_esp,
             struct gen_mop *m)
{
    unsigned seg = 3; /* DS */
    uint32_t seg_base = 0, lo, hi, target, ea, mod, k;
    int addr16, seg_heavy = (g->cats & DT_CAT_SEG) != 0;
    int base, index;

    memset(m, 0, sizeof *m);
    if (align == 0)
        align = 1;
    k = gen_below(g, 100);
    if (align > 1 && (g->f->avoid & DT_AVOID_FSGS_ALIGN))
        k = 100; /* DS */
    if (k < (seg_heavy ? 35u : 12u))
        seg = 4; /* FS */
    else if (k < (seg_heavy ? 70u : 24u))
        seg = 5; /* GS */
    else if (k < (seg_heavy ? 80u : 30u))
        seg = gen_below(g, 2) ? 0 : 2; /* ES: or SS: explicitly (base 0) */
    if ((seg == 4 && !g->fs_ok) || (seg == 5 && !g->gs_ok))
        seg = 3; /* a base we no longer know */
    addr16 = gen_chance(g, seg_heavy ? 35 : 8);
    if (seg == 4)
        seg_base = g->fs_base;
    if (seg == 5)
        seg_base = g->gs_base;
    {
        static const uint8_t pfx[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
        if (seg != 3 || gen_chance(g, 5))
            m->pfx[m->npfx++] = pfx[seg];
    }

    margin += 16;
    if (addr16) {
        if (seg_base == 0) {
            lo = DT_LOW_GLA + margin;
            hi = DT_LOW_GLA + DT_LOW_BYTES - margin;
        } else {
            lo = seg_base > DT_DATA_GLA ? seg_base : DT_DATA_GLA;
            lo += margin;
            hi = DT_DATA_GLA + DT_DATA_BYTES - margin;
            if (hi > seg_base + 0xffff - margin)
                hi = seg_base + 0xffff - margin;
        }
        if (g->want_fault) { /* the unmapped page after the region */
            lo = seg_base == 0 ? DT_LOW_GLA + DT_LOW_BYTES : DT_DATA_GLA + DT_DATA_BYTES;
            hi = lo + 0x400;
            if (seg_base && hi > seg_base + 0xffff - margin)
                hi = seg_base + 0xffff - margin;
        }
        gen_mop_mem16(g, size_bytes, seg_base, lo, hi, align, m);
        return;
    }
    if (seg_base == 0 && gen_chance(g, 10) && (g->known & (1u << R_ESP))) {
        lo = DT_STACK_GLA + margin;
        hi = DT_STACK_GLA + DT_STACK_BYTES - margin;
    } else {
        lo = DT_DATA_GLA + margin;
        hi = DT_DATA_GLA + DT_DATA_BYTES - margin;
    }
    if (g->want_fault) { /* the unmapped page after the data region */
        lo = DT_DATA_GLA + DT_DATA_BYTES - 8;
        hi = lo + 0x400;
    }
    target = lo + gen_below(g, hi - lo - size_bytes);
    target &= ~(align - 1);
    if (target < lo)
        target += align;
    if (align > 1 && gen_chance(g, 2))
        target += 1 + gen_below(g, align - 1); /* a misaligned one now and then: #GP */
    ea = target - seg_base;
    if (((g->f->avoid & DT_AVOID_LIMIT_WRAP) ||
         ((g->f->avoid & DT_AVOID_BT_REACH) && margin > 16)) &&
        (ea < margin || ea + size_bytes - 1 + margin < ea)) {
        /* bytes within the margin (which forms like bt r/m, r reach beyond
         * the operand) would lie past offset 4 GiB: go through DS */
        m->npfx = 0;
        ea = target;
    }
    m->linear = target;
    m->ea = ea;

    k = gen_below(g, 100);
    if (k < 12) { /* [disp32] absolute: mod 00 rm 101 */
        m->b[m->nb++] = 0x05;
        gen_put_disp(m, 2, ea);
        return;
    }
    if (k < 25) { /* set a register to an address nearby, for a short form */
        int32_t near = gen_chance(g, 40) ? 0 : (int32_t)gen_below(g, 256) - 128;
        gen_setup_reg(g, g->reserved, ea - (uint32_t)near);
    }
    base = gen_known_reg(g, no_esp ? 1u << R_ESP : 0);
    if (base < 0)
        base = (int)gen_setup_reg(g, g->reserved, ea - gen_below(g, 64));
    if (gen_chance(g, 35)) {
        /* SIB with an index */
        unsigned scale = gen_below(g, 4);
        uint32_t disp;
        index = gen_known_reg(g, 1u << R_ESP);
        if (index < 0)
            index = (int)gen_setup_reg(g, g->reserved | (1u << base), gen_below(g, 64));
        if (gen_chance(g, 15)) { /* no base: [index*s + disp32] */
            disp = ea - (g->reg[index] << scale);
            m->b[m->nb++] = 0x04;
            m->b[m->nb++] = (uint8_t)(scale << 6 | (unsigned)index << 3 | 5);
            gen_put_disp(m, 2, disp);
            return;
        }
        disp = ea - g->reg[base] - (g->reg[index] << scale);
        if (disp == 0 && base != R_EBP && gen_chance(g, 70))
            mod = 0;
        else if (gen_fits8((int32_t)disp) && gen_chance(g, 80))
            mod = 1;
        else
            mod = 2;
        m->b[m->nb++] = (uint8_t)(mod << 6 | 4);
        m->b[m->nb++] = (uint8_t)(scale << 6 | (unsigned)index << 3 | (unsigned)base);
        gen_put_disp(m, mod, disp);
        return;
    }
    {
        uint32_t disp = ea - g->reg[base];
        if (disp == 0 && base != R_EBP && gen_chance(g, 70))
            mod = 0;
        else if (gen_fits8((int32_t)disp) && gen_chance(g, 80))
            mod = 1;
        else
            mod = 2;
        if (base == R_ESP) {
            m->b[m->nb++] = (uint8_t)(mod << 6 | 4);
            m->b[m->nb++] = (uint8_t)(gen_chance(g, 90) ? 0x24 : (gen_below(g, 4) << 6 | 0x24));
        } else {
            m->b[m->nb++] = (uint8_t)(mod << 6 | (unsigned)base);
        }
        gen_put_disp(m, mod, disp);
    }
}

void gen_pick_rm(struct gen *g, struct gen_rm *rm, unsigned osz, int write, int mem_percent,
                 unsigned size_bytes, unsigned align)
{
    memset(rm, 0, sizeof *rm);
    if (gen_chance(g, (unsigned)mem_percent)) {
        rm->is_mem = 1;
        gen_mem(g, size_bytes ? size_bytes : osz, align, 0, 0, &rm->m);
        return;
    }
    if (osz == 1)
        rm->reg = write ? gen_dst8(g) : gen_any(g);
    else
        rm->reg = write ? gen_dst(g) : gen_any(g);
}

void gen_emit_rm(struct gen *g, int lock, unsigned osz, uint8_t mandatory, const uint8_t *opc,
                 unsigned nopc, unsigned regfield, const struct gen_rm *rm)
{
    unsigned i;
    if (lock)
        gen_b(g, 0xf0);
    if (rm->is_mem)
        for (i = 0; i < rm->m.npfx; i++)
            if (rm->m.pfx[i])
                gen_b(g, rm->m.pfx[i]);
    if (osz == 2)
        gen_b(g, 0x66);
    if (mandatory)
        gen_b(g, mandatory);
    for (i = 0; i < nopc; i++)
        gen_b(g, opc[i]);
    if (rm->is_mem) {
        gen_b(g, (uint8_t)(rm->m.b[0] | (regfield & 7) << 3));
        for (i = 1; i < rm->m.nb; i++)
            gen_b(g, rm->m.b[i]);
    } else {
        gen_b(g, (uint8_t)(0xc0 | (regfield & 7) << 3 | rm->reg));
    }
}

/* ---- sequences ---------------------------------------------------------- */

struct gen_catfn {
    unsigned cat;
    unsigned weight;
    void (*fn)(struct gen *);
};

static const struct gen_catfn gen_cats[] = {
    {DT_CAT_ALU, 8, gen_alu},       {DT_CAT_ALU, 6, gen_misc_alu}, {DT_CAT_SHIFT, 5, gen_shift},
    {DT_CAT_MULDIV, 3, gen_muldiv}, {DT_CAT_BITS, 5, gen_bits},    {DT_CAT_ATOMIC, 3, gen_atomic},
    {DT_CAT_FLAGS, 3, gen_flagops}, {DT_CAT_STACK, 4, gen_stack},  {DT_CAT_STRING, 3, gen_string},
    {DT_CAT_BRANCH, 3, gen_branch}, {DT_CAT_X87, 5, gen_x87},      {DT_CAT_SSE, 6, gen_sse},
    {DT_CAT_SEG, 6, gen_alu},       {DT_CAT_SEG, 3, gen_misc_alu}, {DT_CAT_SEG, 3, gen_segload},
    {DT_CAT_STACK, 1, gen_segload}, {DT_CAT_ALU, 1, gen_fault},
};

/* Inserts stores that patch the immediates of later ALU instructions (a
 * value change only: no address depends on them), at group starts. */
static void gen_smc(struct gen *g)
{
    struct dt_seq *seq = g->seq;
    unsigned n = 1 + gen_below(g, 2), tries = 0, k, j, p, t;

    while (n && tries++ < 16 && seq->n + 1 < DT_SEQ_MAX_ITEMS) {
        struct dt_item it;
        j = gen_below(g, seq->n);
        if (!seq->item[j].imm_at)
            continue;
        do { /* a group start at or before j */
            p = gen_below(g, j + 1);
        } while (p && !seq->item[p].group);
        memset(&it, 0, sizeof it);
        it.name = "mov [later imm], v (SMC)";
        it.cat = DT_CAT_SMC;
        it.group = 1;
        if (seq->item[j].imm_size == 4 && gen_chance(g, 50)) {
            it.b[it.len++] = 0xc7;
            it.b[it.len++] = 0x05;
            it.rel[0].at = it.len;
            it.len += 4;
            memcpy(it.b + it.len, &(uint32_t){(uint32_t)gen_next(&g->r)}, 4);
            it.len += 4;
        } else {
            it.b[it.len++] = 0xc6;
            it.b[it.len++] = 0x05;
            it.rel[0].at = it.len;
            it.len += 4;
            it.b[it.len++] = (uint8_t)gen_next(&g->r);
        }
        it.rel[0].kind = DT_REL_ABS32_ITEM;
        it.rel[0].end = seq->item[j].imm_at;
        it.rel[0].target = (uint16_t)(j + 1);
        it.nrel = 1;
        /* make room at p; everything aimed at p or later moves by one */
        memmove(&seq->item[p + 1], &seq->item[p], (seq->n - p) * sizeof seq->item[0]);
        seq->n++;
        for (k = 0; k < seq->n; k++) {
            if (k == p)
                continue;
            for (t = 0; t < seq->item[k].nrel; t++) {
                struct dt_reloc *r = &seq->item[k].rel[t];
                if (r->kind != DT_REL_ABS32_SELF && r->kind != DT_REL_NONE && r->target >= p)
                    r->target++;
            }
        }
        seq->item[p] = it;
        seq->smc = 1;
        n--;
    }
}

static void gen_seq_once(uint64_t case_seed, const struct dt_init *init, unsigned cats,
                         const struct dt_features *feat, unsigned max_items, struct dt_seq *seq)
{
    struct gen g;
    unsigned total = 0, i, want, tries = 0;

    memset(&g, 0, sizeof g);
    memset(seq, 0, sizeof *seq);
    g.r.s = case_seed;
    g.f = feat;
    g.cats = cats;
    g.seq = seq;
    memcpy(g.reg, init->cpu.gpr, sizeof g.reg);
    g.known = 0xff;
    g.reserved = 1u << R_ESP;
    g.df = (init->cpu.eflags & F_DF) != 0;
    g.fs_base = g.tls_base[0] = init->cpu.fs_base;
    g.gs_base = g.tls_base[1] = init->cpu.gs_base;
    g.fs_ok = g.gs_ok = 1;
    if (max_items > DT_SEQ_MAX_ITEMS - 8)
        max_items = DT_SEQ_MAX_ITEMS - 8;
    want = 1 + gen_below(&g, max_items ? max_items : 1);
    for (i = 0; i < sizeof gen_cats / sizeof gen_cats[0]; i++)
        if (cats & gen_cats[i].cat)
            total += gen_cats[i].weight;
    if (total == 0)
        return;
    while (seq->n < want && !gen_full(&g) && tries++ < 4 * DT_SEQ_MAX_ITEMS) {
        unsigned pick = gen_below(&g, total);
        gen_group_start(&g);
        for (i = 0; i < sizeof gen_cats / sizeof gen_cats[0]; i++) {
            if (!(cats & gen_cats[i].cat))
                continue;
            if (pick < gen_cats[i].weight) {
                gen_cats[i].fn(&g);
                break;
            }
            pick -= gen_cats[i].weight;
        }
    }
    /* branches still pending land on the final INT3 */
    for (i = 0; i < g.npend; i++) {
        g.seq->item[g.pend[i].item].rel[g.pend[i].rel].target = (uint16_t)seq->n;
        gen_merge_in(&g, &g.pend[i].snap);
    }
    if (cats & DT_CAT_SMC)
        gen_smc(&g);
    seq->undef_flags = dt_seq_undef(seq) | (g.undef & F_ARITH);
}

void dt_gen_seq(uint64_t case_seed, const struct dt_init *init, unsigned cats,
                const struct dt_features *feat, unsigned max_items, struct dt_seq *seq)
{
    static uint8_t code[DT_CODE_BYTES];
    unsigned attempt;
    /* a rel8 branch whose target ended up out of reach: draw again */
    for (attempt = 0; attempt < 16; attempt++) {
        gen_seq_once(case_seed + attempt * 0x9e3779b97f4a7c15ull, init, cats, feat, max_items, seq);
        if (dt_seq_layout(seq, code, sizeof code))
            return;
    }
    seq->n = 0;
}

unsigned dt_seq_layout(const struct dt_seq *seq, uint8_t *code, unsigned max_bytes)
{
    unsigned off[DT_SEQ_MAX_ITEMS + 1], i, j, pos = 0;

    for (i = 0; i < seq->n; i++) {
        off[i] = pos;
        pos += seq->item[i].len;
    }
    off[seq->n] = pos;
    if (pos + 1 > max_bytes)
        return 0;
    for (i = 0; i < seq->n; i++) {
        const struct dt_item *it = &seq->item[i];
        memcpy(code + off[i], it->b, it->len);
        for (j = 0; j < it->nrel; j++) {
            const struct dt_reloc *r = &it->rel[j];
            unsigned t = r->target < seq->n ? r->target : seq->n;
            int32_t d;
            uint32_t abs;
            switch (r->kind) {
            case DT_REL_REL8_ITEM:
                d = (int32_t)(off[t] - (off[i] + r->end));
                if (d > 127 || d < -128)
                    return 0;
                code[off[i] + r->at] = (uint8_t)d;
                break;
            case DT_REL_REL32_ITEM:
                d = (int32_t)(off[t] - (off[i] + r->end));
                memcpy(code + off[i] + r->at, &d, 4);
                break;
            case DT_REL_ABS32_SELF:
                abs = DT_CODE_GLA + off[i] + r->target;
                memcpy(code + off[i] + r->at, &abs, 4);
                break;
            case DT_REL_ABS32_ITEM:
                abs = DT_CODE_GLA + off[t] + r->end;
                memcpy(code + off[i] + r->at, &abs, 4);
                break;
            default:
                break;
            }
        }
    }
    code[pos] = 0xcc;
    return pos + 1;
}

void dt_seq_delete(struct dt_seq *seq, unsigned i)
{
    unsigned k, j;
    if (i >= seq->n)
        return;
    memmove(&seq->item[i], &seq->item[i + 1], (seq->n - i - 1) * sizeof seq->item[0]);
    seq->n--;
    for (k = 0; k < seq->n; k++)
        for (j = 0; j < seq->item[k].nrel; j++) {
            struct dt_reloc *r = &seq->item[k].rel[j];
            if ((r->kind == DT_REL_REL8_ITEM || r->kind == DT_REL_REL32_ITEM ||
                 r->kind == DT_REL_ABS32_ITEM) && r->target > i)
                r->target--;
            else if (r->kind == DT_REL_ABS32_ITEM && r->target == i)
                r->target = 0xffff; /* its instruction is gone: dt_seq_valid refuses */
        }
}

static const struct {
    const char *name;
    unsigned bits;
} dt_cat_names[] = {
    {"alu", DT_CAT_ALU},     {"shift", DT_CAT_SHIFT},   {"muldiv", DT_CAT_MULDIV},
    {"bits", DT_CAT_BITS},   {"atomic", DT_CAT_ATOMIC}, {"flags", DT_CAT_FLAGS},
    {"stack", DT_CAT_STACK}, {"string", DT_CAT_STRING}, {"branch", DT_CAT_BRANCH},
    {"x87", DT_CAT_X87},     {"sse", DT_CAT_SSE},       {"seg", DT_CAT_SEG},
    {"smc", DT_CAT_SMC},
    {"all", DT_CAT_ALL},
};

unsigned dt_cat_parse(const char *list)
{
    unsigned bits = 0, i;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        int neg = *p == '-';
        unsigned found = 0;
        for (i = 0; i < sizeof dt_cat_names / sizeof dt_cat_names[0]; i++)
            if (strlen(dt_cat_names[i].name) == n - (size_t)neg &&
                strncmp(dt_cat_names[i].name, p + neg, n - (size_t)neg) == 0)
                found = dt_cat_names[i].bits;
        if (!found)
            return 0;
        if (neg)
            bits = (bits ? bits : DT_CAT_ALL) & ~found;
        else
            bits |= found;
        p += n;
        if (*p == ',')
            p++;
    }
    return bits;
}

const char *dt_cat_name(unsigned cat)
{
    unsigned i;
    for (i = 0; i < sizeof dt_cat_names / sizeof dt_cat_names[0]; i++)
        if (dt_cat_names[i].bits == cat)
            return dt_cat_names[i].name;
    return "?";
}
