/*
 * vmpack/x86state.h - the architectural state of one 32-bit x86 vCPU.
 *
 * This is what a container's "x86-cpu" section holds (spec/container.md
 * gives the byte layout; format/ encodes and decodes it) and what the VMM
 * saves and restores. Only what the guest can observe is here: nothing of
 * the host, no pointers, no translation cache.
 *
 * Lifecycle: a plain value type. Zero it, fill it, pass it by pointer.
 */
#ifndef VMPACK_X86STATE_H
#define VMPACK_X86STATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* General registers in their hardware encoding order (SDM 2A 2.1.5). */
enum { VMP_EAX, VMP_ECX, VMP_EDX, VMP_EBX, VMP_ESP, VMP_EBP, VMP_ESI, VMP_EDI };
/* Segment registers in their hardware encoding order (Sreg field). */
enum { VMP_ES, VMP_CS, VMP_SS, VMP_DS, VMP_FS, VMP_GS, VMP_NSEG };

/* A segment register with its hidden descriptor cache (SDM 3A 3.4.3). */
struct vmp_x86_seg {
    uint16_t selector;
    uint16_t attr;      /* descriptor bits 40..47 and 52..55 as
                           type:4 s:1 dpl:2 p:1 | avl:1 l:1 db:1 g:1 << 8 */
    uint32_t base;
    uint32_t limit;     /* byte granular, already scaled by G */
};

struct vmp_x86_dtr {
    uint32_t base;
    uint16_t limit;
};

/* Model-specific registers a 32-bit guest uses (SDM 4, chapter 2). */
struct vmp_x86_msrs {
    uint32_t sysenter_cs;   /* 0x174 */
    uint32_t sysenter_esp;  /* 0x175 */
    uint32_t sysenter_eip;  /* 0x176 */
    uint64_t pat;           /* 0x277 */
    uint64_t misc_enable;   /* 0x1a0 */
    uint64_t apic_base;     /* 0x1b */
    uint64_t tsc_adjust;    /* guest TSC = virtual clock + this */
};

/* An event taken but not yet delivered (exception or external interrupt). */
struct vmp_x86_event {
    uint8_t valid;
    uint8_t vector;
    uint8_t has_error_code;
    uint8_t is_interrupt;   /* 1: external interrupt, 0: exception */
    uint32_t error_code;
};

struct vmp_x86_state {
    uint32_t gpr[8];        /* VMP_EAX..VMP_EDI */
    uint32_t eip;
    uint32_t eflags;
    struct vmp_x86_seg seg[VMP_NSEG];
    struct vmp_x86_seg ldtr;
    struct vmp_x86_seg tr;
    struct vmp_x86_dtr gdtr;
    struct vmp_x86_dtr idtr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];         /* DR0-DR3, DR4/DR5 unused (kept 0), DR6, DR7 */
    struct vmp_x86_msrs msr;
    uint8_t fxsave[512] __attribute__((aligned(16))); /* FXSAVE layout, SDM 1 10.5.1 */
    struct vmp_x86_event pending;
    uint8_t halted;         /* stopped in HLT until an interrupt */
    uint8_t intr_shadow;    /* 1: next instruction follows sti or mov ss */
    uint8_t nmi_blocked;
    uint8_t reserved0;
    uint64_t icount;        /* guest instructions retired since power on */
};

#ifdef __cplusplus
}
#endif
#endif
