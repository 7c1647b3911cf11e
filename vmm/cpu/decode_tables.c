/*
 * decode_tables.c - opcode tables for the x86 decoder, written from the
 * opcode maps of SDM 2A Appendix A (tables A-2 one-byte map, A-3 two-byte
 * map, A-4 and A-5 three-byte maps) and the CPUID column of each
 * instruction's page in SDM 2A/2B/2C.
 *
 * An entry left zero is an undefined opcode (#UD). The ModRM groups
 * (table A-6) and x87 (A.4) are resolved in decode.c.
 */
#include "decode_tables.h"

/* The tables are aligned by hand. */
/* clang-format off */

#define NOF VMP_FEAT_NONE
#define MR X86F_MEM_READ
#define MW X86F_MEM_WRITE
#define MRW (X86F_MEM_READ | X86F_MEM_WRITE)
#define WF X86F_WRITES_FLAGS
#define RF X86F_READS_FLAGS
#define BR X86F_BRANCH
#define SENS X86F_SENSITIVE
#define PRIV (X86F_PRIV | X86F_SENSITIVE)
#define STK (X86F_STACK | X86F_IMPLICIT_MEM)
#define N64 X86F_NO64
#define IMP X86F_IMPLICIT_MEM

#define E(k, i, a, fl) { X86K_##k, DI_##i, (a), NOF, NOF, (fl) }
#define EF(k, i, a, ft, fl) { X86K_##k, DI_##i, (a), (ft), NOF, (fl) }
#define EF2(k, i, a, ft, ft2, fl) { X86K_##k, DI_##i, (a), (ft), (ft2), (fl) }

#define M DA_MODRM
#define L DA_LOCK
#define B DA_BYTE

/* Arithmetic rows 00-3F: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib eAX,Iz. */
#define ALU(b, fl)                                           \
    [(b) + 0] = E(COPY, NONE, M | B | L, MRW | WF | (fl)),   \
    [(b) + 1] = E(COPY, NONE, M | L, MRW | WF | (fl)),       \
    [(b) + 2] = E(COPY, NONE, M | B, MR | WF | (fl)),        \
    [(b) + 3] = E(COPY, NONE, M, MR | WF | (fl)),            \
    [(b) + 4] = E(COPY, B, B, WF | (fl)),                    \
    [(b) + 5] = E(COPY, Z, 0, WF | (fl))

#define PFX { 0, 0, DA_PREFIX, NOF, NOF, 0 }
#define GRP(i, a) { 0, DI_##i, DA_GROUP | DA_MODRM | (a), NOF, NOF, 0 }

const struct dec_entry dec_map1[256] = {
    ALU(0x00, 0), /* ADD */
    ALU(0x08, 0), /* OR */
    ALU(0x10, RF), /* ADC */
    ALU(0x18, RF), /* SBB */
    ALU(0x20, 0), /* AND */
    ALU(0x28, 0), /* SUB */
    ALU(0x30, 0), /* XOR */
    [0x38] = E(COPY, NONE, M | B, MR | WF), /* CMP: reads only, not lockable */
    [0x39] = E(COPY, NONE, M, MR | WF),
    [0x3a] = E(COPY, NONE, M | B, MR | WF),
    [0x3b] = E(COPY, NONE, M, MR | WF),
    [0x3c] = E(COPY, B, B, WF),
    [0x3d] = E(COPY, Z, 0, WF),
    [0x06] = E(PUSH_SEG, NONE, 0, STK | MW | SENS | N64),
    [0x07] = E(POP_SEG, NONE, 0, STK | MR | SENS | N64),
    [0x0e] = E(PUSH_SEG, NONE, 0, STK | MW | SENS | N64),
    [0x0f] = { 0, 0, DA_ESC, NOF, NOF, 0 },
    [0x16] = E(PUSH_SEG, NONE, 0, STK | MW | SENS | N64),
    [0x17] = E(POP_SEG, NONE, 0, STK | MR | SENS | N64),
    [0x1e] = E(PUSH_SEG, NONE, 0, STK | MW | SENS | N64),
    [0x1f] = E(POP_SEG, NONE, 0, STK | MR | SENS | N64),
    [0x26] = PFX, [0x2e] = PFX, [0x36] = PFX, [0x3e] = PFX,
    [0x27] = E(BCD, NONE, 0, WF | RF | N64), /* DAA */
    [0x2f] = E(BCD, NONE, 0, WF | RF | N64), /* DAS */
    [0x37] = E(BCD, NONE, 0, WF | RF | N64), /* AAA */
    [0x3f] = E(BCD, NONE, 0, WF | RF | N64), /* AAS */
#define R8(b, ent) [(b)] = ent, [(b) + 1] = ent, [(b) + 2] = ent, [(b) + 3] = ent, \
    [(b) + 4] = ent, [(b) + 5] = ent, [(b) + 6] = ent, [(b) + 7] = ent
    R8(0x40, E(INCDEC_REG, NONE, DA_REG3, WF | N64)), /* INC r */
    R8(0x48, E(INCDEC_REG, NONE, DA_REG3, WF | N64)), /* DEC r */
    R8(0x50, E(PUSH, NONE, DA_REG3, STK | MW)),
    R8(0x58, E(POP, NONE, DA_REG3, STK | MR)),
    [0x60] = E(PUSHA, NONE, 0, STK | MW | N64),
    [0x61] = E(POPA, NONE, 0, STK | MR | N64),
    /* 62 BOUND Gv,Ma: mod = 3 is EVEX in 64-bit mode, #UD here */
    [0x62] = E(BOUND, NONE, M | DA_MEMONLY, MR | N64),
    [0x63] = E(ARPL, NONE, M | DA_OP16, MRW | WF | N64),
    [0x64] = PFX, [0x65] = PFX, [0x66] = PFX, [0x67] = PFX,
    [0x68] = E(PUSH, Z, 0, STK | MW),
    [0x69] = E(COPY, Z, M, MR | WF), /* IMUL Gv,Ev,Iz */
    [0x6a] = E(PUSH, B, 0, STK | MW),
    [0x6b] = E(COPY, B, M, MR | WF), /* IMUL Gv,Ev,Ib */
    /* SDM 2A INS/OUTS: IOPL-checked (and the TSS I/O bitmap) */
    [0x6c] = E(INS, NONE, B | DA_STR, IMP | MW | RF | X86F_IOPL | SENS),
    [0x6d] = E(INS, NONE, DA_STR, IMP | MW | RF | X86F_IOPL | SENS),
    [0x6e] = E(OUTS, NONE, B | DA_STR, IMP | MR | RF | X86F_IOPL | SENS),
    [0x6f] = E(OUTS, NONE, DA_STR, IMP | MR | RF | X86F_IOPL | SENS),
    R8(0x70, E(JCC, B, 0, BR | RF)),
    R8(0x78, E(JCC, B, 0, BR | RF)),
    [0x80] = GRP(B, B),
    [0x81] = GRP(Z, 0),
    [0x82] = GRP(B, B), /* alias of 80 in 32-bit mode, #UD in 64-bit mode */
    [0x83] = GRP(B, 0),
    [0x84] = E(COPY, NONE, M | B, MR | WF), /* TEST */
    [0x85] = E(COPY, NONE, M, MR | WF),
    [0x86] = E(COPY, NONE, M | B | L, MRW), /* XCHG: locked anyway with memory */
    [0x87] = E(COPY, NONE, M | L, MRW),
    [0x88] = E(COPY, NONE, M | B, MW), /* MOV */
    [0x89] = E(COPY, NONE, M, MW),
    [0x8a] = E(COPY, NONE, M | B, MR),
    [0x8b] = E(COPY, NONE, M, MR),
    [0x8c] = E(MOV_FROM_SEG, NONE, M, MW | SENS),
    [0x8d] = E(LEA, NONE, M | DA_MEMONLY, 0),
    [0x8e] = E(MOV_TO_SEG, NONE, M | DA_OP16, MR | SENS),
    [0x8f] = GRP(NONE, 0), /* group 1A: POP Ev */
    [0x90] = E(NOP_HINT, NONE, 0, 0), /* NOP; F3 90 PAUSE */
    [0x91] = E(COPY, NONE, DA_REG3, 0), [0x92] = E(COPY, NONE, DA_REG3, 0),
    [0x93] = E(COPY, NONE, DA_REG3, 0), [0x94] = E(COPY, NONE, DA_REG3, 0),
    [0x95] = E(COPY, NONE, DA_REG3, 0), [0x96] = E(COPY, NONE, DA_REG3, 0),
    [0x97] = E(COPY, NONE, DA_REG3, 0),
    [0x98] = E(COPY, NONE, 0, 0), /* CBW/CWDE */
    [0x99] = E(COPY, NONE, 0, 0), /* CWD/CDQ */
    [0x9a] = E(CALL_FAR, AP, 0, BR | STK | MW | SENS | N64),
    [0x9b] = E(COPY, NONE, 0, X86F_X87 | X86F_SETS_TS_TRAP), /* FWAIT */
    /* PUSHF/POPF: IOPL-sensitive in virtual-8086 mode; POPF's IF and IOPL */
    [0x9c] = E(PUSHF, NONE, 0, STK | MW | RF | SENS | X86F_IOPL),
    [0x9d] = E(POPF, NONE, 0, STK | MR | WF | SENS | X86F_IOPL),
    [0x9e] = E(SAHF_LAHF, NONE, 0, WF),
    [0x9f] = E(SAHF_LAHF, NONE, 0, RF),
    [0xa0] = E(MOFFS, MOFFS, B, IMP | MR),
    [0xa1] = E(MOFFS, MOFFS, 0, IMP | MR),
    [0xa2] = E(MOFFS, MOFFS, B, IMP | MW),
    [0xa3] = E(MOFFS, MOFFS, 0, IMP | MW),
    [0xa4] = E(STRING, NONE, B | DA_STR, IMP | MRW | RF), /* MOVS */
    [0xa5] = E(STRING, NONE, DA_STR, IMP | MRW | RF),
    [0xa6] = E(STRING, NONE, B | DA_STR, IMP | MR | RF | WF), /* CMPS */
    [0xa7] = E(STRING, NONE, DA_STR, IMP | MR | RF | WF),
    [0xa8] = E(COPY, B, B, WF), /* TEST AL,Ib */
    [0xa9] = E(COPY, Z, 0, WF),
    [0xaa] = E(STRING, NONE, B | DA_STR, IMP | MW | RF), /* STOS */
    [0xab] = E(STRING, NONE, DA_STR, IMP | MW | RF),
    [0xac] = E(STRING, NONE, B | DA_STR, IMP | MR | RF), /* LODS */
    [0xad] = E(STRING, NONE, DA_STR, IMP | MR | RF),
    [0xae] = E(STRING, NONE, B | DA_STR, IMP | MR | RF | WF), /* SCAS */
    [0xaf] = E(STRING, NONE, DA_STR, IMP | MR | RF | WF),
    R8(0xb0, E(COPY, B, B | DA_REG3, 0)), /* MOV r8,Ib */
    R8(0xb8, E(COPY, Z, DA_REG3, 0)),     /* MOV r,Iv */
    [0xc0] = GRP(B, B), /* group 2 */
    [0xc1] = GRP(B, 0),
    [0xc2] = E(RET, W, 0, BR | STK | MR),
    [0xc3] = E(RET, NONE, 0, BR | STK | MR),
    /* C4/C5: VEX prefixes when mod = 3 (#UD for us, no AVX) */
    [0xc4] = E(LOAD_FARPTR, NONE, M | DA_MEMONLY, MR | SENS | N64), /* LES */
    [0xc5] = E(LOAD_FARPTR, NONE, M | DA_MEMONLY, MR | SENS | N64), /* LDS */
    [0xc6] = GRP(B, B), /* group 11: MOV Eb,Ib */
    [0xc7] = GRP(Z, 0),
    [0xc8] = E(ENTER, WB, 0, STK | MRW),
    [0xc9] = E(LEAVE, NONE, 0, STK | MR),
    [0xca] = E(RET_FAR, W, 0, BR | STK | MR | SENS),
    [0xcb] = E(RET_FAR, NONE, 0, BR | STK | MR | SENS),
    [0xcc] = E(INT3, NONE, 0, BR | SENS),
    [0xcd] = E(INT, B, 0, BR | SENS),
    [0xce] = E(INTO, NONE, 0, BR | RF | SENS | N64),
    [0xcf] = E(IRET, NONE, 0, BR | STK | MR | WF | SENS),
    [0xd0] = GRP(NONE, B), [0xd1] = GRP(NONE, 0), /* group 2, by 1 */
    [0xd2] = GRP(NONE, B), [0xd3] = GRP(NONE, 0), /* group 2, by CL */
    [0xd4] = E(BCD, B, 0, WF | N64), /* AAM */
    [0xd5] = E(BCD, B, 0, WF | N64), /* AAD */
    [0xd6] = E(SALC, NONE, 0, RF | N64),
    [0xd7] = E(XLAT, NONE, 0, IMP | MR),
    R8(0xd8, GRP(NONE, 0)), /* x87, A.4 */
    [0xe0] = E(LOOP, B, 0, BR | RF), /* LOOPNE */
    [0xe1] = E(LOOP, B, 0, BR | RF), /* LOOPE */
    [0xe2] = E(LOOP, B, 0, BR),
    [0xe3] = E(JCXZ, B, 0, BR),
    [0xe4] = E(IN, B, B, X86F_IOPL | SENS),
    [0xe5] = E(IN, B, 0, X86F_IOPL | SENS),
    [0xe6] = E(OUT, B, B, X86F_IOPL | SENS),
    [0xe7] = E(OUT, B, 0, X86F_IOPL | SENS),
    [0xe8] = E(CALL_REL, Z, 0, BR | STK | MW),
    [0xe9] = E(JMP_REL, Z, 0, BR),
    [0xea] = E(JMP_FAR, AP, 0, BR | SENS | N64),
    [0xeb] = E(JMP_REL, B, 0, BR),
    [0xec] = E(IN, NONE, B, X86F_IOPL | SENS),
    [0xed] = E(IN, NONE, 0, X86F_IOPL | SENS),
    [0xee] = E(OUT, NONE, B, X86F_IOPL | SENS),
    [0xef] = E(OUT, NONE, 0, X86F_IOPL | SENS),
    [0xf0] = PFX,
    [0xf1] = E(INT1, NONE, 0, BR | SENS), /* ICEBP */
    [0xf2] = PFX, [0xf3] = PFX,
    [0xf4] = E(HLT, NONE, 0, PRIV),
    [0xf5] = E(COPY, NONE, 0, WF | RF), /* CMC */
    [0xf6] = GRP(NONE, B), /* group 3 */
    [0xf7] = GRP(NONE, 0),
    [0xf8] = E(COPY, NONE, 0, WF), /* CLC */
    [0xf9] = E(COPY, NONE, 0, WF), /* STC */
    [0xfa] = E(CLI, NONE, 0, X86F_IOPL | SENS),
    [0xfb] = E(STI, NONE, 0, X86F_IOPL | SENS),
    [0xfc] = E(COPY, NONE, 0, WF), /* CLD */
    [0xfd] = E(COPY, NONE, 0, WF), /* STD */
    [0xfe] = GRP(NONE, B), /* group 4 */
    [0xff] = GRP(NONE, 0), /* group 5 */
};

#define SSEO { 0, DI_NONE, DA_SSE | DA_MODRM, NOF, NOF, 0 }
#define SSEI { 0, DI_B, DA_SSE | DA_MODRM, NOF, NOF, 0 }

const struct dec_entry dec_map0f[256] = {
    [0x00] = GRP(NONE, 0), /* group 6 */
    [0x01] = GRP(NONE, 0), /* group 7 */
    /* LAR/LSL Gv,Ew: opsize is the destination's; the selector is 16 bits */
    [0x02] = E(LAR, NONE, M, MR | WF | SENS),
    [0x03] = E(LSL, NONE, M, MR | WF | SENS),
    /* SYSCALL/SYSRET: AMD in legacy mode; #UD on Intel outside 64-bit mode */
    [0x05] = EF(SYSCALL, NONE, 0, VMP_FEAT_SYSCALL, BR | SENS),
    [0x06] = E(CLTS, NONE, 0, PRIV),
    [0x07] = EF(SYSRET, NONE, 0, VMP_FEAT_SYSCALL, BR | PRIV),
    [0x08] = E(INVD, NONE, 0, PRIV),
    [0x09] = E(WBINVD, NONE, 0, PRIV),
    [0x0b] = E(UD, NONE, 0, 0),                  /* UD2 */
    /* 0F 0D: PREFETCH (AMD) /0, PREFETCHW /1; the others alias them */
    [0x0d] = EF(NOP_HINT, NONE, M | DA_MEMONLY, VMP_FEAT_PREFETCHW, 0),
    [0x10] = SSEO, [0x11] = SSEO, [0x12] = SSEO, [0x13] = SSEO,
    [0x14] = SSEO, [0x15] = SSEO, [0x16] = SSEO, [0x17] = SSEO,
    [0x18] = GRP(NONE, 0), /* group 16: PREFETCHh and hint NOPs */
    /* 0F 19-1F: reserved-NOP space (SDM 2B NOP, A-3 footnotes) */
    [0x19] = E(NOP_HINT, NONE, M, 0), [0x1a] = E(NOP_HINT, NONE, M, 0),
    [0x1b] = E(NOP_HINT, NONE, M, 0), [0x1c] = E(NOP_HINT, NONE, M, 0),
    [0x1d] = E(NOP_HINT, NONE, M, 0), [0x1e] = E(NOP_HINT, NONE, M, 0),
    [0x1f] = E(NOP_HINT, NONE, M, 0),
    /* MOV CR/DR: mod is ignored, always registers (SDM 2B MOV-Control) */
    [0x20] = E(MOV_CR, NONE, M | DA_MODRM_REG | DA_OP32, PRIV),
    [0x21] = E(MOV_DR, NONE, M | DA_MODRM_REG | DA_OP32, PRIV),
    [0x22] = E(MOV_CR, NONE, M | DA_MODRM_REG | DA_OP32, PRIV),
    [0x23] = E(MOV_DR, NONE, M | DA_MODRM_REG | DA_OP32, PRIV),
    [0x28] = SSEO, [0x29] = SSEO, [0x2a] = SSEO, [0x2b] = SSEO,
    [0x2c] = SSEO, [0x2d] = SSEO, [0x2e] = SSEO, [0x2f] = SSEO,
    [0x30] = EF(WRMSR, NONE, 0, VMP_FEAT_MSR, PRIV),
    /* RDTSC: #GP at CPL > 0 only when CR4.TSD */
    [0x31] = EF(RDTSC, NONE, 0, VMP_FEAT_TSC, SENS),
    [0x32] = EF(RDMSR, NONE, 0, VMP_FEAT_MSR, PRIV),
    [0x33] = E(RDPMC, NONE, 0, SENS), /* #GP at CPL > 0 unless CR4.PCE */
    [0x34] = EF(SYSENTER, NONE, 0, VMP_FEAT_SEP, BR | SENS),
    [0x35] = EF(SYSEXIT, NONE, 0, VMP_FEAT_SEP, BR | PRIV),
    [0x38] = { 0, 0, DA_ESC, NOF, NOF, 0 },
    [0x3a] = { 0, 0, DA_ESC, NOF, NOF, 0 },
    R8(0x40, EF(COPY, NONE, M, VMP_FEAT_CMOV, MR | RF)), /* CMOVcc */
    R8(0x48, EF(COPY, NONE, M, VMP_FEAT_CMOV, MR | RF)),
    R8(0x50, SSEO), R8(0x58, SSEO), R8(0x60, SSEO), R8(0x68, SSEO),
    [0x70] = SSEI,
    [0x71] = { 0, DI_B, DA_SSE | DA_MODRM | DA_GROUP, NOF, NOF, 0 }, /* groups 12-14 */
    [0x72] = { 0, DI_B, DA_SSE | DA_MODRM | DA_GROUP, NOF, NOF, 0 },
    [0x73] = { 0, DI_B, DA_SSE | DA_MODRM | DA_GROUP, NOF, NOF, 0 },
    [0x74] = SSEO, [0x75] = SSEO, [0x76] = SSEO,
    [0x77] = EF(COPY, NONE, 0, VMP_FEAT_MMX, X86F_MMX | X86F_SETS_TS_TRAP), /* EMMS */
    [0x7c] = SSEO, [0x7d] = SSEO, [0x7e] = SSEO, [0x7f] = SSEO,
    R8(0x80, E(JCC, Z, 0, BR | RF)),
    R8(0x88, E(JCC, Z, 0, BR | RF)),
    R8(0x90, E(COPY, NONE, M | B, MW | RF)), /* SETcc Eb */
    R8(0x98, E(COPY, NONE, M | B, MW | RF)),
    [0xa0] = E(PUSH_SEG, NONE, 0, STK | MW | SENS),
    [0xa1] = E(POP_SEG, NONE, 0, STK | MR | SENS),
    [0xa2] = E(CPUID, NONE, 0, SENS),
    /* BT with a register bit offset: the access may lie outside Ev (SDM 2A BT) */
    [0xa3] = E(COPY, NONE, M, MR | WF),
    [0xa4] = E(COPY, B, M, MRW | WF), /* SHLD Ib */
    [0xa5] = E(COPY, NONE, M, MRW | WF), /* SHLD CL */
    [0xa8] = E(PUSH_SEG, NONE, 0, STK | MW | SENS),
    [0xa9] = E(POP_SEG, NONE, 0, STK | MR | SENS),
    [0xaa] = E(RSM, NONE, 0, BR | PRIV),
    [0xab] = E(COPY, NONE, M | L, MRW | WF), /* BTS */
    [0xac] = E(COPY, B, M, MRW | WF), /* SHRD Ib */
    [0xad] = E(COPY, NONE, M, MRW | WF),
    [0xae] = GRP(NONE, 0), /* group 15 */
    [0xaf] = E(COPY, NONE, M, MR | WF), /* IMUL Gv,Ev */
    [0xb0] = E(COPY, NONE, M | B | L, MRW | WF), /* CMPXCHG */
    [0xb1] = E(COPY, NONE, M | L, MRW | WF),
    [0xb2] = E(LOAD_FARPTR, NONE, M | DA_MEMONLY, MR | SENS), /* LSS */
    [0xb3] = E(COPY, NONE, M | L, MRW | WF), /* BTR */
    [0xb4] = E(LOAD_FARPTR, NONE, M | DA_MEMONLY, MR | SENS), /* LFS */
    [0xb5] = E(LOAD_FARPTR, NONE, M | DA_MEMONLY, MR | SENS), /* LGS */
    [0xb6] = E(COPY, NONE, M, MR), /* MOVZX Gv,Eb */
    [0xb7] = E(COPY, NONE, M, MR), /* MOVZX Gv,Ew */
    [0xb8] = SSEO, /* F3: POPCNT; NP: JMPE (IA-64), #UD */
    [0xb9] = { X86K_UD, 0, DA_MODRM, NOF, NOF, 0 }, /* UD1 Gv,Ev */
    [0xba] = GRP(B, 0), /* group 8 */
    [0xbb] = E(COPY, NONE, M | L, MRW | WF), /* BTC */
    [0xbc] = SSEO, /* BSF; F3 TZCNT */
    [0xbd] = SSEO, /* BSR; F3 LZCNT */
    [0xbe] = E(COPY, NONE, M, MR), /* MOVSX Gv,Eb */
    [0xbf] = E(COPY, NONE, M, MR), /* MOVSX Gv,Ew */
    [0xc0] = E(COPY, NONE, M | B | L, MRW | WF), /* XADD */
    [0xc1] = E(COPY, NONE, M | L, MRW | WF),
    [0xc2] = SSEI, [0xc3] = SSEO, [0xc4] = SSEI, [0xc5] = SSEI, [0xc6] = SSEI,
    [0xc7] = GRP(NONE, 0), /* group 9 */
    R8(0xc8, E(COPY, NONE, DA_REG3, 0)), /* BSWAP */
    R8(0xd0, SSEO), R8(0xd8, SSEO), R8(0xe0, SSEO), R8(0xe8, SSEO),
    R8(0xf0, SSEO), [0xf8] = SSEO, [0xf9] = SSEO, [0xfa] = SSEO, [0xfb] = SSEO,
    [0xfc] = SSEO, [0xfd] = SSEO, [0xfe] = SSEO,
    [0xff] = { X86K_UD, 0, DA_MODRM, NOF, NOF, 0 }, /* UD0 Gv,Ev */
};

/*
 * SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2, MMX and the other prefix-selected
 * opcodes of the 0F, 0F 38 and 0F 3A maps (SDM 2A A.3, tables,
 * and each instruction's CPUID column). Register classes: X = XMM, MM = MMX.
 */
#define X (X86F_SSE | X86F_SETS_TS_TRAP)
#define MM (X86F_MMX | X86F_SETS_TS_TRAP)
#define F_SSE VMP_FEAT_SSE
#define F_SSE2 VMP_FEAT_SSE2
#define F_SSE3 VMP_FEAT_SSE3
#define F_SSSE3 VMP_FEAT_SSSE3
#define F_SSE41 VMP_FEAT_SSE41
#define F_SSE42 VMP_FEAT_SSE42
#define F_MMX VMP_FEAT_MMX

/* S: map 0F, no immediate; SI: with Ib. */
#define S(op, p, ft, a, fl) { X86_MAP_0F, (op), DP_##p, 0, EF(COPY, NONE, M | (a), (ft), (fl)) }
#define SI(op, p, ft, a, fl) { X86_MAP_0F, (op), DP_##p, 0, EF(COPY, B, M | (a), (ft), (fl)) }
#define S2(op, p, ft, ft2, a, fl) { X86_MAP_0F, (op), DP_##p, 0, EF2(COPY, NONE, M | (a), (ft), (ft2), (fl)) }
#define SI2(op, p, ft, ft2, a, fl) { X86_MAP_0F, (op), DP_##p, 0, EF2(COPY, B, M | (a), (ft), (ft2), (fl)) }
/* A packed-single/packed-double/scalar-single/scalar-double quartet. */
#define S4(op, fl) S(op, NP, F_SSE, 0, X | (fl)), S(op, 66, F_SSE2, 0, X | (fl)), \
    S(op, F3, F_SSE, 0, X | (fl)), S(op, F2, F_SSE2, 0, X | (fl))
/* PS and PD only. */
#define S2P(op, fl) S(op, NP, F_SSE, 0, X | (fl)), S(op, 66, F_SSE2, 0, X | (fl))
/* MMX (NP, needs MMX) and its SSE2 XMM form (66). */
#define SMX(op, fl) S(op, NP, F_MMX, 0, MM | (fl)), S(op, 66, F_SSE2, 0, X | (fl))
/* Integer SSE (AMD MMXEXT) on MMX registers (needs SSE) and SSE2 on XMM. */
#define SMXE(op, fl) S2(op, NP, F_SSE, F_MMX, 0, MM | (fl)), S(op, 66, F_SSE2, 0, X | (fl))
/* The SSE2 extension of MMX to 64-bit lanes (PADDQ mm etc.). */
#define SMX2(op, fl) S2(op, NP, F_SSE2, F_MMX, 0, MM | (fl)), S(op, 66, F_SSE2, 0, X | (fl))
/* Groups 12-14 (0F 71-73), register forms with Ib. */
#define SG(op, r, p, ft, fl) { X86_MAP_0F, (op), DP_##p, (r) + 1, EF(COPY, B, M | DA_REGONLY, (ft), (fl)) }
/* 0F 38 and 0F 3A. */
#define T(op, p, ft, a, fl) { X86_MAP_0F38, (op), DP_##p, 0, EF(COPY, NONE, M | (a), (ft), (fl)) }
#define T2(op, p, ft, ft2, a, fl) { X86_MAP_0F38, (op), DP_##p, 0, EF2(COPY, NONE, M | (a), (ft), (ft2), (fl)) }
#define TSSSE3(op) T2(op, NP, F_SSSE3, F_MMX, 0, MM | MR), T(op, 66, F_SSSE3, 0, X | MR)
#define T41(op) T(op, 66, F_SSE41, 0, X | MR)
#define U(op, p, ft, a, fl) { X86_MAP_0F3A, (op), DP_##p, 0, EF(COPY, B, M | (a), (ft), (fl)) }
#define U2(op, p, ft, ft2, a, fl) { X86_MAP_0F3A, (op), DP_##p, 0, EF2(COPY, B, M | (a), (ft), (ft2), (fl)) }
#define U41(op) U(op, 66, F_SSE41, 0, X | MR)

const struct dec_sse dec_sse_list[] = {
    /* 0F 10-17 */
    S4(0x10, MR),                                  /* MOVUPS MOVUPD MOVSS MOVSD */
    S4(0x11, MW),
    S(0x12, NP, F_SSE, 0, X | MR),                 /* MOVLPS m / MOVHLPS r */
    S(0x12, 66, F_SSE2, DA_MEMONLY, X | MR),       /* MOVLPD */
    S(0x12, F3, F_SSE3, 0, X | MR),                /* MOVSLDUP */
    S(0x12, F2, F_SSE3, 0, X | MR),                /* MOVDDUP */
    S(0x13, NP, F_SSE, DA_MEMONLY, X | MW),        /* MOVLPS m64,x */
    S(0x13, 66, F_SSE2, DA_MEMONLY, X | MW),
    S2P(0x14, MR), S2P(0x15, MR),                  /* UNPCKLPx UNPCKHPx */
    S(0x16, NP, F_SSE, 0, X | MR),                 /* MOVHPS m / MOVLHPS r */
    S(0x16, 66, F_SSE2, DA_MEMONLY, X | MR),       /* MOVHPD */
    S(0x16, F3, F_SSE3, 0, X | MR),                /* MOVSHDUP */
    S(0x17, NP, F_SSE, DA_MEMONLY, X | MW),        /* MOVHPS m64,x */
    S(0x17, 66, F_SSE2, DA_MEMONLY, X | MW),
    /* 0F 28-2F */
    S2P(0x28, MR), S2P(0x29, MW),                  /* MOVAPx */
    S2(0x2a, NP, F_SSE, F_MMX, 0, X | MM | MR),    /* CVTPI2PS x,mm/m64 */
    S2(0x2a, 66, F_SSE2, F_MMX, 0, X | MM | MR),   /* CVTPI2PD */
    S(0x2a, F3, F_SSE, 0, X | MR),                 /* CVTSI2SS x,r/m32 */
    S(0x2a, F2, F_SSE2, 0, X | MR),                /* CVTSI2SD */
    S(0x2b, NP, F_SSE, DA_MEMONLY, X | MW),        /* MOVNTPS */
    S(0x2b, 66, F_SSE2, DA_MEMONLY, X | MW),       /* MOVNTPD */
    S2(0x2c, NP, F_SSE, F_MMX, 0, X | MM | MR),    /* CVTTPS2PI */
    S2(0x2c, 66, F_SSE2, F_MMX, 0, X | MM | MR),   /* CVTTPD2PI */
    S(0x2c, F3, F_SSE, 0, X | MR),                 /* CVTTSS2SI */
    S(0x2c, F2, F_SSE2, 0, X | MR),                /* CVTTSD2SI */
    S2(0x2d, NP, F_SSE, F_MMX, 0, X | MM | MR),    /* CVTPS2PI */
    S2(0x2d, 66, F_SSE2, F_MMX, 0, X | MM | MR),   /* CVTPD2PI */
    S(0x2d, F3, F_SSE, 0, X | MR),                 /* CVTSS2SI */
    S(0x2d, F2, F_SSE2, 0, X | MR),                /* CVTSD2SI */
    S2P(0x2e, MR | WF), S2P(0x2f, MR | WF),        /* UCOMISx COMISx */
    /* 0F 50-5F */
    S(0x50, NP, F_SSE, DA_REGONLY, X),             /* MOVMSKPS Gd,U */
    S(0x50, 66, F_SSE2, DA_REGONLY, X),
    S4(0x51, MR),                                  /* SQRT */
    S(0x52, NP, F_SSE, 0, X | MR), S(0x52, F3, F_SSE, 0, X | MR), /* RSQRT */
    S(0x53, NP, F_SSE, 0, X | MR), S(0x53, F3, F_SSE, 0, X | MR), /* RCP */
    S2P(0x54, MR), S2P(0x55, MR), S2P(0x56, MR), S2P(0x57, MR), /* AND ANDN OR XOR */
    S4(0x58, MR), S4(0x59, MR),                    /* ADD MUL */
    S(0x5a, NP, F_SSE2, 0, X | MR), S(0x5a, 66, F_SSE2, 0, X | MR), /* CVTPS2PD CVTPD2PS */
    S(0x5a, F3, F_SSE2, 0, X | MR), S(0x5a, F2, F_SSE2, 0, X | MR), /* CVTSS2SD CVTSD2SS */
    S(0x5b, NP, F_SSE2, 0, X | MR), S(0x5b, 66, F_SSE2, 0, X | MR), /* CVTDQ2PS CVTPS2DQ */
    S(0x5b, F3, F_SSE2, 0, X | MR),                /* CVTTPS2DQ */
    S4(0x5c, MR), S4(0x5d, MR), S4(0x5e, MR), S4(0x5f, MR), /* SUB MIN DIV MAX */
    /* 0F 60-6F */
    SMX(0x60, MR), SMX(0x61, MR), SMX(0x62, MR), SMX(0x63, MR), /* PUNPCKL* PACKSSWB */
    SMX(0x64, MR), SMX(0x65, MR), SMX(0x66, MR), SMX(0x67, MR), /* PCMPGT* PACKUSWB */
    SMX(0x68, MR), SMX(0x69, MR), SMX(0x6a, MR), SMX(0x6b, MR), /* PUNPCKH* PACKSSDW */
    S(0x6c, 66, F_SSE2, 0, X | MR), S(0x6d, 66, F_SSE2, 0, X | MR), /* PUNPCKL/HQDQ */
    S(0x6e, NP, F_MMX, 0, MM | MR), S(0x6e, 66, F_SSE2, 0, X | MR), /* MOVD */
    S(0x6f, NP, F_MMX, 0, MM | MR), S(0x6f, 66, F_SSE2, 0, X | MR), /* MOVQ MOVDQA */
    S(0x6f, F3, F_SSE2, 0, X | MR),                /* MOVDQU */
    /* 0F 70-7F */
    SI2(0x70, NP, F_SSE, F_MMX, 0, MM | MR),       /* PSHUFW */
    SI(0x70, 66, F_SSE2, 0, X | MR), SI(0x70, F3, F_SSE2, 0, X | MR), /* PSHUFD PSHUFHW */
    SI(0x70, F2, F_SSE2, 0, X | MR),               /* PSHUFLW */
    SG(0x71, 2, NP, F_MMX, MM), SG(0x71, 2, 66, F_SSE2, X), /* PSRLW */
    SG(0x71, 4, NP, F_MMX, MM), SG(0x71, 4, 66, F_SSE2, X), /* PSRAW */
    SG(0x71, 6, NP, F_MMX, MM), SG(0x71, 6, 66, F_SSE2, X), /* PSLLW */
    SG(0x72, 2, NP, F_MMX, MM), SG(0x72, 2, 66, F_SSE2, X), /* PSRLD */
    SG(0x72, 4, NP, F_MMX, MM), SG(0x72, 4, 66, F_SSE2, X), /* PSRAD */
    SG(0x72, 6, NP, F_MMX, MM), SG(0x72, 6, 66, F_SSE2, X), /* PSLLD */
    SG(0x73, 2, NP, F_MMX, MM), SG(0x73, 2, 66, F_SSE2, X), /* PSRLQ */
    SG(0x73, 3, 66, F_SSE2, X),                    /* PSRLDQ */
    SG(0x73, 6, NP, F_MMX, MM), SG(0x73, 6, 66, F_SSE2, X), /* PSLLQ */
    SG(0x73, 7, 66, F_SSE2, X),                    /* PSLLDQ */
    SMX(0x74, MR), SMX(0x75, MR), SMX(0x76, MR),   /* PCMPEQ* */
    S(0x7c, 66, F_SSE3, 0, X | MR), S(0x7c, F2, F_SSE3, 0, X | MR), /* HADDPD HADDPS */
    S(0x7d, 66, F_SSE3, 0, X | MR), S(0x7d, F2, F_SSE3, 0, X | MR), /* HSUBPD HSUBPS */
    S(0x7e, NP, F_MMX, 0, MM | MW), S(0x7e, 66, F_SSE2, 0, X | MW), /* MOVD Ed,mm/x */
    S(0x7e, F3, F_SSE2, 0, X | MR),                /* MOVQ x,x/m64 */
    S(0x7f, NP, F_MMX, 0, MM | MW), S(0x7f, 66, F_SSE2, 0, X | MW), /* MOVQ MOVDQA */
    S(0x7f, F3, F_SSE2, 0, X | MW),                /* MOVDQU */
    /* 0F B8-BD */
    S(0xb8, F3, VMP_FEAT_POPCNT, 0, MR | WF),      /* POPCNT */
    /* BSF BSR; 66 and F2 act as for any integer opcode (see dec_sse_find) */
    S(0xbc, NP, NOF, 0, MR | WF), S(0xbc, F3, VMP_FEAT_BMI1, 0, MR | WF), /* TZCNT */
    S(0xbd, NP, NOF, 0, MR | WF), S(0xbd, F3, VMP_FEAT_ABM, 0, MR | WF),  /* LZCNT */
    /* 0F C2-C6 */
    SI(0xc2, NP, F_SSE, 0, X | MR), SI(0xc2, 66, F_SSE2, 0, X | MR), /* CMPccPx */
    SI(0xc2, F3, F_SSE, 0, X | MR), SI(0xc2, F2, F_SSE2, 0, X | MR),
    S(0xc3, NP, F_SSE2, DA_MEMONLY | DA_OP32, MW), /* MOVNTI */
    SI2(0xc4, NP, F_SSE, F_MMX, 0, MM | MR), SI(0xc4, 66, F_SSE2, 0, X | MR), /* PINSRW */
    SI2(0xc5, NP, F_SSE, F_MMX, DA_REGONLY, MM), SI(0xc5, 66, F_SSE2, DA_REGONLY, X), /* PEXTRW */
    SI(0xc6, NP, F_SSE, 0, X | MR), SI(0xc6, 66, F_SSE2, 0, X | MR), /* SHUFPx */
    /* 0F D0-FF */
    S(0xd0, 66, F_SSE3, 0, X | MR), S(0xd0, F2, F_SSE3, 0, X | MR), /* ADDSUBPD/PS */
    SMX(0xd1, MR), SMX(0xd2, MR), SMX(0xd3, MR),   /* PSRLW PSRLD PSRLQ */
    SMX2(0xd4, MR),                                /* PADDQ */
    SMX(0xd5, MR),                                 /* PMULLW */
    S(0xd6, 66, F_SSE2, 0, X | MW),                /* MOVQ x/m64,x */
    S2(0xd6, F3, F_SSE2, F_MMX, DA_REGONLY, X | MM), /* MOVQ2DQ */
    S2(0xd6, F2, F_SSE2, F_MMX, DA_REGONLY, X | MM), /* MOVDQ2Q */
    S2(0xd7, NP, F_SSE, F_MMX, DA_REGONLY, MM), S(0xd7, 66, F_SSE2, DA_REGONLY, X), /* PMOVMSKB */
    SMX(0xd8, MR), SMX(0xd9, MR),                  /* PSUBUSB PSUBUSW */
    SMXE(0xda, MR),                                /* PMINUB */
    SMX(0xdb, MR), SMX(0xdc, MR), SMX(0xdd, MR),   /* PAND PADDUSB PADDUSW */
    SMXE(0xde, MR),                                /* PMAXUB */
    SMX(0xdf, MR),                                 /* PANDN */
    SMXE(0xe0, MR),                                /* PAVGB */
    SMX(0xe1, MR), SMX(0xe2, MR),                  /* PSRAW PSRAD */
    SMXE(0xe3, MR), SMXE(0xe4, MR),                /* PAVGW PMULHUW */
    SMX(0xe5, MR),                                 /* PMULHW */
    S(0xe6, 66, F_SSE2, 0, X | MR), S(0xe6, F3, F_SSE2, 0, X | MR), /* CVTTPD2DQ CVTDQ2PD */
    S(0xe6, F2, F_SSE2, 0, X | MR),                /* CVTPD2DQ */
    S2(0xe7, NP, F_SSE, F_MMX, DA_MEMONLY, MM | MW), /* MOVNTQ */
    S(0xe7, 66, F_SSE2, DA_MEMONLY, X | MW),       /* MOVNTDQ */
    SMX(0xe8, MR), SMX(0xe9, MR),                  /* PSUBSB PSUBSW */
    SMXE(0xea, MR),                                /* PMINSW */
    SMX(0xeb, MR), SMX(0xec, MR), SMX(0xed, MR),   /* POR PADDSB PADDSW */
    SMXE(0xee, MR),                                /* PMAXSW */
    SMX(0xef, MR),                                 /* PXOR */
    S(0xf0, F2, F_SSE3, DA_MEMONLY, X | MR),       /* LDDQU */
    SMX(0xf1, MR), SMX(0xf2, MR), SMX(0xf3, MR),   /* PSLLW PSLLD PSLLQ */
    SMX2(0xf4, MR),                                /* PMULUDQ */
    SMX(0xf5, MR),                                 /* PMADDWD */
    SMXE(0xf6, MR),                                /* PSADBW */
    /* MASKMOVQ/MASKMOVDQU: implicit DS:[EDI] store (SDM 2B) */
    { X86_MAP_0F, 0xf7, DP_NP, 0,
      EF2(MASKMOV, NONE, M | DA_REGONLY, F_SSE, F_MMX, MM | IMP | MW) },
    { X86_MAP_0F, 0xf7, DP_66, 0,
      EF(MASKMOV, NONE, M | DA_REGONLY, F_SSE2, X | IMP | MW) },
    SMX(0xf8, MR), SMX(0xf9, MR), SMX(0xfa, MR),   /* PSUBB PSUBW PSUBD */
    SMX2(0xfb, MR),                                /* PSUBQ */
    SMX(0xfc, MR), SMX(0xfd, MR), SMX(0xfe, MR),   /* PADDB PADDW PADDD */

    /* 0F 38 (table A-4) */
    TSSSE3(0x00), TSSSE3(0x01), TSSSE3(0x02), TSSSE3(0x03), /* PSHUFB PHADDW PHADDD PHADDSW */
    TSSSE3(0x04), TSSSE3(0x05), TSSSE3(0x06), TSSSE3(0x07), /* PMADDUBSW PHSUBW PHSUBD PHSUBSW */
    TSSSE3(0x08), TSSSE3(0x09), TSSSE3(0x0a), TSSSE3(0x0b), /* PSIGNB/W/D PMULHRSW */
    T41(0x10), T41(0x14), T41(0x15),               /* PBLENDVB BLENDVPS BLENDVPD */
    T(0x17, 66, F_SSE41, 0, X | MR | WF),          /* PTEST */
    TSSSE3(0x1c), TSSSE3(0x1d), TSSSE3(0x1e),      /* PABSB PABSW PABSD */
    T41(0x20), T41(0x21), T41(0x22), T41(0x23), T41(0x24), T41(0x25), /* PMOVSX */
    T41(0x28), T41(0x29),                          /* PMULDQ PCMPEQQ */
    T(0x2a, 66, F_SSE41, DA_MEMONLY, X | MR),      /* MOVNTDQA */
    T41(0x2b),                                     /* PACKUSDW */
    T41(0x30), T41(0x31), T41(0x32), T41(0x33), T41(0x34), T41(0x35), /* PMOVZX */
    T(0x37, 66, F_SSE42, 0, X | MR),               /* PCMPGTQ */
    T41(0x38), T41(0x39), T41(0x3a), T41(0x3b),    /* PMINSB PMINSD PMINUW PMINUD */
    T41(0x3c), T41(0x3d), T41(0x3e), T41(0x3f),    /* PMAXSB PMAXSD PMAXUW PMAXUD */
    T41(0x40), T41(0x41),                          /* PMULLD PHMINPOSUW */
    T(0xc8, NP, VMP_FEAT_SHA, 0, X | MR), T(0xc9, NP, VMP_FEAT_SHA, 0, X | MR), /* SHA1* */
    T(0xca, NP, VMP_FEAT_SHA, 0, X | MR), T(0xcb, NP, VMP_FEAT_SHA, 0, X | MR), /* SHA256* */
    T(0xcc, NP, VMP_FEAT_SHA, 0, X | MR), T(0xcd, NP, VMP_FEAT_SHA, 0, X | MR),
    T(0xdb, 66, VMP_FEAT_AES, 0, X | MR), T(0xdc, 66, VMP_FEAT_AES, 0, X | MR), /* AES */
    T(0xdd, 66, VMP_FEAT_AES, 0, X | MR), T(0xde, 66, VMP_FEAT_AES, 0, X | MR),
    T(0xdf, 66, VMP_FEAT_AES, 0, X | MR),
    /* MOVBE: memory only; 66 gives the 16-bit form (not a mandatory prefix) */
    T(0xf0, NP, VMP_FEAT_MOVBE, DA_MEMONLY, MR), T(0xf1, NP, VMP_FEAT_MOVBE, DA_MEMONLY, MW),
    /* CRC32 Gd,Eb / Gd,Ev: F2 mandatory, 66 gives the 16-bit source */
    T(0xf0, F2, F_SSE42, DA_BYTE, MR), T(0xf1, F2, F_SSE42, 0, MR),
    T(0xf6, 66, VMP_FEAT_ADX, DA_OP32, MR | WF | RF), /* ADCX */
    T(0xf6, F3, VMP_FEAT_ADX, DA_OP32, MR | WF | RF), /* ADOX */

    /* 0F 3A (table A-5), all with Ib */
    U41(0x08), U41(0x09), U41(0x0a), U41(0x0b),    /* ROUNDPS/PD/SS/SD */
    U41(0x0c), U41(0x0d), U41(0x0e),               /* BLENDPS BLENDPD PBLENDW */
    U2(0x0f, NP, F_SSSE3, F_MMX, 0, MM | MR), U(0x0f, 66, F_SSSE3, 0, X | MR), /* PALIGNR */
    U(0x14, 66, F_SSE41, 0, X | MW), U(0x15, 66, F_SSE41, 0, X | MW), /* PEXTRB PEXTRW */
    U(0x16, 66, F_SSE41, DA_OP32, X | MW), U(0x17, 66, F_SSE41, 0, X | MW), /* PEXTRD EXTRACTPS */
    U41(0x20), U41(0x21), U(0x22, 66, F_SSE41, DA_OP32, X | MR), /* PINSRB INSERTPS PINSRD */
    U41(0x40), U41(0x41), U41(0x42),               /* DPPS DPPD MPSADBW */
    U(0x44, 66, VMP_FEAT_PCLMULQDQ, 0, X | MR),    /* PCLMULQDQ */
    U(0x60, 66, F_SSE42, 0, X | MR | WF), U(0x61, 66, F_SSE42, 0, X | MR | WF), /* PCMPxSTRx */
    U(0x62, 66, F_SSE42, 0, X | MR | WF), U(0x63, 66, F_SSE42, 0, X | MR | WF),
    U(0xcc, NP, VMP_FEAT_SHA, 0, X | MR),          /* SHA1RNDS4 */
    U(0xdf, 66, VMP_FEAT_AES, 0, X | MR),          /* AESKEYGENASSIST */
};

const unsigned dec_sse_count = sizeof dec_sse_list / sizeof dec_sse_list[0];
/* clang-format on */
