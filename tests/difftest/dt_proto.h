/*
 * dt_proto.h - the exchange format between the differential tester (a
 * 64-bit process) and its workers: the native runner (a 32-bit static
 * executable, dt_runner.c) and the translated runner (a forked child that
 * drives vmm/cpu). Both sides compile this header, so every field has a
 * fixed width and an offset that is the same in the i386 and x86-64 ABIs
 * (checked below).
 *
 * One case at a time goes through a shared memory buffer of DT_XCHG_BYTES
 * (a memfd mapped MAP_SHARED by both processes):
 *
 *   offset 0               struct dt_case   (written by the tester)
 *   offset DT_RESULT_OFF   struct dt_result (written by the worker)
 *   offset DT_DATA_OFF     region bytes: each region's initial bytes at
 *                          init_off and its final bytes at fin_off
 *
 * The control channel is a pipe pair: the tester writes one byte ('c' run
 * the case in the buffer, 'q' quit) and the worker answers one byte ('r')
 * when the result is in place.
 */
#ifndef DT_PROTO_H
#define DT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DT_XCHG_BYTES (2u << 20)
#define DT_RESULT_OFF 4096u
#define DT_DATA_OFF 8192u
#define DT_MAX_REGIONS 8
#define DT_CASE_MAGIC 0x44544331u /* "DTC1" */

/* Where a native test may place its regions: above page 0 and below the
 * runner's own image at 0x08048000 (a static i386 executable). */
#define DT_GLA_MIN 0x00001000u
#define DT_GLA_MAX 0x08000000u

/* Selectors the FS and GS of a test use: GDT TLS entries 13 and 14 (an
 * x86-64 kernel gives a 32-bit process TLS entries 12-14; glibc takes
 * 12). The native runner installs them with set_thread_area(2), the
 * translated side with cpu_user_set_tls(), both as flat 4 GiB data
 * segments at the case's FS and GS bases, so segment loads of these
 * selectors mean the same on both sides. */
#define DT_FS_TLS_ENTRY 13u
#define DT_GS_TLS_ENTRY 14u
#define DT_FS_SEL (DT_FS_TLS_ENTRY << 3 | 3u)
#define DT_GS_SEL (DT_GS_TLS_ENTRY << 3 | 3u)
/* Linux's flat user selectors for a 32-bit process on an x86-64 kernel. */
#define DT_USER_CS 0x0023u
#define DT_USER_DS 0x002bu

enum dt_status {
    DT_ST_NONE = 0,
    DT_ST_INT3 = 1,     /* the sequence reached its INT3; eip is after it */
    DT_ST_EXC = 2,      /* an exception: vector, error_code, cr2; eip at the fault */
    DT_ST_TIMEOUT = 3,  /* no end within the case's time limit */
    DT_ST_CRASH = 4,    /* the worker died (a translator crash) */
    DT_ST_ERROR = 5,    /* the worker could not set the case up; see msg */
    DT_ST_REFUSED = 6,  /* cpu_run returned an error or CPU_EXIT_INTERNAL; see msg */
};

/* Architectural state one case starts from and ends in. */
struct dt_cpu {
    uint32_t gpr[8];        /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;
    uint32_t fs_base;
    uint32_t gs_base;
    uint16_t fs_sel;
    uint16_t gs_sel;
    uint8_t pad[12];
    uint8_t fx[512] __attribute__((aligned(16))); /* FXSAVE image (SDM 1 10.5.1) */
};

struct dt_region {
    uint32_t gla;           /* page aligned guest linear address */
    uint32_t size_bytes;    /* page multiple */
    uint32_t prot;          /* PROT_READ | PROT_WRITE | PROT_EXEC (same in both ABIs) */
    uint32_t init_off;      /* offset of the initial bytes in the buffer */
    uint32_t fin_off;       /* offset where the worker puts the final bytes */
    uint32_t pad[3];
};

struct dt_case {
    uint32_t magic;
    uint32_t nregions;
    uint32_t timeout_ms;
    uint32_t flags;
    struct dt_region region[DT_MAX_REGIONS];
    struct dt_cpu init;
};

struct dt_result {
    uint32_t status;        /* enum dt_status */
    uint32_t vector;        /* DT_ST_EXC: exception vector (SDM 3A 6.3.1) */
    uint32_t error_code;
    uint32_t cr2;           /* #PF: faulting linear address */
    uint32_t signo;         /* native: the signal that ended the case */
    uint32_t kicks;         /* translated: CPU_EXIT_KICK exits re-entered */
    uint32_t pad[2];
    struct dt_cpu fin;
    char msg[160];
};

_Static_assert(offsetof(struct dt_cpu, fx) == 64, "dt_cpu layout");
_Static_assert(sizeof(struct dt_cpu) == 576, "dt_cpu size");
_Static_assert(sizeof(struct dt_region) == 32, "dt_region size");
_Static_assert(offsetof(struct dt_case, init) == 16 + 32 * DT_MAX_REGIONS, "dt_case layout");
_Static_assert(sizeof(struct dt_case) <= DT_RESULT_OFF, "dt_case fits");
_Static_assert(offsetof(struct dt_result, fin) == 32, "dt_result layout");
_Static_assert(sizeof(struct dt_result) <= DT_DATA_OFF - DT_RESULT_OFF, "dt_result fits");

/* FXSAVE image offsets (SDM 1 table 10-2). */
#define DT_FX_FCW 0
#define DT_FX_FSW 2
#define DT_FX_FTW 4
#define DT_FX_FOP 6
#define DT_FX_MXCSR 24
#define DT_FX_ST0 32
#define DT_FX_XMM0 160

#endif
