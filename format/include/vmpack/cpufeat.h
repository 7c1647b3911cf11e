/*
 * vmpack/cpufeat.h - CPUID feature flags, named once for the whole project.
 *
 * A feature is identified by where CPUID reports it: the leaf, the output
 * register and the bit (SDM 2A, CPUID, tables 3-10, 3-11 and 3-8). The
 * decoder tags each instruction with the feature it needs, a CPU profile
 * is a set of CPUID leaves, and the translator raises #UD for an
 * instruction whose feature bit is clear in the guest's profile.
 *
 * VMP_FEAT(word, bit): word selects the CPUID output register below.
 */
#ifndef VMPACK_CPUFEAT_H
#define VMPACK_CPUFEAT_H

#include <stdint.h>

enum vmp_feat_word {
    VMP_FW_1_EDX = 0,        /* CPUID.01H:EDX */
    VMP_FW_1_ECX = 1,        /* CPUID.01H:ECX */
    VMP_FW_7_EBX = 2,        /* CPUID.(EAX=07H,ECX=0):EBX */
    VMP_FW_7_ECX = 3,        /* CPUID.(EAX=07H,ECX=0):ECX */
    VMP_FW_81_EDX = 4,       /* CPUID.80000001H:EDX */
    VMP_FW_81_ECX = 5,       /* CPUID.80000001H:ECX */
    VMP_FW_COUNT = 6
};

#define VMP_FEAT(word, bit) ((uint16_t)(((word) << 5) | (bit)))
#define VMP_FEAT_WORD(f) ((unsigned)(f) >> 5)
#define VMP_FEAT_BIT(f) ((unsigned)(f)&31u)

/* VMP_FEAT_NONE: no feature needed; every 32-bit x86 CPU has the instruction. */
enum vmp_feat {
    VMP_FEAT_NONE = 0xffff,
    /* CPUID.01H:EDX */
    VMP_FEAT_FPU = VMP_FEAT(VMP_FW_1_EDX, 0),
    VMP_FEAT_VME = VMP_FEAT(VMP_FW_1_EDX, 1),
    VMP_FEAT_DE = VMP_FEAT(VMP_FW_1_EDX, 2),
    VMP_FEAT_PSE = VMP_FEAT(VMP_FW_1_EDX, 3),
    VMP_FEAT_TSC = VMP_FEAT(VMP_FW_1_EDX, 4),
    VMP_FEAT_MSR = VMP_FEAT(VMP_FW_1_EDX, 5),
    VMP_FEAT_PAE = VMP_FEAT(VMP_FW_1_EDX, 6),
    VMP_FEAT_MCE = VMP_FEAT(VMP_FW_1_EDX, 7),
    VMP_FEAT_CX8 = VMP_FEAT(VMP_FW_1_EDX, 8),
    VMP_FEAT_APIC = VMP_FEAT(VMP_FW_1_EDX, 9),
    VMP_FEAT_SEP = VMP_FEAT(VMP_FW_1_EDX, 11),
    VMP_FEAT_MTRR = VMP_FEAT(VMP_FW_1_EDX, 12),
    VMP_FEAT_PGE = VMP_FEAT(VMP_FW_1_EDX, 13),
    VMP_FEAT_MCA = VMP_FEAT(VMP_FW_1_EDX, 14),
    VMP_FEAT_CMOV = VMP_FEAT(VMP_FW_1_EDX, 15),
    VMP_FEAT_PAT = VMP_FEAT(VMP_FW_1_EDX, 16),
    VMP_FEAT_PSE36 = VMP_FEAT(VMP_FW_1_EDX, 17),
    VMP_FEAT_CLFSH = VMP_FEAT(VMP_FW_1_EDX, 19),
    VMP_FEAT_MMX = VMP_FEAT(VMP_FW_1_EDX, 23),
    VMP_FEAT_FXSR = VMP_FEAT(VMP_FW_1_EDX, 24),
    VMP_FEAT_SSE = VMP_FEAT(VMP_FW_1_EDX, 25),
    VMP_FEAT_SSE2 = VMP_FEAT(VMP_FW_1_EDX, 26),
    /* CPUID.01H:ECX */
    VMP_FEAT_SSE3 = VMP_FEAT(VMP_FW_1_ECX, 0),
    VMP_FEAT_PCLMULQDQ = VMP_FEAT(VMP_FW_1_ECX, 1),
    VMP_FEAT_MONITOR = VMP_FEAT(VMP_FW_1_ECX, 3),
    VMP_FEAT_SSSE3 = VMP_FEAT(VMP_FW_1_ECX, 9),
    VMP_FEAT_FMA = VMP_FEAT(VMP_FW_1_ECX, 12),
    VMP_FEAT_CX16 = VMP_FEAT(VMP_FW_1_ECX, 13),
    VMP_FEAT_SSE41 = VMP_FEAT(VMP_FW_1_ECX, 19),
    VMP_FEAT_SSE42 = VMP_FEAT(VMP_FW_1_ECX, 20),
    VMP_FEAT_MOVBE = VMP_FEAT(VMP_FW_1_ECX, 22),
    VMP_FEAT_POPCNT = VMP_FEAT(VMP_FW_1_ECX, 23),
    VMP_FEAT_AES = VMP_FEAT(VMP_FW_1_ECX, 25),
    VMP_FEAT_XSAVE = VMP_FEAT(VMP_FW_1_ECX, 26),
    VMP_FEAT_AVX = VMP_FEAT(VMP_FW_1_ECX, 28),
    VMP_FEAT_F16C = VMP_FEAT(VMP_FW_1_ECX, 29),
    VMP_FEAT_RDRAND = VMP_FEAT(VMP_FW_1_ECX, 30),
    VMP_FEAT_HYPERVISOR = VMP_FEAT(VMP_FW_1_ECX, 31),
    /* CPUID.(EAX=07H,ECX=0):EBX */
    VMP_FEAT_FSGSBASE = VMP_FEAT(VMP_FW_7_EBX, 0),
    VMP_FEAT_BMI1 = VMP_FEAT(VMP_FW_7_EBX, 3),
    VMP_FEAT_AVX2 = VMP_FEAT(VMP_FW_7_EBX, 5),
    VMP_FEAT_SMEP = VMP_FEAT(VMP_FW_7_EBX, 7),
    VMP_FEAT_BMI2 = VMP_FEAT(VMP_FW_7_EBX, 8),
    VMP_FEAT_ERMS = VMP_FEAT(VMP_FW_7_EBX, 9),
    VMP_FEAT_RDSEED = VMP_FEAT(VMP_FW_7_EBX, 18),
    VMP_FEAT_ADX = VMP_FEAT(VMP_FW_7_EBX, 19),
    VMP_FEAT_SMAP = VMP_FEAT(VMP_FW_7_EBX, 20),
    VMP_FEAT_CLFLUSHOPT = VMP_FEAT(VMP_FW_7_EBX, 23),
    VMP_FEAT_SHA = VMP_FEAT(VMP_FW_7_EBX, 29),
    /* CPUID.(EAX=07H,ECX=0):ECX */
    VMP_FEAT_RDPID = VMP_FEAT(VMP_FW_7_ECX, 22),
    /* CPUID.80000001H:EDX */
    VMP_FEAT_SYSCALL = VMP_FEAT(VMP_FW_81_EDX, 11),
    VMP_FEAT_NX = VMP_FEAT(VMP_FW_81_EDX, 20),
    VMP_FEAT_MMXEXT = VMP_FEAT(VMP_FW_81_EDX, 22),
    VMP_FEAT_RDTSCP = VMP_FEAT(VMP_FW_81_EDX, 27),
    VMP_FEAT_LM = VMP_FEAT(VMP_FW_81_EDX, 29),
    VMP_FEAT_3DNOWEXT = VMP_FEAT(VMP_FW_81_EDX, 30),
    VMP_FEAT_3DNOW = VMP_FEAT(VMP_FW_81_EDX, 31),
    /* CPUID.80000001H:ECX */
    VMP_FEAT_LAHF_LM = VMP_FEAT(VMP_FW_81_ECX, 0),
    VMP_FEAT_ABM = VMP_FEAT(VMP_FW_81_ECX, 5), /* LZCNT */
    VMP_FEAT_SSE4A = VMP_FEAT(VMP_FW_81_ECX, 6),
    VMP_FEAT_PREFETCHW = VMP_FEAT(VMP_FW_81_ECX, 8),
};

#endif
