/*
 * xr.h - x86run internals: one guest process run under the translator.
 *
 * x86run is a user-level harness: it loads a static i386 Linux ELF program
 * into a CPU_MODE_USER vCPU (vmm/cpu/cpu.h), runs it, and forwards the
 * guest's int 0x80 system calls to the host. The parts:
 *   xr_mem.c      the guest address-space map (what is mapped, with which
 *                 permissions), brk and mmap placement, checked guest -> host
 *                 pointer translation;
 *   xr_elf.c      the ELF loader and the initial stack (argv, envp, auxv);
 *   xr_sys.c      the system call table and handlers;
 *   xr_sysconv.c  i386 <-> host struct conversions (pure functions);
 *   xr_signal.c   guest signal dispositions, masks, delivery on i386
 *                 signal frames, sigreturn;
 *   x86run.c      the command line, the run loop, exceptions -> signals.
 *
 * Lifecycle: xr_init(), xr_load_elf(), xr_setup_stack(), then loop
 * cpu_run() and xr_syscall() until xr->exited; xr_fini().
 * Not thread safe: one guest process, one thread.
 */
#ifndef VMP_XR_H
#define VMP_XR_H

#include <stddef.h>
#include <stdint.h>

struct cpu;

#define XR_PAGE_SIZE 4096u
#define XR_PAGE_SHIFT 12
#define XR_NPAGES (1u << 20)            /* 4 GiB of guest linear space */

/* Layout of the guest address space, as on i386 Linux (3 GiB user split). */
#define XR_STACK_TOP 0xC0000000u
#define XR_STACK_BYTES (8u << 20)
#define XR_MMAP_TOP (XR_STACK_TOP - XR_STACK_BYTES - (16u << 20))
#define XR_MMAP_BOTTOM 0x00010000u      /* vm.mmap_min_addr */

/* Page flags in the map: PROT_* bits (1 read, 2 write, 4 exec) + mapped. */
#define XR_P_R 0x1
#define XR_P_W 0x2
#define XR_P_X 0x4
#define XR_P_MAPPED 0x80

/* TLS descriptors that set_thread_area hands out: GDT 6..8 as on i386. */
#define XR_TLS_FIRST 6
#define XR_TLS_COUNT 3

struct xr_tls {
    uint8_t used;
    uint32_t base;
    uint32_t limit_bytes;
    uint16_t attr;              /* struct vmp_x86_seg attr encoding */
};

/* The i386 kernel's struct sigaction for rt_sigaction: 20 bytes, the mask
 * 4-byte aligned. */
struct xr_sigaction32 {
    uint32_t handler;
    uint32_t flags;
    uint32_t restorer;
    uint64_t mask;
} __attribute__((packed, aligned(4)));

struct xr {
    struct cpu *cpu;
    uint8_t *pages;             /* XR_NPAGES flag bytes */
    uint32_t brk_start;         /* guest linear; page aligned end of the image */
    uint32_t brk_cur;           /* current break (not page aligned) */
    uint32_t mmap_top;          /* top-down mmap search starts below this */
    struct xr_tls tls[XR_TLS_COUNT];
    struct xr_sigaction32 sigact[65];
    uint64_t sigmask;           /* bit sig-1: blocked */
    uint64_t sigpending;        /* bit sig-1: sent, not yet acted on */
    int32_t sigcode[65];        /* si_code of each pending signal */
    uint32_t altstack_sp, altstack_size, altstack_flags;   /* sigaltstack */
    uint32_t sig_trapno, sig_err, sig_cr2;  /* of the exception being delivered */
    int regs_restored;          /* sigreturn set every register: keep EAX */
    char exe_path[4096];        /* what /proc/self/exe names for the guest */
    char comm[16];              /* prctl PR_GET_NAME */
    int strace;                 /* log system calls to stderr */
    int exited;
    int exit_status;
    int fatal_signal;           /* nonzero: end the way this signal would */
    uint64_t nsyscalls;
};

/* xr_mem.c */
int xr_init(struct xr *xr, struct cpu *cpu);
void xr_fini(struct xr *xr);
/* Map [gla, gla+len) (page aligned) fresh; prot: PROT_*. 0 or -errno. */
int xr_mem_map(struct xr *xr, uint32_t gla, uint32_t len_bytes, int prot);
int xr_mem_unmap(struct xr *xr, uint32_t gla, uint32_t len_bytes);
int xr_mem_protect(struct xr *xr, uint32_t gla, uint32_t len_bytes, int prot);
/* 1 if every page of the range is unmapped. */
int xr_mem_is_free(const struct xr *xr, uint32_t gla, uint32_t len_bytes);
/* Highest free page-aligned range of len below top, or 0 if none. */
uint32_t xr_mem_find_free(const struct xr *xr, uint32_t len_bytes, uint32_t top);
/*
 * Host pointer to the guest range [gla, gla+len) if every page is mapped
 * with the permissions in need (XR_P_R / XR_P_W), else NULL (-> -EFAULT).
 * len 0 gives a non-NULL dummy for any gla.
 */
void *xr_ptr(struct xr *xr, uint32_t gla, uint32_t len_bytes, int need);
/*
 * Like xr_ptr for a data buffer of read(2)/write(2): *usable_bytes gets the
 * length of the accessible prefix of the range (the kernel copies up to the
 * first bad page and returns the count). NULL if not even the first byte is
 * accessible.
 */
void *xr_ptr_prefix(struct xr *xr, uint32_t gla, uint32_t len_bytes, int need,
                    uint32_t *usable_bytes);
/* A readable NUL-terminated guest string of at most max bytes, or NULL. */
const char *xr_str(struct xr *xr, uint32_t gla, size_t max_bytes);
/* Copy helpers: 0 or -EFAULT. */
int xr_copy_in(struct xr *xr, void *dst, uint32_t gla, uint32_t len_bytes);
int xr_copy_out(struct xr *xr, uint32_t gla, const void *src, uint32_t len_bytes);
/* brk: the new break, or the old one if it cannot move (Linux semantics). */
uint32_t xr_brk(struct xr *xr, uint32_t want);

/* xr_elf.c */
struct xr_image {
    uint32_t entry;
    uint32_t phdr_gla;          /* AT_PHDR */
    uint32_t phnum;
    uint32_t phent;
    uint32_t load_bias;         /* ET_DYN: where it was placed */
    uint32_t end;               /* highest byte of the image + 1 */
};
/* Load an ELF32 i386 static executable; err gets a message on failure. */
int xr_load_elf(struct xr *xr, const char *path, struct xr_image *img, char *err,
                size_t errlen);
/* Build the initial stack; returns the initial ESP (guest linear) or 0. */
uint32_t xr_setup_stack(struct xr *xr, const struct xr_image *img, int argc,
                        char *const argv[], char *const envp[], uint32_t hwcap,
                        const char *execfn);

/* xr_sys.c: handle the int 0x80 in the vCPU state; 0, or -1 when the guest
 * ended (xr->exited or xr->fatal_signal set). */
int xr_syscall(struct xr *xr);
const char *xr_syscall_name(uint32_t nr);

/* xr_signal.c. Functions returning int give 0, or -1 when the guest must
 * end (xr->fatal_signal set). */
/* Make sig pending (kill of self, SIGPIPE); code is the siginfo si_code. */
void xr_signal_send(struct xr *xr, int sig, int code);
/* Act on one pending, unblocked signal: run its handler, ignore it, or end. */
int xr_signal_deliver_pending(struct xr *xr);
/* A guest exception turned into sig: delivered to a handler, or fatal. */
int xr_signal_fault(struct xr *xr, int sig, int code, uint32_t addr, unsigned vector,
                    uint32_t error_code);
/* sigreturn (rt = 0) and rt_sigreturn (rt = 1): the registers, FPU image and
 * mask of the frame at ESP. */
long xr_signal_return(struct xr *xr, int rt);
long xr_signal_altstack(struct xr *xr, uint32_t ss_gla, uint32_t old_gla);

#endif
