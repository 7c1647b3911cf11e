/*
 * xlat.c - the translator: guest instructions (decoded by decode.c) become
 * host x86-64 code in the code cache, one block at a time.
 *
 * The rules (DESIGN.md, "The BT engine"): instructions without memory
 * operands are copied; memory operands get GS + 0x67 so that one host
 * instruction does the guest's access with the guest's 32-bit wrap; stack
 * instructions become GS stores plus flag-free `lea esp,[rsp+-n]`, access
 * first and ESP last; branches end the block and leave through stubs that
 * the dispatcher later patches into direct jumps (chaining); indirect
 * branches look the target up inline in cpu_rt's table without touching
 * the flags; sensitive and 64-bit-invalid instructions exit to C
 * (XE_EMULATE, cpu_helpers.c). Register conventions: cpu_rt.h.
 *
 * System mode (the next step) plugs in here without a rewrite: blocks are
 * keyed by (EIP, mode) where user mode uses mode 1 (flat, CPL 3, 32-bit);
 * a system-mode key adds CS base, CPL, CR0.PE/PG and the flat-DS/ES/SS
 * condition, x_seg_needs_base() becomes "this segment's base is not 0 in
 * the block's mode", and the view the GS base points at becomes the
 * per-CPL shadow view. Privileged instructions already leave through
 * XE_EMULATE to cpu_helpers.c, which is where their system-mode forms go.
 *
 * Every guest instruction's first host byte is recorded (struct xlat_map)
 * so a fault in the middle is reported at the guest instruction that did
 * it; every emitted sequence performs its faulting access before it
 * changes guest state, so that report is exact.
 *
 * icount (cpu.h): the count of retired instructions lives in rt.icount.
 * A block adds to it, flag-free (mov r10 / lea / mov), just before each
 * branch that can leave it (after the branch's own memory accesses) and
 * in each exit sequence, the instructions retired since its last add; so
 * a chained jump, which skips the exit stubs, has already counted. A
 * signal in the middle of a block (a fault) leaves the faulting pc in
 * rt.sig_block (cpu_signal.c), and the dispatcher adds the faulting
 * instruction's xlat_map.pending: what retired before it
 * since the last add (cpu.c, cpu_icount_fix). An inlined get_pc thunk
 * counts as the three instructions it stands for (call, mov, ret).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu_int.h"
#include "decode.h"
#include "xlat_emit.h"

#define XLAT_MAX_INSNS 64
#define XLAT_MAX_STUBS (2 * XLAT_MAX_INSNS + 4)

enum { STUB_CHAIN = 0, STUB_EXIT };

struct xlat_stub {
    uint32_t rel_off;   /* offset in the block of the rel32 that jumps to the stub */
    uint32_t eip;
    uint8_t kind;
    uint32_t reason, arg;
};

struct xctx {
    struct cpu *cpu;
    struct emit e;
    struct x86_insn in;
    const uint8_t *bytes;   /* the guest instruction's bytes (host copy) */
    uint32_t eip, next;     /* this instruction and the one after it */
    int done;               /* the block ends after this instruction */
    int failed;
    struct xlat_stub stubs[XLAT_MAX_STUBS];
    int nstubs;
    uint32_t thunks[XLAT_MAX_INSNS];    /* inlined get_pc thunks: their code counts as ours */
    int nthunks;
    int unflushed;          /* instructions retired in the block, not yet added to icount */
    int step;               /* a one-instruction uncached block: indirect jumps exit too */
    unsigned part_bytes;    /* nonzero: x_memop accesses only this much of the operand's end */
};

static void x_fail(struct xctx *x, const char *what)
{
    if (!x->failed)
        cpu_set_err(x->cpu, "translator: %s at eip 0x%08x", what, x->eip);
    x->failed = 1;
    x->done = 1;
}

/* --- exits and stubs ------------------------------------------------------ */

/* rt.icount += n without touching the flags: mov r10, [r15+icount];
 * lea r10, [r10+n]; mov [r15+icount], r10. n can pass 127 (inlined get_pc
 * thunks count three each): the lea then takes a disp32. */
static void x_icount_add(struct emit *e, int n)
{
    static const uint8_t ld[] = {0x4D, 0x8B, 0x57, RT_ICOUNT};
    static const uint8_t st[] = {0x4D, 0x89, 0x57, RT_ICOUNT};
    if (n <= 0)
        return;
    emit_n(e, ld, sizeof ld);
    emit_b(e, 0x4D);
    emit_b(e, 0x8D);
    if (n <= 127) {
        emit_b(e, 0x52);
        emit_b(e, (uint8_t)n);
    } else {
        emit_b(e, 0x92);
        emit_u32(e, (uint32_t)n);
    }
    emit_n(e, st, sizeof st);
}

/* Before a branch out of the block: count what retired so far, with the
 * current instruction if it completes (include_cur). */
static void x_icount_flush(struct xctx *x, int include_cur)
{
    x_icount_add(&x->e, x->unflushed + (include_cur ? 1 : 0));
    x->unflushed = include_cur ? -1 : 0; /* the loop counts the current one next */
}

static void x_exit_seq(struct emit *e, uint32_t reason, uint32_t eip, uint32_t arg)
{
    emit_rt_store_imm(e, RT_EXIT_EIP, eip);
    emit_rt_store_imm(e, RT_REASON, reason);
    emit_rt_store_imm(e, RT_ARG, arg);
    static const uint8_t jmp_exit[] = {0x41, 0xFF, 0x67, RT_EXIT_FN};
    emit_n(e, jmp_exit, sizeof jmp_exit);
}

/* End the block with an exit to C. An exit past the current instruction
 * (INT n, the traps) counts it; one at it (a fault, C emulation) does not:
 * the dispatcher counts what C completes. */
static void x_exit(struct xctx *x, uint32_t reason, uint32_t eip, uint32_t arg)
{
    x_icount_add(&x->e, x->unflushed + (eip != x->eip ? 1 : 0));
    x_exit_seq(&x->e, reason, eip, arg);
    x->done = 1;
}

static void x_exception(struct xctx *x, unsigned vector, uint32_t eip, int has_err, uint32_t err)
{
    emit_rt_store_imm(&x->e, RT_SCRATCH, err);
    x_exit(x, XE_EXCEPTION, eip, vector | (has_err ? 0x100u : 0));
}

static void x_add_stub(struct xctx *x, uint8_t kind, uint32_t eip, uint32_t reason, uint32_t arg)
{
    if (x->nstubs == XLAT_MAX_STUBS) {
        x_fail(x, "too many stubs");
        return;
    }
    struct xlat_stub *s = &x->stubs[x->nstubs++];
    s->rel_off = emit_off(&x->e) - 4;
    s->kind = kind;
    s->eip = eip;
    s->reason = reason;
    s->arg = arg;
}

/* jmp rel32 to a chain stub for eip */
static void x_jmp(struct xctx *x, uint32_t eip)
{
    emit_b(&x->e, 0xE9);
    emit_u32(&x->e, 0);
    x_add_stub(x, STUB_CHAIN, eip, 0, 0);
}

/* jcc rel32 (cc = condition code 0..15) to a chain stub for eip */
static void x_jcc(struct xctx *x, unsigned cc, uint32_t eip)
{
    emit_b(&x->e, 0x0F);
    emit_b(&x->e, (uint8_t)(0x80 | cc));
    emit_u32(&x->e, 0);
    x_add_stub(x, STUB_CHAIN, eip, 0, 0);
}

/* Deterministic mode: the deadline test, flag-free (the guest's flags are
 * live): r10 = deadline + ~icount = deadline - icount - 1, negative iff
 * icount >= deadline (both below 2^63); its top byte (bswap, movzx) looks
 * up 0 or 1 in rt.signtab; that goes to RCX (guest ECX parked in r11) for
 * jrcxz. The sequence ends with RCX being tested, ECX in r11:
 *     mov r10, [r15+deadline]; mov r11, [r15+icount]; not r11
 *     lea r10, [r10+r11]; bswap r10; movzx r11d, r10b
 *     movzx r11d, byte [r15+r11+signtab]; xchg r11, rcx; jrcxz ok */
static const uint8_t x_det_test[] = {
    0x4D, 0x8B, 0x97, RT_DEADLINE & 0xFF, (RT_DEADLINE >> 8) & 0xFF, 0, 0,
    0x4D, 0x8B, 0x5F, RT_ICOUNT,
    0x49, 0xF7, 0xD3,
    0x4F, 0x8D, 0x14, 0x1A,
    0x49, 0x0F, 0xCA,
    0x45, 0x0F, 0xB6, 0xDA,
    0x47, 0x0F, 0xB6, 0x9C, 0x1F, RT_SIGNTAB & 0xFF, (RT_SIGNTAB >> 8) & 0xFF, 0, 0,
    0x49, 0x87, 0xCB,
    0xE3,
};
_Static_assert(RT_DEADLINE < 0x10000 && RT_SIGNTAB < 0x10000, "disp32 layout");

/* A chain stub in deterministic mode opens with the deadline test:
 *     <x_det_test> ok; xchg r11, rcx; jmp over
 * ok: xchg r11, rcx; jmp rel32     <- the dispatcher links this
 * over: the usual exit (XE_CHAIN), which the unlinked jump also reaches.
 * Returns the offset of the rel32 to link. */
static uint32_t x_det_check(struct emit *e)
{
    static const uint8_t tail[] = {
        0x05,                   /* jrcxz ok */
        0x49, 0x87, 0xCB,       /* xchg r11, rcx */
        0xEB, 0x08,             /* jmp over */
        0x49, 0x87, 0xCB,       /* ok: xchg r11, rcx */
        0xE9, 0, 0, 0, 0,       /* jmp rel32: over until linked */
    };
    emit_n(e, x_det_test, sizeof x_det_test);
    emit_n(e, tail, sizeof tail);
    return emit_off(e) - 4;
}

static void x_emit_stubs(struct xctx *x)
{
    struct emit *e = &x->e;
    for (int i = 0; i < x->nstubs; i++) {
        struct xlat_stub *s = &x->stubs[i];
        uint32_t here = emit_off(e);
        int32_t rel = (int32_t)(here - (s->rel_off + 4));
        if (e->start + s->rel_off + 4 <= e->end)
            memcpy(e->start + s->rel_off, &rel, 4);
        if (s->kind == STUB_CHAIN) {
            uint32_t site = s->rel_off;
            if (x->cpu->det)
                site = x_det_check(e);
            /* lea r14,[rip + (site - next)]; mov [r15+chain_site], r14 */
            emit_b(e, 0x4C);
            emit_b(e, 0x8D);
            emit_b(e, 0x35);
            int32_t d = (int32_t)site - (int32_t)(emit_off(e) + 4);
            emit_u32(e, (uint32_t)d);
            static const uint8_t st[] = {0x4D, 0x89, 0x77, RT_CHAIN_SITE};
            emit_n(e, st, sizeof st);
            emit_rt_store_imm(e, RT_EXIT_EIP, s->eip);
            emit_rt_store_imm(e, RT_REASON, XE_CHAIN);
            static const uint8_t jmp_exit[] = {0x41, 0xFF, 0x67, RT_EXIT_FN};
            emit_n(e, jmp_exit, sizeof jmp_exit);
        } else {
            x_exit_seq(e, s->reason, s->eip, s->arg);
        }
    }
}

/* Jump to the guest EIP held in r14d through the inline lookup table
 * (cpu_rt.h: key = 0 - eip, so a match leaves zero). Flag-free: the
 * compare is an lea, the test is jrcxz with the guest's ECX parked in r11. */
static void x_ind_lookup(struct xctx *x);

static void x_ind_jump(struct xctx *x)
{
    struct emit *e = &x->e;
    if (x->step) {
        /* a single step (TF, SMC) must not run on into cached blocks */
        static const uint8_t st[] = {0x45, 0x89, 0x77, RT_EXIT_EIP}; /* mov [r15+exit_eip], r14d */
        static const uint8_t jmp_exit[] = {0x41, 0xFF, 0x67, RT_EXIT_FN};
        emit_n(e, st, sizeof st);
        emit_rt_store_imm(e, RT_REASON, XE_LOOKUP);
        emit_n(e, jmp_exit, sizeof jmp_exit);
        x->done = 1;
        return;
    }
    if (x->cpu->det) {
        /* deterministic mode: the deadline test of x_det_check, then the
         * lookup; past the deadline, back to the dispatcher (XE_LOOKUP) */
        static const uint8_t mid[] = {
            0x05,                   /* jrcxz ok */
            0x49, 0x87, 0xCB,       /* xchg r11, rcx */
            0xEB, 0x00,             /* jmp over (patched below) */
            0x49, 0x87, 0xCB,       /* ok: xchg r11, rcx */
        };
        emit_n(e, x_det_test, sizeof x_det_test);
        emit_n(e, mid, sizeof mid);
        uint8_t *jover = e->p - 4;
        x_ind_lookup(x);
        if (!e->overflow && e->p - (jover + 1) <= 127)
            *jover = (uint8_t)(e->p - (jover + 1));
        else
            e->overflow = 1;
        static const uint8_t st[] = {0x45, 0x89, 0x77, RT_EXIT_EIP}; /* mov [r15+exit_eip], r14d */
        static const uint8_t jmp_exit[] = {0x41, 0xFF, 0x67, RT_EXIT_FN};
        emit_n(e, st, sizeof st);
        emit_rt_store_imm(e, RT_REASON, XE_LOOKUP);
        emit_n(e, jmp_exit, sizeof jmp_exit);
        x->done = 1;
        return;
    }
    x_ind_lookup(x);
}

static void x_ind_lookup(struct xctx *x)
{
    struct emit *e = &x->e;
    if (x->cpu->ibt) {
        /* one entry per guest address (tcache.c): a miss reads 0 and the
         * jump to 0 faults into cpu_signal.c, which exits XE_LOOKUP */
        static const uint8_t j[] = {0x43, 0xFF, 0x24, 0xF4}; /* jmp [r12 + r14*8] */
        emit_n(e, j, sizeof j);
        x->done = 1;
        return;
    }
    static const uint8_t a[] = {
        0x45, 0x0F, 0xB7, 0xE6,             /* movzx r12d, r14w */
        0x47, 0x8B, 0x9C, 0xA7,             /* mov r11d, [r15 + r12*4 + key] */
    };
    emit_n(e, a, sizeof a);
    emit_u32(e, RT_IBTC_KEY);
    static const uint8_t b[] = {
        0x47, 0x8D, 0x1C, 0x33,             /* lea r11d, [r11 + r14] */
        0x49, 0x87, 0xCB,                   /* xchg r11, rcx */
        0xE3, 0x08,                         /* jrcxz hit */
        0x49, 0x87, 0xCB,                   /* xchg r11, rcx */
        0xE9,                               /* jmp miss_stub */
    };
    emit_n(e, b, sizeof b);
    int32_t rel = (int32_t)(x->cpu->miss_stub - (e->p + 4));
    emit_u32(e, (uint32_t)rel);
    static const uint8_t c[] = {
        0x4C, 0x89, 0xD9,                   /* hit: mov rcx, r11 */
        0x43, 0xFF, 0xA4, 0xE7,             /* jmp [r15 + r12*8 + host] */
    };
    emit_n(e, c, sizeof c);
    emit_u32(e, RT_IBTC_HOST);
    x->done = 1;
}

/* --- operands ------------------------------------------------------------- */

/* The guest's legacy prefixes that keep their meaning on the host: operand
 * size, REP/REPNE (also SSE's mandatory prefixes) and LOCK. Segment
 * overrides are replaced by GS, 0x67 is added where it is needed. */
static int x_prefixes(const struct xctx *x, uint8_t *out, int drop_f3)
{
    int n = 0;
    for (unsigned i = 0; i < x->in.prefix_len; i++) {
        uint8_t p = x->bytes[i];
        if (p == 0x66 || p == 0xF2 || p == 0xF0 || (p == 0xF3 && !drop_f3))
            out[n++] = p;
    }
    return n;
}

static int x_seg_needs_base(const struct xctx *x)
{
    /* user mode: CS/DS/ES/SS are flat; FS/GS may have a base */
    return x->in.seg == X86_SEG_FS || x->in.seg == X86_SEG_GS;
}

/* The FS/GS base as the block is translated: it is folded into the
 * displacement ((ea + disp + base) mod 2^32 is the linear address, and
 * 0x67 makes the host wrap the same way). cpu.c drops the translations
 * when a base changes (cpu_check_seg_assumptions). */
static uint32_t x_seg_base(const struct xctx *x)
{
    return x_seg_needs_base(x) ? x->cpu->state.seg[x->in.seg].base : 0;
}

/* ModRM (+SIB, disp) of the guest's 32-bit memory operand re-encoded with
 * reg field `reg`, its displacement increased by extra. [disp32] (mod=00
 * rm=101, RIP-relative in 64-bit mode) becomes SIB form with no base. */
static void x_modrm32(struct xctx *x, unsigned reg, int32_t extra)
{
    struct emit *e = &x->e;
    unsigned mod = x->in.mod, rm = x->in.rm;
    uint8_t sib = x->in.sib;
    int has_sib = x->in.sib_off != 0;
    reg &= 7;
    if (mod == 0 && rm == 5) {
        emit_b(e, (uint8_t)((reg << 3) | 4));
        emit_b(e, 0x25);
        emit_u32(e, (uint32_t)(x->in.disp + extra));
        return;
    }
    if (extra == 0) {
        emit_b(e, (uint8_t)((mod << 6) | (reg << 3) | rm));
        if (has_sib)
            emit_b(e, sib);
        emit_n(e, x->bytes + x->in.disp_off, x->in.disp_off ? x->in.disp_size : 0);
        return;
    }
    if (mod == 0 && has_sib && (sib & 7) == 5) {
        emit_b(e, (uint8_t)((reg << 3) | 4));
        emit_b(e, sib);
        emit_u32(e, (uint32_t)(x->in.disp + extra));
        return;
    }
    emit_b(e, (uint8_t)((2u << 6) | (reg << 3) | rm));
    if (has_sib)
        emit_b(e, sib);
    emit_u32(e, (uint32_t)(x->in.disp + extra));
}

/* r14d = the guest linear address of the memory operand (plus extra):
 * effective address with the guest's wrap, 16-bit addressing computed
 * with flag-free lea + movzx, then the FS/GS base if with_base. */
static void x_ea_to_r14(struct xctx *x, int32_t extra, int with_base)
{
    struct emit *e = &x->e;
    if (x->in.addrsize == 4) {
        emit_b(e, 0x44);                    /* REX.R: reg = r14 */
        emit_b(e, 0x8D);
        x_modrm32(x, 6, extra);
    } else {
        static const int8_t base16[8] = {3, 3, 5, 5, -1, -1, 5, 3};
        static const int8_t index16[8] = {6, 7, 6, 7, 6, 7, -1, -1};
        int b = base16[x->in.rm], i = index16[x->in.rm];
        uint32_t disp = (uint32_t)(x->in.disp + extra);
        if (x->in.mod == 0 && x->in.rm == 6) {
            emit_b(e, 0x41);                /* mov r14d, imm32 */
            emit_b(e, 0xBE);
            emit_u32(e, disp);
        } else {
            if (b < 0) {
                b = i;
                i = -1;
            }
            emit_b(e, 0x44);
            emit_b(e, 0x8D);
            if (i >= 0) {
                emit_b(e, (2u << 6) | (6u << 3) | 4u);
                emit_b(e, (uint8_t)((i << 3) | b));
            } else {
                emit_b(e, (uint8_t)((2u << 6) | (6u << 3) | (unsigned)b));
            }
            emit_u32(e, disp);
        }
        static const uint8_t zx[] = {0x45, 0x0F, 0xB7, 0xF6}; /* movzx r14d, r14w */
        emit_n(e, zx, sizeof zx);
    }
    if (with_base && x_seg_base(x) != 0) {
        static const uint8_t add[] = {0x45, 0x8D, 0xB6};    /* lea r14d, [r14 + base] */
        emit_n(e, add, sizeof add);
        emit_u32(e, x_seg_base(x));
    }
}

/* The bytes the memory operand of x->in spans (SDM 2A, each instruction's
 * operand), for the segment-limit check; 0 when not known (the check is
 * then left out). */
static unsigned x_mem_bytes(const struct x86_insn *in)
{
    unsigned op = in->opcode, r = in->reg, p = in->mandatory;
    switch (in->kind) {
    case X86K_FXSAVE:
    case X86K_FXRSTOR:
        return 512;
    case X86K_LDMXCSR:
    case X86K_STMXCSR:
        return 4;
    case X86K_FENCE:
        return 1;
    default:
        break;
    }
    if (in->flags & X86F_X87) {
        unsigned env = in->opsize == 4 ? 28 : 14, state = in->opsize == 4 ? 108 : 94;
        switch (op) {
        case 0xD8: case 0xDA: return 4;
        case 0xDC: return 8;
        case 0xDE: return 2;
        case 0xD9: return r == 4 || r == 6 ? env : r == 5 || r == 7 ? 2 : 4;
        case 0xDB: return r == 5 || r == 7 ? 10 : 4;
        case 0xDD: return r == 4 || r == 6 ? state : r == 7 ? 2 : 8;
        case 0xDF: return r == 4 || r == 6 ? 10 : r >= 5 ? 8 : 2;
        }
        return 0;
    }
    if (!(in->flags & (X86F_MMX | X86F_SSE))) {
        if (in->map == X86_MAP_0F) {
            if (op == 0xB6 || op == 0xBE || (op >= 0x90 && op <= 0x9F))
                return 1; /* MOVZX/MOVSX r, m8; SETcc */
            if (op == 0xB7 || op == 0xBF)
                return 2;
            if (op == 0xC7)
                return 8; /* CMPXCHG8B */
        }
        if (in->map == X86_MAP_0F38 && op == 0xF0 && (in->rep == 0xF2 || in->mandatory == 0xF2))
            return 1; /* CRC32 r, m8 */
        return (in->flags & X86F_BYTE_OP) ? 1 : in->opsize;
    }
    if (in->map == X86_MAP_0F38) {
        if (in->flags & X86F_MMX)
            return 8;
        if ((op >= 0x20 && op <= 0x25) || (op >= 0x30 && op <= 0x35)) {
            static const uint8_t pmov[6] = {8, 4, 2, 8, 4, 8}; /* PMOVSX/ZX */
            return pmov[op & 7];
        }
        return op >= 0xF0 ? 0 : 16;
    }
    if (in->map == X86_MAP_0F3A) {
        switch (op) {
        case 0x14: case 0x20: return 1;
        case 0x15: return 2;
        case 0x16: case 0x17: case 0x21: case 0x22: case 0x0A: return 4;
        case 0x0B: return 8;
        case 0x0F: return (in->flags & X86F_MMX) ? 8 : 16;
        }
        return 16;
    }
    switch (op) {
    case 0x6E: return 4;
    case 0x7E: return p == 0xF3 ? 8 : 4;
    case 0xD6: return 8;
    case 0xC4: return 2;
    case 0x12: case 0x13: case 0x16: case 0x17: return p == 0xF3 ? 16 : 8;
    case 0x2E: case 0x2F: return p == 0x66 ? 8 : 4;
    case 0x2A: return p == 0xF3 || p == 0xF2 ? 4 : 8;
    case 0x2C: case 0x2D: case 0x5A: return p == 0xF3 ? 4 : p == 0x66 ? 16 : 8;
    case 0xE6: return p == 0xF3 ? 8 : 16;
    }
    if (p == 0xF3)
        return op == 0x6F || op == 0x7F || op == 0x70 || op == 0x5B ? 16 : 4;
    if (p == 0xF2)
        return op == 0xF0 || op == 0x70 || op == 0x7C || op == 0x7D || op == 0xD0 ? 16 : 8;
    return (in->flags & X86F_MMX) && p == 0 ? 8 : 16;
}

/* Does the operand need the run-time limit check? An FS/GS operand with a
 * base: the base is folded into the displacement and the host wraps the
 * sum at 4 GiB, so bytes past offset 0xFFFFFFFF (beyond the flat
 * segment's limit: #GP(0), SDM 3A 5.3) would reach the linear addresses
 * below the base instead of the view's guard. A constant offset is
 * checked here, once. */
static unsigned x_op_bytes(const struct xctx *x)
{
    return x->part_bytes ? x->part_bytes : x_mem_bytes(&x->in);
}

static int x_limit_check_needed(const struct xctx *x)
{
    const struct x86_insn *in = &x->in;
    unsigned n;
    /* one byte: its offset is wrapped to 32 bits, so it cannot pass the limit */
    if (in->addrsize != 4 || x_seg_base(x) == 0 || (n = x_mem_bytes(in)) <= 1)
        return 0;
    int no_reg = (in->mod == 0 && in->rm == 5) ||
                 (in->mod == 0 && in->sib_off && (in->sib & 7) == 5 && ((in->sib >> 3) & 7) == 4);
    if (no_reg)
        return (uint64_t)(uint32_t)in->disp + n - 1 > 0xFFFFFFFFull;
    return 1;
}

/* r14 = the linear address (zero-extended) and r8 = 0, or 2^56 when the
 * operand's last byte lies past offset 0xFFFFFFFF: [r14 + r8] is then a
 * non-canonical address, the host's #GP, which the signal handler gives
 * the guest as #GP(0). Flag-free (the guest's flags are live):
 *   lea r14d, [ea]          offset, wrapped at 4 GiB
 *   lea r8, [r14 + n-1]     bit 32 = crossing
 *   bswap r8; bswap r8d     r8 = crossing (0 or 1)
 *   bswap r8                crossing << 56
 *   lea r14d, [r14 + base]  linear address */
static void x_limit_check(struct xctx *x, int32_t extra)
{
    struct emit *e = &x->e;
    x_ea_to_r14(x, extra, 0);
    static const uint8_t last[] = {0x4D, 0x8D, 0x86};            /* lea r8, [r14 + disp32] */
    emit_n(e, last, sizeof last);
    emit_u32(e, x_op_bytes(x) - 1);
    static const uint8_t sw[] = {0x49, 0x0F, 0xC8, 0x41, 0x0F, 0xC8, 0x49, 0x0F, 0xC8};
    emit_n(e, sw, sizeof sw);
    static const uint8_t add[] = {0x45, 0x8D, 0xB6};             /* lea r14d, [r14 + base] */
    emit_n(e, add, sizeof add);
    emit_u32(e, x_seg_base(x));
}

/* BT/BTS/BTR/BTC m, r: the bit offset register moves the operand by
 * (offset SAR 5) * 4 bytes (SAR 4, * 2 for 16 bits; SDM 2A BT), and the
 * limit applies there. The host adds the same, in 64 bits, to the address
 * it is given: so compute the moved offset (sarx: flag-free, BMI2), check
 * it, and hand the host the linear address minus that move.
 *   movsxd r8, reg; mov r10d, 5; sarx r8, r8, r10
 *   lea r14d, [r14 + r8*4]                 offset of the dword reached
 *   lea r10, [r14 + 3]; bswap x3           crossing << 56 (x_limit_check)
 *   lea r14d, [r14 + base]; not r8; lea r14, [r14 + r8*4 + 4]
 *   gs: bt [r14 + r10], reg */
static int x_is_bt_reg(const struct x86_insn *in)
{
    return in->map == X86_MAP_0F &&
           (in->opcode == 0xA3 || in->opcode == 0xAB || in->opcode == 0xB3 || in->opcode == 0xBB);
}

static void x_limit_check_bt(struct xctx *x)
{
    struct emit *e = &x->e;
    int w16 = x->in.opsize == 2;
    unsigned reg = x->in.reg & 7;
    x_ea_to_r14(x, 0, 0);
    if (w16) {
        static const uint8_t sx[] = {0x4C, 0x0F, 0xBF};          /* movsx r8, reg16 */
        emit_n(e, sx, sizeof sx);
    } else {
        static const uint8_t sx[] = {0x4C, 0x63};                /* movsxd r8, reg32 */
        emit_n(e, sx, sizeof sx);
    }
    emit_b(e, (uint8_t)(0xC0 | reg));
    static const uint8_t cnt[] = {0x41, 0xBA};                   /* mov r10d, imm32 */
    emit_n(e, cnt, sizeof cnt);
    emit_u32(e, w16 ? 4 : 5);
    static const uint8_t sar[] = {0xC4, 0x42, 0xAA, 0xF7, 0xC0}; /* sarx r8, r8, r10 */
    emit_n(e, sar, sizeof sar);
    uint8_t move[] = {0x47, 0x8D, 0x34, (uint8_t)(w16 ? 0x46 : 0x86)}; /* lea r14d, [r14 + r8*s] */
    emit_n(e, move, sizeof move);
    uint8_t last[] = {0x4D, 0x8D, 0x56, (uint8_t)(w16 ? 1 : 3)};       /* lea r10, [r14 + n-1] */
    emit_n(e, last, sizeof last);
    static const uint8_t sw[] = {0x49, 0x0F, 0xCA, 0x41, 0x0F, 0xCA, 0x49, 0x0F, 0xCA};
    emit_n(e, sw, sizeof sw);
    static const uint8_t add[] = {0x45, 0x8D, 0xB6};             /* lea r14d, [r14 + base] */
    emit_n(e, add, sizeof add);
    emit_u32(e, x_seg_base(x));
    uint8_t back[] = {0x49, 0xF7, 0xD0,                          /* not r8 */
                      0x4F, 0x8D, 0x74, (uint8_t)(w16 ? 0x46 : 0x86),
                      (uint8_t)(w16 ? 2 : 4)};                   /* lea r14, [r14 + r8*s + s] */
    emit_n(e, back, sizeof back);
}

static int x_host_has_bmi2(void)
{
    static int has = -1;
    if (has < 0)
        has = __builtin_cpu_supports("bmi2") ? 1 : 0;
    return has;
}

/*
 * One host instruction that accesses the guest memory operand:
 *   GS 0x67 pfx [REX] opc modrm' [sib] [disp] tail
 * rex: REX bits wanted for the reg field (0x44 = REX.R) or 0. byte_reg:
 * the reg field names a byte register (a REX would turn AH..BH into
 * SPL..DIL, so the r14 form cannot be used).
 */
static void x_memop(struct xctx *x, const uint8_t *pfx, int npfx, const uint8_t *opc, int nopc,
                    unsigned reg, uint8_t rex, int byte_reg, int32_t extra, const uint8_t *tail,
                    int ntail)
{
    struct emit *e = &x->e;
    int check = x_limit_check_needed(x);
    int bt = x->in.addrsize == 4 && x_seg_base(x) != 0 && x_is_bt_reg(&x->in) &&
             x_host_has_bmi2();
    if (bt)
        check = 1;
    int flat = x->in.addrsize == 4 && !check;
    int swap = 0;
    if (!flat) {
        if (byte_reg && (reg & 7) >= 4 && !(rex & 0x44)) {
            /* a REX turns AH..BH into SPL..DIL: swap the high byte into the
             * low one around the access (xchg is flag-free); a fault in
             * between is undone by the map's fixup (cpu_signal.c) */
            if (x->in.map == X86_MAP_0F && x->in.opcode == 0xB0 && (reg & 7) == 4) {
                /* CMPXCHG m8, AH also uses AL: done in C */
                x_exit(x, XE_EMULATE, x->eip, 0);
                return;
            }
            swap = (int)(reg & 3) + 1;
            reg &= 3;
        }
        if (bt)
            x_limit_check_bt(x);
        else if (check)
            x_limit_check(x, extra);
        else
            x_ea_to_r14(x, extra, 1);
        if (swap) {
            emit_b(e, 0x86);
            emit_b(e, (uint8_t)(0xC0 | ((swap + 3) << 3) | (swap - 1)));
            x->cpu->maps[x->cpu->nmaps - 1].fixup = (uint8_t)swap;
        }
    }
    emit_b(e, 0x65);
    if (!check)
        emit_b(e, 0x67);
    emit_n(e, pfx, (size_t)npfx);
    if (check) {
        emit_b(e, (uint8_t)(0x43 | rex));                 /* REX.X: r8 (r10), REX.B: r14 */
        emit_n(e, opc, (size_t)nopc);
        emit_b(e, (uint8_t)(((reg & 7) << 3) | 4));      /* [r14 + r8] ([r14 + r10]) */
        emit_b(e, bt ? 0x16 : 0x06);
    } else if (flat) {
        if (rex)
            emit_b(e, rex);
        emit_n(e, opc, (size_t)nopc);
        x_modrm32(x, reg, extra + (int32_t)x_seg_base(x));
    } else {
        emit_b(e, (uint8_t)(0x41 | rex));
        emit_n(e, opc, (size_t)nopc);
        emit_b(e, (uint8_t)(((reg & 7) << 3) | 6));    /* [r14d] */
    }
    emit_n(e, tail, (size_t)ntail);
    if (swap) {
        emit_b(e, 0x86);
        emit_b(e, (uint8_t)(0xC0 | ((swap + 3) << 3) | (swap - 1)));
    }
}

static unsigned x_tail_start(const struct x86_insn *in)
{
    if (in->disp_off)
        return (unsigned)in->disp_off + in->disp_size;
    if (in->sib_off)
        return (unsigned)in->sib_off + 1;
    return (unsigned)in->modrm_off + 1;
}

/* Group opcodes whose ModRM.reg is an opcode extension, not a register. */
static int x_reg_is_ext(const struct x86_insn *in)
{
    if (in->map == X86_MAP_1) {
        switch (in->opcode) {
        case 0x80: case 0x81: case 0x82: case 0x83: case 0x8F: case 0xC0: case 0xC1:
        case 0xC6: case 0xC7: case 0xD0: case 0xD1: case 0xD2: case 0xD3: case 0xF6:
        case 0xF7: case 0xFE: case 0xFF:
            return 1;
        }
        return in->opcode >= 0xD8 && in->opcode <= 0xDF;
    }
    return 0;
}

/* A 32-bit FXSAVE stores XMM0-7 only; bytes 288-415 of its image (XMM8-15
 * in 64-bit mode) keep what memory held (SDM 2A FXSAVE, table 3-53). The
 * host's FXSAVE writes XMM8-15 there: load them from those bytes first
 * (movups xmm8+i, [m + 288 + 16 i]), so it writes the old bytes back.
 * XMM8-15 are the host's; a 32-bit guest cannot name them. */
static void x_fxsave_keep_high(struct xctx *x)
{
    static const uint8_t movups[] = {0x0F, 0x10};
    for (unsigned i = 0; i < 8; i++) {
        uint32_t off = 288 + 16 * i;
        x->part_bytes = 512 - off; /* the limit check covers the whole image */
        x_memop(x, NULL, 0, movups, 2, i, 0x44, 0, (int32_t)off, NULL, 0);
    }
    x->part_bytes = 0;
}

/* The guest instruction itself with its memory operand made a GS access. */
static void x_copy_mem(struct xctx *x, int drop_f3)
{
    uint8_t pfx[16];
    int npfx = x_prefixes(x, pfx, drop_f3);
    unsigned ts = x_tail_start(&x->in);
    int byte_reg = (x->in.flags & X86F_BYTE_OP) && !x_reg_is_ext(&x->in);
    uint8_t opc[4];
    int nopc = x->in.modrm_off - x->in.opc_off;
    if (nopc < 1 || nopc > 4) {
        x_fail(x, "opcode length");
        return;
    }
    memcpy(opc, x->bytes + x->in.opc_off, (size_t)nopc);
    if (x->in.map == X86_MAP_1 && opc[0] == 0x82)
        opc[0] = 0x80;  /* 82 is 80 in 32-bit code and invalid in 64-bit mode */
    x_memop(x, pfx, npfx, opc, nopc, x->in.reg, 0, byte_reg, 0, x->bytes + ts,
            (int)(x->in.len - ts));
}

/* r14d = the 32-bit value of a r/m32 operand (register or memory). */
static void x_load_rm_r14(struct xctx *x)
{
    if (x->in.mod == 3) {
        emit_b(&x->e, 0x41);                    /* mov r14d, r32 */
        emit_b(&x->e, 0x89);
        emit_b(&x->e, (uint8_t)(0xC0 | (x->in.rm << 3) | 6));
    } else {
        static const uint8_t op = 0x8B;
        x_memop(x, NULL, 0, &op, 1, 6, 0x44, 0, 0, NULL, 0);
    }
}

/* --- stack ---------------------------------------------------------------- */

static void x_lea_esp(struct xctx *x, int32_t delta)
{
    struct emit *e = &x->e;
    if (delta >= -128 && delta <= 127) {
        static const uint8_t a[] = {0x8D, 0x64, 0x24};
        emit_n(e, a, 3);
        emit_b(e, (uint8_t)delta);
    } else {
        static const uint8_t a[] = {0x8D, 0xA4, 0x24};
        emit_n(e, a, 3);
        emit_u32(e, (uint32_t)delta);
    }
}

/* mov gs:[esp - size], reg (rex 0x44: reg is r8-r15) */
static void x_store_below_esp(struct xctx *x, unsigned reg, uint8_t rex, unsigned size)
{
    struct emit *e = &x->e;
    emit_b(e, 0x65);
    emit_b(e, 0x67);
    if (size == 2)
        emit_b(e, 0x66);
    if (rex)
        emit_b(e, rex);
    emit_b(e, 0x89);
    emit_b(e, (uint8_t)(0x44 | ((reg & 7) << 3)));
    emit_b(e, 0x24);
    emit_b(e, (uint8_t)(-(int)size));
}

/* mov reg, gs:[esp] */
static void x_load_at_esp(struct xctx *x, unsigned reg, uint8_t rex, unsigned size)
{
    struct emit *e = &x->e;
    emit_b(e, 0x65);
    emit_b(e, 0x67);
    if (size == 2)
        emit_b(e, 0x66);
    if (rex)
        emit_b(e, rex);
    emit_b(e, 0x8B);
    emit_b(e, (uint8_t)(0x04 | ((reg & 7) << 3)));
    emit_b(e, 0x24);
}

static void x_push_imm32(struct xctx *x, uint32_t v)
{
    static const uint8_t a[] = {0x65, 0x67, 0xC7, 0x44, 0x24, 0xFC};
    emit_n(&x->e, a, sizeof a);
    emit_u32(&x->e, v);
    x_lea_esp(x, -4);
}

static void x_push(struct xctx *x)
{
    const struct x86_insn *in = &x->in;
    unsigned size = in->opsize;
    if (in->map == X86_MAP_1 && in->opcode >= 0x50 && in->opcode <= 0x57) {
        x_store_below_esp(x, in->opcode & 7, 0, size);
    } else if (in->map == X86_MAP_1 && (in->opcode == 0x68 || in->opcode == 0x6A)) {
        uint32_t v = in->imm;
        if (in->imm_size == 1)
            v = (uint32_t)(int32_t)(int8_t)v;
        struct emit *e = &x->e;
        emit_b(e, 0x65);
        emit_b(e, 0x67);
        if (size == 2)
            emit_b(e, 0x66);
        static const uint8_t a[] = {0xC7, 0x44, 0x24};
        emit_n(e, a, 3);
        emit_b(e, (uint8_t)(-(int)size));
        if (size == 2) {
            emit_b(e, (uint8_t)v);
            emit_b(e, (uint8_t)(v >> 8));
        } else {
            emit_u32(e, v);
        }
    } else if (in->mod == 3) {
        x_store_below_esp(x, in->rm, 0, size);
    } else {
        /* push m: load into r14 (the access that may fault), then store */
        uint8_t pfx[1] = {0x66};
        static const uint8_t op = 0x8B;
        x_memop(x, pfx, size == 2, &op, 1, 6, 0x44, 0, 0, NULL, 0);
        x_store_below_esp(x, 6, 0x44, size);
    }
    x_lea_esp(x, -(int32_t)size);
}

static int x_uses_esp_base(const struct x86_insn *in)
{
    return in->addrsize == 4 && in->mod != 3 && in->rm == 4 && (in->sib & 7) == 4;
}

static void x_pop(struct xctx *x)
{
    const struct x86_insn *in = &x->in;
    unsigned size = in->opsize;
    unsigned reg;
    if (in->map == X86_MAP_1 && in->opcode >= 0x58 && in->opcode <= 0x5F)
        reg = in->opcode & 7;
    else if (in->mod == 3)
        reg = in->rm;
    else {
        /* pop m: the address uses ESP after the pop (SDM 2B POP); store
         * before ESP moves, so add the size to an ESP-based displacement */
        uint8_t pfx[1] = {0x66};
        x_load_at_esp(x, 2, 0x44, size);   /* r10: r14 may carry the address */
        static const uint8_t op = 0x89;
        x_memop(x, pfx, size == 2, &op, 1, 2, 0x44, 0, x_uses_esp_base(in) ? (int32_t)size : 0,
                NULL, 0);
        x_lea_esp(x, (int32_t)size);
        return;
    }
    x_load_at_esp(x, reg, 0, size);
    if (!(reg == 4 && size == 4))
        x_lea_esp(x, (int32_t)size);
}

static void x_pushf(struct xctx *x)
{
    struct emit *e = &x->e;
    static const uint8_t a[] = {
        0x49, 0x89, 0xE6,               /* mov r14, rsp */
        0x49, 0x8B, 0x67, RT_HOST_RSP,  /* mov rsp, [r15 + host_rsp] */
        0x9C,                           /* pushfq */
        0x4C, 0x8B, 0x14, 0x24,         /* mov r10, [rsp] */
        0x41, 0x81, 0xE2,               /* and r10d, EFL_ARITH_DF */
    };
    emit_n(e, a, sizeof a);
    emit_u32(e, EFL_ARITH_DF);
    static const uint8_t b[] = {
        0x45, 0x0B, 0x57, RT_EFLAGS_VIRT, /* or r10d, [r15 + eflags_virt] */
        0x9D,                           /* popfq: the guest's flags again */
        0x4C, 0x89, 0xF4,               /* mov rsp, r14 */
    };
    emit_n(e, b, sizeof b);
    x_store_below_esp(x, 2 /* r10 */, 0x44, 4);
    x_lea_esp(x, -4);
}

static void x_popf(struct xctx *x)
{
    struct emit *e = &x->e;
    x_load_at_esp(x, 2 /* r10 */, 0x44, 4);
    x_lea_esp(x, 4);
    static const uint8_t a[] = {
        0x49, 0x89, 0xE6,               /* mov r14, rsp */
        0x49, 0x8B, 0x67, RT_HOST_RSP,  /* mov rsp, [r15 + host_rsp] */
        0x45, 0x89, 0xD3,               /* mov r11d, r10d */
        0x41, 0x81, 0xE3,               /* and r11d, EFL_VIRT_KEEP */
    };
    emit_n(e, a, sizeof a);
    emit_u32(e, EFL_VIRT_KEEP);
    static const uint8_t b[] = {0x41, 0x81, 0xCB}; /* or r11d, IF | bit 1 */
    emit_n(e, b, sizeof b);
    emit_u32(e, 0x202);
    static const uint8_t c[] = {
        0x45, 0x89, 0x5F, RT_EFLAGS_VIRT, /* mov [r15 + eflags_virt], r11d */
        0x41, 0x81, 0xE2,               /* and r10d, EFL_ARITH_DF */
    };
    emit_n(e, c, sizeof c);
    emit_u32(e, EFL_ARITH_DF);
    static const uint8_t d[] = {
        0x41, 0x52,                     /* push r10 */
        0x9D,                           /* popfq */
        0x4C, 0x89, 0xF4,               /* mov rsp, r14 */
    };
    emit_n(e, d, sizeof d);
}

/* --- instruction dispatch -------------------------------------------------- */

static uint32_t x_rel_target(const struct xctx *x)
{
    int32_t rel;
    if (x->in.imm_size == 1)
        rel = (int8_t)x->in.imm;
    else if (x->in.imm_size == 2)
        rel = (int16_t)x->in.imm;
    else
        rel = (int32_t)x->in.imm;
    uint32_t t = x->next + (uint32_t)rel;
    if (x->in.opsize == 2)
        t &= 0xFFFF;
    return t;
}

static void x_string(struct xctx *x)
{
    struct emit *e = &x->e;
    uint8_t op = x->in.opcode;
    int uses_si = op == 0xA4 || op == 0xA5 || op == 0xA6 || op == 0xA7 || op == 0xAC || op == 0xAD;
    int uses_di = !(op == 0xAC || op == 0xAD);
    if (x->in.addrsize != 4 || (uses_si && x_seg_needs_base(x))) {
        x_exit(x, XE_EMULATE, x->eip, 0);
        return;
    }
    /* The host runs the string instruction on host addresses inside the
     * view: the view is 4 GiB aligned, so the low halves of RSI/RDI stay
     * the guest's ESI/EDI and show its progress if a page faults midway. */
    static const uint8_t lsi[] = {0x49, 0x8D, 0x74, 0x35, 0x00};   /* lea rsi, [r13 + rsi] */
    static const uint8_t ldi[] = {0x49, 0x8D, 0x7C, 0x3D, 0x00};   /* lea rdi, [r13 + rdi] */
    if (uses_si)
        emit_n(e, lsi, sizeof lsi);
    if (uses_di)
        emit_n(e, ldi, sizeof ldi);
    uint8_t pfx[16];
    int npfx = x_prefixes(x, pfx, 0);
    emit_n(e, pfx, (size_t)npfx);
    emit_b(e, op);
    static const uint8_t zsi[] = {0x89, 0xF6}, zdi[] = {0x89, 0xFF};
    if (uses_si)
        emit_n(e, zsi, 2);
    if (uses_di)
        emit_n(e, zdi, 2);
}

static size_t x_fetchable(struct cpu *cpu, uint32_t gla, size_t max);

/* `call __x86.get_pc_thunk.REG` (PIC code calls one in most functions):
 * the callee is `mov REG, [esp]; ret`. Its ret is an indirect branch with
 * as many targets as callers, which the host predicts badly; inline it:
 * the call's store of the return address (memory stays as on hardware),
 * then mov REG, return address. Returns 1 if done. */
static int x_pc_thunk(struct xctx *x, uint32_t target)
{
    uint8_t b[4];
    if (x->nthunks == XLAT_MAX_INSNS || x_fetchable(x->cpu, target, 4) != 4)
        return 0;
    memcpy(b, x->cpu->view + target, 4);
    if (b[0] != 0x8B || (b[1] & 0xC7) != 0x04 || b[2] != 0x24 || b[3] != 0xC3 ||
        ((b[1] >> 3) & 7) == 4)
        return 0;
    static const uint8_t st[] = {0x65, 0x67, 0xC7, 0x44, 0x24, 0xFC}; /* mov gs:[esp-4], imm32 */
    emit_n(&x->e, st, sizeof st);
    emit_u32(&x->e, x->next);
    emit_b(&x->e, (uint8_t)(0xB8 | ((b[1] >> 3) & 7)));             /* mov REG, imm32 */
    emit_u32(&x->e, x->next);
    x->thunks[x->nthunks++] = target;
    x->unflushed += 2; /* the thunk's mov and ret */
    return 1;
}

static int x_feature_ok(const struct xctx *x, unsigned feat)
{
    return feat == VMP_FEAT_NONE || cpu_feat_has(x->cpu, feat);
}

static void x_insn(struct xctx *x)
{
    const struct x86_insn *in = &x->in;
    struct emit *e = &x->e;
    int drop_f3 = 0;

    /* LZCNT/TZCNT on a CPU without them execute as BSR/BSF (SDM 2A LZCNT) */
    if (in->map == X86_MAP_0F && (in->opcode == 0xBD || in->opcode == 0xBC) && in->rep == 0xF3) {
        unsigned f = in->opcode == 0xBD ? VMP_FEAT_ABM : VMP_FEAT_BMI1;
        if (!cpu_feat_has(x->cpu, f))
            drop_f3 = 1;
    }
    if (!drop_f3 && (!x_feature_ok(x, in->feature) || !x_feature_ok(x, in->feature2))) {
        x_exception(x, 6, x->eip, 0, 0);
        return;
    }

    /* an access through a null FS/GS: #GP(0) (SDM 3A 5.4.1) */
    if ((in->seg == X86_SEG_FS || in->seg == X86_SEG_GS) &&
        (x->cpu->null_fsgs & (in->seg == X86_SEG_FS ? 1u : 2u)) &&
        (in->flags & (X86F_MEM | X86F_IMPLICIT_MEM)) && in->kind != X86K_LEA &&
        in->kind != X86K_NOP_HINT &&
        !(in->kind == X86K_STRING && (in->opcode & ~1u) != 0xA4 && (in->opcode & ~1u) != 0xA6 &&
          (in->opcode & ~1u) != 0xAC)) {
        x_exception(x, 13, x->eip, 1, 0);
        return;
    }

    switch (in->kind) {
    case X86K_COPY:
    case X86K_SAHF_LAHF:
        if (in->map == X86_MAP_1 && in->opcode == 0x82) {
            emit_n(e, x->bytes, in->opc_off);
            emit_b(e, 0x80);
            emit_n(e, x->bytes + in->opc_off + 1, (size_t)(in->len - in->opc_off - 1));
        } else if (drop_f3) {
            uint8_t pfx[16];
            int n = x_prefixes(x, pfx, 1);
            emit_n(e, pfx, (size_t)n);
            emit_n(e, x->bytes + in->prefix_len, (size_t)(in->len - in->prefix_len));
        } else {
            emit_n(e, x->bytes, in->len);
        }
        break;
    case X86K_FXSAVE:
        if (in->flags & X86F_MEM)
            x_fxsave_keep_high(x);
        x_copy_mem(x, drop_f3);
        break;
    case X86K_COPY_MEM:
        if ((in->flags & X86F_X87) && (in->opcode == 0xD9 || in->opcode == 0xDD) && in->reg == 6) {
            /* FNSTENV/FNSAVE: the host stores its own FIP/FCS/FDS; C
             * puts the guest's in (cpu_helpers.c) and steps past */
            x_copy_mem(x, drop_f3);
            x_exit(x, XE_EMULATE, x->eip, XE_EMULATE_FPU_ENV);
            break;
        }
        /* fall through */
    case X86K_FENCE:
    case X86K_FXRSTOR:
    case X86K_LDMXCSR:
    case X86K_STMXCSR:
        if (in->flags & X86F_MEM)
            x_copy_mem(x, drop_f3);
        else
            emit_n(e, x->bytes, in->len);
        break;
    case X86K_NOP_HINT:
        break;
    case X86K_LEA: {
        if (in->addrsize == 4) {
            uint8_t pfx[16];
            int n = x_prefixes(x, pfx, 0);
            emit_n(e, pfx, (size_t)n);
            emit_b(e, 0x8D);
            x_modrm32(x, in->reg, 0);
        } else {
            x_ea_to_r14(x, 0, 0);
            if (in->opsize == 2)
                emit_b(e, 0x66);
            emit_b(e, 0x44);                    /* mov r32, r14d */
            emit_b(e, 0x89);
            emit_b(e, (uint8_t)(0xC0 | (6u << 3) | in->reg));
        }
        break;
    }
    case X86K_INCDEC_REG: {
        uint8_t pfx[16];
        int n = x_prefixes(x, pfx, 0);
        emit_n(e, pfx, (size_t)n);
        emit_b(e, 0xFF);
        emit_b(e, (uint8_t)((in->opcode & 8 ? 0xC8 : 0xC0) | (in->opcode & 7)));
        break;
    }
    case X86K_XLAT:
        if (in->addrsize == 4 && !x_seg_needs_base(x)) {
            static const uint8_t a[] = {0x65, 0x67, 0xD7};
            emit_n(e, a, sizeof a);
        } else {
            x_exit(x, XE_EMULATE, x->eip, 0);
        }
        break;
    case X86K_MOFFS:
        if (in->addrsize == 4) {
            /* A0-A3 with 0x67 take a 32-bit offset; the FS/GS base folds in */
            uint8_t pfx[16];
            int n = x_prefixes(x, pfx, 0);
            uint32_t moffs;
            memcpy(&moffs, x->bytes + in->opc_off + 1, 4);
            if (x_seg_base(x) != 0 && (uint64_t)moffs + ((in->opcode & 1) ? in->opsize : 1) - 1 >
                                          0xFFFFFFFFull) {
                x_exception(x, 13, x->eip, 1, 0); /* past the limit (SDM 3A 5.3) */
                break;
            }
            emit_b(e, 0x65);
            emit_b(e, 0x67);
            emit_n(e, pfx, (size_t)n);
            emit_b(e, in->opcode);
            emit_u32(e, moffs + x_seg_base(x));
        } else {
            x_exit(x, XE_EMULATE, x->eip, 0);
        }
        break;
    case X86K_MASKMOV:
        /* implicit byte-masked store to DS:[EDI]: run it on the host
         * address inside the view, as the string instructions do */
        if (in->addrsize == 4 && !x_seg_needs_base(x)) {
            static const uint8_t ldi[] = {0x49, 0x8D, 0x7C, 0x3D, 0x00}; /* lea rdi, [r13 + rdi] */
            static const uint8_t zdi[] = {0x89, 0xFF};                   /* mov edi, edi */
            uint8_t pfx[16];
            int n = x_prefixes(x, pfx, 0);
            emit_n(e, ldi, sizeof ldi);
            emit_n(e, pfx, (size_t)n);
            emit_n(e, x->bytes + in->opc_off, (size_t)(in->len - in->opc_off));
            emit_n(e, zdi, sizeof zdi);
        } else {
            x_fail(x, "MASKMOV with a segment base or 16-bit addressing");
        }
        break;
    case X86K_PUSH:
        x_push(x);
        break;
    case X86K_POP:
        x_pop(x);
        break;
    case X86K_PUSHF:
        if (in->opsize == 4)
            x_pushf(x);
        else
            x_exit(x, XE_EMULATE, x->eip, 0);
        break;
    case X86K_POPF:
        /* system mode: IF and IOPL follow CPL and IOPL (cpu_sys.c) */
        if (in->opsize == 4 && x->cpu->mode == CPU_MODE_USER) {
            /* it may set TF: back to the dispatcher, by an exit it never
             * links (cpu.c single-steps while TF is set) */
            x_popf(x);
            x_exit(x, XE_LOOKUP, x->next, 0);
        } else
            x_exit(x, XE_EMULATE, x->eip, 0);
        break;
    case X86K_LEAVE:
        if (in->opsize == 4) {
            static const uint8_t a[] = {
                0x65, 0x67, 0x44, 0x8B, 0x75, 0x00, /* mov r14d, gs:[ebp] */
                0x8D, 0x65, 0x04,                   /* lea esp, [rbp + 4] */
                0x44, 0x89, 0xF5,                   /* mov ebp, r14d */
            };
            emit_n(e, a, sizeof a);
        } else {
            x_exit(x, XE_EMULATE, x->eip, 0);
        }
        break;
    case X86K_ENTER:
        if (in->opsize == 4 && (in->imm2 & 31) == 0) {
            static const uint8_t a[] = {
                0x65, 0x67, 0x89, 0x6C, 0x24, 0xFC, /* mov gs:[esp-4], ebp */
                0x8D, 0x6C, 0x24, 0xFC,             /* lea ebp, [rsp-4] */
            };
            emit_n(e, a, sizeof a);
            x_lea_esp(x, -4 - (int32_t)(in->imm & 0xFFFF));
        } else {
            x_exit(x, XE_EMULATE, x->eip, 0);
        }
        break;
    case X86K_JMP_REL:
        x_icount_flush(x, 1);
        x_jmp(x, x_rel_target(x));
        x->done = 1;
        break;
    case X86K_JCC:
        /* the not-taken path continues in the same block (a superblock):
         * no extra jump on the fall-through */
        x_icount_flush(x, 1);
        x_jcc(x, in->opcode & 15, x_rel_target(x));
        break;
    case X86K_JCXZ:
    case X86K_LOOP:
        if (in->addrsize != 4 || in->opsize != 4) {
            x_exit(x, XE_EMULATE, x->eip, 0);
            break;
        }
        x_icount_flush(x, 1);
        if (in->kind == X86K_LOOP) {
            static const uint8_t dec[] = {0x8D, 0x49, 0xFF}; /* lea ecx, [rcx-1] */
            emit_n(e, dec, 3);
            emit_b(e, 0xE3);                                /* jrcxz -> fall through */
            emit_b(e, in->opcode == 0xE2 ? 5 : 11);
            if (in->opcode != 0xE2)                          /* LOOPE: ZF=0 falls through */
                x_jcc(x, in->opcode == 0xE1 ? 0x5 : 0x4, x->next);
            x_jmp(x, x_rel_target(x));
            x_jmp(x, x->next);
        } else {
            static const uint8_t a[] = {0xE3, 0x05};        /* jrcxz -> taken */
            emit_n(e, a, 2);
            x_jmp(x, x->next);
            x_jmp(x, x_rel_target(x));
        }
        x->done = 1;
        break;
    case X86K_CALL_REL:
        if (in->opsize != 4) {
            x_exit(x, XE_EMULATE, x->eip, 0);
            break;
        }
        if (x_pc_thunk(x, x_rel_target(x)))
            break;
        x_push_imm32(x, x->next);
        x_icount_flush(x, 1);
        x_jmp(x, x_rel_target(x));
        x->done = 1;
        break;
    case X86K_JMP_IND:
    case X86K_CALL_IND:
        if (in->opsize != 4) {
            x_exit(x, XE_EMULATE, x->eip, 0);
            break;
        }
        x_load_rm_r14(x);
        if (in->kind == X86K_CALL_IND)
            x_push_imm32(x, x->next);
        x_icount_flush(x, 1);
        x_ind_jump(x);
        break;
    case X86K_RET:
        if (in->opsize != 4) {
            x_exit(x, XE_EMULATE, x->eip, 0);
            break;
        }
        x_load_at_esp(x, 6, 0x44, 4);
        x_lea_esp(x, 4 + (int32_t)(in->imm_size ? (in->imm & 0xFFFF) : 0));
        x_icount_flush(x, 1);
        x_ind_jump(x);
        break;
    case X86K_INT:
        x_exit(x, XE_INT, x->next, in->imm & 0xFF);
        break;
    case X86K_INT3:
        x_exception(x, 3, x->next, 0, 0);
        break;
    case X86K_INT1:
        x_exception(x, 1, x->next, 0, 0);
        break;
    case X86K_INTO: {
        /* jno over an inline exit: #OF is a trap, reported after INTO */
        struct emit sub = {x->e.p, x->e.p, x->e.end, 0};
        emit_b(&sub, 0x71);
        emit_b(&sub, 0);
        uint8_t *rel = sub.p - 1;
        emit_rt_store_imm(&sub, RT_SCRATCH, 0);
        x_icount_add(&sub, x->unflushed + 1);
        x_exit_seq(&sub, XE_EXCEPTION, x->next, 4);
        if (!sub.overflow)
            *rel = (uint8_t)(sub.p - rel - 1);
        x->e.p = sub.p;
        x->e.overflow |= sub.overflow;
        break;
    }
    case X86K_SYSENTER:
        x_exit(x, XE_EMULATE, x->eip, 0);
        break;
    case X86K_STRING:
        x_string(x);
        break;
    case X86K_HLT:
    case X86K_CLI:
    case X86K_STI:
    case X86K_IN:
    case X86K_OUT:
    case X86K_INS:
    case X86K_OUTS:
    case X86K_MOV_CR:
    case X86K_MOV_DR:
    case X86K_CLTS:
    case X86K_INVD:
    case X86K_WBINVD:
    case X86K_INVLPG:
    case X86K_RDMSR:
    case X86K_WRMSR:
    case X86K_RDPMC:
    case X86K_SYS_0F00:
    case X86K_SYS_0F01:
    case X86K_SYSEXIT:
    case X86K_SYSRET:
    case X86K_IRET:
    case X86K_JMP_FAR:
    case X86K_CALL_FAR:
    case X86K_RET_FAR:
    case X86K_MOV_TO_SEG:
    case X86K_MOV_FROM_SEG:
    case X86K_LOAD_FARPTR:
    case X86K_PUSH_SEG:
    case X86K_POP_SEG:
    case X86K_PUSHA:
    case X86K_POPA:
    case X86K_BCD:
    case X86K_SALC:
    case X86K_ARPL:
    case X86K_BOUND:
    case X86K_CPUID:
    case X86K_RDTSC:
    case X86K_RDTSCP:
    case X86K_RDRAND:
    case X86K_LAR:
    case X86K_LSL:
    case X86K_SYSCALL:
        x_exit(x, XE_EMULATE, x->eip, 0);
        break;
    case X86K_UD:
    case X86K_XSAVE_FAMILY:
    case X86K_RSM:
    case X86K_MONITOR:
    case X86K_MWAIT:
    default:
        x_exception(x, 6, x->eip, 0, 0);
        break;
    }
}

/* --- blocks ---------------------------------------------------------------- */

/* Bytes of guest code readable at gla, up to max (0: the page is not). */
static size_t x_fetchable(struct cpu *cpu, uint32_t gla, size_t max)
{
    size_t n = 0;
    while (n < max) {
        uint32_t a = gla + (uint32_t)n;
        uint8_t pp = cpu->page[a >> 12];
        if (!(pp & PP_MAPPED) || !(pp & (PROT_READ | PROT_EXEC)))
            break;
        n += CPU_PAGE_SIZE - (a & (CPU_PAGE_SIZE - 1));
    }
    return n < max ? n : max;
}

struct xlat_block *xlat_block_translate(struct cpu *cpu, uint32_t eip, int max_insns, int cache_it)
{
    if (cpu->nblocks >= TC_MAX_BLOCKS || cpu->nmaps + XLAT_MAX_INSNS >= TC_MAX_MAPS ||
        cpu->cc_used + TC_BLOCK_MAX_BYTES > cpu->cc_bytes)
        tc_flush(cpu);

    struct xctx *x = calloc(1, sizeof *x);
    if (!x) {
        cpu_set_err(cpu, "translator: out of memory");
        return NULL;
    }
    x->cpu = cpu;
    x->step = max_insns == 1 && !cache_it;
    x->e.start = x->e.p = cpu->cc + cpu->cc_used;
    x->e.end = x->e.start + TC_BLOCK_MAX_BYTES;

    struct xlat_block *b = &cpu->blocks[cpu->nblocks];
    memset(b, 0, sizeof *b);
    b->eip = eip;
    b->mode = cpu->cur_mode;
    b->host = x->e.start;
    b->map_first = cpu->nmaps;

    /* poll page: cpu_kick() makes this load fault at the block boundary.
     * Forward direct branches enter after it (XLAT_POLL_BYTES): every loop
     * has a backward or indirect branch, which enters before it. */
    static const uint8_t poll[XLAT_POLL_BYTES] = {0x45, 0x8A, 0xB7, 0x00, 0xF0, 0xFF, 0xFF};
    emit_n(&x->e, poll, sizeof poll);

    uint32_t pc = eip;
    if (max_insns > XLAT_MAX_INSNS)
        max_insns = XLAT_MAX_INSNS;
    for (int n = 0; n < max_insns && !x->done; n++) {
        size_t avail = x_fetchable(cpu, pc, X86_MAX_INSN_LEN);
        x->eip = pc;
        cpu->maps[cpu->nmaps].host_off = emit_off(&x->e);
        cpu->maps[cpu->nmaps].eip = pc;
        cpu->maps[cpu->nmaps].fixup = 0;
        cpu->maps[cpu->nmaps].pending = (uint8_t)x->unflushed;
        cpu->nmaps++;
        b->map_n++;
        if (avail == 0) {
            if (n == 0) {
                /* instruction fetch from a page the guest cannot read */
                uint32_t err = 4 | ((cpu->page[pc >> 12] & PP_MAPPED) ? 1 : 0);
                /* system mode maps the page on this exit: keep no block that
                 * would fault again */
                if (cpu->mode == CPU_MODE_SYSTEM)
                    cache_it = 0;
                emit_rt_store_imm(&x->e, RT_SCRATCH, pc);
                x_exit(x, XE_PAGEFAULT, pc, err);
            } else {
                x_icount_flush(x, 0);
                x_jmp(x, pc);
            }
            break;
        }
        x->bytes = cpu->view + pc;
        if (avail < X86_MAX_INSN_LEN && pc + (uint32_t)avail < pc)
            avail = 0;
        int st = x86_decode(x->bytes, avail, 1, &x->in);
        if (st == X86_DEC_NEED_MORE) {
            if (n == 0) {
                uint32_t page_end = (pc | (CPU_PAGE_SIZE - 1)) + 1;
                if (cpu->mode == CPU_MODE_SYSTEM)
                    cache_it = 0;
                emit_rt_store_imm(&x->e, RT_SCRATCH, page_end);
                x_exit(x, XE_PAGEFAULT, pc, 4 | ((cpu->page[page_end >> 12] & PP_MAPPED) ? 1 : 0));
            } else {
                x_icount_flush(x, 0);
                x_jmp(x, pc);
            }
            break;
        }
        if (st == X86_DEC_TOO_LONG) {
            x_exception(x, 13, pc, 1, 0);
            break;
        }
        if (st != X86_DEC_OK) {
            x_exception(x, 6, pc, 0, 0);
            break;
        }
        x->next = pc + x->in.len;
        x_insn(x);
        x->unflushed++;
        pc = x->next;
        b->gla_end = pc;
    }
    if (!x->done) {
        x_icount_flush(x, 0);
        x_jmp(x, pc);
    }
    if (!x->failed)
        x_emit_stubs(x);
    if (x->e.overflow && !x->failed)
        x_fail(x, "block too large");
    if (x->failed) {
        cpu->nmaps = b->map_first;
        free(x);
        return NULL;
    }
    if (b->gla_end == 0 && b->map_n)
        b->gla_end = eip + 1;
    b->host_len = emit_off(&x->e);
    cpu->cc_used += (b->host_len + 15) & ~15u;
    cpu->nblocks++;
    cpu->stats.blocks_translated++;
    if (cache_it) {
        tc_insert(cpu, b);
        view_mark_code(cpu, eip, b->gla_end);
        uint32_t pages[2 + 2 * XLAT_MAX_INSNS];
        unsigned np = 0;
        pages[np++] = eip >> 12;
        pages[np++] = (b->gla_end - 1) >> 12;
        for (int i = 0; i < x->nthunks; i++) {
            view_mark_code(cpu, x->thunks[i], x->thunks[i] + 4);
            pages[np++] = x->thunks[i] >> 12;
            pages[np++] = (x->thunks[i] + 3) >> 12;
        }
        tc_page_link(cpu, b, pages, np);
    }
    free(x);
    return b;
}
