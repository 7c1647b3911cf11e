/*
 * dt_gen.c - random initial state and random instruction sequences for the
 * differential tester (dt_gen.h): the core (items, register and flag
 * tracking, memory operands, layout) and the integer, stack, string and
 * branch instructions. x87 and SSE are in dt_gen_fp.c.
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

static void gen_snap(const struct gen *g, struct gen_snap *s)
{
    memcpy(s->reg, g->reg, sizeof s->reg);
    s->known = g->known;
    s->undef = g->undef;
    s->df = g->df;
}

static void gen_restore(struct gen *g, const struct gen_snap *s)
{
    memcpy(g->reg, s->reg, sizeof s->reg);
    g->known = s->known;
    g->undef = s->undef;
    g->df = s->df;
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
static void gen_compose(struct dt_item *it, uint32_t def, uint32_t undef)
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
    gen_seq_flow(seq, &valid);
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
    target = lo + gen_below(g, hi - lo - size_bytes);
    target &= ~(align - 1);
    if (target < lo)
        target += align;
    if (align > 1 && gen_chance(g, 2))
        target += 1 + gen_below(g, align - 1); /* a misaligned one now and then: #GP */
    ea = target - seg_base;
    if ((g->f->avoid & DT_AVOID_LIMIT_WRAP) && ea + size_bytes - 1 < ea) {
        /* the last bytes would lie past offset 4 GiB: go through DS */
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

static void gen_clobber_rm(struct gen *g, const struct gen_rm *rm, unsigned osz)
{
    if (!rm->is_mem)
        gen_clobber(g, 1u << gen_gpr_of(rm->reg, osz));
}

static unsigned gen_osz(struct gen *g)
{
    unsigned k = gen_below(g, 100);
    return k < 25 ? 1 : k < 45 ? 2 : 4;
}

static uint32_t gen_rand_imm(struct gen *g, unsigned size_bytes)
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

static void gen_alu(struct gen *g)
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

static void gen_misc_alu(struct gen *g)
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

static void gen_shift(struct gen *g)
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

static void gen_muldiv(struct gen *g)
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

static void gen_bits(struct gen *g)
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

static void gen_atomic(struct gen *g)
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

static void gen_flagops(struct gen *g)
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

static void gen_stack(struct gen *g)
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

/* ---- strings ----------------------------------------------------------- */

static void gen_string(struct gen *g)
{
    static const uint8_t ops[5] = {0xa4, 0xa6, 0xaa, 0xac, 0xae}; /* movs cmps stos lods scas */
    static const char *const names[5] = {"movs", "cmps", "stos", "lods", "scas"};
    unsigned op = gen_below(g, 5), osz = gen_osz(g), n = gen_below(g, 17);
    unsigned rep = gen_below(g, 4); /* 0 none, 1 rep/repe, 2 repne, 3 rep */
    int df = gen_chance(g, 30), a16 = gen_chance(g, 12);
    int seg = gen_chance(g, 20) ? (gen_chance(g, 50) ? 4 : 5) : 3;
    uint32_t src_base = seg == 4 ? g->fs_base : seg == 5 ? g->gs_base : 0, span = (n + 1) * osz;
    uint32_t src, dst;

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

static void gen_branch(struct gen *g)
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
    {DT_CAT_SEG, 6, gen_alu},       {DT_CAT_SEG, 3, gen_misc_alu},
};

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
    g.fs_base = init->cpu.fs_base;
    g.gs_base = init->cpu.gs_base;
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
            if ((r->kind == DT_REL_REL8_ITEM || r->kind == DT_REL_REL32_ITEM) && r->target > i)
                r->target--;
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
