/*
 * sys.h - what the system-mode pieces (mmu.c, seg.c, intr.c) share: the
 * machine they act on and the guest exception an operation raises.
 *
 * These pieces are pure functions over a struct vmp_x86_state and guest
 * physical RAM as a host pointer: no threads, no signals, no translated
 * code, so the unit tests call them directly. The dispatcher (cpu.c) calls
 * them from its helpers and its SIGSEGV path.
 */
#ifndef VMP_CPU_SYS_H
#define VMP_CPU_SYS_H

#include <stdint.h>

#include <vmpack/x86state.h>

/* The state and RAM an operation reads and changes. */
struct sys_ctx {
    struct vmp_x86_state *st;
    uint8_t *ram;          /* host pointer to guest physical address 0 */
    uint64_t ram_bytes;
};

/* A guest exception raised by an operation. */
struct sys_fault {
    uint8_t vector;
    uint8_t has_error;
    uint32_t error;
    uint32_t cr2;          /* #PF: the faulting linear address */
    uint8_t in_new_task;   /* raised after a task switch's commit point (SDM 3A
                              7.3): the state is the new task's, EIP its first
                              instruction, and the fault is delivered there */
};

/* Exception vectors (SDM 3A 6.3.1) */
enum {
    SYS_DE = 0, SYS_DB = 1, SYS_NMI = 2, SYS_BP = 3, SYS_OF = 4, SYS_BR = 5, SYS_UD = 6,
    SYS_NM = 7, SYS_DF = 8, SYS_TS = 10, SYS_NP = 11, SYS_SS = 12, SYS_GP = 13, SYS_PF = 14,
    SYS_MF = 16, SYS_AC = 17, SYS_MC = 18, SYS_XM = 19
};

/* EFLAGS bits (SDM 1 3.4.3) */
#define SYS_FL_CF   0x00000001u
#define SYS_FL_TF   0x00000100u
#define SYS_FL_IF   0x00000200u
#define SYS_FL_DF   0x00000400u
#define SYS_FL_IOPL 0x00003000u
#define SYS_FL_NT   0x00004000u
#define SYS_FL_RF   0x00010000u
#define SYS_FL_VM   0x00020000u
#define SYS_FL_AC   0x00040000u
#define SYS_FL_ID   0x00200000u

/* Control register bits (SDM 3A 2.5) */
#define SYS_CR0_PE  0x00000001u
#define SYS_CR0_TS  0x00000008u
#define SYS_CR0_WP  0x00010000u
#define SYS_CR0_PG  0x80000000u
#define SYS_CR4_PSE 0x00000010u
#define SYS_CR4_PGE 0x00000080u

static inline int sys_fail(struct sys_fault *f, uint8_t vector, int has_error, uint32_t error)
{
    f->vector = vector;
    f->has_error = (uint8_t)has_error;
    f->error = error;
    f->cr2 = 0;
    f->in_new_task = 0;
    return -1;
}

/* The current privilege level: CS.RPL in protected mode, 0 in real mode. */
static inline unsigned sys_cpl(const struct vmp_x86_state *st)
{
    if (!(st->cr0 & SYS_CR0_PE))
        return 0;
    return st->seg[VMP_CS].selector & 3u;
}

#endif
