/*
 * decode.h - the x86 instruction decoder: the seam between decoding and
 * translation.
 *
 * x86_decode() reads one instruction of 16- or 32-bit code and describes
 * it in a struct x86_insn: its length and where each part lies in the
 * bytes (so the translator can copy or re-encode it), its effective
 * operand and address sizes, its prefixes, what the translator must do
 * with it (kind), the CPUID feature it needs, and its properties (flags).
 *
 * The decoder is pure: no state, no allocation, no host access. It is
 * safe to call from any thread and from a signal handler.
 *
 * Prefix-dependent encodings the decoder cannot settle alone (it does not
 * know the guest's CPU profile): F3 0F BC decodes as TZCNT (feature BMI1)
 * and F3 0F BD as LZCNT (feature ABM). A CPU without the feature runs
 * these as BSF/BSR, ignoring F3: a translator whose profile lacks the
 * feature must emit BSF/BSR (drop the F3), not #UD. PAUSE (F3 90) is a
 * NOP_HINT with no feature. Encodings the decoder returns as X86_DEC_UD
 * although some CPUs run them: VEX/EVEX/XOP (C4/C5/62/8F with mod = 3),
 * 3DNow! (0F 0F, 0F 0E), SSE4A, RTM, VMX/SVM, RDPID, CLWB, CLZERO, PKU,
 * XSAVEC/XSAVES, CET, WAITPKG. UD0/UD1/UD2 return X86_DEC_UD with the full
 * length and kind X86K_UD filled in. Other details: MOV CR/DR report mod 3
 * (the CPU ignores mod there); CLFLUSH/CLFLUSHOPT are X86K_COPY_MEM; the
 * x87 register-form aliases (FSTP1, FXCH4, FFREEP...) decode as valid, as
 * they run on Intel and AMD CPUs; opsize is 2 for MOV Ev,Sw, SLDT and STR
 * with a memory operand (they store 16 bits).
 *
 * Sources: SDM 2A/2B/2C (instruction formats, opcode maps in Appendix A),
 * SDM 3A chapter 2.8 and 25 (sensitive and privileged instructions).
 */
#ifndef VMP_DECODE_H
#define VMP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/cpufeat.h>

#define X86_MAX_INSN_LEN 15

/* Opcode maps (SDM 2A 2.1.2, Appendix A). */
enum x86_map {
    X86_MAP_1 = 0,  /* one-byte map */
    X86_MAP_0F,     /* 0F xx */
    X86_MAP_0F38,   /* 0F 38 xx */
    X86_MAP_0F3A,   /* 0F 3A xx */
};

enum x86_seg_override {
    X86_SEG_ES = 0, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
    X86_SEG_NONE = 0xff
};

/*
 * What the translator must do with an instruction. The decoder picks one
 * kind per instruction; the translator has one rule per kind.
 */
enum x86_kind {
    X86K_INVALID = 0,   /* never returned with X86_DEC_OK */
    /* Runs as itself. */
    X86K_COPY,          /* no memory operand: copy the bytes verbatim */
    X86K_COPY_MEM,      /* ModRM memory operand: copy with GS + 0x67,
                           re-encoding mod=00 rm=101 with a SIB */
    X86K_LEA,           /* LEA: no access; copy with 0x67 and the disp32 fix */
    X86K_NOP_HINT,      /* NOP/PAUSE/prefetch/hint NOPs (0F 18-1F), may have ModRM */
    X86K_INCDEC_REG,    /* 0x40-0x4F: REX in 64-bit mode; re-encode as FF /0, /1 */
    X86K_XLAT,          /* D7: implicit [EBX+AL] read with DS (or override) */
    X86K_MOFFS,         /* A0-A3: mov al/eax <-> [moffs32]; 64-bit mode has moffs64 */
    /* Stack (SDM 2A 6.2): rewritten with explicit GS stores, ESP last. */
    X86K_PUSH,          /* push r/imm/m (50-57, 68, 6A, FF /6) */
    X86K_POP,           /* pop r/m (58-5F, 8F /0) */
    X86K_PUSH_SEG,      /* push es/cs/ss/ds (06,0E,16,1E) and fs/gs (0F A0, 0F A8) */
    X86K_POP_SEG,       /* pop es/ss/ds (07,17,1F), fs/gs (0F A1, 0F A9) */
    X86K_PUSHA, X86K_POPA,
    X86K_PUSHF, X86K_POPF,
    X86K_ENTER, X86K_LEAVE,
    /* Control flow: ends a block. */
    X86K_JMP_REL,       /* E9, EB */
    X86K_JCC,           /* 70-7F, 0F 80-8F */
    X86K_JCXZ,          /* E3 */
    X86K_LOOP,          /* E0-E2 */
    X86K_CALL_REL,      /* E8 */
    X86K_JMP_IND,       /* FF /4 */
    X86K_CALL_IND,      /* FF /2 */
    X86K_RET,           /* C3, C2 iw */
    X86K_JMP_FAR,       /* EA, FF /5 */
    X86K_CALL_FAR,      /* 9A, FF /3 */
    X86K_RET_FAR,       /* CB, CA iw */
    X86K_IRET,          /* CF */
    X86K_INT,           /* CD ib */
    X86K_INT3,          /* CC */
    X86K_INT1,          /* F1 (ICEBP) */
    X86K_INTO,          /* CE */
    X86K_BOUND,         /* 62 */
    X86K_SYSENTER, X86K_SYSEXIT, X86K_SYSCALL, X86K_SYSRET,
    X86K_HLT,
    X86K_UD,            /* UD0/UD1/UD2 and anything else that must raise #UD */
    /* String instructions (ES:EDI cannot take GS): rewritten. */
    X86K_STRING,        /* MOVS CMPS STOS LODS SCAS, with or without REP */
    X86K_INS, X86K_OUTS,
    /* Sensitive or privileged: a C helper does the work. */
    X86K_IN, X86K_OUT,
    X86K_CLI, X86K_STI,
    X86K_CPUID, X86K_RDTSC, X86K_RDTSCP, X86K_RDPMC, X86K_RDMSR, X86K_WRMSR,
    X86K_MOV_CR, X86K_MOV_DR,   /* 0F 20-23 */
    X86K_CLTS, X86K_INVD, X86K_WBINVD, X86K_INVLPG,
    X86K_SYS_0F00,      /* SLDT STR LLDT LTR VERR VERW (0F 00 /r) */
    X86K_SYS_0F01,      /* SGDT SIDT LGDT LIDT SMSW LMSW INVLPG SWAPGS RDTSCP... (0F 01 /r) */
    X86K_LAR, X86K_LSL,
    X86K_MOV_FROM_SEG,  /* 8C */
    X86K_MOV_TO_SEG,    /* 8E */
    X86K_LOAD_FARPTR,   /* LDS LES (C5 C4), LSS LFS LGS (0F B2 B4 B5) */
    X86K_ARPL,          /* 63: MOVSXD in 64-bit mode */
    X86K_BCD,           /* DAA DAS AAA AAS AAM AAD: not in 64-bit mode */
    X86K_SALC,          /* D6 */
    X86K_SAHF_LAHF,     /* 9E 9F: need LAHF_LM in 64-bit mode on some CPUs */
    X86K_FENCE,         /* LFENCE MFENCE SFENCE, CLFLUSH: copy (mem form as COPY_MEM) */
    X86K_FXSAVE, X86K_FXRSTOR, /* 0F AE /0 /1 */
    X86K_LDMXCSR, X86K_STMXCSR,
    X86K_XSAVE_FAMILY,  /* XSAVE/XRSTOR/XGETBV/XSETBV: refused (#UD) by profiles */
    X86K_RSM, X86K_MONITOR, X86K_MWAIT,
    X86K_RDRAND,        /* RDRAND/RDSEED: nondeterministic, helper */
    /* Appended by the decoder (keep the values above stable). */
    X86K_MASKMOV,       /* MASKMOVQ/MASKMOVDQU (0F F7): register operands, but an
                           implicit byte-masked store to DS:[EDI] (or DI) */
    X86K_COUNT
};

/* Properties (bit set in x86_insn.flags). */
enum x86_flag {
    X86F_MODRM      = 1u << 0,  /* has a ModRM byte */
    X86F_MEM        = 1u << 1,  /* ModRM names memory (mod != 3) */
    X86F_MEM_READ   = 1u << 2,  /* reads its memory operand */
    X86F_MEM_WRITE  = 1u << 3,  /* writes its memory operand */
    X86F_BRANCH     = 1u << 4,  /* may change EIP other than falling through */
    X86F_PRIV       = 1u << 5,  /* CPL 0 only: #GP(0) at CPL > 0 */
    X86F_SENSITIVE  = 1u << 6,  /* reads or writes state the VMM virtualises */
    X86F_IOPL       = 1u << 7,  /* privilege checked against IOPL */
    X86F_X87        = 1u << 8,  /* D8-DF */
    X86F_MMX        = 1u << 9,
    X86F_SSE        = 1u << 10, /* any SSE level (XMM registers) */
    X86F_LOCK       = 1u << 11, /* has a (legal) LOCK prefix */
    X86F_REP        = 1u << 12, /* REP/REPE (F3) on a string instruction */
    X86F_REPNE      = 1u << 13, /* REPNE (F2) on a string instruction */
    X86F_NO64       = 1u << 14, /* encoding differs or is invalid in 64-bit mode */
    X86F_WRITES_FLAGS = 1u << 15,
    X86F_READS_FLAGS  = 1u << 16,
    X86F_STACK      = 1u << 17, /* implicit stack access */
    X86F_BYTE_OP    = 1u << 18, /* operand size is 8 bits (w bit clear) */
    X86F_IMPLICIT_MEM = 1u << 19, /* memory access not through ModRM (string, xlat, moffs, stack) */
    X86F_SETS_TS_TRAP = 1u << 20, /* touches FPU/SSE state: #NM when CR0.TS */
};

struct x86_insn {
    uint8_t len;            /* total length, 1..15 */
    uint8_t prefix_len;     /* bytes of legacy prefixes before the opcode */
    uint8_t map;            /* enum x86_map */
    uint8_t opcode;         /* the opcode byte within its map */
    uint8_t opc_off;        /* offset of the first opcode byte (0F escape included) */
    uint8_t modrm;          /* valid when flags & X86F_MODRM */
    uint8_t modrm_off;
    uint8_t sib;            /* valid when sib_off != 0 */
    uint8_t sib_off;        /* 0: no SIB */
    uint8_t disp_off;       /* 0: no displacement */
    uint8_t disp_size;      /* 0, 1, 2 or 4 */
    uint8_t imm_off;        /* 0: no immediate */
    uint8_t imm_size;       /* bytes of the first immediate (0,1,2,4; 6 for ptr16:32) */
    uint8_t imm2_size;      /* second immediate (ENTER's ib), follows the first */
    uint8_t opsize;         /* effective operand size: 1, 2 or 4 (bytes) */
    uint8_t addrsize;       /* effective address size: 2 or 4 */
    uint8_t seg;            /* enum x86_seg_override: last segment prefix, or NONE */
    uint8_t rep;            /* 0, 0xF3 or 0xF2: last of them seen */
    uint8_t mandatory;      /* 0, 0x66, 0xF3 or 0xF2 when it selects an SSE opcode */
    uint8_t reg;            /* ModRM.reg (or low 3 bits of the opcode for +r forms) */
    uint8_t rm;             /* ModRM.rm */
    uint8_t mod;            /* ModRM.mod */
    uint16_t kind;          /* enum x86_kind */
    uint16_t feature;       /* enum vmp_feat needed, VMP_FEAT_NONE if none */
    uint16_t feature2;      /* a second feature needed (e.g. SSE for some MMXEXT), or NONE */
    uint32_t flags;         /* enum x86_flag */
    int32_t disp;           /* sign-extended displacement */
    uint32_t imm;           /* first immediate, zero-extended as encoded */
    uint32_t imm2;          /* second immediate (ENTER ib; far pointer selector) */
};

enum x86_decode_status {
    X86_DEC_OK = 0,
    X86_DEC_UD = -1,        /* illegal encoding: #UD */
    X86_DEC_TOO_LONG = -2,  /* more than 15 bytes: #GP(0) (SDM 2A 2.3.11) */
    X86_DEC_NEED_MORE = -3, /* avail ended before the instruction did */
};

/*
 * Decode one instruction at bytes[0..avail). default32 is the code
 * segment's D bit: 1 for 32-bit code, 0 for 16-bit code. On X86_DEC_OK
 * fills *out. On X86_DEC_UD, out->len still gives the bytes consumed so
 * far (for diagnostics). Never reads past bytes[avail - 1].
 */
int x86_decode(const uint8_t *bytes, size_t avail, int default32, struct x86_insn *out);

/* The name of a kind, for logs and tests ("COPY_MEM"). */
const char *x86_kind_name(unsigned kind);

#endif
