/*
 * cpu_int.h - the vCPU object shared by the translator's stages (internal
 * to vmm/cpu): the runtime block (cpu_rt.h), the user-mode view, the code
 * cache and its block table.
 *
 * Stages and files:
 *   cpu.c         public API (cpu.h), the dispatcher loop
 *   view.c        the user-mode view: guest memory map, code-page protection
 *   xlat.c        translator: decoded guest instructions -> host code
 *   xlat_emit.h   the byte emitter the translator writes with
 *   tcache.c      code cache: allocation, block hash, host pc -> guest EIP
 *   cpu_signal.c  SIGSEGV/SIGBUS/SIGFPE/SIGILL in translated code
 *   cpu_helpers.c C emulation of sensitive and 64-bit-invalid instructions
 *   cpu_entry.S   entry/exit trampolines
 */
#ifndef VMP_CPU_INT_H
#define VMP_CPU_INT_H

#include <stdint.h>
#include <stddef.h>
#include <signal.h>

#include "cpu.h"
#include "cpu_rt.h"
#include "decode.h"

#define CPU_PAGE_SIZE 4096u
#define CPU_NPAGES (1u << 20)           /* 4 GiB / 4 KiB */
#define CPU_VIEW_BYTES (1ull << 32)
#define CPU_VIEW_GUARD (1ull << 20)     /* spill of an access that starts below 4 GiB */

/* cpu.page[] bits: the guest's PROT_* in the low bits, plus: */
#define PP_MAPPED 0x40u     /* the caller mapped this page */
#define PP_CODE 0x80u       /* translated code came from here: host copy is read-only */
#define PP_XCHK 0x20u       /* system mode: in cpu->xlist, checked at CR3 writes */
#define PP_GLOBAL 0x10u     /* system mode: mapped from a global PTE (kept at CR3 writes) */

#define EFL_ARITH_DF 0xCD5u  /* CF PF AF ZF SF DF OF: live in the host RFLAGS */
#define EFL_VIRT_KEEP 0x244100u /* AC, ID, NT, TF: kept in rt.eflags_virt */
#define EFL_TF 0x100u

struct xlat_map {
    uint32_t host_off;      /* offset of the first host byte of the guest insn */
    uint32_t eip;
    uint8_t fixup;          /* 1..4: a fault here finds AL/AH (CL/CH, DL/DH,
                               BL/BH) swapped: swap them back (xlat.c) */
    uint8_t pending;        /* instructions of the block retired before this one
                               and not yet added to icount (xlat.c, "icount") */
};

#define TC_BLOCK_PAGES 4 /* first and last page, pages of inlined thunks */

struct xlat_block {
    uint32_t eip;
    uint32_t mode;          /* key beside eip; user mode: 1 = 32-bit code */
    uint8_t *host;
    uint32_t host_len;
    uint32_t map_first, map_n;
    uint32_t gla_end;       /* one past the last guest byte translated */
    int32_t hnext;          /* next block index in the hash chain, -1 */
    /* the guest pages the block's code came from (tcache.c, tc_page_link):
     * a write to one of them drops the block alone */
    uint8_t npages;
    uint8_t dead;           /* dropped: its entry exits to a lookup */
    uint32_t pages[TC_BLOCK_PAGES];
    int32_t pnext[TC_BLOCK_PAGES]; /* next node in the page chain, -1 */
};

#define XLAT_POLL_BYTES 7  /* the poll load that opens every block */

#define TC_HASH_BITS 16
#define TC_IBT_BYTES ((size_t)8 << 32)
#define TC_MAX_BLOCKS (1u << 17)
#define TC_MAX_MAPS (1u << 22)
#define TC_BLOCK_MAX_BYTES 16384u /* worst case of one block; flush below it */

/* The FS/GS assumptions translations are made under (folded bases,
 * null-ness): blocks of each are kept apart (block mode = 1 + index), each
 * with its own indirect-branch table, so kernel and user code do not flush
 * each other on every entry and exit (tcache.c, tc_switch_ctx). */
#define TC_NCTX 16
struct tc_ctx {
    uint8_t used, null_fsgs, ibt_used;
    uint32_t fs, gs;
    uint64_t *ibt;
};

struct cpu {
    enum cpu_mode mode;
    struct vmp_cpu_profile profile;
    uint32_t feat_words[6];         /* enum vmp_feat_word -> the profile's bits */
    struct vmp_x86_state state;

    /* runtime block, the poll page just below it */
    uint8_t *rt_mapping;
    size_t rt_mapping_bytes;
    uint8_t *poll;
    struct cpu_rt *rt;

    /* user-mode view */
    uint8_t *view;                  /* guest linear 0, 4 GiB aligned */
    uint8_t *view_mapping;
    size_t view_mapping_bytes;
    uint8_t *page;                  /* CPU_NPAGES entries of PP_* | PROT_* */

    /* code cache */
    uint8_t *cc;
    size_t cc_bytes, cc_used;
    uint8_t *miss_stub;             /* indirect-lookup miss: exits XE_LOOKUP */
    uint64_t *ibt;                  /* host entry by guest EIP (32 GiB, sparse) or NULL */
    int ibt_used;
    struct tc_ctx ctx[TC_NCTX];     /* cpu->ibt, ibt_used mirror ctx[cur_ctx] */
    unsigned cur_ctx, ctx_victim;
    uint32_t cur_mode;              /* the block mode of the current context */
    struct xlat_block *blocks;
    uint32_t nblocks;
    int32_t *bhash;
    int32_t *phash;                 /* page -> first node (block * TC_BLOCK_PAGES + k) */
    uint32_t wide_blocks;           /* blocks from more pages than they can list */
    struct xlat_map *maps;
    uint32_t nmaps;
    uint64_t flush_gen;             /* bumped by every flush */
    int smc_step;
    uint8_t tf_step;                /* the block entered runs one insn with TF set: #DB after it */
    uint8_t null_fsgs;              /* bit 0 FS, bit 1 GS: null when the cache was filled */
    uint32_t xlat_fs_base, xlat_gs_base; /* the bases the cached code has folded in */
    volatile int pending_flush;     /* C wrote to a code page (cpu_signal.c) */                   /* next block: one insn, uncached, pages not marked */

    /* signal handling */
    void *altstack;
    size_t altstack_bytes;
    volatile int in_guest;

    /* user mode: the GDT entries set_thread_area installs (cpu_user_set_tls) */
    struct vmp_x86_seg tls[16];

    /* system mode (cpu_sys.c): guest RAM, mapped apart from the view too */
    uint8_t *ram;
    uint64_t ram_bytes;
    const struct cpu_io_ops *io;
    void *io_opaque;
    int ram_fd;
    uint8_t view_user;              /* the view holds CPL 3's permissions */
    /* the shadow views (view.c): [0] CPL 0-2, [1] CPL 3, each with its
     * page[]; cpu->view and cpu->page are the current privilege's */
    uint8_t *sview[2];
    uint8_t *spage[2];
    uint32_t view_cr0, view_cr3, view_cr4; /* paging state the view was filled with */
    uint8_t poll_after_one;         /* STI/MOV SS shadow: run one insn, then poll */
    uint32_t last_fault_gla;        /* a fault that repeats after mapping: internal error */
    /* code pages across CR3 writes (view.c): the linear pages code was
     * translated from (xlist, with the guest physical page of each in
     * xgpn[]) and which RAM pages hold code (pcode[], mapped read-only at
     * any linear address so that writes through an alias are seen) */
    uint32_t *page_gpn;             /* linear page -> physical page it was last mapped to */
    uint32_t *xgpn;
    uint32_t *xlist;
    uint32_t nx;
    uint8_t xlist_over;             /* xlist was full: the next CR3 write flushes */
    uint8_t *pcode;
    /* the mapped linear pages of both views (view.c): mlist since the last
     * CR3 write, glist the global ones kept across CR3 writes (gmin the
     * lowest); plist[] says which list a page is on (bit 0, bit 1) */
    uint32_t *mlist, *glist;
    uint32_t nm, ng, gmin;
    uint8_t *plist;
    unsigned fault_repeats;

    /* deterministic mode (cpu_set_deterministic): no chaining, every block
     * end returns to the dispatcher, which checks icount_deadline */
    uint8_t det;
    uint64_t icount_deadline;       /* UINT64_MAX: none */

    struct cpu_stats stats;
    char errmsg[256];
};

/* tcache.c */
int tc_init(struct cpu *cpu, size_t cc_bytes, int use_ibt);
void tc_fini(struct cpu *cpu);
void tc_flush(struct cpu *cpu);
struct xlat_block *tc_lookup(struct cpu *cpu, uint32_t eip, uint32_t mode);
void tc_insert(struct cpu *cpu, struct xlat_block *b);
void tc_ibtc_set(struct cpu *cpu, uint32_t eip, const uint8_t *host);
/* FS/GS null-ness m and bases changed: use (or make) that context */
void tc_switch_ctx(struct cpu *cpu, unsigned m, uint32_t fs, uint32_t gs);
/* b (cached) was translated from the n guest pages in pages[] */
void tc_page_link(struct cpu *cpu, struct xlat_block *b, const uint32_t *pages, unsigned n);
/* Drop the blocks translated from guest page pg (a write to it); the
 * whole cache when that cannot be done block by block. */
void tc_invalidate_page(struct cpu *cpu, uint32_t pg);
/* Signal-safe: the block holding host pc, or NULL; *eip gets the guest EIP of
 * the instruction the pc belongs to. */
struct xlat_block *tc_find_pc(struct cpu *cpu, const uint8_t *pc, uint32_t *eip,
                              uint8_t *fixup);

/* xlat.c: translate a block at eip; NULL with cpu->errmsg set on failure. */
struct xlat_block *xlat_block_translate(struct cpu *cpu, uint32_t eip, int max_insns,
                                        int cache_it);

/* cpu.c */
/* bit 0: FS holds a null selector, bit 1: GS does (accesses through them #GP) */
unsigned cpu_null_fsgs(const struct cpu *cpu);
int cpu_feat_has(const struct cpu *cpu, unsigned feat);
void cpu_set_err(struct cpu *cpu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* view.c: the user-mode view */
int view_create(struct cpu *cpu);
void view_destroy(struct cpu *cpu);
/* translated code came from [gla_first, gla_end): keep those pages read-only */
void view_mark_code(struct cpu *cpu, uint32_t gla_first, uint32_t gla_end);
/* the guest wrote to a code page: drop all code, make the page writable */
void view_smc(struct cpu *cpu, uint32_t gla);

/* view.c, system mode: the shadow view filled from the guest page tables */
int view_sys_map(struct cpu *cpu, uint32_t gla, int fd, uint32_t gpa, int prot);
/* the same for the 4 MiB page at gla (4 MiB aligned, gpa too, all RAM) */
int view_sys_map_large(struct cpu *cpu, uint32_t gla, int fd, uint32_t gpa, int prot);
void view_sys_unmap_all(struct cpu *cpu);
/* CR3 write with CR4.PGE: forget the pages not mapped as global */
void view_sys_unmap_nonglobal(struct cpu *cpu);
void view_sys_unmap_page(struct cpu *cpu, uint32_t gla);
int view_sys_code_init(struct cpu *cpu);
void view_sys_code_fini(struct cpu *cpu);
/* the cache was flushed: no code page is listed any more */
void view_sys_code_reset(struct cpu *cpu);
/* linear page pg has no code any more (its blocks are dropped): clear its
 * marks in both views */
void view_sys_forget_code(struct cpu *cpu, uint32_t pg);
/* make the view of CPL 3 (user) or of CPL 0-2 current: cpu->view, cpu->page
 * and rt->view; the caller loads the GS base when it runs the guest */
void view_sys_select(struct cpu *cpu, int user);

/* cpu_signal.c */
int cpu_signal_install(struct cpu *cpu);
void cpu_signal_thread_enter(struct cpu *cpu);
void cpu_signal_thread_leave(struct cpu *cpu);
/* before freeing cpu->altstack: stop this thread using it */
void cpu_signal_release(struct cpu *cpu);

/* cpu_helpers.c: emulate the instruction at rt->exit_eip (XE_EMULATE).
 * Returns 0 to continue at the updated EIP, 1 with *exit filled to return
 * to the caller, -1 on an internal error. */
int cpu_helper_emulate(struct cpu *cpu, struct cpu_exit *exit);
/* Read/write guest linear memory with the guest's permissions: 0, or 1 with
 * a #PF in *exit. */
int cpu_guest_read(struct cpu *cpu, uint32_t gla, void *dst, size_t n, struct cpu_exit *exit);
int cpu_guest_write(struct cpu *cpu, uint32_t gla, const void *src, size_t n,
                    struct cpu_exit *exit);

/* cpu_helpers.c: the linear address of a ModRM memory operand */
uint32_t cpu_helper_ea(const struct cpu *cpu, const struct x86_insn *in);

/* cpu_sys.c: CPU_MODE_SYSTEM */
int cpu_sys_init(struct cpu *cpu, const struct cpu_config *cfg);
void cpu_sys_fini(struct cpu *cpu);
/* cpu_state_changed() in system mode: empty the view and the cache. */
void cpu_sys_state_changed(struct cpu *cpu);
/* The system form of an instruction cpu_helper_emulate decoded: as
 * cpu_helper_emulate, or 2 when the user-mode form applies. */
int cpu_sys_emulate(struct cpu *cpu, const struct x86_insn *in, uint32_t next,
                    struct cpu_exit *ex);
/* Deliver the exception in *ev through the guest IDT (soft: INT n, INT3,
 * INTO with the gate DPL check): 0, or -1 for a triple fault. */
int cpu_sys_deliver(struct cpu *cpu, const struct cpu_exit *ev, int soft);
/* A fault on the view at gla (write: a write access): 0 once the page is
 * mapped (restart), 1 with the guest exception in *ex, -1 internal error
 * (an MMIO instruction it cannot emulate); MMIO accesses are emulated and
 * EIP stepped past them (return 0). */
int cpu_sys_page_fault(struct cpu *cpu, uint32_t gla, int write, struct cpu_exit *ex);
/* After C changed CPL or paging state: drop the view's mappings that no
 * longer hold. */
void cpu_sys_sync_view(struct cpu *cpu);
size_t cpu_sys_fetch(struct cpu *cpu, uint32_t gla, uint8_t *buf, size_t max);
/* C-side guest memory accesses in system mode (cpu_guest_read/write). */
int cpu_sys_guest_rw(struct cpu *cpu, uint32_t gla, void *buf, size_t n, int write,
                     struct cpu_exit *ex);
/* The physical page of linear page lin in the current tables if it is
 * present and global: 1 with *gpn, else 0. Reads only: no A/D bits. */
int cpu_sys_peek_global(const struct cpu *cpu, uint32_t lin, uint32_t *gpn);
/* Take an external interrupt if IF=1 and no shadow: 0, or -1 (triple fault). */
int cpu_sys_poll_intr(struct cpu *cpu);

#endif
