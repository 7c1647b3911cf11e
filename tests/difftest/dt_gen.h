/*
 * dt_gen.h - test cases for the differential tester: the memory layout
 * every case shares, the random initial state, and the random instruction
 * sequence generator.
 *
 * A sequence is a list of items. An item is one instruction or a small
 * self-contained group (a bounded loop, a call with its callee, a string
 * instruction with its register setup); items are what the shrinker
 * deletes. Branches refer to items, not byte offsets, so a sequence can be
 * laid out again after a deletion (dt_seq_layout).
 *
 * The generator knows the initial registers and tracks which it still
 * knows, so every memory operand it emits lands inside a mapped region
 * (any addressing form: base, index*scale, disp8/32, absolute, 16-bit
 * with 0x67, FS/GS with non-zero bases). It tracks EFLAGS bits the SDM
 * leaves undefined (dt_seq.undef_flags at the end): an instruction that
 * reads flags is preceded by one that defines them all.
 */
#ifndef DT_GEN_H
#define DT_GEN_H

#include <stdint.h>

#include "dt_proto.h"

/* The layout (guest linear addresses, all below DT_GLA_MAX). */
#define DT_LOW_GLA 0x00008000u     /* 16-bit addressing without FS/GS lands here */
#define DT_LOW_BYTES 0x1000u
#define DT_CODE_GLA 0x00400000u
#define DT_CODE_BYTES 0x2000u
#define DT_DATA_GLA 0x00500000u
#define DT_DATA_BYTES 0x4000u      /* the page after it is never mapped */
#define DT_STACK_GLA 0x00600000u
#define DT_STACK_BYTES 0x2000u
#define DT_UNMAPPED_GLA 0x00700000u

/* Categories (a bit each; --category takes names joined by commas). */
enum dt_cat {
    DT_CAT_ALU = 1u << 0,      /* arithmetic, logic, mov, lea, conversions */
    DT_CAT_SHIFT = 1u << 1,    /* shifts, rotates, shld/shrd */
    DT_CAT_MULDIV = 1u << 2,
    DT_CAT_BITS = 1u << 3,     /* bt*, bsf/bsr, popcnt/lzcnt/tzcnt, bswap, setcc, cmovcc */
    DT_CAT_ATOMIC = 1u << 4,   /* xchg, xadd, cmpxchg, cmpxchg8b, lock */
    DT_CAT_FLAGS = 1u << 5,    /* lahf/sahf, clc/stc/cmc, pushf/popf, BCD, salc */
    DT_CAT_STACK = 1u << 6,    /* push/pop/pusha/popa/enter/leave/call+ret */
    DT_CAT_STRING = 1u << 7,   /* movs stos lods cmps scas, rep, DF=0/1 */
    DT_CAT_BRANCH = 1u << 8,   /* forward jcc/jmp/jecxz/loop, bounded loops, indirect */
    DT_CAT_X87 = 1u << 9,
    DT_CAT_SSE = 1u << 10,     /* SSE, SSE2 and later, MMX */
    DT_CAT_SEG = 1u << 11,     /* fs:/gs: and 16-bit addressing emphasised */
    DT_CAT_SMC = 1u << 12,     /* stores into the immediates of later instructions */
    DT_CAT_ALL = (1u << 13) - 1,
};

#define DT_ITEM_MAX_BYTES 120
#define DT_SEQ_MAX_ITEMS 64
#define DT_MAX_RELOCS 2

enum dt_reloc_kind {
    DT_REL_NONE = 0,
    DT_REL_REL8_ITEM,    /* rel8 to the start of item `target` (or the final INT3) */
    DT_REL_REL32_ITEM,   /* rel32, likewise */
    DT_REL_ABS32_SELF,   /* imm32 = linear address of this item + target */
    DT_REL_ABS32_ITEM,   /* imm32 = linear address of item `target` + `end` (SMC) */
};

struct dt_reloc {
    uint8_t kind;
    uint8_t at;          /* byte offset of the field in the item */
    uint8_t end;         /* offset of the end of the branch instruction (rel) */
    uint16_t target;     /* item index, or byte offset within the item */
};

struct dt_item {
    uint8_t len;
    uint8_t nrel;
    uint8_t group;       /* 1: starts a group (setup items + instruction) */
    uint8_t freads;      /* 1: reads arithmetic flags (they must be defined) */
    uint16_t cat;
    uint16_t fdef;       /* EFLAGS bits the item writes (defined or not) */
    uint16_t fundef;     /* of those, the ones it leaves undefined */
    uint8_t imm_at;      /* 0, or where an immediate that SMC may patch starts */
    uint8_t imm_size;        /* enum dt_cat it came from */
    const char *name;    /* mnemonic-ish label for reports */
    struct dt_reloc rel[DT_MAX_RELOCS];
    uint8_t b[DT_ITEM_MAX_BYTES];
};

struct dt_seq {
    unsigned n;
    struct dt_item item[DT_SEQ_MAX_ITEMS];
    uint32_t undef_flags;   /* EFLAGS bits undefined at the end */
    int smc;                /* writes its own code: map the code region writable */
};

/* The initial state and memory of one case, before layout. */
struct dt_init {
    struct dt_cpu cpu;
    uint8_t low[DT_LOW_BYTES];
    uint8_t data[DT_DATA_BYTES];
    uint8_t stack[DT_STACK_BYTES];
};

/* Known divergences the generator can steer around (--avoid NAME), so a
 * test can stay registered while a translator bug is open (FINDINGS.md). */
enum dt_avoid {
    DT_AVOID_LIMIT_WRAP = 1u << 0,  /* accesses whose bytes cross offset 4 GiB (#GP natively) */
    DT_AVOID_FSGS_ALIGN = 1u << 1,  /* aligned SSE operands through FS/GS with a misaligned base */
    DT_AVOID_FARPTR = 1u << 2,      /* LFS/LGS (far pointer loads) */
    DT_AVOID_BT_REACH = 1u << 3,    /* bt r/m, r reaching past offset 4 GiB through its bit offset */
};

struct dt_features {
    int cmov, mmx, sse, sse2, sse3, ssse3, sse41, popcnt, lzcnt, bmi1, movbe, fcomi;
    unsigned avoid;                 /* enum dt_avoid */
};

/* The case seed of case `index` in a run seeded with `seed`. */
uint64_t dt_case_seed(uint64_t seed, uint64_t index);

/* Random initial state from a case seed (independent of the sequence, so a
 * replayed sequence runs from the same state). */
void dt_gen_init(uint64_t case_seed, struct dt_init *init);

/* A random sequence of 1..max_items items from the categories in cats. */
void dt_gen_seq(uint64_t case_seed, const struct dt_init *init, unsigned cats,
                const struct dt_features *feat, unsigned max_items, struct dt_seq *seq);

/* Lays the sequence out at DT_CODE_GLA and appends the INT3; returns the
 * byte count, or 0 if it does not fit in max_bytes. */
unsigned dt_seq_layout(const struct dt_seq *seq, uint8_t *code, unsigned max_bytes);

/* EFLAGS bits undefined at the end of the sequence, over every path
 * (items' fdef/fundef composed, branches joined at their targets). */
uint32_t dt_seq_undef(const struct dt_seq *seq);

/* EFLAGS bits any item leaves undefined: what to mask when a case ends
 * in an exception part way through. */
uint32_t dt_seq_undef_any(const struct dt_seq *seq);

/* 0 if some item reads flags that are undefined on a path to it (a
 * shrink step can delete the item that defined them). */
int dt_seq_valid(const struct dt_seq *seq);

/* Removes item i, retargeting branches that pointed past it. */
void dt_seq_delete(struct dt_seq *seq, unsigned i);

/* Names <-> category bits. 0 for an unknown name. */
unsigned dt_cat_parse(const char *list);
const char *dt_cat_name(unsigned cat);

#endif
