/*
 * test_decode.c - table-driven cases for the x86 decoder: bytes -> status,
 * length, kind, operand and address size, feature, flags, and the offsets
 * and values of ModRM, SIB, displacement and immediates; plus a random
 * fuzz loop (never more than 15 bytes, never past avail, run under ASan
 * in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"

#define NF  VMP_FEAT_NONE
#define ANY 0xff

struct dcase {
    const char *hex; /* instruction bytes */
    int d32;         /* code segment D bit */
    int rc;          /* expected status */
    unsigned len;    /* expected length (ANY: not checked) */
    unsigned kind;
    unsigned opsize, addrsize; /* ANY: not checked */
    unsigned feat;
    uint32_t on, off; /* flags that must be set / clear */
};

static size_t hex_bytes(const char *hex, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1 || n == cap)
            fail_msg("bad hex in case: %s", hex);
        buf[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

#define MR  X86F_MEM_READ
#define MW  X86F_MEM_WRITE
#define MRW (X86F_MEM_READ | X86F_MEM_WRITE)
#define MEM X86F_MEM
#define OK  X86_DEC_OK
#define UD  X86_DEC_UD

/* clang-format off */
static const struct dcase cases[] = {
    /* integer ALU, memory read/write */
    { "01 d8", 1, OK, 2, X86K_COPY, 4, 4, NF, X86F_MODRM | X86F_WRITES_FLAGS, MEM | MRW },
    { "01 03", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MEM | MRW, 0 },            /* add [ebx],eax */
    { "03 03", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MEM | MR, MW },            /* add eax,[ebx] */
    { "39 03", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MR, MW },                  /* cmp [ebx],eax */
    { "89 03", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MW, MR },                  /* mov [ebx],eax */
    { "8b 44 24 08", 1, OK, 4, X86K_COPY_MEM, 4, 4, NF, MR, MW },            /* mov eax,[esp+8] */
    { "88 07", 1, OK, 2, X86K_COPY_MEM, 1, 4, NF, MW | X86F_BYTE_OP, MR },
    { "66 89 03", 1, OK, 3, X86K_COPY_MEM, 2, 4, NF, MW, 0 },
    { "67 89 07", 1, OK, 3, X86K_COPY_MEM, 4, 2, NF, MW, 0 },                /* mov [bx],eax */
    { "05 78 56 34 12", 1, OK, 5, X86K_COPY, 4, 4, NF, 0, MEM },
    { "66 05 34 12", 1, OK, 4, X86K_COPY, 2, 4, NF, 0, MEM },
    { "05 34 12", 0, OK, 3, X86K_COPY, 2, 2, NF, 0, 0 },                     /* 16-bit code */
    { "66 05 78 56 34 12", 0, OK, 6, X86K_COPY, 4, 2, NF, 0, 0 },
    { "81 c3 00 01 00 00", 1, OK, 6, X86K_COPY, 4, 4, NF, 0, 0 },
    { "83 c3 01", 1, OK, 3, X86K_COPY, 4, 4, NF, 0, 0 },
    { "82 c3 01", 1, OK, 3, X86K_COPY, 1, 4, NF, X86F_NO64, 0 },             /* 82 = 80 */
    { "80 3d 44 33 22 11 05", 1, OK, 7, X86K_COPY_MEM, 1, 4, NF, MR, MW },   /* cmp byte [abs],5 */
    { "8d 04 8d 00 00 00 00", 1, OK, 7, X86K_LEA, 4, 4, NF, MEM, MRW },
    { "8d c0", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                          /* LEA mod=3 */
    /* LOCK */
    { "f0 01 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, NF, X86F_LOCK | MRW, 0 },
    { "f0 01 d8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* register dest */
    { "f0 89 03", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* MOV not lockable */
    { "f0 39 03", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* CMP not lockable */
    { "f0 0f c7 0e", 1, OK, 4, X86K_COPY_MEM, ANY, 4, VMP_FEAT_CX8, X86F_LOCK | MRW, 0 },
    { "0f c7 c8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* CMPXCHG8B reg */
    { "f0 90", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    /* stack */
    { "50", 1, OK, 1, X86K_PUSH, 4, 4, NF, X86F_STACK | MW, MR },
    { "66 5b", 1, OK, 2, X86K_POP, 2, 4, NF, X86F_STACK | MR, 0 },
    { "ff 33", 1, OK, 2, X86K_PUSH, 4, 4, NF, X86F_STACK | MR | MW | MEM, 0 },
    { "8f 03", 1, OK, 2, X86K_POP, 4, 4, NF, X86F_STACK | MW | MEM, 0 },
    { "8f 0b", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "6a ff", 1, OK, 2, X86K_PUSH, 4, 4, NF, 0, 0 },
    { "68 00 10 00 00", 1, OK, 5, X86K_PUSH, 4, 4, NF, 0, 0 },
    { "60", 1, OK, 1, X86K_PUSHA, 4, 4, NF, X86F_NO64, 0 },
    { "9c", 1, OK, 1, X86K_PUSHF, 4, 4, NF, X86F_SENSITIVE, 0 },
    { "9d", 1, OK, 1, X86K_POPF, 4, 4, NF, X86F_SENSITIVE, 0 },
    { "c8 10 00 01", 1, OK, 4, X86K_ENTER, 4, 4, NF, 0, 0 },
    { "c9", 1, OK, 1, X86K_LEAVE, 4, 4, NF, 0, 0 },
    { "06", 1, OK, 1, X86K_PUSH_SEG, 4, 4, NF, X86F_SENSITIVE, 0 },
    { "0f a1", 1, OK, 2, X86K_POP_SEG, 4, 4, NF, 0, 0 },
    /* control flow */
    { "eb fe", 1, OK, 2, X86K_JMP_REL, 4, 4, NF, X86F_BRANCH, 0 },
    { "e9 00 00 00 00", 1, OK, 5, X86K_JMP_REL, 4, 4, NF, X86F_BRANCH, 0 },
    { "66 e9 00 00", 1, OK, 4, X86K_JMP_REL, 2, 4, NF, X86F_BRANCH, 0 },
    { "e8 00 00 00 00", 1, OK, 5, X86K_CALL_REL, 4, 4, NF, X86F_BRANCH, 0 },
    { "74 10", 1, OK, 2, X86K_JCC, 4, 4, NF, X86F_BRANCH | X86F_READS_FLAGS, 0 },
    { "0f 84 10 00 00 00", 1, OK, 6, X86K_JCC, 4, 4, NF, X86F_BRANCH, 0 },
    { "0f 84 10 00", 0, OK, 4, X86K_JCC, 2, 2, NF, X86F_BRANCH, 0 },
    { "e3 05", 1, OK, 2, X86K_JCXZ, 4, 4, NF, 0, 0 },
    { "e2 05", 1, OK, 2, X86K_LOOP, 4, 4, NF, 0, 0 },
    { "ff e0", 1, OK, 2, X86K_JMP_IND, 4, 4, NF, X86F_BRANCH, MEM },
    { "ff 10", 1, OK, 2, X86K_CALL_IND, 4, 4, NF, X86F_BRANCH | MR, 0 },
    { "ff 28", 1, OK, 2, X86K_JMP_FAR, 4, 4, NF, X86F_BRANCH | MR, 0 },
    { "ff e8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                          /* JMP far reg */
    { "ff 38", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                          /* FF /7 */
    { "c3", 1, OK, 1, X86K_RET, 4, 4, NF, X86F_BRANCH, 0 },
    { "c2 08 00", 1, OK, 3, X86K_RET, 4, 4, NF, X86F_BRANCH, 0 },
    { "ca 08 00", 1, OK, 3, X86K_RET_FAR, 4, 4, NF, X86F_BRANCH, 0 },
    { "cf", 1, OK, 1, X86K_IRET, 4, 4, NF, X86F_BRANCH, 0 },
    { "ea 78 56 34 12 08 00", 1, OK, 7, X86K_JMP_FAR, 4, 4, NF, X86F_BRANCH, 0 },
    { "9a 34 12 08 00", 0, OK, 5, X86K_CALL_FAR, 2, 2, NF, X86F_BRANCH, 0 },
    { "cd 80", 1, OK, 2, X86K_INT, 4, 4, NF, 0, 0 },
    { "cc", 1, OK, 1, X86K_INT3, 4, 4, NF, 0, 0 },
    { "f1", 1, OK, 1, X86K_INT1, 4, 4, NF, 0, 0 },
    { "ce", 1, OK, 1, X86K_INTO, 4, 4, NF, 0, 0 },
    { "62 03", 1, OK, 2, X86K_BOUND, 4, 4, NF, MR, 0 },
    { "62 c3", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    /* string, xlat, moffs */
    { "f3 a5", 1, OK, 2, X86K_STRING, 4, 4, NF, X86F_REP | X86F_IMPLICIT_MEM | MRW, 0 },
    { "f2 ae", 1, OK, 2, X86K_STRING, 1, 4, NF, X86F_REPNE, X86F_REP },
    { "aa", 1, OK, 1, X86K_STRING, 1, 4, NF, MW, MR | X86F_REP },
    { "6c", 1, OK, 1, X86K_INS, 1, 4, NF, X86F_IOPL, 0 },
    { "f3 6f", 1, OK, 2, X86K_OUTS, 4, 4, NF, X86F_REP, 0 },
    { "d7", 1, OK, 1, X86K_XLAT, 4, 4, NF, MR | X86F_IMPLICIT_MEM, MW },
    { "a1 44 33 22 11", 1, OK, 5, X86K_MOFFS, 4, 4, NF, MR, MW },
    { "67 a3 44 33", 1, OK, 4, X86K_MOFFS, 4, 2, NF, MW, MR },
    { "a2 44 33", 0, OK, 3, X86K_MOFFS, 1, 2, NF, MW, 0 },
    /* segments and far pointers */
    { "8c d8", 1, OK, 2, X86K_MOV_FROM_SEG, 4, 4, NF, 0, MW },
    { "8c 18", 1, OK, 2, X86K_MOV_FROM_SEG, 2, 4, NF, MW, 0 },
    { "8c f8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "8e d8", 1, OK, 2, X86K_MOV_TO_SEG, 2, 4, NF, X86F_SENSITIVE, 0 },
    { "8e c8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                          /* mov cs,ax */
    { "c4 03", 1, OK, 2, X86K_LOAD_FARPTR, 4, 4, NF, MR, 0 },                /* LES */
    { "c5 c0", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                          /* VEX */
    { "0f b2 03", 1, OK, 3, X86K_LOAD_FARPTR, 4, 4, NF, MR, 0 },             /* LSS */
    { "63 c8", 1, OK, 2, X86K_ARPL, 2, 4, NF, 0, 0 },
    /* misc one-byte */
    { "90", 1, OK, 1, X86K_NOP_HINT, 4, 4, NF, 0, 0 },
    { "f3 90", 1, OK, 2, X86K_NOP_HINT, 4, 4, NF, 0, 0 },                    /* PAUSE */
    { "40", 1, OK, 1, X86K_INCDEC_REG, 4, 4, NF, X86F_WRITES_FLAGS, 0 },
    { "27", 1, OK, 1, X86K_BCD, 4, 4, NF, 0, 0 },
    { "d4 0a", 1, OK, 2, X86K_BCD, 4, 4, NF, 0, 0 },
    { "d6", 1, OK, 1, X86K_SALC, 4, 4, NF, 0, 0 },
    { "9e", 1, OK, 1, X86K_SAHF_LAHF, 4, 4, NF, 0, 0 },
    { "f4", 1, OK, 1, X86K_HLT, 4, 4, NF, X86F_PRIV, 0 },
    { "fa", 1, OK, 1, X86K_CLI, 4, 4, NF, X86F_IOPL, 0 },
    { "e4 60", 1, OK, 2, X86K_IN, 1, 4, NF, X86F_IOPL, 0 },
    { "66 ef", 1, OK, 2, X86K_OUT, 2, 4, NF, X86F_IOPL, 0 },
    { "f6 03 80", 1, OK, 3, X86K_COPY_MEM, 1, 4, NF, MR, MW },               /* test byte [ebx],80 */
    { "f7 03 00 00 00 80", 1, OK, 6, X86K_COPY_MEM, 4, 4, NF, MR, MW },
    { "f7 13", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MRW, 0 },                  /* not [ebx] */
    { "c6 03 05", 1, OK, 3, X86K_COPY_MEM, 1, 4, NF, MW, MR },
    { "c7 03 05 00 00 00", 1, OK, 6, X86K_COPY_MEM, 4, 4, NF, MW, MR },
    { "c7 f8 00 00 00 00", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },              /* XBEGIN */
    { "c1 e0 04", 1, OK, 3, X86K_COPY, 4, 4, NF, 0, 0 },
    { "d3 23", 1, OK, 2, X86K_COPY_MEM, 4, 4, NF, MRW, 0 },
    { "fe 10", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "26 90", 1, OK, 2, X86K_NOP_HINT, 4, 4, NF, 0, 0 },                    /* ignored seg */
    /* 0F map */
    { "0f a2", 1, OK, 2, X86K_CPUID, 4, 4, NF, X86F_SENSITIVE, 0 },
    { "0f 31", 1, OK, 2, X86K_RDTSC, 4, 4, VMP_FEAT_TSC, 0, 0 },
    { "0f 01 f9", 1, OK, 3, X86K_RDTSCP, 4, 4, VMP_FEAT_RDTSCP, 0, 0 },
    { "0f 34", 1, OK, 2, X86K_SYSENTER, 4, 4, VMP_FEAT_SEP, 0, 0 },
    { "0f 35", 1, OK, 2, X86K_SYSEXIT, 4, 4, VMP_FEAT_SEP, X86F_PRIV, 0 },
    { "0f 0b", 1, UD, 2, X86K_UD, ANY, ANY, NF, 0, 0 },
    { "0f ff 00", 1, UD, 3, X86K_UD, ANY, ANY, NF, 0, 0 },
    { "0f b9 00", 1, UD, 3, X86K_UD, ANY, ANY, NF, 0, 0 },
    { "0f 44 c1", 1, OK, 3, X86K_COPY, 4, 4, VMP_FEAT_CMOV, X86F_READS_FLAGS, 0 },
    { "0f b6 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, NF, MR, MW },
    { "0f 94 c0", 1, OK, 3, X86K_COPY, 1, 4, NF, 0, 0 },
    { "0f ab 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, NF, MRW, 0 },
    { "0f ba e0 03", 1, OK, 4, X86K_COPY, 4, 4, NF, 0, 0 },
    { "0f ba 20 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, NF, MR, MW },
    { "0f ba 00 03", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f c8", 1, OK, 2, X86K_COPY, 4, 4, NF, 0, 0 },
    { "0f 20 c0", 1, OK, 3, X86K_MOV_CR, 4, 4, NF, X86F_PRIV, MEM },
    { "0f 22 18", 1, OK, 3, X86K_MOV_CR, 4, 4, NF, X86F_PRIV, MEM },         /* mod ignored */
    { "0f 20 c8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* CR1 */
    { "0f 22 e8", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* CR5 */
    { "0f 23 f8", 1, OK, 3, X86K_MOV_DR, 4, 4, NF, X86F_PRIV, 0 },
    { "0f 01 10", 1, OK, 3, X86K_SYS_0F01, 4, 4, NF, X86F_PRIV | MR, 0 },    /* LGDT */
    { "0f 01 d0", 1, OK, 3, X86K_XSAVE_FAMILY, 4, 4, VMP_FEAT_XSAVE, 0, 0 }, /* XGETBV */
    { "0f 01 00", 1, OK, 3, X86K_SYS_0F01, 4, 4, NF, MW | X86F_SENSITIVE, 0 }, /* SGDT */
    { "0f 01 38", 1, OK, 3, X86K_INVLPG, 4, 4, NF, X86F_PRIV | MEM, MRW },
    { "0f 01 e0", 1, OK, 3, X86K_SYS_0F01, 4, 4, NF, X86F_SENSITIVE, 0 },    /* SMSW eax */
    { "0f 01 28", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f 01 c8", 1, OK, 3, X86K_MONITOR, 4, 4, VMP_FEAT_MONITOR, 0, 0 },
    { "0f 00 d8", 1, OK, 3, X86K_SYS_0F00, 2, 4, NF, X86F_PRIV, 0 },         /* LTR ax */
    { "0f 00 30", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f 02 c0", 1, OK, 3, X86K_LAR, 4, 4, NF, 0, 0 },
    { "66 0f 03 03", 1, OK, 4, X86K_LSL, 2, 4, NF, MR, MW },
    { "0f 00 00", 1, OK, 3, X86K_SYS_0F00, 2, 4, NF, MW, MR },               /* SLDT m16 */
    { "0f 00 c8", 1, OK, 3, X86K_SYS_0F00, 4, 4, NF, 0, MW },                /* STR eax */
    { "0f 06", 1, OK, 2, X86K_CLTS, 4, 4, NF, X86F_PRIV, 0 },
    { "0f 09", 1, OK, 2, X86K_WBINVD, 4, 4, NF, X86F_PRIV, 0 },
    { "0f 1f 44 00 00", 1, OK, 5, X86K_NOP_HINT, 4, 4, NF, 0, 0 },
    { "66 0f 1f 84 00 00 00 00 00", 1, OK, 9, X86K_NOP_HINT, 2, 4, NF, 0, 0 },
    { "0f 18 08", 1, OK, 3, X86K_NOP_HINT, 4, 4, VMP_FEAT_SSE, 0, 0 },       /* PREFETCHT0 */
    { "0f 0d 08", 1, OK, 3, X86K_NOP_HINT, 4, 4, VMP_FEAT_PREFETCHW, 0, 0 },
    { "0f ae 00", 1, OK, 3, X86K_FXSAVE, 4, 4, VMP_FEAT_FXSR, MW, 0 },
    { "0f ae 08", 1, OK, 3, X86K_FXRSTOR, 4, 4, VMP_FEAT_FXSR, MR, 0 },
    { "0f ae 10", 1, OK, 3, X86K_LDMXCSR, 4, 4, VMP_FEAT_SSE, MR, 0 },
    { "0f ae 18", 1, OK, 3, X86K_STMXCSR, 4, 4, VMP_FEAT_SSE, MW, 0 },
    { "0f ae 20", 1, OK, 3, X86K_XSAVE_FAMILY, 4, 4, VMP_FEAT_XSAVE, MW, 0 },
    { "0f ae 38", 1, OK, 3, X86K_COPY_MEM, 4, 4, VMP_FEAT_CLFSH, 0, 0 },     /* CLFLUSH */
    { "0f ae f8", 1, OK, 3, X86K_FENCE, 4, 4, VMP_FEAT_SSE, 0, 0 },          /* SFENCE */
    { "0f ae e8", 1, OK, 3, X86K_FENCE, 4, 4, VMP_FEAT_SSE2, 0, 0 },         /* LFENCE */
    { "0f ae c0", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f c7 f0", 1, OK, 3, X86K_RDRAND, 4, 4, VMP_FEAT_RDRAND, 0, 0 },
    { "0f c7 f8", 1, OK, 3, X86K_RDRAND, 4, 4, VMP_FEAT_RDSEED, 0, 0 },
    { "0f 05", 1, OK, 2, X86K_SYSCALL, 4, 4, VMP_FEAT_SYSCALL, 0, 0 },
    { "0f aa", 1, OK, 2, X86K_RSM, 4, 4, NF, 0, 0 },
    { "0f 04", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f 0f c0 b4", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                    /* 3DNow! */
    { "f3 0f bd c1", 1, OK, 4, X86K_COPY, 4, 4, VMP_FEAT_ABM, 0, 0 },        /* LZCNT */
    { "0f bd c1", 1, OK, 3, X86K_COPY, 4, 4, NF, 0, 0 },                     /* BSR */
    { "66 0f bc 03", 1, OK, 4, X86K_COPY_MEM, 2, 4, NF, MR | X86F_WRITES_FLAGS, MW }, /* BSF r16 */
    { "f2 0f bc c1", 1, OK, 4, X86K_COPY, 4, 4, NF, 0, 0 },                  /* F2 ignored */
    { "66 f3 0f bc c1", 1, OK, 5, X86K_COPY, 2, 4, VMP_FEAT_BMI1, 0, 0 },    /* TZCNT r16 */
    { "f3 0f b8 c1", 1, OK, 4, X86K_COPY, 4, 4, VMP_FEAT_POPCNT, 0, 0 },
    { "66 f3 0f b8 c1", 1, OK, 5, X86K_COPY, 2, 4, VMP_FEAT_POPCNT, 0, 0 },
    { "0f b8 c1", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* JMPE */
    /* x87 */
    { "d9 c0", 1, OK, 2, X86K_COPY, 4, 4, VMP_FEAT_FPU, X86F_X87, MEM },
    { "dd 03", 1, OK, 2, X86K_COPY_MEM, 4, 4, VMP_FEAT_FPU, X86F_X87 | MR, MW },
    { "dd 1b", 1, OK, 2, X86K_COPY_MEM, 4, 4, VMP_FEAT_FPU, MW, MR },        /* FSTP m64 */
    { "db 08", 1, OK, 2, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE3, MW, 0 },        /* FISTTP */
    { "da c1", 1, OK, 2, X86K_COPY, 4, 4, VMP_FEAT_CMOV, 0, 0 },             /* FCMOVB */
    { "db f1", 1, OK, 2, X86K_COPY, 4, 4, VMP_FEAT_CMOV, 0, 0 },             /* FCOMI */
    { "d9 08", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "d9 d1", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "df e0", 1, OK, 2, X86K_COPY, 4, 4, VMP_FEAT_FPU, 0, 0 },              /* FNSTSW AX */
    { "df e1", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "9b", 1, OK, 1, X86K_COPY, 4, 4, NF, X86F_X87, 0 },
    /* MMX, SSE* */
    { "0f 6f c1", 1, OK, 3, X86K_COPY, 4, 4, VMP_FEAT_MMX, X86F_MMX, X86F_SSE },
    { "66 0f 6f 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE2, X86F_SSE | MR, MW },
    { "f3 0f 6f 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE2, MR, 0 },
    { "f2 0f 6f 03", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f 28 c1", 1, OK, 3, X86K_COPY, 4, 4, VMP_FEAT_SSE, X86F_SSE, 0 },
    { "0f 29 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE, MW, MR },
    { "f3 0f 10 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE, MR, 0 },
    { "f2 0f 11 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE2, MW, 0 },
    { "0f 13 c1", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },                       /* MOVLPS reg */
    { "0f 70 c1 1b", 1, OK, 4, X86K_COPY, 4, 4, VMP_FEAT_SSE, X86F_MMX, 0 }, /* PSHUFW */
    { "66 0f 70 c1 1b", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSE2, X86F_SSE, 0 },
    { "66 0f 73 d9 08", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSE2, 0, 0 },    /* PSRLDQ */
    { "0f 73 d9 08", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f 71 00 08", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f d4 c1", 1, OK, 3, X86K_COPY, 4, 4, VMP_FEAT_SSE2, X86F_MMX, 0 },   /* PADDQ mm */
    { "0f e7 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE, MW, 0 },      /* MOVNTQ */
    { "0f f7 c1", 1, OK, 3, X86K_MASKMOV, 4, 4, VMP_FEAT_SSE, MW | X86F_IMPLICIT_MEM, MEM },
    { "0f c3 03", 1, OK, 3, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE2, MW, 0 },     /* MOVNTI */
    { "0f 77", 1, OK, 2, X86K_COPY, 4, 4, VMP_FEAT_MMX, X86F_MMX, 0 },       /* EMMS */
    { "f2 0f f0 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE3, MR, 0 },  /* LDDQU */
    { "66 0f 38 00 c1", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSSE3, X86F_SSE, 0 }, /* PSHUFB */
    { "0f 38 00 c1", 1, OK, 4, X86K_COPY, 4, 4, VMP_FEAT_SSSE3, X86F_MMX, 0 },
    { "66 0f 38 17 c1", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSE41, 0, 0 },   /* PTEST */
    { "66 0f 38 37 c1", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSE42, 0, 0 },   /* PCMPGTQ */
    { "0f 38 f0 03", 1, OK, 4, X86K_COPY_MEM, 4, 4, VMP_FEAT_MOVBE, MR, MW },
    { "66 0f 38 f1 03", 1, OK, 5, X86K_COPY_MEM, 2, 4, VMP_FEAT_MOVBE, MW, MR },
    { "0f 38 f0 c3", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "f2 0f 38 f1 c3", 1, OK, 5, X86K_COPY, 4, 4, VMP_FEAT_SSE42, 0, 0 },   /* CRC32 */
    { "f2 0f 38 f0 c3", 1, OK, 5, X86K_COPY, 1, 4, VMP_FEAT_SSE42, 0, 0 },
    { "66 0f 3a 16 c0 01", 1, OK, 6, X86K_COPY, 4, 4, VMP_FEAT_SSE41, 0, 0 }, /* PEXTRD */
    { "66 0f 3a 16 03 01", 1, OK, 6, X86K_COPY_MEM, 4, 4, VMP_FEAT_SSE41, MW, MR },
    { "66 0f 3a 63 c1 0c", 1, OK, 6, X86K_COPY, 4, 4, VMP_FEAT_SSE42, 0, 0 }, /* PCMPISTRI */
    { "66 0f 3a 0f c1 04", 1, OK, 6, X86K_COPY, 4, 4, VMP_FEAT_SSSE3, 0, 0 }, /* PALIGNR */
    { "0f 3a 00 c1 00", 1, UD, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "66 0f 3a 44 c1 00", 1, OK, 6, X86K_COPY, 4, 4, VMP_FEAT_PCLMULQDQ, 0, 0 },
    /* limits */
    { "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 1, OK, 15, X86K_NOP_HINT, 2, 4, NF, 0, 0 },
    { "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 1, X86_DEC_TOO_LONG, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "26 26 26 26 26 26 26 26 26 26 26 05 00 00 00 00", 1, X86_DEC_TOO_LONG, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "66", 1, X86_DEC_NEED_MORE, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "0f", 1, X86_DEC_NEED_MORE, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "8b 44 24", 1, X86_DEC_NEED_MORE, ANY, 0, ANY, ANY, NF, 0, 0 },
    { "e8 00 00 00", 1, X86_DEC_NEED_MORE, ANY, 0, ANY, ANY, NF, 0, 0 },
};
/* clang-format on */

static void test_decode_table_cases(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dcase *c = &cases[i];
        uint8_t buf[32];
        size_t n = hex_bytes(c->hex, buf, sizeof buf);
        struct x86_insn in;
        int rc = x86_decode(buf, n, c->d32, &in);
        char why[160] = "";
        if (rc != c->rc)
            snprintf(why, sizeof why, "status %d, want %d", rc, c->rc);
        else if (c->len != ANY && in.len != c->len)
            snprintf(why, sizeof why, "len %u, want %u", in.len, c->len);
        else if (rc == X86_DEC_OK || c->kind)
            if (in.kind != c->kind && (rc == X86_DEC_OK || c->kind))
                snprintf(why, sizeof why, "kind %s, want %s", x86_kind_name(in.kind),
                         x86_kind_name(c->kind));
        if (!why[0] && rc == X86_DEC_OK) {
            if (c->opsize != ANY && in.opsize != c->opsize)
                snprintf(why, sizeof why, "opsize %u, want %u", in.opsize, c->opsize);
            else if (c->addrsize != ANY && in.addrsize != c->addrsize)
                snprintf(why, sizeof why, "addrsize %u, want %u", in.addrsize, c->addrsize);
            else if (in.feature != c->feat)
                snprintf(why, sizeof why, "feature %#x, want %#x", in.feature, c->feat);
            else if ((in.flags & c->on) != c->on)
                snprintf(why, sizeof why, "flags %#x lack %#x", in.flags, c->on & ~in.flags);
            else if (in.flags & c->off)
                snprintf(why, sizeof why, "flags %#x have %#x", in.flags, in.flags & c->off);
        }
        if (why[0]) {
            print_error("decode [%s] d32=%d: %s\n", c->hex, c->d32, why);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Offsets and values of the parts of an instruction. */
static void test_decode_offsets_sib_disp_imm(void **state)
{
    (void)state;
    /* lock add dword fs:[eax+ecx*4+0x12345678], 0x11223344 */
    static const uint8_t b1[] = {0x64, 0xf0, 0x81, 0x84, 0x88, 0x78, 0x56,
                                 0x34, 0x12, 0x44, 0x33, 0x22, 0x11};
    struct x86_insn in;
    assert_int_equal(x86_decode(b1, sizeof b1, 1, &in), X86_DEC_OK);
    assert_int_equal(in.len, 13);
    assert_int_equal(in.prefix_len, 2);
    assert_int_equal(in.opc_off, 2);
    assert_int_equal(in.opcode, 0x81);
    assert_int_equal(in.map, X86_MAP_1);
    assert_int_equal(in.modrm_off, 3);
    assert_int_equal(in.modrm, 0x84);
    assert_int_equal(in.sib_off, 4);
    assert_int_equal(in.sib, 0x88);
    assert_int_equal(in.disp_off, 5);
    assert_int_equal(in.disp_size, 4);
    assert_int_equal((uint32_t)in.disp, 0x12345678u);
    assert_int_equal(in.imm_off, 9);
    assert_int_equal(in.imm_size, 4);
    assert_int_equal(in.imm, 0x11223344u);
    assert_int_equal(in.seg, X86_SEG_FS);
    assert_true(in.flags & X86F_LOCK);
    assert_int_equal(in.reg, 0);
    assert_int_equal(in.mod, 2);
    assert_int_equal(in.rm, 4);

    /* mod=00 base=101: [ecx*2 + disp32] */
    static const uint8_t b2[] = {0x8b, 0x04, 0x4d, 0xf0, 0xff, 0xff, 0xff};
    assert_int_equal(x86_decode(b2, sizeof b2, 1, &in), X86_DEC_OK);
    assert_int_equal(in.len, 7);
    assert_int_equal(in.disp_off, 3);
    assert_int_equal(in.disp, -16);

    /* 16-bit: mov ax,[bp+si-2]; [disp16]; [bx+di+0x1234] */
    static const uint8_t b3[] = {0x8b, 0x42, 0xfe};
    assert_int_equal(x86_decode(b3, sizeof b3, 0, &in), X86_DEC_OK);
    assert_int_equal(in.len, 3);
    assert_int_equal(in.opsize, 2);
    assert_int_equal(in.addrsize, 2);
    assert_int_equal(in.sib_off, 0);
    assert_int_equal(in.disp_size, 1);
    assert_int_equal(in.disp, -2);
    static const uint8_t b4[] = {0x8b, 0x06, 0x34, 0x12};
    assert_int_equal(x86_decode(b4, sizeof b4, 0, &in), X86_DEC_OK);
    assert_int_equal(in.len, 4);
    assert_int_equal(in.disp_size, 2);
    assert_int_equal(in.disp, 0x1234);
    static const uint8_t b5[] = {0x8b, 0x81, 0x00, 0x80};
    assert_int_equal(x86_decode(b5, sizeof b5, 0, &in), X86_DEC_OK);
    assert_int_equal(in.disp, -32768);
    /* in 16-bit code, 0x67 selects 32-bit addressing with SIB */
    static const uint8_t b6[] = {0x67, 0x8b, 0x04, 0x24};
    assert_int_equal(x86_decode(b6, sizeof b6, 0, &in), X86_DEC_OK);
    assert_int_equal(in.len, 4);
    assert_int_equal(in.sib_off, 3);
    assert_int_equal(in.addrsize, 4);
    /* and in 32-bit code 0x67 removes the SIB: [si] */
    static const uint8_t b7[] = {0x67, 0x8b, 0x04, 0x24};
    assert_int_equal(x86_decode(b7, 3, 1, &in), X86_DEC_OK);
    assert_int_equal(in.len, 3);
    assert_int_equal(in.sib_off, 0);

    /* far pointer and ENTER immediates */
    static const uint8_t b8[] = {0xea, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00};
    assert_int_equal(x86_decode(b8, sizeof b8, 1, &in), X86_DEC_OK);
    assert_int_equal(in.imm_off, 1);
    assert_int_equal(in.imm_size, 6);
    assert_int_equal(in.imm, 0x12345678u);
    assert_int_equal(in.imm2, 0x10);
    static const uint8_t b9[] = {0xc8, 0x34, 0x12, 0x03};
    assert_int_equal(x86_decode(b9, sizeof b9, 1, &in), X86_DEC_OK);
    assert_int_equal(in.imm_size, 2);
    assert_int_equal(in.imm2_size, 1);
    assert_int_equal(in.imm, 0x1234);
    assert_int_equal(in.imm2, 3);

    /* SSE: mandatory prefix, map, opcode offset */
    static const uint8_t b10[] = {0x2e, 0x66, 0x0f, 0x3a, 0x0f, 0x4c, 0x24, 0x08, 0x04};
    assert_int_equal(x86_decode(b10, sizeof b10, 1, &in), X86_DEC_OK);
    assert_int_equal(in.map, X86_MAP_0F3A);
    assert_int_equal(in.opcode, 0x0f);
    assert_int_equal(in.opc_off, 2);
    assert_int_equal(in.mandatory, 0x66);
    assert_int_equal(in.modrm_off, 5);
    assert_int_equal(in.sib_off, 6);
    assert_int_equal(in.disp_off, 7);
    assert_int_equal(in.imm_off, 8);
    assert_int_equal(in.imm, 4);
    assert_int_equal(in.len, 9);
    assert_int_equal(in.seg, X86_SEG_CS);

    /* mandatory prefixes vs operand-size prefixes */
    static const struct {
        const char *hex;
        unsigned mandatory, opsize;
    } mp[] = {
        {"66 0f 38 f0 03", 0, 2},       /* MOVBE r16 */
        {"66 0f bc c1", 0, 2},          /* BSF r16 */
        {"f3 0f bd c1", 0xf3, 4},       /* LZCNT */
        {"66 f3 0f b8 c1", 0xf3, 2},    /* POPCNT r16 */
        {"66 f2 0f 38 f1 c1", 0xf2, 2}, /* CRC32 r32, r/m16 */
        {"66 0f 6f c1", 0x66, 4},       /* MOVDQA */
        {"f2 66 0f 10 c1", 0xf2, 2},    /* MOVSD: F2 wins over 66 */
        {"f3 0f 10 c1", 0xf3, 4},       {"0f 10 c1", 0, 4},
    };
    for (size_t i = 0; i < sizeof mp / sizeof mp[0]; i++) {
        uint8_t buf[16];
        size_t n = hex_bytes(mp[i].hex, buf, sizeof buf);
        assert_int_equal(x86_decode(buf, n, 1, &in), X86_DEC_OK);
        if (in.mandatory != mp[i].mandatory || in.opsize != mp[i].opsize)
            fail_msg("[%s]: mandatory %#x opsize %u, want %#x %u", mp[i].hex, in.mandatory,
                     in.opsize, mp[i].mandatory, mp[i].opsize);
    }

    /* +r forms report the register */
    static const uint8_t b11[] = {0x5f};
    assert_int_equal(x86_decode(b11, 1, 1, &in), X86_DEC_OK);
    assert_int_equal(in.reg, 7);

    /* MOV CR with mod != 3: a register operand all the same */
    static const uint8_t b13[] = {0x0f, 0x22, 0x18};
    assert_int_equal(x86_decode(b13, sizeof b13, 1, &in), X86_DEC_OK);
    assert_int_equal(in.len, 3);
    assert_int_equal(in.mod, 3);
    assert_int_equal(in.reg, 3);
    assert_int_equal(in.rm, 0);
    assert_false(in.flags & X86F_MEM);

    /* every kind has a name */
    for (unsigned k = 0; k < X86K_COUNT; k++)
        assert_string_not_equal(x86_kind_name(k), "?");
    assert_string_equal(x86_kind_name(X86K_COUNT), "?");

    /* the last of F2/F3 wins */
    static const uint8_t b12[] = {0xf2, 0xf3, 0xa4};
    assert_int_equal(x86_decode(b12, sizeof b12, 1, &in), X86_DEC_OK);
    assert_int_equal(in.rep, 0xf3);
    assert_true(in.flags & X86F_REP);
}

/* Never more than 15 bytes, never past avail; every kind has a name. */
static void test_decode_fuzz_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t buf[16];
    unsigned ok = 0;
    for (unsigned iter = 0; iter < 300000; iter++) {
        for (unsigned i = 0; i < sizeof buf; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        /* bias towards prefixes and escapes to reach the deep paths */
        if ((x >> 20) % 4 == 0)
            buf[0] = 0x0f;
        if ((x >> 24) % 8 == 0)
            buf[0] = 0x66;
        size_t avail = (size_t)((x >> 32) % 17);
        /* a heap copy of exactly avail bytes: ASan catches over-reads */
        uint8_t *p = malloc(avail ? avail : 1);
        assert_non_null(p);
        memcpy(p, buf, avail);
        struct x86_insn in;
        int rc = x86_decode(p, avail, (int)(x & 1), &in);
        free(p);
        assert_true(in.len <= X86_MAX_INSN_LEN);
        assert_true(in.len <= avail || rc == X86_DEC_NEED_MORE);
        if (rc == X86_DEC_OK) {
            ok++;
            assert_true(in.len >= 1 && in.len <= avail);
            assert_true(in.kind > X86K_INVALID && in.kind < X86K_COUNT);
            assert_string_not_equal(x86_kind_name(in.kind), "?");
            assert_true(in.opsize == 1 || in.opsize == 2 || in.opsize == 4);
            assert_true(in.addrsize == 2 || in.addrsize == 4);
            if (in.imm_size)
                assert_true(in.imm_off + in.imm_size + in.imm2_size == in.len);
            if (in.flags & X86F_MODRM)
                assert_true(in.modrm_off > in.opc_off && in.modrm_off < in.len);
            /* invariants the translator relies on */
            if (in.flags & X86F_MEM)
                assert_true((in.flags & X86F_MODRM) && in.mod != 3 && in.kind != X86K_COPY);
            if (in.flags & (X86F_MEM_READ | X86F_MEM_WRITE))
                assert_true(in.flags & (X86F_MEM | X86F_IMPLICIT_MEM));
            if (in.flags & X86F_LOCK)
                assert_true(in.flags & X86F_MEM);
            if (in.feature2 != VMP_FEAT_NONE)
                assert_true(in.feature != VMP_FEAT_NONE);
            if (in.sib_off)
                assert_true(in.sib_off == in.modrm_off + 1 && in.addrsize == 4);
            if (in.disp_off)
                assert_true(in.disp_off > in.modrm_off && in.disp_off + in.disp_size <= in.len);
            assert_true(in.prefix_len == in.opc_off);
            /* a prefix of the bytes is not enough */
            struct x86_insn in2;
            assert_int_equal(x86_decode(buf, in.len - 1u, (int)(x & 1), &in2), X86_DEC_NEED_MORE);
        } else {
            assert_true(rc == X86_DEC_UD || rc == X86_DEC_TOO_LONG || rc == X86_DEC_NEED_MORE);
        }
    }
    assert_true(ok > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table_cases),
        cmocka_unit_test(test_decode_offsets_sib_disp_imm),
        cmocka_unit_test(test_decode_fuzz_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
