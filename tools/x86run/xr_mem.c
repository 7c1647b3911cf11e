/*
 * xr_mem.c - the guest address-space map of x86run.
 *
 * The translator owns the shadow view; this file keeps x86run's own record
 * of which guest pages are mapped and with which permissions (one byte per
 * 4 KiB page, 1 MiB in all), so that system call arguments can be checked
 * before the host touches them: a bad guest pointer becomes -EFAULT, never
 * a host fault. Placement follows i386 Linux's legacy layout: the stack
 * below 3 GiB, mmap top-down below it, brk upwards after the image.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu.h"
#include "xr.h"

static uint32_t mem_page(uint32_t gla) { return gla >> XR_PAGE_SHIFT; }

/* Pages in [gla, gla+len); 0 if the range wraps past 4 GiB. */
static uint64_t mem_npages(uint32_t gla, uint32_t len_bytes)
{
    uint64_t end = (uint64_t)gla + len_bytes;
    if (end > (1ull << 32))
        return 0;
    return (end + XR_PAGE_SIZE - 1) / XR_PAGE_SIZE - gla / XR_PAGE_SIZE;
}

static uint8_t mem_flags(int prot)
{
    uint8_t f = XR_P_MAPPED;
    /* x86 pages are readable whenever they are writable or executable. */
    if (prot & (PROT_READ | PROT_WRITE | PROT_EXEC))
        f |= XR_P_R;
    if (prot & PROT_WRITE)
        f |= XR_P_W;
    if (prot & PROT_EXEC)
        f |= XR_P_X;
    return f;
}

int xr_init(struct xr *xr, struct cpu *cpu)
{
    memset(xr, 0, sizeof *xr);
    xr->cpu = cpu;
    xr->pages = calloc(XR_NPAGES, 1);
    if (!xr->pages)
        return -ENOMEM;
    xr->mmap_top = XR_MMAP_TOP;
    xr->altstack_flags = 2;     /* SS_DISABLE */
    strcpy(xr->comm, "x86run");
    return 0;
}

void xr_fini(struct xr *xr)
{
    free(xr->pages);
    xr->pages = NULL;
}

int xr_mem_is_free(const struct xr *xr, uint32_t gla, uint32_t len_bytes)
{
    uint64_t n = mem_npages(gla, len_bytes);
    if (n == 0 && len_bytes)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        if (xr->pages[mem_page(gla) + i] & XR_P_MAPPED)
            return 0;
    return 1;
}

uint32_t xr_mem_find_free(const struct xr *xr, uint32_t len_bytes, uint32_t top)
{
    uint32_t need = (uint32_t)(((uint64_t)len_bytes + XR_PAGE_SIZE - 1) / XR_PAGE_SIZE);
    uint32_t run = 0;
    if (need == 0)
        return 0;
    for (uint32_t p = mem_page(top); p-- > mem_page(XR_MMAP_BOTTOM);) {
        if (xr->pages[p] & XR_P_MAPPED) {
            run = 0;
            continue;
        }
        if (++run == need)
            return p << XR_PAGE_SHIFT;
    }
    return 0;
}

int xr_mem_map(struct xr *xr, uint32_t gla, uint32_t len_bytes, int prot)
{
    uint64_t n = mem_npages(gla, len_bytes);
    if ((gla & (XR_PAGE_SIZE - 1)) || n == 0)
        return -EINVAL;
    int rc = cpu_user_map(xr->cpu, gla, n * XR_PAGE_SIZE, prot, -1, 0);
    if (rc < 0)
        return rc < -4095 ? -ENOMEM : rc;
    memset(xr->pages + mem_page(gla), mem_flags(prot), n);
    return 0;
}

int xr_mem_unmap(struct xr *xr, uint32_t gla, uint32_t len_bytes)
{
    uint64_t n = mem_npages(gla, len_bytes);
    if ((gla & (XR_PAGE_SIZE - 1)) || n == 0)
        return -EINVAL;
    /* Unmap only what is mapped, run by run: the translator may refuse
     * ranges it never saw. */
    uint32_t p0 = mem_page(gla);
    for (uint64_t i = 0; i < n;) {
        if (!(xr->pages[p0 + i] & XR_P_MAPPED)) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < n && (xr->pages[p0 + j] & XR_P_MAPPED))
            j++;
        int rc = cpu_user_unmap(xr->cpu, (p0 + (uint32_t)i) << XR_PAGE_SHIFT,
                                (j - i) * XR_PAGE_SIZE);
        if (rc < 0)
            return rc < -4095 ? -EINVAL : rc;
        memset(xr->pages + p0 + i, 0, j - i);
        i = j;
    }
    return 0;
}

int xr_mem_protect(struct xr *xr, uint32_t gla, uint32_t len_bytes, int prot)
{
    uint64_t n = mem_npages(gla, len_bytes);
    if (gla & (XR_PAGE_SIZE - 1))
        return -EINVAL;
    if (n == 0)
        return len_bytes ? -ENOMEM : 0;
    for (uint64_t i = 0; i < n; i++)
        if (!(xr->pages[mem_page(gla) + i] & XR_P_MAPPED))
            return -ENOMEM;     /* mprotect(2): unmapped pages in range */
    int rc = cpu_user_protect(xr->cpu, gla, n * XR_PAGE_SIZE, prot);
    if (rc < 0)
        return rc < -4095 ? -EACCES : rc;
    memset(xr->pages + mem_page(gla), mem_flags(prot), n);
    return 0;
}

void *xr_ptr(struct xr *xr, uint32_t gla, uint32_t len_bytes, int need)
{
    static char empty;
    if (len_bytes == 0)
        return &empty;
    uint64_t n = mem_npages(gla, len_bytes);
    if (n == 0)
        return NULL;
    uint8_t want = XR_P_MAPPED | (uint8_t)need;
    for (uint64_t i = 0; i < n; i++)
        if ((xr->pages[mem_page(gla) + i] & want) != want)
            return NULL;
    char *host = cpu_user_ptr(xr->cpu, gla);
    if (!host)
        return NULL;
    /* A writable page that also holds translated code is write-protected in
     * the host until the first write, which the translator's SIGSEGV handler
     * catches. The kernel would instead fail a read(2) into it with EFAULT:
     * so touch such pages here first. */
    if (need & XR_P_W)
        for (uint64_t i = 0; i < n; i++)
            if (xr->pages[mem_page(gla) + i] & XR_P_X) {
                volatile char *b = host + (i ? (i << XR_PAGE_SHIFT) - (gla & (XR_PAGE_SIZE - 1)) : 0);
                *b = *b;
            }
    /* The shadow view is contiguous (DESIGN.md "Memory"); check it rather
     * than trust it, since a host access beyond a hole would crash us. */
    if (n > 1) {
        uint32_t last = gla + len_bytes - 1;
        if ((char *)cpu_user_ptr(xr->cpu, last) != host + (last - gla))
            return NULL;
    }
    return host;
}

void *xr_ptr_prefix(struct xr *xr, uint32_t gla, uint32_t len_bytes, int need,
                    uint32_t *usable_bytes)
{
    uint64_t end = (uint64_t)gla + len_bytes;
    if (end > (1ull << 32))
        end = 1ull << 32;
    uint8_t want = XR_P_MAPPED | (uint8_t)need;
    uint64_t ok_end = gla;
    while (ok_end < end && (xr->pages[mem_page((uint32_t)ok_end)] & want) == want)
        ok_end = (ok_end | (XR_PAGE_SIZE - 1)) + 1;
    if (ok_end > end)
        ok_end = end;
    *usable_bytes = (uint32_t)(ok_end - gla);
    if (len_bytes == 0)
        return xr_ptr(xr, gla, 0, need);
    if (*usable_bytes == 0)
        return NULL;
    return xr_ptr(xr, gla, *usable_bytes, need);
}

const char *xr_str(struct xr *xr, uint32_t gla, size_t max_bytes)
{
    uint64_t pos = gla;
    const char *start = NULL;
    while (pos - gla < max_bytes && pos < (1ull << 32)) {
        uint32_t in_page = XR_PAGE_SIZE - (uint32_t)(pos & (XR_PAGE_SIZE - 1));
        const char *host = xr_ptr(xr, (uint32_t)pos, in_page, XR_P_R);
        if (!host)
            return NULL;
        if (!start)
            start = host;
        else if (host != start + (pos - gla))
            return NULL;
        if (memchr(host, 0, in_page))
            return start;
        pos += in_page;
    }
    return NULL;
}

int xr_copy_in(struct xr *xr, void *dst, uint32_t gla, uint32_t len_bytes)
{
    const void *src = xr_ptr(xr, gla, len_bytes, XR_P_R);
    if (!src)
        return -EFAULT;
    memcpy(dst, src, len_bytes);
    return 0;
}

int xr_copy_out(struct xr *xr, uint32_t gla, const void *src, uint32_t len_bytes)
{
    void *dst = xr_ptr(xr, gla, len_bytes, XR_P_W);
    if (!dst)
        return -EFAULT;
    memcpy(dst, src, len_bytes);
    return 0;
}

uint32_t xr_brk(struct xr *xr, uint32_t want)
{
    uint32_t cur_end = (xr->brk_cur + XR_PAGE_SIZE - 1) & ~(XR_PAGE_SIZE - 1);
    if (want < xr->brk_start || want >= xr->mmap_top)
        return xr->brk_cur;
    uint32_t new_end = (uint32_t)(((uint64_t)want + XR_PAGE_SIZE - 1) & ~(uint64_t)(XR_PAGE_SIZE - 1));
    if (new_end > cur_end) {
        if (!xr_mem_is_free(xr, cur_end, new_end - cur_end))
            return xr->brk_cur;
        if (xr_mem_map(xr, cur_end, new_end - cur_end, PROT_READ | PROT_WRITE) < 0)
            return xr->brk_cur;
    } else if (new_end < cur_end) {
        if (xr_mem_unmap(xr, new_end, cur_end - new_end) < 0)
            return xr->brk_cur;
    }
    xr->brk_cur = want;
    return want;
}
