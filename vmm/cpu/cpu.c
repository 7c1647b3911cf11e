/*
 * cpu.c - the public face of the translator (cpu.h): creation, state, and
 * the dispatcher loop that enters translated code, links blocks and turns
 * exits into struct cpu_exit. The guest's memory is view.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu_int.h"

_Static_assert(__builtin_offsetof(struct cpu_rt, host_rsp) == RT_HOST_RSP, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, exit_fn) == RT_EXIT_FN, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, gpr) == RT_GPR, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, eflags) == RT_EFLAGS, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, exit_eip) == RT_EXIT_EIP, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, reason) == RT_REASON, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, arg) == RT_ARG, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, chain_site) == RT_CHAIN_SITE, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, view) == RT_VIEW, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, seg_base) == RT_SEGBASE, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, eflags_virt) == RT_EFLAGS_VIRT, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, scratch) == RT_SCRATCH, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, icount) == RT_ICOUNT, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, sig_block) == RT_SIG_BLOCK, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, entry) == RT_ENTRY, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, ibt) == RT_IBT, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, deadline) == RT_DEADLINE, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, saved_rsp) == RT_SAVED_RSP, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, signtab) == RT_SIGNTAB, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, guest_fx) == RT_GUEST_FX, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, host_fx) == RT_HOST_FX, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, ibtc_key) == RT_IBTC_KEY, "rt layout");
_Static_assert(__builtin_offsetof(struct cpu_rt, ibtc_host) == RT_IBTC_HOST, "rt layout");
_Static_assert(sizeof(struct cpu_rt) == RT_SIZE, "rt layout");

#define CPU_DEFAULT_CACHE_BYTES (64u << 20)

void cpu_set_err(struct cpu *cpu, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cpu->errmsg, sizeof cpu->errmsg, fmt, ap);
    va_end(ap);
}

const char *cpu_errmsg(const struct cpu *cpu)
{
    return cpu ? cpu->errmsg : "no cpu";
}

/* CPUID.01H, 07H and 80000001H of the profile, one word per enum vmp_feat_word. */
static void cpu_load_feat_words(struct cpu *cpu)
{
    memset(cpu->feat_words, 0, sizeof cpu->feat_words);
    for (uint32_t i = 0; i < cpu->profile.nleaves && i < VMP_PROFILE_MAX_LEAVES; i++) {
        const struct vmp_cpuid_leaf *l = &cpu->profile.leaves[i];
        if (l->leaf == 1) {
            cpu->feat_words[VMP_FW_1_EDX] = l->edx;
            cpu->feat_words[VMP_FW_1_ECX] = l->ecx;
        } else if (l->leaf == 7 && l->subleaf == 0) {
            cpu->feat_words[VMP_FW_7_EBX] = l->ebx;
            cpu->feat_words[VMP_FW_7_ECX] = l->ecx;
        } else if (l->leaf == 0x80000001u) {
            cpu->feat_words[VMP_FW_81_EDX] = l->edx;
            cpu->feat_words[VMP_FW_81_ECX] = l->ecx;
        }
    }
}

int cpu_feat_has(const struct cpu *cpu, unsigned feat)
{
    if (feat == VMP_FEAT_NONE)
        return 1;
    unsigned w = VMP_FEAT_WORD(feat);
    if (w >= VMP_FW_COUNT)
        return 0;
    return (cpu->feat_words[w] >> VMP_FEAT_BIT(feat)) & 1;
}

int cpu_create(const struct cpu_config *cfg, struct cpu **out)
{
    *out = NULL;
    if (!cfg || !cfg->profile)
        return -EINVAL;
    if (cfg->mode != CPU_MODE_USER && cfg->mode != CPU_MODE_SYSTEM)
        return -EINVAL;
    if (cfg->mode == CPU_MODE_SYSTEM && (cfg->ram_fd < 0 || !cfg->io || !cfg->io->port_in ||
                                         !cfg->io->port_out || cfg->ram_bytes == 0))
        return -EINVAL;
    struct cpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu)
        return -ENOMEM;
    cpu->mode = cfg->mode;
    cpu->profile = *cfg->profile;
    cpu_load_feat_words(cpu);

    long pg = sysconf(_SC_PAGESIZE);
    if (pg != (long)CPU_PAGE_SIZE)
        goto fail;
    /* runtime block: [poll page][struct cpu_rt] */
    cpu->rt_mapping_bytes = CPU_PAGE_SIZE + ((RT_SIZE + CPU_PAGE_SIZE - 1) & ~(size_t)(CPU_PAGE_SIZE - 1));
    cpu->rt_mapping = mmap(NULL, cpu->rt_mapping_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cpu->rt_mapping == MAP_FAILED) {
        cpu->rt_mapping = NULL;
        goto fail;
    }
    cpu->poll = cpu->rt_mapping;
    if (mprotect(cpu->poll, CPU_PAGE_SIZE, PROT_READ) != 0)
        goto fail;
    cpu->rt = (struct cpu_rt *)(cpu->rt_mapping + CPU_PAGE_SIZE);
    cpu->rt->exit_fn = (uint64_t)(uintptr_t)xlat_exit;
    cpu->icount_deadline = UINT64_MAX;
    cpu->rt->deadline = INT64_MAX;
    for (int i = 128; i < 256; i++)
        cpu->rt->signtab[i] = 1;

    if (view_create(cpu) != 0)
        goto fail;
    cpu->rt->view = (uint64_t)(uintptr_t)cpu->view;
    if (cfg->mode == CPU_MODE_SYSTEM && cpu_sys_init(cpu, cfg) != 0)
        goto fail;

    if (tc_init(cpu, cfg->code_cache_bytes ? cfg->code_cache_bytes : CPU_DEFAULT_CACHE_BYTES,
                !(cfg->debug_flags & CPU_DEBUG_HASH_LOOKUP)) != 0)
        goto fail;
    cpu->stats.cache_flushes = 0;
    if (cpu_signal_install(cpu) != 0)
        goto fail;

    /* a flat 32-bit user-mode CPU: CS D=1, IF=1, FPU and MXCSR at reset values */
    if (cfg->mode == CPU_MODE_USER) {
        cpu->state.eflags = 0x202;
        cpu->state.seg[VMP_CS].attr = 0xCFB;
        for (int s = 0; s < VMP_NSEG; s++)
            cpu->state.seg[s].limit = 0xFFFFFFFFu;
    }
    cpu->state.fxsave[0] = 0x7F; /* FCW 0x037F (SDM 1 8.1.5) */
    cpu->state.fxsave[1] = 0x03;
    cpu->state.fxsave[24] = 0x80; /* MXCSR 0x1F80 */
    cpu->state.fxsave[25] = 0x1F;
    *out = cpu;
    return 0;
fail:
    cpu_destroy(cpu);
    return -ENOMEM;
}

void cpu_destroy(struct cpu *cpu)
{
    if (!cpu)
        return;
    tc_fini(cpu);
    cpu_sys_fini(cpu);
    view_destroy(cpu);
    if (cpu->rt_mapping)
        munmap(cpu->rt_mapping, cpu->rt_mapping_bytes);
    cpu_signal_release(cpu);
    free(cpu->altstack);
    free(cpu);
}

struct vmp_x86_state *cpu_state(struct cpu *cpu)
{
    return &cpu->state;
}

void cpu_state_changed(struct cpu *cpu)
{
    /* user mode: segment bases are read at run time; nothing cached */
    if (cpu->mode == CPU_MODE_SYSTEM)
        cpu_sys_state_changed(cpu);
}

void cpu_flush(struct cpu *cpu)
{
    tc_flush(cpu);
}

void cpu_set_deterministic(struct cpu *cpu, int on)
{
    if (cpu->det == (on != 0))
        return;
    cpu->det = on != 0;
    tc_flush(cpu); /* chained jumps and lookup-table entries go with it */
}

void cpu_set_icount_deadline(struct cpu *cpu, uint64_t icount)
{
    cpu->icount_deadline = icount;
    /* xlat.c compares by the sign of deadline - icount - 1: keep it an
     * int64 (an icount never reaches 2^63) */
    cpu->rt->deadline = icount > INT64_MAX ? INT64_MAX : icount;
}

void cpu_kick(struct cpu *cpu)
{
    mprotect(cpu->poll, CPU_PAGE_SIZE, PROT_NONE);
}

void cpu_get_stats(const struct cpu *cpu, struct cpu_stats *out)
{
    *out = cpu->stats;
}

/* --- the dispatcher -------------------------------------------------------- */

static void cpu_state_to_rt(struct cpu *cpu)
{
    struct cpu_rt *rt = cpu->rt;
    memcpy(rt->gpr, cpu->state.gpr, sizeof rt->gpr);
    rt->eflags = (cpu->state.eflags & EFL_ARITH_DF) | 0x202;
    if (cpu->mode == CPU_MODE_SYSTEM) /* the guest's IF and IOPL, not the host's */
        rt->eflags_virt = (cpu->state.eflags & (EFL_VIRT_KEEP | 0x3200u)) | 0x2u;
    else
        rt->eflags_virt = (cpu->state.eflags & EFL_VIRT_KEEP) | 0x202;
    for (int s = 0; s < VMP_NSEG; s++)
        rt->seg_base[s] = cpu->state.seg[s].base;
    rt->icount = cpu->state.icount;
}

static void cpu_rt_to_state(struct cpu *cpu)
{
    struct cpu_rt *rt = cpu->rt;
    memcpy(cpu->state.gpr, rt->gpr, sizeof rt->gpr);
    cpu->state.eflags = (rt->eflags & EFL_ARITH_DF) | rt->eflags_virt;
    cpu->state.icount = rt->icount;
}

/* A signal left translated code in the middle of a block (a fault: the
 * instruction at exit_eip did not complete): add the instructions of the
 * block that retired before it since its last count (xlat.c, "icount").
 * The signal handler left the faulting pc in rt.sig_block; exits the code
 * took itself leave 0. */
static void cpu_icount_fix(struct cpu *cpu, uint32_t eip)
{
    struct cpu_rt *rt = cpu->rt;
    uint32_t first;
    if (!rt->sig_block)
        return;
    struct xlat_block *b = tc_find_pc(cpu, (const uint8_t *)(uintptr_t)rt->sig_block, &first, NULL);
    rt->sig_block = 0;
    if (!b)
        return;
    const struct xlat_map *m = &cpu->maps[b->map_first];
    for (uint32_t k = 0; k < b->map_n; k++) {
        if (m[k].eip == eip) {
            rt->icount += m[k].pending;
            return;
        }
    }
}

/* A caller may give FS/GS a base without a selector (cpu.h): only a null
 * selector with base 0, as a null load leaves it, counts as unusable. */
static int cpu_seg_null(const struct vmp_x86_seg *s)
{
    return (s->selector & ~3u) == 0 && s->base == 0;
}

unsigned cpu_null_fsgs(const struct cpu *cpu)
{
    return (cpu_seg_null(&cpu->state.seg[VMP_FS]) ? 1u : 0u) |
           (cpu_seg_null(&cpu->state.seg[VMP_GS]) ? 2u : 0u);
}

/* Translations assume the FS/GS bases (folded into displacements) and
 * null-ness (an access through a null one becomes #GP) they were made with;
 * a change switches to the blocks made under the new ones (tc_switch_ctx). Segment loads happen only in C (cpu_helpers.c) or
 * from outside between runs, and both are checked. */
static void cpu_check_seg_assumptions(struct cpu *cpu)
{
    /* bit 2: system mode at CPL 3, whose blocks are kept apart too
     * (cpu_sys_sync_view switches it) */
    unsigned m = cpu_null_fsgs(cpu) | (cpu->view_user ? 4u : 0u);
    uint32_t fs = cpu->state.seg[VMP_FS].base, gs = cpu->state.seg[VMP_GS].base;
    if (m != cpu->null_fsgs || fs != cpu->xlat_fs_base || gs != cpu->xlat_gs_base) {
        tc_switch_ctx(cpu, m, fs, gs);
        cpu->null_fsgs = (uint8_t)m;
        cpu->xlat_fs_base = fs;
        cpu->xlat_gs_base = gs;
    }
}

/* The next block to enter at eip. With EFLAGS.TF set it is one
 * instruction, uncached, whose every exit comes back here (xlat.c): the
 * dispatcher raises the single-step #DB after it (cpu_tf_trap). */
static struct xlat_block *cpu_block_for(struct cpu *cpu, uint32_t eip)
{
    cpu->tf_step = (cpu->rt->eflags_virt & EFL_TF) != 0;
    if (cpu->tf_step) {
        cpu->smc_step = 0;
        return xlat_block_translate(cpu, eip, 1, 0);
    }
    if (cpu->smc_step) {
        /* the instruction that wrote to code runs alone, from a block that is
         * neither cached nor marks its page, so its write now succeeds */
        cpu->smc_step = 0;
        return xlat_block_translate(cpu, eip, 1, 0);
    }
    struct xlat_block *b = tc_lookup(cpu, eip, cpu->cur_mode);
    if (!b)
        b = xlat_block_translate(cpu, eip, 64, 1);
    return b;
}

static void cpu_fill_exception(struct cpu_exit *ex, uint32_t arg, uint32_t err)
{
    ex->reason = CPU_EXIT_EXCEPTION;
    ex->vector = (uint8_t)arg;
    ex->has_error_code = (arg >> 8) & 1;
    ex->error_code = ex->has_error_code ? err : 0;
}

static inline void cpu_wrgsbase(uint64_t base)
{
    __asm__ volatile("wrgsbase %0" ::"r"(base) : "memory");
}

/*
 * The single-step trap (SDM 3A 17.3.1.4): the instruction that began with
 * TF set completed and EIP is past it (state in cpu->state). DR6.BS is
 * set; system mode delivers #DB through the IDT (which clears TF) and
 * returns 0 (-1: shutdown); user mode fills *ex (vector 1, a trap: EIP
 * after the instruction) and returns 1.
 */
static int cpu_tf_trap(struct cpu *cpu, struct cpu_exit *ex)
{
    cpu->tf_step = 0;
    cpu->state.dr[6] |= 0x4000u; /* BS */
    if (cpu->mode != CPU_MODE_SYSTEM) {
        ex->reason = CPU_EXIT_EXCEPTION;
        ex->vector = 1;
        return 1;
    }
    struct cpu_exit ev = {0};
    ev.reason = CPU_EXIT_EXCEPTION;
    ev.vector = 1;
    return cpu_sys_deliver(cpu, &ev, 0) < 0 ? -1 : 0;
}

int cpu_run(struct cpu *cpu, struct cpu_exit *ex)
{
    struct cpu_rt *rt = cpu->rt;
    int rc = 0;
    memset(ex, 0, sizeof *ex);
    cpu_signal_thread_enter(cpu);
    if (cpu->pending_flush) {
        cpu->pending_flush = 0;
        tc_flush(cpu);
        cpu->stats.smc_invalidations++;
    }
    cpu_wrgsbase(rt->view);
    memcpy(rt->guest_fx, cpu->state.fxsave, sizeof rt->guest_fx);
    cpu_state_to_rt(cpu);
    cpu_check_seg_assumptions(cpu);

    int sys = cpu->mode == CPU_MODE_SYSTEM;
    if (sys && cpu_sys_poll_intr(cpu) < 0) {
        ex->reason = CPU_EXIT_SHUTDOWN;
        goto out;
    }
    if (sys) {
        cpu_sys_sync_view(cpu);
        cpu_state_to_rt(cpu);
    }
    uint32_t eip = cpu->state.eip;
    struct xlat_block *b = cpu_block_for(cpu, eip);
    for (;;) {
        if (!b) {
            ex->reason = CPU_EXIT_INTERNAL;
            break;
        }
        if (rt->icount >= cpu->icount_deadline) {
            cpu->state.eip = eip;
            ex->reason = CPU_EXIT_DEADLINE;
            break;
        }
        rt->entry = (uint64_t)(uintptr_t)b->host;
        cpu->in_guest = 1;
        xlat_enter(rt);
        cpu->in_guest = 0;
        cpu->stats.exits++;
        eip = rt->exit_eip;
        uint32_t reason = rt->reason;
        int stepped = cpu->tf_step;
        cpu->tf_step = 0;
        if (stepped && (reason == XE_CHAIN || reason == XE_LOOKUP)) {
            /* the one instruction ran (an exit at it is a fault, a kick or C) */
            rt->sig_block = 0;
            cpu->poll_after_one = 0;
            cpu->state.eip = eip;
            cpu_rt_to_state(cpu);
            int t = cpu_tf_trap(cpu, ex);
            if (t != 0) {
                if (t < 0)
                    ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            if (sys && cpu_sys_poll_intr(cpu) < 0) {
                ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            if (sys)
                cpu_sys_sync_view(cpu);
            cpu_state_to_rt(cpu);
            eip = cpu->state.eip;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        if (reason == XE_EXCEPTION || reason == XE_PAGEFAULT || reason == XE_SMC)
            cpu_icount_fix(cpu, eip);
        else
            rt->sig_block = 0;
        if (sys && cpu->poll_after_one && (reason == XE_CHAIN || reason == XE_LOOKUP)) {
            /* the instruction after STI / MOV SS ran alone: interrupts now */
            cpu->poll_after_one = 0;
            cpu->state.eip = eip;
            cpu_rt_to_state(cpu);
            if (cpu_sys_poll_intr(cpu) < 0) {
                ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            cpu_sys_sync_view(cpu);
            cpu_state_to_rt(cpu);
            eip = cpu->state.eip;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        if (reason == XE_CHAIN) {
            uint64_t gen = cpu->flush_gen;
            uint8_t *site = (uint8_t *)(uintptr_t)rt->chain_site;
            b = cpu_block_for(cpu, eip);
            /* never link to a block that is not in the cache (a fetch-fault
             * block in system mode, a single step): it would run forever.
             * Deterministic mode links the stub's own jump, behind its
             * deadline check (xlat.c, x_emit_stubs) */
            if (b && gen == cpu->flush_gen && site >= cpu->cc && site + 4 <= cpu->cc + cpu->cc_used &&
                tc_lookup(cpu, eip, cpu->cur_mode) == b) {
                uint32_t src_eip = 0;
                uint8_t *to = b->host;
                if (tc_find_pc(cpu, site, &src_eip, NULL) && eip > src_eip)
                    to += XLAT_POLL_BYTES; /* forward: no poll needed */
                int32_t rel = (int32_t)(to - (site + 4));
                memcpy(site, &rel, 4);
            }
            continue;
        }
        if (reason == XE_LOOKUP) {
            b = cpu_block_for(cpu, eip);
            if (b && tc_lookup(cpu, eip, cpu->cur_mode) == b)
                tc_ibtc_set(cpu, eip, b->host);
            continue;
        }
        cpu->state.eip = eip;
        if (reason == XE_SMC) {
            view_smc(cpu, rt->scratch);
            cpu->smc_step = 1;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        if (reason == XE_EMULATE) {
            cpu_rt_to_state(cpu);
            cpu->stats.helper_calls++;
            int r = cpu_helper_emulate(cpu, ex);
            /* the instruction completed unless it raised an exception; one
             * that leaves EIP on itself (a REP instruction a helper runs in
             * pieces) completes on its last piece, so it counts once */
            if ((r == 0 && cpu->state.eip != eip) ||
                (r > 0 && ex->reason != CPU_EXIT_EXCEPTION))
                cpu->state.icount++;
            cpu_state_to_rt(cpu);
            cpu_check_seg_assumptions(cpu);
            if (r < 0) {
                ex->reason = CPU_EXIT_INTERNAL;
                break;
            }
            if (r == 0 && stepped) {
                /* TF was set when it began: trap after it, also when it
                 * cleared TF (POPF, IRET); not after the one that set it */
                int t = cpu_tf_trap(cpu, ex);
                cpu_state_to_rt(cpu);
                if (t != 0) {
                    if (t < 0)
                        ex->reason = CPU_EXIT_SHUTDOWN;
                    break;
                }
            }
            if (r > 0 && sys && ex->reason == CPU_EXIT_EXCEPTION) {
                r = cpu_sys_deliver(cpu, ex, 0);
                memset(ex, 0, sizeof *ex);
                if (r < 0) {
                    ex->reason = CPU_EXIT_SHUTDOWN;
                    break;
                }
            } else if (r > 0) {
                break;
            }
            if (sys && cpu_sys_poll_intr(cpu) < 0) {
                ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            if (sys)
                cpu_sys_sync_view(cpu);
            cpu_state_to_rt(cpu);
            eip = cpu->state.eip;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        if (sys && reason == XE_PAGEFAULT) {
            /* the shadow view is filled on demand (cpu_sys.c) */
            struct cpu_exit ev = {0};
            cpu_rt_to_state(cpu);
            int r = cpu_sys_page_fault(cpu, rt->scratch, (rt->arg & 2) != 0, &ev);
            if (r == 0 && cpu->state.eip != eip) {
                cpu->state.icount++; /* an MMIO access emulated and stepped past */
                if (stepped && cpu_tf_trap(cpu, &ev) < 0) {
                    ex->reason = CPU_EXIT_SHUTDOWN;
                    break;
                }
            }
            if (r < 0) {
                ex->reason = CPU_EXIT_INTERNAL;
                break;
            }
            if (r > 0 && cpu_sys_deliver(cpu, &ev, 0) < 0) {
                ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            cpu_sys_sync_view(cpu);
            cpu_state_to_rt(cpu);
            eip = cpu->state.eip;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        if (sys && (reason == XE_EXCEPTION || reason == XE_INT)) {
            struct cpu_exit ev = {0};
            int soft = reason == XE_INT || rt->arg == 3 || rt->arg == 4;
            if (reason == XE_INT)
                ev.vector = (uint8_t)rt->arg;
            else
                cpu_fill_exception(&ev, rt->arg, rt->scratch);
            cpu_rt_to_state(cpu);
            if (cpu_sys_deliver(cpu, &ev, soft) < 0) {
                ex->reason = CPU_EXIT_SHUTDOWN;
                break;
            }
            cpu_sys_sync_view(cpu);
            cpu_state_to_rt(cpu);
            eip = cpu->state.eip;
            b = cpu_block_for(cpu, eip);
            continue;
        }
        switch (reason) {
        case XE_EXCEPTION:
            cpu_fill_exception(ex, rt->arg, rt->scratch);
            break;
        case XE_INT:
            ex->reason = CPU_EXIT_INT;
            ex->vector = (uint8_t)rt->arg;
            break;
        case XE_KICK:
            mprotect(cpu->poll, CPU_PAGE_SIZE, PROT_READ);
            ex->reason = CPU_EXIT_KICK;
            break;
        case XE_PAGEFAULT:
            ex->reason = CPU_EXIT_EXCEPTION;
            ex->vector = 14;
            ex->has_error_code = 1;
            ex->error_code = rt->arg;
            ex->fault_gla = rt->scratch;
            cpu->state.cr2 = rt->scratch;
            break;
        default:
            cpu_set_err(cpu, "unknown exit reason %u at eip 0x%08x", reason, eip);
            ex->reason = CPU_EXIT_INTERNAL;
            break;
        }
        break;
    }
    cpu_rt_to_state(cpu);
out:
    memcpy(cpu->state.fxsave, rt->guest_fx, sizeof rt->guest_fx);
    cpu_signal_thread_leave(cpu);
    if (ex->reason == CPU_EXIT_INTERNAL)
        rc = -1;
    return rc;
}
