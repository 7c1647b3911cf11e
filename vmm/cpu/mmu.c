/*
 * mmu.c - the guest page-table walker: 32-bit paging without PAE, 4 KiB
 * and 4 MiB (CR4.PSE) pages, global pages (CR4.PGE), CR0.WP, accessed and
 * dirty bits (SDM 3A 4.3, 4.6, 4.8). No NX (the profiles have no PAE), so
 * the error code has no I/D bit; no PSE-36: bits 21:13 of a 4 MiB PDE are
 * reserved and raise #PF with RSVD set.
 */
#include <string.h>

#include "mmu.h"

#define PTE_P   0x001u
#define PTE_W   0x002u
#define PTE_U   0x004u
#define PTE_A   0x020u
#define PTE_D   0x040u
#define PTE_PS  0x080u
#define PTE_G   0x100u
#define PDE_4M_RSVD 0x003fe000u

static int mmu_phys_ok(const struct sys_ctx *c, uint32_t gpa, unsigned len)
{
    return (uint64_t)gpa + len <= c->ram_bytes;
}

static uint32_t mmu_load_entry(const struct sys_ctx *c, uint32_t gpa)
{
    uint32_t v;
    if (!mmu_phys_ok(c, gpa, 4))
        return 0;
    memcpy(&v, c->ram + gpa, 4);
    return v;
}

static void mmu_set_bits(struct sys_ctx *c, uint32_t gpa, uint32_t entry, uint32_t bits)
{
    if ((entry & bits) == bits || !mmu_phys_ok(c, gpa, 4))
        return;
    entry |= bits;
    memcpy(c->ram + gpa, &entry, 4);
}

int mmu_translate(struct sys_ctx *c, uint32_t gla, unsigned access, struct mmu_walk *w,
                  struct sys_fault *f)
{
    const struct vmp_x86_state *st = c->st;
    int write = (access & MMU_WRITE) != 0, user = (access & MMU_USER) != 0;
    uint32_t err = access & (MMU_PF_W | MMU_PF_U);

    memset(w, 0, sizeof *w);
    if (!(st->cr0 & SYS_CR0_PG)) {
        w->gpa = gla;
        w->user = w->writable = w->map_writable = 1;
        return 0;
    }
    uint32_t pde_gpa = (st->cr3 & 0xfffff000u) | ((gla >> 22) << 2);
    uint32_t pde = mmu_load_entry(c, pde_gpa);
    if (!(pde & PTE_P))
        goto fault;
    uint32_t eff = pde; /* U and W are the AND of both levels (SDM 3A 4.6.1) */
    uint32_t leaf, leaf_gpa;
    if ((pde & PTE_PS) && (st->cr4 & SYS_CR4_PSE)) {
        if (pde & PDE_4M_RSVD) {
            err |= MMU_PF_P | MMU_PF_RSVD;
            goto fault;
        }
        leaf = pde;
        leaf_gpa = pde_gpa;
        w->large = 1;
        w->gpa = (pde & 0xffc00000u) | (gla & 0x003fffffu);
    } else {
        leaf_gpa = (pde & 0xfffff000u) | (((gla >> 12) & 0x3ffu) << 2);
        leaf = mmu_load_entry(c, leaf_gpa);
        if (!(leaf & PTE_P))
            goto fault;
        eff &= leaf;
        w->gpa = (leaf & 0xfffff000u) | (gla & 0xfffu);
    }
    w->user = (eff & PTE_U) != 0;
    /* SDM 3A 4.6.1: supervisor writes ignore R/W unless CR0.WP; user
     * writes need R/W at both levels. */
    w->writable = (eff & PTE_W) || (!user && !(st->cr0 & SYS_CR0_WP));
    if ((user && !w->user) || (write && !w->writable)) {
        err |= MMU_PF_P;
        goto fault;
    }
    w->global = (leaf & PTE_G) && (st->cr4 & SYS_CR4_PGE);
    /* SDM 3A 4.8: A in every entry used, D in the leaf on a write. */
    if (!w->large)
        mmu_set_bits(c, pde_gpa, pde, PTE_A);
    mmu_set_bits(c, leaf_gpa, leaf, write ? (PTE_A | PTE_D) : PTE_A);
    w->map_writable = w->writable && (write || (leaf & PTE_D));
    return 0;
fault:
    sys_fail(f, SYS_PF, 1, err);
    f->cr2 = gla;
    return -1;
}

/* Copy one page's part of an access; gpa..gpa+n stays in one page. */
static void mmu_copy(struct sys_ctx *c, uint32_t gpa, uint8_t *buf, unsigned n, int write)
{
    if (mmu_phys_ok(c, gpa, n)) {
        if (write)
            memcpy(c->ram + gpa, buf, n);
        else
            memcpy(buf, c->ram + gpa, n);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t p = (uint64_t)gpa + i;
        if (p < c->ram_bytes) {
            if (write)
                c->ram[p] = buf[i];
            else
                buf[i] = c->ram[p];
        } else if (!write) {
            buf[i] = 0xff;
        }
    }
}

/* The pages of an access are walked once, all before a byte moves, so a
 * write that faults changes nothing; the walks of the first two pages (all
 * of them but for a buffer over 4 KiB) are kept for the copy, later ones
 * are walked again. */
static int mmu_access(struct sys_ctx *c, uint32_t gla, uint8_t *buf, unsigned len,
                      unsigned access, struct sys_fault *f)
{
    struct mmu_walk w;
    uint32_t gpa[2] = {0, 0};
    int write = (access & MMU_WRITE) != 0;
    unsigned i = 0;

    for (uint32_t done = 0; done < len; i++) {
        uint32_t a = gla + done;
        unsigned n = 4096 - (a & 4095);
        if (mmu_translate(c, a, access, &w, f) < 0)
            return -1;
        if (i < 2)
            gpa[i] = w.gpa;
        done += n < len - done ? n : len - done;
    }
    i = 0;
    for (uint32_t done = 0; done < len; i++) {
        uint32_t a = gla + done;
        unsigned n = 4096 - (a & 4095);
        if (n > len - done)
            n = len - done;
        if (i >= 2)
            (void)mmu_translate(c, a, access, &w, f);
        mmu_copy(c, i < 2 ? gpa[i] : w.gpa, buf + done, n, write);
        done += n;
    }
    return 0;
}

int mmu_read(struct sys_ctx *c, uint32_t gla, void *buf, unsigned len, unsigned access,
             struct sys_fault *f)
{
    return mmu_access(c, gla, buf, len, access & ~MMU_WRITE, f);
}

int mmu_write(struct sys_ctx *c, uint32_t gla, const void *buf, unsigned len, unsigned access,
              struct sys_fault *f)
{
    return mmu_access(c, gla, (uint8_t *)(uintptr_t)buf, len, access | MMU_WRITE, f);
}
