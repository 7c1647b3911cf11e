/*
 * xr_elf.c - load a static i386 ELF executable and build its initial stack.
 *
 * Sources: System V ABI gABI (ELF header, program headers), the i386 psABI
 * ("Process Initialization": the stack holds argc, argv, envp, auxv; all
 * other registers are zero), and what Linux's binfmt_elf places there
 * (AT_RANDOM, AT_PLATFORM, AT_EXECFN). No AT_SYSINFO: without a vDSO the
 * guest's C library makes system calls with int 0x80.
 *
 * Segments are mapped read-write, filled from the file, then set to their
 * final permissions, so the translator never sees a writable code page
 * being filled.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "xr.h"

#define ELF_MAX_PHNUM 64
#define ELF_DYN_BASE 0x56555000u    /* where i386 Linux puts a PIE */

static int elf_prot(uint32_t p_flags)
{
    return ((p_flags & PF_R) ? PROT_READ : 0) | ((p_flags & PF_W) ? PROT_WRITE : 0) |
           ((p_flags & PF_X) ? PROT_EXEC : 0);
}

static int elf_pread_full(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int xr_load_elf(struct xr *xr, const char *path, struct xr_image *img, char *err,
                size_t errlen)
{
    Elf32_Ehdr eh;
    Elf32_Phdr ph[ELF_MAX_PHNUM];
    struct stat st;
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || elf_pread_full(fd, &eh, sizeof eh, 0) < 0) {
        snprintf(err, errlen, "%s: cannot read the ELF header", path);
        goto out;
    }
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS32 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_386) {
        snprintf(err, errlen, "%s: not an ELF32 little-endian i386 file", path);
        goto out;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        snprintf(err, errlen, "%s: e_type %u: expected ET_EXEC or ET_DYN", path, eh.e_type);
        goto out;
    }
    if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHNUM ||
        (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > (uint64_t)st.st_size) {
        snprintf(err, errlen, "%s: program headers at 0x%x: %u entries of %u bytes do not fit",
                 path, eh.e_phoff, eh.e_phnum, eh.e_phentsize);
        goto out;
    }
    if (elf_pread_full(fd, ph, eh.e_phnum * sizeof(Elf32_Phdr), eh.e_phoff) < 0) {
        snprintf(err, errlen, "%s: cannot read the program headers", path);
        goto out;
    }
    uint32_t bias = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_INTERP) {
            snprintf(err, errlen, "%s: dynamically linked (PT_INTERP): only static programs run",
                     path);
            goto out;
        }
    }
    if (eh.e_type == ET_DYN)
        bias = ELF_DYN_BASE;

    memset(img, 0, sizeof *img);
    img->phnum = eh.e_phnum;
    img->phent = eh.e_phentsize;
    img->load_bias = bias;
    img->entry = eh.e_entry + bias;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf32_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        uint64_t vaddr = (uint64_t)p->p_vaddr + bias;
        uint32_t pad = (uint32_t)(vaddr & (XR_PAGE_SIZE - 1));
        uint64_t start = vaddr - pad;
        uint64_t end = (vaddr + p->p_memsz + XR_PAGE_SIZE - 1) & ~(uint64_t)(XR_PAGE_SIZE - 1);
        if (p->p_filesz > p->p_memsz || end > XR_MMAP_TOP || start < XR_MMAP_BOTTOM ||
            (uint64_t)p->p_offset + p->p_filesz > (uint64_t)st.st_size) {
            snprintf(err, errlen,
                     "%s: PT_LOAD %u at 0x%llx (file 0x%x+0x%x, memory 0x%x): outside the file "
                     "or the guest's user space",
                     path, i, (unsigned long long)vaddr, p->p_offset, p->p_filesz, p->p_memsz);
            goto out;
        }
        /* Segments may share a page (the gABI allows it): map what is new. */
        for (uint64_t pg = start; pg < end; pg += XR_PAGE_SIZE)
            if (xr_mem_is_free(xr, (uint32_t)pg, XR_PAGE_SIZE) &&
                xr_mem_map(xr, (uint32_t)pg, XR_PAGE_SIZE, PROT_READ | PROT_WRITE) < 0) {
                snprintf(err, errlen, "%s: cannot map 0x%llx", path, (unsigned long long)pg);
                goto out;
            }
        if (p->p_filesz) {
            void *dst = xr_ptr(xr, (uint32_t)vaddr, p->p_filesz, XR_P_W);
            if (!dst || elf_pread_full(fd, dst, p->p_filesz, p->p_offset) < 0) {
                snprintf(err, errlen, "%s: cannot read PT_LOAD %u", path, i);
                goto out;
            }
        }
        if (p->p_offset <= eh.e_phoff &&
            (uint64_t)eh.e_phoff + eh.e_phnum * sizeof(Elf32_Phdr) <=
                (uint64_t)p->p_offset + p->p_filesz)
            img->phdr_gla = (uint32_t)(vaddr + eh.e_phoff - p->p_offset);
        if (end > img->end)
            img->end = (uint32_t)end;
    }
    if (img->end == 0) {
        snprintf(err, errlen, "%s: no PT_LOAD segment", path);
        goto out;
    }
    /* Final permissions, after every segment is filled (shared pages get
     * the union of the segments' permissions, as the kernel's mapping of
     * overlapping pages would end up). */
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf32_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        uint32_t vaddr = p->p_vaddr + bias;
        uint32_t start = vaddr & ~(XR_PAGE_SIZE - 1);
        uint32_t end = (vaddr + p->p_memsz + XR_PAGE_SIZE - 1) & ~(XR_PAGE_SIZE - 1);
        for (uint32_t pg = start; pg < end; pg += XR_PAGE_SIZE) {
            int prot = elf_prot(p->p_flags);
            for (unsigned j = 0; j < eh.e_phnum; j++) {
                const Elf32_Phdr *q = &ph[j];
                uint32_t qs = (q->p_vaddr + bias) & ~(XR_PAGE_SIZE - 1);
                uint32_t qe = q->p_vaddr + bias + q->p_memsz;
                if (j != i && q->p_type == PT_LOAD && q->p_memsz && pg >= qs && pg < qe)
                    prot |= elf_prot(q->p_flags);
            }
            if (xr_mem_protect(xr, pg, XR_PAGE_SIZE, prot) < 0) {
                snprintf(err, errlen, "%s: cannot protect 0x%x", path, pg);
                goto out;
            }
        }
    }
    xr->brk_start = xr->brk_cur = img->end;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* The stack is built top-down in a host buffer that mirrors the guest's
 * top pages, then copied in once. */
struct stk {
    struct xr *xr;
    uint32_t sp;                /* guest linear */
    int fail;
};

static uint32_t stk_push_bytes(struct stk *s, const void *data, uint32_t len)
{
    if (s->sp - len < XR_STACK_TOP - XR_STACK_BYTES + XR_PAGE_SIZE) {
        s->fail = 1;
        return 0;
    }
    s->sp -= len;
    if (xr_copy_out(s->xr, s->sp, data, len) < 0)
        s->fail = 1;
    return s->sp;
}

static uint32_t stk_push_str(struct stk *s, const char *str)
{
    return stk_push_bytes(s, str, (uint32_t)strlen(str) + 1);
}

uint32_t xr_setup_stack(struct xr *xr, const struct xr_image *img, int argc,
                        char *const argv[], char *const envp[], uint32_t hwcap,
                        const char *execfn)
{
    struct stk s = {xr, XR_STACK_TOP, 0};
    int envc = 0;
    if (xr_mem_map(xr, XR_STACK_TOP - XR_STACK_BYTES, XR_STACK_BYTES,
                   PROT_READ | PROT_WRITE) < 0)
        return 0;
    while (envp[envc])
        envc++;
    uint32_t *argv_gla = calloc((size_t)argc + 1, sizeof *argv_gla);
    uint32_t *envp_gla = calloc((size_t)envc + 1, sizeof *envp_gla);
    if (!argv_gla || !envp_gla) {
        free(argv_gla);
        free(envp_gla);
        return 0;
    }
    uint32_t zero = 0;
    stk_push_bytes(&s, &zero, 4);
    uint32_t execfn_gla = stk_push_str(&s, execfn);
    for (int i = envc; i-- > 0;)
        envp_gla[i] = stk_push_str(&s, envp[i]);
    for (int i = argc; i-- > 0;)
        argv_gla[i] = stk_push_str(&s, argv[i]);
    uint32_t platform_gla = stk_push_str(&s, "i686");
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0x5a, sizeof rnd);
    uint32_t random_gla = stk_push_bytes(&s, rnd, sizeof rnd);

    uint32_t auxv[][2] = {
        {AT_PHDR, img->phdr_gla}, {AT_PHENT, img->phent}, {AT_PHNUM, img->phnum},
        {AT_PAGESZ, XR_PAGE_SIZE}, {AT_BASE, 0}, {AT_FLAGS, 0},
        {AT_ENTRY, img->entry}, {AT_UID, (uint32_t)getuid()}, {AT_EUID, (uint32_t)geteuid()},
        {AT_GID, (uint32_t)getgid()}, {AT_EGID, (uint32_t)getegid()},
        {AT_HWCAP, hwcap}, {AT_CLKTCK, 100}, {AT_SECURE, 0},
        {AT_RANDOM, random_gla}, {AT_HWCAP2, 0}, {AT_EXECFN, execfn_gla},
        {AT_PLATFORM, platform_gla}, {AT_NULL, 0},
    };
    uint32_t words = 1 + (uint32_t)argc + 1 + (uint32_t)envc + 1 +
                     (uint32_t)(sizeof auxv / sizeof auxv[0]) * 2;
    /* ESP is 16-byte aligned at entry (i386 psABI as Linux does it). */
    s.sp = (s.sp - words * 4) & ~15u;
    s.sp += words * 4;
    stk_push_bytes(&s, auxv, sizeof auxv);
    stk_push_bytes(&s, &zero, 4);
    stk_push_bytes(&s, envp_gla, (uint32_t)envc * 4);
    stk_push_bytes(&s, &zero, 4);
    stk_push_bytes(&s, argv_gla, (uint32_t)argc * 4);
    uint32_t argc32 = (uint32_t)argc;
    stk_push_bytes(&s, &argc32, 4);
    free(argv_gla);
    free(envp_gla);
    return s.fail ? 0 : s.sp;
}
