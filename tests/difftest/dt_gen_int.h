/*
 * dt_gen_int.h - the generator's working state and the emit helpers that
 * dt_gen.c (core), dt_gen_alu.c (integer), dt_gen_flow.c (stack, string,
 * branch) and dt_gen_fp.c (x87, SSE, MMX) share. Internal to
 * tests/difftest.
 */
#ifndef DT_GEN_INT_H
#define DT_GEN_INT_H

#include <stdint.h>

#include "dt_gen.h"

/* EFLAGS bits (SDM 1 3.4.3). */
#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_DF 0x400u
#define F_OF 0x800u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

struct gen_rng {
    uint64_t s;
};

struct gen_snap {
    uint32_t reg[8];
    uint8_t known;
    uint32_t undef;
    int df;
    uint32_t fs_base, gs_base;
    int fs_ok, gs_ok;
};

struct gen_pending {
    unsigned item, rel;     /* the branch and its reloc */
    unsigned left;          /* groups to skip before it lands */
    struct gen_snap snap;   /* what is known on the taken path */
};

struct gen {
    struct gen_rng r;
    const struct dt_features *f;
    unsigned cats;
    struct dt_seq *seq;
    struct dt_item *it;     /* item being built */
    uint32_t reg[8];
    uint8_t known;          /* bit per register: value in reg[] is right */
    uint8_t reserved;       /* never a destination (ESP always) */
    uint8_t written;        /* registers written since the current body started */
    uint32_t undef;         /* EFLAGS bits now undefined */
    int df;                 /* -1 unknown */
    uint32_t fs_base, gs_base;  /* now in FS and GS ... */
    int fs_ok, gs_ok;           /* ... if known (segment loads change them) */
    uint32_t tls_base[2];       /* bases of DT_FS_SEL and DT_GS_SEL */
    int body;               /* inside a loop or callee body */
    uint8_t avoid;          /* registers setup items must not pick */
    int group_next;         /* the next item starts a group */
    int want_read;          /* the next non-setup item reads flags */
    int want_fault;         /* gen_mem: aim at an unmapped page (#PF) */
    int in_setup;
    unsigned npend;
    struct gen_pending pend[DT_SEQ_MAX_ITEMS];
};

/* A memory operand: prefixes (segment, 0x67) and ModRM/SIB/disp with the
 * ModRM reg field left 0. */
struct gen_mop {
    uint8_t pfx[2];
    uint8_t npfx;
    uint8_t b[7];
    uint8_t nb;
    uint32_t linear;        /* where the access starts */
    uint32_t ea;            /* the effective address (for LEA) */
    int addr16;
};

/* A ModRM r/m operand: a register or memory. */
struct gen_rm {
    int is_mem;
    unsigned reg;           /* register number (8-bit numbering for byte ops) */
    struct gen_mop m;
};

uint64_t gen_next(struct gen_rng *r);
uint32_t gen_below(struct gen *g, uint32_t n);
int gen_chance(struct gen *g, unsigned percent);

/* Items. */
void gen_begin(struct gen *g, const char *name, unsigned cat);
void gen_end(struct gen *g);
int gen_full(const struct gen *g); /* no room for another item */
void gen_b(struct gen *g, uint8_t b);
void gen_w(struct gen *g, uint16_t w);
void gen_d(struct gen *g, uint32_t d);
void gen_imm(struct gen *g, uint32_t v, unsigned size_bytes);

/* Registers. */
unsigned gen_dst(struct gen *g);               /* a 32-bit register we may write */
unsigned gen_dst8(struct gen *g);              /* an 8-bit register number we may write */
unsigned gen_any(struct gen *g);               /* any register to read */
void gen_clobber(struct gen *g, unsigned mask); /* registers now unknown */
void gen_set(struct gen *g, unsigned reg, uint32_t value); /* mov reg, imm32 as an item */
void gen_know(struct gen *g, unsigned reg, uint32_t value);
unsigned gen_gpr_of(unsigned reg, unsigned osz); /* 8-bit AH..BH -> EAX..EBX */

/* Flags: the flags an item defines and leaves undefined; need_flags emits
 * `cmp esp, imm8` first when a reader would see an undefined flag. */
void gen_flags(struct gen *g, uint32_t def, uint32_t undef);
void gen_need_flags(struct gen *g);

/* Memory operands. Pick one for an access of size_bytes (aligned to align,
 * a power of two, when align > 1), possibly emitting register setup items
 * first. margin: bytes kept free around it (bt with a register offset). */
void gen_mem(struct gen *g, unsigned size_bytes, unsigned align, unsigned margin, int no_esp,
             struct gen_mop *m);
void gen_pick_rm(struct gen *g, struct gen_rm *rm, unsigned osz, int write, int mem_percent,
                 unsigned size_bytes, unsigned align);
/* Emits [lock] [mem prefixes] [0x66 if osz==2] [mandatory] opcode... modrm. */
void gen_emit_rm(struct gen *g, int lock, unsigned osz, uint8_t mandatory, const uint8_t *opc,
                 unsigned nopc, unsigned regfield, const struct gen_rm *rm);

/* dt_gen.c: snapshots of what is known; item flag effects */
void gen_snap(const struct gen *g, struct gen_snap *s);
void gen_restore(struct gen *g, const struct gen_snap *s);
void gen_compose(struct dt_item *it, uint32_t def, uint32_t undef);

/* dt_gen_alu.c */
void gen_clobber_rm(struct gen *g, const struct gen_rm *rm, unsigned osz);
unsigned gen_osz(struct gen *g);
uint32_t gen_rand_imm(struct gen *g, unsigned size_bytes);
void gen_alu(struct gen *g);
void gen_misc_alu(struct gen *g);
void gen_shift(struct gen *g);
void gen_muldiv(struct gen *g);
void gen_bits(struct gen *g);
void gen_atomic(struct gen *g);
void gen_flagops(struct gen *g);
void gen_fault(struct gen *g);

/* dt_gen_flow.c */
void gen_stack(struct gen *g);
void gen_segload(struct gen *g);
void gen_string(struct gen *g);
void gen_branch(struct gen *g);

/* dt_gen_fp.c */
void gen_x87(struct gen *g);
void gen_sse(struct gen *g);

#endif
