/*
 * cpu.h - one virtual x86 CPU run by binary translation: the seam between
 * the translator and its users (the x86run harness, the differential tester,
 * the board in vmm/).
 *
 * Lifecycle:
 *   1. cpu_create(&cfg, &cpu): reserves the shadow view(s), the code cache,
 *      the poll page; installs the process-wide SIGSEGV/SIGBUS/SIGFPE/SIGILL
 *      handlers (once) with SA_ONSTACK.
 *   2. Fill cpu_state(cpu) (registers, segments, FPU image) and, in user
 *      mode, map guest memory with cpu_user_map().
 *   3. cpu_run(cpu, &exit) runs translated code on the calling thread until
 *      an exit; the caller handles it and calls cpu_run again. cpu_kick()
 *      from any thread (or a signal handler) makes cpu_run return
 *      CPU_EXIT_KICK at the next block boundary.
 *   4. cpu_destroy(cpu).
 * A cpu is used by one thread at a time, except cpu_kick().
 *
 * Modes. CPU_MODE_USER: a flat 32-bit address space at CPL 3 with no
 * paging: the caller owns the memory map, and INT n, SYSENTER, exceptions
 * and HLT exit to the caller (x86run forwards Linux system calls; the
 * differential tester ends a sequence with INT3). CPU_MODE_SYSTEM: a whole
 * PC's CPU (paging, rings, interrupts); guest RAM is a memfd; port I/O and
 * MMIO call back into the board.
 *
 * User mode as implemented (the .c files of vmm/cpu say how):
 *   - 32-bit code only (CS.D is taken as 1); CPL 3, IOPL 0, flat CS/DS/ES/SS.
 *     FS/GS bases come from cpu_state()->seg[] and from the TLS entries of
 *     cpu_user_set_tls() when the guest loads a selector. A segment load
 *     accepts the null selector (not for SS), a TLS entry's selector, or
 *     one of the selectors CS/DS/ES/SS hold (flat); others #GP(selector).
 *     An access through FS/GS holding the null selector with base 0 #GPs.
 *   - CPUID answers from the profile; an instruction whose feature the
 *     profile lacks raises #UD (LZCNT/TZCNT run as BSR/BSF instead).
 *   - Exits: INT n -> CPU_EXIT_INT; SYSENTER -> CPU_EXIT_SYSENTER; INT3,
 *     INTO, ICEBP -> EXCEPTION 3/4/1 after the instruction; #DE #UD #BR
 *     #GP #PF #MF #XM at the instruction. HLT, CLI, STI, IN/OUT, privileged
 *     instructions, far transfers, IRET, and SGDT/SIDT/SLDT/SMSW/STR (as
 *     with CR4.UMIP) raise #GP(0). An access that straddles 4 GiB is
 *     #GP(0) on the flat segments.
 *   - TF single-steps: while it is set, one instruction per block and a
 *     #DB trap (DR6.BS) after each (CPU_EXIT_EXCEPTION vector 1 in user
 *     mode, the IDT in system mode); a REP string instruction traps once,
 *     at its end, and the MOV SS shadow is not modelled.
 *   - Not modelled: alignment checks (AC), segment limits other than the
 *     4 GiB straddle (FS/GS-based accesses included), debug registers.
 *   - cpu_state()->eflags keeps IF=1; NT, AC and ID round-trip through
 *     POPF/PUSHF; DF and the arithmetic flags are live in translated code.
 *
 * System mode as implemented (cpu_sys.c, mmu.c, seg.c, intr.c say how):
 *   - cfg.ram_fd/ram_bytes (page multiple, <= 3 GiB) and cfg.io with
 *     port_in/port_out are required (else -EINVAL). cpu_create leaves the
 *     state in flat 32-bit protected mode at CPL 0 with paging off (CS
 *     0x10, data 0x18, CR0 = PE|ET, EFLAGS = 2): the board sets EIP, ESI
 *     and anything else, then calls cpu_state_changed() or just cpu_run.
 *   - Paging: 32-bit non-PAE, 4 KiB and 4 MiB (CR4.PSE) pages, CR0.WP,
 *     A and D bits, #PF with CR2 and P/W/U error bits. Guest RAM is mapped
 *     lazily into the view; CR3 writes, paging-control changes and CPL
 *     0<->3 switches empty the view (global pages are not kept yet).
 *   - Events go through the guest IDT (interrupt/trap gates, ring switch
 *     from the 32-bit TSS, error codes, #DF, triple fault ->
 *     CPU_EXIT_SHUTDOWN); exceptions never exit to the caller.
 *   - External interrupts: cfg.io->intr_ack is asked at cpu_run entry and
 *     after each C-emulated instruction when IF=1 and no STI/MOV SS shadow.
 *     cpu_kick() from the board when an IRQ line rises makes cpu_run
 *     return CPU_EXIT_KICK at the next block boundary; calling cpu_run
 *     again delivers the interrupt.
 *   - HLT (CPL 0): EIP moves past it and cpu_run returns CPU_EXIT_HLT. With
 *     EFLAGS.IF=1 state->halted is 1: sleep until an interrupt is pending,
 *     then cpu_run. With IF=0 the CPU can never resume: the board treats
 *     it as power off (spec/machine.md, "halted").
 *   - Port I/O: IN/OUT when CPL <= IOPL (no TSS I/O bitmap), else #GP(0).
 *     RDTSC/MSR 0x10: cfg.io->clock_ns (1 tick per ns) + tsc_adjust.
 *     MSRs 0x10, 0x1b, 0x174-0x176, 0x1a0, 0x277; others #GP(0). CR4 bits
 *     other than VME TSD DE PSE PGE OSFXSR OSXMMEXCPT: #GP(0).
 *   - Not yet: MMIO emulation (an access outside RAM ends the run with
 *     CPU_EXIT_INTERNAL), INS/OUTS, real mode and virtual-8086 mode, task
 *     switches, call gates, non-zero CS/DS/ES/SS bases (the translator
 *     takes them as flat 32-bit segments), segment limit checks, blocks
 *     keyed by physical address (they are keyed by linear address and
 *     flushed on CR3 writes), SMC through a second linear alias.
 */
#ifndef VMP_CPU_H
#define VMP_CPU_H

#include <stddef.h>
#include <stdint.h>

#include <vmpack/profile.h>
#include <vmpack/x86state.h>

struct cpu;

enum cpu_mode { CPU_MODE_USER = 0, CPU_MODE_SYSTEM = 1 };

/* Board callbacks for CPU_MODE_SYSTEM, called on the vCPU thread. */
struct cpu_io_ops {
    uint32_t (*port_in)(void *opaque, uint16_t port, unsigned size_bytes);
    void (*port_out)(void *opaque, uint16_t port, unsigned size_bytes, uint32_t value);
    /* gpa is outside RAM; return 0 if claimed, -1 for an unclaimed address */
    int (*mmio_read)(void *opaque, uint32_t gpa, unsigned size_bytes, uint32_t *value);
    int (*mmio_write)(void *opaque, uint32_t gpa, unsigned size_bytes, uint32_t value);
    /* Interrupt acknowledge: the vector of the highest pending IRQ, or -1. */
    int (*intr_ack)(void *opaque);
    /* Virtual clock in nanoseconds (RDTSC and timers derive from it). */
    uint64_t (*clock_ns)(void *opaque);
};

struct cpu_config {
    enum cpu_mode mode;
    const struct vmp_cpu_profile *profile;  /* copied; required */
    size_t code_cache_bytes;                /* 0: default (64 MiB) */
    /* CPU_MODE_SYSTEM only */
    int ram_fd;                             /* memfd of guest physical RAM */
    uint64_t ram_bytes;
    const struct cpu_io_ops *io;
    void *io_opaque;
    unsigned debug_flags;                   /* CPU_DEBUG_*: testing aids; 0 normally */
};

/* Use the hashed indirect-branch lookup even where the direct 32 GiB table
 * could be reserved (so tests cover both). */
#define CPU_DEBUG_HASH_LOOKUP 1u

enum cpu_exit_reason {
    CPU_EXIT_INT = 1,       /* user mode: INT n; exit.vector = n; EIP is after it */
    CPU_EXIT_SYSENTER,      /* user mode: SYSENTER; EIP is after it */
    CPU_EXIT_EXCEPTION,     /* user mode: a guest exception; EIP at the faulting
                               instruction (trap-like ones: after it, as on HW) */
    CPU_EXIT_HLT,           /* system mode: HLT with IF=1 and nothing pending */
    CPU_EXIT_KICK,          /* cpu_kick() was called */
    CPU_EXIT_SHUTDOWN,      /* triple fault or reset request */
    CPU_EXIT_INTERNAL,      /* a broken invariant; message in cpu_errmsg() */
    CPU_EXIT_DEADLINE,      /* icount reached cpu_set_icount_deadline()'s value */
};

struct cpu_exit {
    enum cpu_exit_reason reason;
    uint8_t vector;
    uint8_t has_error_code;
    uint32_t error_code;
    uint32_t fault_gla;     /* #PF: the faulting linear address (CR2) */
};

/* 0, -EINVAL (no profile; system mode without RAM or I/O callbacks), or
 * -ENOMEM (a reservation failed: the view needs 8 GiB of address space,
 * the indirect-branch table 32 GiB with MAP_NORESERVE, else a hash is used). */
int cpu_create(const struct cpu_config *cfg, struct cpu **out);
void cpu_destroy(struct cpu *cpu);  /* NULL does nothing */

/* The architectural state; read and write it only while cpu_run is not running. */
struct vmp_x86_state *cpu_state(struct cpu *cpu);

/* Tell the translator that state was changed from outside (mode, segments,
 * CR0/CR3/CR4): drop what depends on it. */
void cpu_state_changed(struct cpu *cpu);

/* 0 with *exit filled, or -1 with exit->reason CPU_EXIT_INTERNAL and the
 * reason in cpu_errmsg() (an instruction form the translator cannot do). */
int cpu_run(struct cpu *cpu, struct cpu_exit *exit);
void cpu_kick(struct cpu *cpu);     /* async-signal-safe */

/* User mode memory. gla ranges are page aligned. prot is PROT_* of mman.h.
 * fd < 0: anonymous zero pages. Pages with translated code stay write-
 * protected in the host; writes to them invalidate their blocks. */
int cpu_user_map(struct cpu *cpu, uint32_t gla, uint64_t len_bytes, int prot, int fd,
                 uint64_t offset_bytes);
int cpu_user_unmap(struct cpu *cpu, uint32_t gla, uint64_t len_bytes);
int cpu_user_protect(struct cpu *cpu, uint32_t gla, uint64_t len_bytes, int prot);
/* Host pointer to a guest linear address in user mode; valid until unmap.
 * C code may write through it even to pages that hold translated code:
 * the first such write faults once, the page becomes writable and the
 * cache is flushed at the next cpu_run. (A system call that writes there,
 * e.g. read(2) into such a page, gets EFAULT instead: call cpu_flush()
 * first. cpu_user_map() maps files MAP_PRIVATE.)
 * Signals: translated code runs with the guest ESP in RSP, so any other
 * signal handler in the process must be installed with SA_ONSTACK (cpu_run
 * gives the thread a sigaltstack if it has none). */
void *cpu_user_ptr(struct cpu *cpu, uint32_t gla);

/*
 * Instruction count: cpu_state()->icount counts the guest instructions
 * retired, exact at every exit of cpu_run. An instruction counts once it
 * completes: one that faults (#PF, #GP, #UD...) does not, nor does a fault
 * that the translator resolves itself (a page mapped into the view, an SMC
 * restart); INT n, INT3, INTO and ICEBP count, as do HLT and instructions
 * emulated in C; a REP string instruction counts once. Delivering an
 * interrupt or exception is not an instruction.
 *
 * Deterministic mode: cpu_set_deterministic(cpu, 1) puts a deadline check
 * (on the host stack, so the guest's flags are kept) in front of every
 * chained jump and indirect-branch lookup (xlat.c, x_det_check). There
 * cpu_run returns CPU_EXIT_DEADLINE at the first block boundary where
 * icount >= the deadline (also at entry if it is already reached);
 * cpu_kick still stops at a block boundary. cpu_set_icount_deadline may be
 * called from inside cpu_run's I/O callbacks (on the vCPU thread): the new
 * deadline holds from the next block boundary. Without deterministic mode
 * the deadline is only checked where a block returns to the dispatcher
 * anyway. UINT64_MAX: no deadline (the default).
 */
void cpu_set_deterministic(struct cpu *cpu, int on);
void cpu_set_icount_deadline(struct cpu *cpu, uint64_t icount);

/* Drop every translated block (e.g. after loading code from outside). */
void cpu_flush(struct cpu *cpu);

struct cpu_stats {
    uint64_t blocks_translated;
    uint64_t cache_flushes;
    uint64_t smc_invalidations;
    uint64_t exits;
    uint64_t helper_calls;
    /* system mode: pages mapped into a shadow view on a fault; both views
     * emptied (CR3 writes, paging changes); of those, emptied because the
     * host's limit of mappings was reached */
    uint64_t view_maps;
    uint64_t view_flushes;
    uint64_t view_resets;
};
void cpu_get_stats(const struct cpu *cpu, struct cpu_stats *out);

const char *cpu_errmsg(const struct cpu *cpu);

/*
 * User mode only: install or clear a TLS descriptor in the guest's GDT, as
 * Linux's set_thread_area(2) does, so that a later segment load of selector
 * (entry << 3 | 3) by the guest (glibc: `mov gs, ax` after set_thread_area)
 * finds it. entry: the GDT index (x86run uses 6..8, as i386 Linux does).
 * base and limit: as in struct vmp_x86_seg (limit in bytes, already scaled
 * by G). flags: the descriptor attribute in struct vmp_x86_seg's attr
 * encoding; 0 or P=0 clears the entry (a later load then faults as on
 * hardware). A segment register that already holds the selector is not
 * changed: the caller updates cpu_state() and calls cpu_state_changed().
 * Returns 0, or a negative errno for an entry the translator cannot hold.
 */
int cpu_user_set_tls(struct cpu *cpu, unsigned entry, uint32_t base, uint32_t limit,
                     unsigned flags);

#endif
