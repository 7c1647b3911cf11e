/*
 * decode_tables.h - the decoder's opcode tables (internal to decode.c and
 * decode_tables.c).
 *
 * One entry per opcode of the one-byte and 0F maps (SDM 2A Appendix A,
 * tables ). Opcodes whose meaning depends on ModRM.reg (the
 * groups of table A-6), on the mandatory prefix (SSE, MMX) or on both are
 * marked DA_GROUP or DA_SSE and resolved in decode.c, the latter with the
 * list dec_sse_list (the 0F, 0F38 and 0F3A maps with their prefixes).
 */
#ifndef VMP_DECODE_TABLES_H
#define VMP_DECODE_TABLES_H

#include <stdint.h>

#include "decode.h"

/* Immediate forms (SDM 2A A.2.2 operand codes). */
enum dec_imm {
    DI_NONE = 0,
    DI_B,     /* Ib, Jb */
    DI_W,     /* Iw */
    DI_Z,     /* Iz, Jz: 2 or 4 bytes by operand size */
    DI_AP,    /* Ap: ptr16:16 or ptr16:32 by operand size */
    DI_WB,    /* ENTER: Iw, Ib */
    DI_MOFFS, /* Ob, Ov: 2 or 4 bytes by address size */
};

/* Decoding attributes of an entry. */
enum dec_attr {
    DA_MODRM = 1u << 0,      /* a ModRM byte follows the opcode */
    DA_LOCK = 1u << 1,       /* LOCK is legal when the destination is memory */
    DA_MEMONLY = 1u << 2,    /* mod = 3 is #UD */
    DA_REGONLY = 1u << 3,    /* mod != 3 is #UD */
    DA_BYTE = 1u << 4,       /* operand size is 8 bits */
    DA_GROUP = 1u << 5,      /* resolved by ModRM.reg in decode.c */
    DA_SSE = 1u << 6,        /* resolved by mandatory prefix (dec_sse_list) */
    DA_UD = 1u << 7,         /* undefined opcode: #UD */
    DA_PREFIX = 1u << 8,     /* a legacy prefix byte */
    DA_ESC = 1u << 9,        /* 0F, 0F 38, 0F 3A escape */
    DA_OP16 = 1u << 10,      /* operand size is always 16 bits */
    DA_OP32 = 1u << 11,      /* operand size is always 32 bits (66 ignored) */
    DA_STR = 1u << 12,       /* string instruction: F2/F3 are REP prefixes */
    DA_REG3 = 1u << 13,      /* register in the opcode's low 3 bits (+r forms) */
    DA_MODRM_REG = 1u << 14, /* mod is ignored: the operand is always a register (MOV CR/DR) */
};

struct dec_entry {
    uint8_t kind;   /* enum x86_kind; COPY becomes COPY_MEM with a memory operand */
    uint8_t imm;    /* enum dec_imm */
    uint16_t attr;  /* enum dec_attr */
    uint16_t feat;  /* enum vmp_feat */
    uint16_t feat2; /* enum vmp_feat */
    uint32_t flags; /* enum x86_flag; MEM_READ/MEM_WRITE describe the
                       ModRM memory operand and are dropped when mod = 3 */
};

/* Mandatory-prefix index of an SSE entry. */
enum dec_pfx { DP_NP = 0, DP_66 = 1, DP_F3 = 2, DP_F2 = 3 };

/* An SSE/MMX opcode (SDM 2A A.3: tables) with one prefix. */
struct dec_sse {
    uint8_t map; /* enum x86_map */
    uint8_t opcode;
    uint8_t pfx; /* enum dec_pfx */
    uint8_t reg; /* for 0F 71-73: ModRM.reg + 1; 0: any */
    struct dec_entry e;
};

extern const struct dec_entry dec_map1[256];
extern const struct dec_entry dec_map0f[256];
extern const struct dec_sse dec_sse_list[];
extern const unsigned dec_sse_count;

#endif
