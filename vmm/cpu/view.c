/*
 * view.c - the guest's linear address space as host address space: the
 * *view*.
 *
 * 4 GiB of host address space, 4 GiB aligned (so the low half of a host
 * pointer into it is the guest linear address, which the string and
 * MASKMOV rewrites rely on), reserved PROT_NONE with a guard on each side
 * (an access that starts below 4 GiB may spill past it; a string op going
 * down from 0 meets the lower guard). The GS base of the vCPU thread points
 * at it while translated code runs (cpu.c). cpu_user_map() maps pages into
 * it; page[] keeps the guest's protection of every page and whether
 * translated code came from it: such a page's host copy is read-only until
 * a write invalidates the code (view_smc, or cpu_signal.c for C writes).
 *
 * System mode has two shadow views over the RAM memfd, one per privilege
 * (DESIGN.md, "Memory"): sview[0] for CPL 0-2, sview[1] for CPL 3, each
 * with its own page[] (spage[]), 8 GiB apart (the 4 GiB between them is
 * reserved too: the guard of the first). Each is filled lazily with its
 * privilege's rights (cpu_sys.c); a privilege change only points cpu->view,
 * cpu->page and the GS base at the other one (view_sys_select). CR3
 * writes (but for global pages), INVLPG and paging changes unmap in both;
 * mlist and glist name what is mapped, so that no 1 Mi-entry scan is
 * needed. The marks of translated code (PP_CODE, PP_XCHK) belong to the
 * linear page, not to a view: they are set and cleared in both page[]
 * arrays, and a RAM page with code (pcode[]) is read-only at every linear
 * address in both views. The translator only needs cpu->view and
 * cpu->page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu_int.h"

static int view_host_prot(uint8_t pp)
{
    int prot = 0;
    if (!(pp & PP_MAPPED))
        return PROT_NONE;
    if (pp & (PROT_READ | PROT_EXEC | PROT_WRITE))
        prot |= PROT_READ; /* x86 pages that can be written or run can be read */
    if ((pp & PROT_WRITE) && !(pp & PP_CODE))
        prot |= PROT_WRITE;
    return prot;
}

int view_create(struct cpu *cpu)
{
    /* system mode: the CPL 3 view 8 GiB above the CPL 0 one */
    int sys = cpu->mode == CPU_MODE_SYSTEM;
    uint64_t span = sys ? 3 * CPU_VIEW_BYTES : CPU_VIEW_BYTES;
    /* one view's worth of slack to align the first view to 4 GiB */
    cpu->view_mapping_bytes = CPU_VIEW_BYTES + span + 2 * CPU_VIEW_GUARD;
    cpu->view_mapping = mmap(NULL, cpu->view_mapping_bytes, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (cpu->view_mapping == MAP_FAILED) {
        cpu->view_mapping = NULL;
        return -1;
    }
    uintptr_t v = (uintptr_t)cpu->view_mapping + CPU_VIEW_GUARD;
    v = (v + CPU_VIEW_BYTES - 1) & ~(uintptr_t)(CPU_VIEW_BYTES - 1);
    cpu->view = (uint8_t *)v;
    cpu->page = calloc(CPU_NPAGES, 1);
    if (!cpu->page)
        return -1;
    if (sys) {
        cpu->sview[0] = cpu->view;
        cpu->sview[1] = cpu->view + 2 * CPU_VIEW_BYTES;
        cpu->spage[0] = cpu->page;
        cpu->spage[1] = calloc(CPU_NPAGES, 1);
        if (!cpu->spage[1])
            return -1;
    }
    return 0;
}

void view_destroy(struct cpu *cpu)
{
    if (cpu->view_mapping)
        munmap(cpu->view_mapping, cpu->view_mapping_bytes);
    if (cpu->spage[0]) {
        free(cpu->spage[0]);
        free(cpu->spage[1]);
    } else {
        free(cpu->page);
    }
}

static int view_range_ok(struct cpu *cpu, uint32_t gla, uint64_t len)
{
    if ((gla & (CPU_PAGE_SIZE - 1)) || (len & (CPU_PAGE_SIZE - 1)) || len == 0 ||
        (uint64_t)gla + len > CPU_VIEW_BYTES) {
        cpu_set_err(cpu, "range 0x%08x+0x%llx: not page aligned or past 4 GiB", gla,
                    (unsigned long long)len);
        return 0;
    }
    return 1;
}

/* Pages losing their contents or protection drop the code translated from them. */
static void view_forget_code(struct cpu *cpu, uint32_t gla, uint64_t len)
{
    int had_code = 0;
    for (uint64_t a = gla; a < (uint64_t)gla + len; a += CPU_PAGE_SIZE) {
        if (cpu->page[a >> 12] & PP_CODE) {
            had_code = 1;
            cpu->page[a >> 12] &= (uint8_t)~PP_CODE;
        }
    }
    if (had_code) {
        tc_flush(cpu);
        cpu->stats.smc_invalidations++;
    }
}

int cpu_user_map(struct cpu *cpu, uint32_t gla, uint64_t len_bytes, int prot, int fd,
                 uint64_t offset_bytes)
{
    if (cpu->mode != CPU_MODE_USER || !view_range_ok(cpu, gla, len_bytes))
        return -EINVAL;
    view_forget_code(cpu, gla, len_bytes);
    uint8_t pp = (uint8_t)(PP_MAPPED | (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)));
    int flags = MAP_FIXED | MAP_PRIVATE | (fd < 0 ? MAP_ANONYMOUS : 0);
    void *p = mmap(cpu->view + gla, len_bytes, view_host_prot(pp), flags, fd < 0 ? -1 : fd,
                   fd < 0 ? 0 : (off_t)offset_bytes);
    if (p == MAP_FAILED) {
        int err = errno;
        cpu_set_err(cpu, "map 0x%08x+0x%llx: %s", gla, (unsigned long long)len_bytes,
                    strerror(err));
        return -err;
    }
    memset(cpu->page + (gla >> 12), pp, len_bytes >> 12);
    return 0;
}

int cpu_user_unmap(struct cpu *cpu, uint32_t gla, uint64_t len_bytes)
{
    if (cpu->mode != CPU_MODE_USER || !view_range_ok(cpu, gla, len_bytes))
        return -EINVAL;
    view_forget_code(cpu, gla, len_bytes);
    void *p = mmap(cpu->view + gla, len_bytes, PROT_NONE,
                   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    memset(cpu->page + (gla >> 12), 0, len_bytes >> 12);
    return 0;
}

int cpu_user_protect(struct cpu *cpu, uint32_t gla, uint64_t len_bytes, int prot)
{
    if (cpu->mode != CPU_MODE_USER || !view_range_ok(cpu, gla, len_bytes))
        return -EINVAL;
    for (uint64_t a = gla; a < (uint64_t)gla + len_bytes; a += CPU_PAGE_SIZE) {
        uint8_t *pp = &cpu->page[a >> 12];
        if (!(*pp & PP_MAPPED))
            return -ENOMEM;
    }
    for (uint64_t a = gla; a < (uint64_t)gla + len_bytes; a += CPU_PAGE_SIZE) {
        uint8_t *pp = &cpu->page[a >> 12];
        *pp = (uint8_t)((*pp & (PP_MAPPED | PP_CODE)) | (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)));
        if (mprotect(cpu->view + a, CPU_PAGE_SIZE, view_host_prot(*pp)) != 0)
            return -errno;
    }
    return 0;
}

int cpu_user_set_tls(struct cpu *cpu, unsigned entry, uint32_t base, uint32_t limit,
                     unsigned flags)
{
    if (cpu->mode != CPU_MODE_USER || entry >= sizeof cpu->tls / sizeof cpu->tls[0])
        return -EINVAL;
    struct vmp_x86_seg *d = &cpu->tls[entry];
    d->selector = (uint16_t)(entry << 3 | 3);
    d->base = base;
    d->limit = limit;
    d->attr = (uint16_t)((flags & 0x80) ? flags : 0);
    return 0;
}

void *cpu_user_ptr(struct cpu *cpu, uint32_t gla)
{
    return cpu->view + gla;
}

#define VIEW_XLIST_MAX (1u << 16)

/* --- system mode: the two shadow views over the RAM memfd ------------------ */

static void view_sys_reprotect(struct cpu *cpu, int v, uint32_t pg)
{
    mprotect(cpu->sview[v] + ((uint64_t)pg << 12), CPU_PAGE_SIZE,
             view_host_prot(cpu->spage[v][pg]));
}

/* either view's page[] entry for linear page pg */
static uint8_t view_sys_either(const struct cpu *cpu, uint32_t pg)
{
    return cpu->spage[0][pg] | cpu->spage[1][pg];
}

/* the views linear page pg is mapped in: bit v for sview[v] */
static unsigned view_sys_mapped_in(const struct cpu *cpu, uint32_t pg)
{
    return (cpu->spage[0][pg] & PP_MAPPED ? 1u : 0u) | (cpu->spage[1][pg] & PP_MAPPED ? 2u : 0u);
}

/* linear page pg is no longer mapped in either view: only its code marks stay */
static void view_sys_drop(struct cpu *cpu, uint32_t pg)
{
    cpu->spage[0][pg] &= PP_CODE | PP_XCHK;
    cpu->spage[1][pg] &= PP_CODE | PP_XCHK;
}

/* linear page pg holds translated code: read-only in both views */
static void view_sys_code_set(struct cpu *cpu, uint32_t pg)
{
    for (int v = 0; v < 2; v++) {
        uint8_t *pp = &cpu->spage[v][pg];
        if (*pp & PP_CODE)
            continue;
        *pp |= PP_CODE;
        if ((*pp & PP_MAPPED) && (*pp & PROT_WRITE))
            view_sys_reprotect(cpu, v, pg);
    }
}

/* clear code marks (PP_CODE, PP_XCHK) of linear page pg in both views; a
 * mapped page that loses PP_CODE gets its guest rights back */
static void view_sys_code_clear(struct cpu *cpu, uint32_t pg, uint8_t bits)
{
    for (int v = 0; v < 2; v++) {
        uint8_t *pp = &cpu->spage[v][pg];
        int was_code = (*pp & PP_CODE) != 0;
        *pp &= (uint8_t)~bits;
        if (was_code && !(*pp & PP_CODE) && (*pp & PP_MAPPED) && (*pp & PROT_WRITE))
            view_sys_reprotect(cpu, v, pg);
    }
}

void view_sys_forget_code(struct cpu *cpu, uint32_t pg)
{
    view_sys_code_clear(cpu, pg, PP_CODE | PP_XCHK);
}

/* RAM page gpn just got code; other linear pages mapping it that are
 * already in a view (made writable after a write dropped the code) become
 * read-only too, or a later write through them is not seen */
static void view_sys_protect_aliases(struct cpu *cpu, uint32_t gpn)
{
    for (int l = 0; l < 2; l++) {
        const uint32_t *list = l ? cpu->glist : cpu->mlist;
        uint32_t n = l ? cpu->ng : cpu->nm;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t lin = list[i];
            if ((view_sys_either(cpu, lin) & PP_MAPPED) &&
                cpu->page_gpn[lin] == gpn)
                view_sys_code_set(cpu, lin);
        }
    }
}

/* linear page pg (mapped) holds translated code */
static void view_sys_list_code(struct cpu *cpu, uint32_t pg)
{
    uint32_t gpn = cpu->page_gpn[pg];
    if ((uint64_t)gpn < cpu->ram_bytes >> 12 && !cpu->pcode[gpn]) {
        cpu->pcode[gpn] = 1;
        view_sys_protect_aliases(cpu, gpn);
    }
    if (cpu->page[pg] & PP_XCHK) {
        cpu->xgpn[pg] = gpn;
        return;
    }
    if (cpu->nx == VIEW_XLIST_MAX) {
        cpu->xlist_over = 1;
        return;
    }
    cpu->spage[0][pg] |= PP_XCHK;
    cpu->spage[1][pg] |= PP_XCHK;
    cpu->xgpn[pg] = gpn;
    cpu->xlist[cpu->nx++] = pg;
}

void view_mark_code(struct cpu *cpu, uint32_t gla_first, uint32_t gla_end)
{
    uint32_t last = (gla_end - 1) >> 12;
    for (uint32_t pg = gla_first >> 12;; pg = (pg + 1) & (CPU_NPAGES - 1)) {
        uint8_t *pp = &cpu->page[pg];
        if (cpu->xlist) {
            if (*pp & PP_MAPPED) {
                view_sys_list_code(cpu, pg);
                view_sys_code_set(cpu, pg);
            }
        } else if ((*pp & PP_MAPPED) && !(*pp & PP_CODE)) {
            *pp |= PP_CODE;
            if (*pp & PROT_WRITE)
                mprotect(cpu->view + ((uint64_t)pg << 12), CPU_PAGE_SIZE, view_host_prot(*pp));
        }
        if (pg == last)
            break;
    }
}

/* A write to a page with translated code: drop that code, make it writable. */
void view_smc(struct cpu *cpu, uint32_t gla)
{
    uint32_t pg = gla >> 12;
    if (!cpu->xlist) {
        cpu->page[pg] &= (uint8_t)~PP_CODE;
        mprotect(cpu->view + ((uint64_t)pg << 12), CPU_PAGE_SIZE, view_host_prot(cpu->page[pg]));
        tc_invalidate_page(cpu, pg);
        cpu->stats.smc_invalidations++;
        return;
    }
    /* system mode: the code of every linear page mapping the same RAM page */
    int mapped = (cpu->page[pg] & PP_MAPPED) != 0;
    view_sys_code_clear(cpu, pg, PP_CODE);
    uint64_t gen = cpu->flush_gen;
    tc_invalidate_page(cpu, pg);
    cpu->stats.smc_invalidations++;
    if (!mapped || gen != cpu->flush_gen)
        return;
    uint32_t gpn = cpu->page_gpn[pg];
    if ((uint64_t)gpn < cpu->ram_bytes >> 12)
        cpu->pcode[gpn] = 0;
    for (uint32_t i = 0; i < cpu->nx;) {
        uint32_t lin = cpu->xlist[i];
        if (cpu->xgpn[lin] != gpn) {
            i++;
            continue;
        }
        if (lin != pg) {
            tc_invalidate_page(cpu, lin);
            if (gen != cpu->flush_gen)
                return;
        }
        view_sys_code_clear(cpu, lin, PP_CODE | PP_XCHK);
        cpu->xlist[i] = cpu->xlist[--cpu->nx];
    }
}

void view_sys_select(struct cpu *cpu, int user)
{
    cpu->view_user = (uint8_t)(user != 0);
    cpu->view = cpu->sview[cpu->view_user];
    cpu->page = cpu->spage[cpu->view_user];
    cpu->rt->view = (uint64_t)(uintptr_t)cpu->view;
}

#define VIEW_IN_M 1u /* plist[]: on mlist */
#define VIEW_IN_G 2u /* on glist */

static void view_sys_list(struct cpu *cpu, uint32_t pg)
{
    if (cpu->plist[pg] & VIEW_IN_M)
        return;
    cpu->plist[pg] |= VIEW_IN_M;
    cpu->mlist[cpu->nm++] = pg; /* a page is on it once: CPU_NPAGES entries suffice */
}

/* mmap npages of the RAM memfd at linear page pg of the current view; past
 * vm.max_map_count (one mapping per page) the views start over */
static int view_sys_mmap(struct cpu *cpu, uint32_t pg, uint32_t npages, int prot, int fd,
                         uint32_t gpa)
{
    for (int attempt = 0;; attempt++) {
        void *p = mmap(cpu->view + ((uint64_t)pg << 12), (size_t)npages << 12, prot,
                       MAP_SHARED | MAP_FIXED, fd, (off_t)(gpa & ~(CPU_PAGE_SIZE - 1)));
        if (p != MAP_FAILED)
            return 0;
        if (errno != ENOMEM || attempt)
            return -errno;
        view_sys_unmap_all(cpu);
        cpu->stats.view_resets++;
    }
}

/* the code marks linear page pg gets when it maps RAM page gpn: its own,
 * and PP_CODE if translated code came from gpn through any linear page */
static uint8_t view_sys_code_of(const struct cpu *cpu, uint32_t pg, uint32_t gpn)
{
    return (cpu->page[pg] & (PP_CODE | PP_XCHK)) |
           ((uint64_t)gpn < cpu->ram_bytes >> 12 && cpu->pcode[gpn] ? PP_CODE : 0);
}

/* page[] and the lists for linear page pg, now mapping RAM page gpn with pp */
static uint8_t view_sys_note(struct cpu *cpu, uint32_t pg, uint32_t gpn, uint8_t pp)
{
    uint8_t code = view_sys_code_of(cpu, pg, gpn);
    cpu->page_gpn[pg] = gpn;
    view_sys_list(cpu, pg);
    cpu->page[pg] = pp | code;
    return cpu->page[pg];
}

/*
 * Map guest physical page gpa at linear page gla in the current view with
 * the guest's permission for its privilege (prot: PROT_READ, plus
 * PROT_WRITE when the page is writable and dirty, plus PP_GLOBAL for a
 * global page). A page with translated code stays read-only in the host
 * (view_host_prot), as in user mode.
 */
int view_sys_map(struct cpu *cpu, uint32_t gla, int fd, uint32_t gpa, int prot)
{
    uint32_t pg = gla >> 12;
    uint32_t gpn = gpa >> 12;
    uint8_t pp = (uint8_t)(PP_MAPPED | PROT_EXEC | (prot & (PROT_READ | PROT_WRITE | PP_GLOBAL)));
    int rc = view_sys_mmap(cpu, pg, 1, view_host_prot(pp | view_sys_code_of(cpu, pg, gpn)), fd,
                           gpa);
    if (rc < 0)
        return rc;
    view_sys_note(cpu, pg, gpn, pp);
    cpu->stats.view_maps++;
    return 0;
}

/* A 4 MiB page (Linux maps its low memory with them) in one call: its
 * pages with code are then made read-only again, a run at a time. */
int view_sys_map_large(struct cpu *cpu, uint32_t gla, int fd, uint32_t gpa, int prot)
{
    const uint32_t n = 1024;
    uint32_t pg0 = gla >> 12, gpn0 = gpa >> 12;
    uint8_t pp = (uint8_t)(PP_MAPPED | PROT_EXEC | (prot & (PROT_READ | PROT_WRITE | PP_GLOBAL)));
    int rc = view_sys_mmap(cpu, pg0, n, view_host_prot(pp), fd, gpa);
    if (rc < 0)
        return rc;
    uint32_t ro_first = 0, ro_n = 0;
    for (uint32_t i = 0; i <= n; i++) {
        int ro = 0;
        if (i < n)
            ro = view_host_prot(view_sys_note(cpu, pg0 + i, gpn0 + i, pp)) != view_host_prot(pp);
        if (ro && ro_n == 0)
            ro_first = pg0 + i;
        if (ro) {
            ro_n++;
            continue;
        }
        if (ro_n)
            mprotect(cpu->view + ((uint64_t)ro_first << 12), (size_t)ro_n << 12, PROT_READ);
        ro_n = 0;
    }
    cpu->stats.view_maps++;
    return 0;
}

/* views: bit v for sview[v] */
static void view_sys_unmap_range(struct cpu *cpu, uint32_t pg_first, uint32_t pg_end,
                                 unsigned views)
{
    for (int v = 0; v < 2; v++)
        if (views & (1u << v))
            mmap(cpu->sview[v] + ((uint64_t)pg_first << 12),
                 (uint64_t)(pg_end - pg_first) << 12, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* Forget every linear mapping of both views (CR3 write, paging control);
 * the marks of translated code stay with their pages. */
void view_sys_unmap_all(struct cpu *cpu)
{
    if (cpu->nm == 0 && cpu->ng == 0)
        return;
    view_sys_unmap_range(cpu, 0, CPU_NPAGES, 3);
    for (int l = 0; l < 2; l++) {
        const uint32_t *list = l ? cpu->glist : cpu->mlist;
        uint32_t n = l ? cpu->ng : cpu->nm;
        for (uint32_t i = 0; i < n; i++) {
            view_sys_drop(cpu, list[i]);
            cpu->plist[list[i]] = 0;
        }
    }
    cpu->nm = cpu->ng = 0;
    cpu->gmin = UINT32_MAX;
    cpu->stats.view_flushes++;
}

static int view_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int view_sys_global_mapped(const struct cpu *cpu, uint32_t pg)
{
    return (view_sys_either(cpu, pg) & (PP_MAPPED | PP_GLOBAL)) == (PP_MAPPED | PP_GLOBAL);
}

/*
 * SDM 3A 4.10.4.1: a CR3 write leaves the translations of global pages
 * (CR4.PGE) alone: they stay mapped in both views, the others go. Only
 * the pages mapped since the last CR3 write (mlist) are looked at: the
 * older ones are global (glist). In Linux the non-global pages (the user
 * half) lie below every global one (the kernel's), so one unmap call per
 * view covers them; otherwise each run of adjacent ones in address order
 * gets its own. A global page whose frame a CR3 write changes keeps its
 * old mapping, as a TLB may (the guest must INVLPG it); cpu_sys.c drops
 * it where code came from.
 */
void view_sys_unmap_nonglobal(struct cpu *cpu)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    unsigned views = 0; /* the views with non-global pages (copy_to_user maps
                           user pages in the supervisor view too, not always) */
    int between = 0;
    for (uint32_t i = 0; i < cpu->nm; i++) {
        uint32_t lin = cpu->mlist[i];
        if (!(view_sys_either(cpu, lin) & PP_MAPPED) ||
            view_sys_global_mapped(cpu, lin))
            continue;
        views |= view_sys_mapped_in(cpu, lin);
        lo = lin < lo ? lin : lo;
        hi = lin > hi ? lin : hi;
    }
    cpu->stats.view_flushes++;
    if (lo != UINT32_MAX) {
        between = hi > cpu->gmin;
        for (uint32_t i = 0; i < cpu->nm && !between; i++) {
            uint32_t lin = cpu->mlist[i];
            between = lin > lo && lin < hi && view_sys_global_mapped(cpu, lin);
        }
    }
    if (lo != UINT32_MAX && !between) {
        view_sys_unmap_range(cpu, lo, hi + 1, views);
    } else if (lo != UINT32_MAX) {
        qsort(cpu->mlist, cpu->nm, sizeof *cpu->mlist, view_cmp_u32);
        uint32_t run_first = 0, run_end = 0;
        for (uint32_t i = 0; i <= cpu->nm; i++) {
            uint32_t lin = i < cpu->nm ? cpu->mlist[i] : 0;
            int ng = i < cpu->nm && (view_sys_either(cpu, lin) & PP_MAPPED) &&
                     !view_sys_global_mapped(cpu, lin);
            if (ng && run_end != run_first && lin == run_end) {
                run_end = lin + 1;
                continue;
            }
            if (run_end != run_first)
                view_sys_unmap_range(cpu, run_first, run_end, views);
            run_first = run_end = 0;
            if (ng) {
                run_first = lin;
                run_end = lin + 1;
            }
        }
    }
    for (uint32_t i = 0; i < cpu->nm; i++) {
        uint32_t lin = cpu->mlist[i];
        cpu->plist[lin] &= (uint8_t)~VIEW_IN_M;
        if (view_sys_global_mapped(cpu, lin)) {
            if (!(cpu->plist[lin] & VIEW_IN_G)) {
                cpu->plist[lin] |= VIEW_IN_G;
                cpu->glist[cpu->ng++] = lin;
                cpu->gmin = lin < cpu->gmin ? lin : cpu->gmin;
            }
        } else {
            view_sys_drop(cpu, lin);
        }
    }
    cpu->nm = 0;
}

/* Forget linear page gla in both views (INVLPG). */
void view_sys_unmap_page(struct cpu *cpu, uint32_t gla)
{
    uint32_t pg = gla >> 12;
    view_sys_unmap_range(cpu, pg, pg + 1, view_sys_mapped_in(cpu, pg));
    view_sys_drop(cpu, pg); /* stays on its list: mapped again, not listed twice */
}

int view_sys_code_init(struct cpu *cpu)
{
    cpu->page_gpn = calloc(CPU_NPAGES, sizeof *cpu->page_gpn);
    cpu->xgpn = calloc(CPU_NPAGES, sizeof *cpu->xgpn);
    cpu->xlist = calloc(VIEW_XLIST_MAX, sizeof *cpu->xlist);
    cpu->pcode = calloc(cpu->ram_bytes >> 12, 1);
    cpu->mlist = calloc(CPU_NPAGES, sizeof *cpu->mlist);
    cpu->glist = calloc(CPU_NPAGES, sizeof *cpu->glist);
    cpu->plist = calloc(CPU_NPAGES, 1);
    cpu->gmin = UINT32_MAX;
    return cpu->page_gpn && cpu->xgpn && cpu->xlist && cpu->pcode && cpu->mlist && cpu->glist &&
                   cpu->plist
               ? 0
               : -1;
}

void view_sys_code_fini(struct cpu *cpu)
{
    free(cpu->page_gpn);
    free(cpu->xgpn);
    free(cpu->xlist);
    free(cpu->pcode);
    free(cpu->mlist);
    free(cpu->glist);
    free(cpu->plist);
}

void view_sys_code_reset(struct cpu *cpu)
{
    if (!cpu->xlist)
        return;
    for (uint32_t i = 0; i < cpu->nx; i++) {
        cpu->spage[0][cpu->xlist[i]] &= (uint8_t)~PP_XCHK;
        cpu->spage[1][cpu->xlist[i]] &= (uint8_t)~PP_XCHK;
    }
    cpu->nx = 0;
    cpu->xlist_over = 0;
    memset(cpu->pcode, 0, cpu->ram_bytes >> 12);
}
