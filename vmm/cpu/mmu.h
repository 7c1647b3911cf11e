/*
 * mmu.h - the guest page-table walker (32-bit, non-PAE, SDM 3A 4.3) and
 * linear-address reads and writes done by C code (descriptor tables, the
 * TSS, exception frames, emulated instructions).
 *
 * mmu_translate() is what the shadow-view fault path calls: it walks the
 * guest tables for one access, sets the accessed bits (and the dirty bit
 * for a write) in guest memory as the hardware does, and says with which
 * permissions the page may be mapped in the view. A page that is not dirty
 * yet is mapped read-only even when writable, so the first write faults
 * again and sets D (mmu_walk.map_writable).
 */
#ifndef VMP_CPU_MMU_H
#define VMP_CPU_MMU_H

#include "sys.h"

/* Access kinds; the values are the #PF error code's W/R and U/S bits. */
#define MMU_WRITE 0x2u
#define MMU_USER  0x4u   /* a CPL 3 access; without it: supervisor */

/* #PF error code bits (SDM 3A 4.7) */
#define MMU_PF_P    0x1u
#define MMU_PF_W    0x2u
#define MMU_PF_U    0x4u
#define MMU_PF_RSVD 0x8u

struct mmu_walk {
    uint32_t gpa;          /* guest physical address of the byte */
    uint8_t user;          /* CPL 3 may access the page */
    uint8_t writable;      /* the access's privilege may write the page */
    uint8_t map_writable;  /* writable and dirty: may be mapped writable */
    uint8_t global;        /* G with CR4.PGE: survives CR3 writes */
    uint8_t large;         /* a 4 MiB page */
};

/*
 * Translate gla for an access of kind access (MMU_WRITE | MMU_USER).
 * Paging off: gpa = gla, everything allowed. Returns 0 and fills *w, or -1
 * with *f = #PF (error code, cr2 = gla); CR2 itself is not written (the
 * caller does when it delivers the fault). Page-table entries outside RAM
 * read as not present.
 */
int mmu_translate(struct sys_ctx *c, uint32_t gla, unsigned access, struct mmu_walk *w,
                  struct sys_fault *f);

/*
 * Read or write len bytes at linear address gla, page by page, with the
 * access kind's checks. Bytes at physical addresses outside RAM read as
 * 0xFF and writes to them are dropped (system tables in MMIO are a guest
 * bug, not an MMIO access to emulate). A write is all or nothing: every
 * page is checked before a byte is written. Returns 0 or -1 with *f.
 */
int mmu_read(struct sys_ctx *c, uint32_t gla, void *buf, unsigned len, unsigned access,
             struct sys_fault *f);
int mmu_write(struct sys_ctx *c, uint32_t gla, const void *buf, unsigned len, unsigned access,
              struct sys_fault *f);

#endif
