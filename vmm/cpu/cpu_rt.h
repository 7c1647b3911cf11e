/*
 * cpu_rt.h - the runtime block that translated code addresses through R15,
 * shared by the C side (cpu.c, xlat.c, cpu_signal.c) and the entry/exit
 * trampolines (cpu_entry.S). Internal to vmm/cpu.
 *
 * Register convention inside translated code (DESIGN.md, "The BT engine"):
 *   RAX..RDI  guest EAX..EDI, upper halves zero; RSP is the guest ESP
 *   R12       the direct indirect-branch table (rt.ibt), if there is one
 *   R13       host address of the guest's linear 0 (the view base, 4 GiB aligned)
 *   R15       struct cpu_rt; the poll page is the page just below it
 *   R8-R11, R14  scratch; RFLAGS holds the guest's arithmetic flags and DF
 *   GS base   the view base, so gs:[r32] with 0x67 is a guest linear access
 *
 * The offsets are fixed numbers because the assembler and the emitter use
 * them; cpu.c checks them against offsetof() at compile time.
 */
#ifndef VMP_CPU_RT_H
#define VMP_CPU_RT_H

#define RT_HOST_RSP 0       /* host RSP inside xlat_enter's frame */
#define RT_EXIT_FN 8        /* address of xlat_exit: translated code does jmp [r15+8] */
#define RT_GPR 16           /* uint32 gpr[8] */
#define RT_EFLAGS 48        /* guest arithmetic flags + DF as last saved */
#define RT_EXIT_EIP 52      /* guest EIP of the exit */
#define RT_REASON 56        /* enum xlat_exit */
#define RT_ARG 60           /* reason-specific argument (vector, ...) */
#define RT_CHAIN_SITE 64    /* host address of the rel32 to patch (XE_CHAIN) */
#define RT_VIEW 72          /* view base (host pointer) */
#define RT_SEGBASE 80       /* uint32 base[6], ES..GS */
#define RT_EFLAGS_VIRT 104  /* the EFLAGS bits the host does not hold (IF, AC, ID, bit 1) */
#define RT_SCRATCH 108
#define RT_ICOUNT 112       /* uint64 guest instructions retired (xlat.c adds at branches) */
#define RT_SIG_BLOCK 120    /* the host pc of a signal exit (cpu_signal.c); 0 after
                               an exit the translated code took itself */
#define RT_GUEST_FX 128     /* 512-byte FXSAVE image of the guest */
#define RT_HOST_FX 640      /* 512-byte FXSAVE image of the host C side */
#define RT_ENTRY 1152       /* host code xlat_enter jumps to */
#define RT_IBT 1160         /* uint64 host[2^32] by guest EIP, or 0 (tcache.c) */
#define RT_DEADLINE 1168    /* int64 icount deadline (<= INT64_MAX), checked by
                               deterministic chain stubs and lookups (xlat.c) */
#define RT_SAVED_RSP 1176   /* unused (was: guest RSP while a stub ran on the host stack) */
#define RT_SIGNTAB 1184     /* uint8[256]: 1 for bytes 0x80-0xFF: a flag-free sign test */
#define RT_IBTC_BITS 16
#define RT_IBTC_N (1 << RT_IBTC_BITS)
#define RT_IBTC_KEY 1440                         /* uint32 key[N]: 0 - guest EIP */
#define RT_IBTC_HOST (RT_IBTC_KEY + 4 * RT_IBTC_N) /* uint64 host[N] */
#define RT_SIZE (RT_IBTC_HOST + 8 * RT_IBTC_N)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Why translated code returned to C (cpu_rt.reason). */
enum xlat_exit {
    XE_NONE = 0,
    XE_CHAIN,       /* direct branch to a block not yet linked: exit_eip = target */
    XE_LOOKUP,      /* indirect branch missed the lookup table: exit_eip = target */
    XE_EXCEPTION,   /* arg = vector | has_error << 8, error code in rt.scratch; eip as reported */
    XE_INT,         /* INT n: arg = n, exit_eip after the instruction */
    XE_EMULATE,     /* the C side emulates the instruction at exit_eip */
    XE_KICK,        /* poll page fault at a block entry */
    XE_SMC,         /* write to a page holding translated code: exit_eip restarts */
    XE_PAGEFAULT,   /* arg = error code, rt.scratch = linear address */
    XE_INTERNAL,    /* the translator met something it cannot do */
};

/* XE_EMULATE's arg: 0, or the FNSTENV/FNSAVE at exit_eip has run natively
 * and C replaces the host's FIP/FCS/FDS in its image, then steps past */
#define XE_EMULATE_FPU_ENV 1u

struct cpu_rt {
    uint64_t host_rsp;
    uint64_t exit_fn;
    uint32_t gpr[8];
    uint32_t eflags;
    uint32_t exit_eip;
    uint32_t reason;
    uint32_t arg;
    uint64_t chain_site;
    uint64_t view;
    uint32_t seg_base[6];
    uint32_t eflags_virt;
    uint32_t scratch;
    uint64_t icount;
    uint64_t sig_block;
    uint8_t guest_fx[512] __attribute__((aligned(16)));
    uint8_t host_fx[512] __attribute__((aligned(16)));
    uint64_t entry;
    uint64_t ibt;
    uint64_t deadline;
    uint64_t saved_rsp;
    uint8_t signtab[256];
    uint32_t ibtc_key[RT_IBTC_N];
    uint64_t ibtc_host[RT_IBTC_N];
};

/* cpu_entry.S */
void xlat_enter(struct cpu_rt *rt);
extern const char xlat_exit[];
#endif

#endif
