/*
 * cpu_signal.c - faults in translated code become guest events.
 *
 * Translated code keeps the guest ESP in RSP, so every handler runs with
 * SA_ONSTACK on a per-thread sigaltstack (installed by cpu_run). A fault
 * whose host pc lies in the code cache is mapped to the guest instruction
 * through the block's table (tc_find_pc); the guest registers and flags
 * are the host's in the signal context, so the handler only records the
 * reason and resumes at xlat_exit, which saves them exactly as at any
 * other exit. Faults outside translated code go to the handler that was
 * installed before ours.
 *
 *   poll page         -> XE_KICK at the block's first instruction
 *   write to a page with translated code that the guest may write
 *                     -> XE_SMC (the dispatcher invalidates and restarts)
 *   other view access -> #PF with the guest's error code and linear address
 *   SIGSEGV SI_KERNEL -> #GP(0)
 *   SIGFPE            -> #DE (integer divide), else #MF
 *   SIGILL            -> #UD
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "cpu_int.h"

#define SIG_ALTSTACK_BYTES (256u << 10)

static __thread struct cpu *sig_cpu;
static struct sigaction sig_old[4];
static const int sig_nums[4] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
static pthread_once_t sig_once = PTHREAD_ONCE_INIT;
static int sig_install_status;

static void sig_chain(int sig, siginfo_t *si, void *uc)
{
    for (int i = 0; i < 4; i++) {
        if (sig_nums[i] != sig)
            continue;
        struct sigaction *o = &sig_old[i];
        if ((o->sa_flags & SA_SIGINFO) && o->sa_sigaction) {
            o->sa_sigaction(sig, si, uc);
        } else if (o->sa_handler == SIG_IGN) {
            return;
        } else if (o->sa_handler == SIG_DFL) {
            /* returning re-executes the faulting instruction: default action */
            signal(sig, SIG_DFL);
        } else {
            o->sa_handler(sig);
        }
        return;
    }
}

static void sig_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    struct cpu *cpu = sig_cpu;
    uint32_t eip = 0;
    struct xlat_block *b = NULL;
    if (cpu && cpu->in_guest)
        b = tc_find_pc(cpu, (const uint8_t *)g[REG_RIP], &eip);
    if (!b) {
        sig_chain(sig, si, ucv);
        return;
    }
    struct cpu_rt *rt = cpu->rt;
    uint32_t reason = XE_EXCEPTION, arg = 6, scratch = 0;
    if (sig == SIGSEGV || sig == SIGBUS) {
        uint8_t *a = si->si_addr;
        if (a >= cpu->poll && a < cpu->poll + CPU_PAGE_SIZE) {
            reason = XE_KICK;
            eip = b->eip;
        } else if (si->si_code != SI_KERNEL && a >= cpu->view - CPU_VIEW_GUARD &&
                   a < cpu->view + CPU_VIEW_BYTES + CPU_VIEW_GUARD) {
            uint32_t gla = (uint32_t)(uintptr_t)(a - cpu->view);
            uint8_t pp = cpu->page[gla >> 12];
            int write = (g[REG_ERR] & 2) != 0;
            scratch = gla;
            if (write && (pp & PP_CODE) && (pp & PROT_WRITE)) {
                reason = XE_SMC;
            } else {
                reason = XE_PAGEFAULT;
                arg = 4u | (write ? 2u : 0u) | ((pp & PP_MAPPED) ? 1u : 0u);
            }
        } else {
            arg = 13 | 0x100; /* #GP(0) */
        }
    } else if (sig == SIGFPE) {
        arg = (si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF) ? 0 : 16;
    }
    rt->exit_eip = eip;
    rt->reason = reason;
    rt->arg = arg;
    rt->scratch = scratch;
    /* string instructions run on host addresses: the guest's ESI/EDI are
     * the low halves (the view is 4 GiB aligned) */
    g[REG_RSI] &= 0xFFFFFFFF;
    g[REG_RDI] &= 0xFFFFFFFF;
    g[REG_RIP] = (greg_t)(uintptr_t)xlat_exit;
}

static void sig_install_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sig_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; i++) {
        if (sigaction(sig_nums[i], &sa, &sig_old[i]) != 0)
            sig_install_status = -1;
    }
}

int cpu_signal_install(struct cpu *cpu)
{
    pthread_once(&sig_once, sig_install_once);
    cpu->altstack_bytes = SIG_ALTSTACK_BYTES;
    cpu->altstack = malloc(cpu->altstack_bytes);
    if (!cpu->altstack)
        return -1;
    return sig_install_status;
}

void cpu_signal_thread_enter(struct cpu *cpu)
{
    stack_t cur;
    sig_cpu = cpu;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
        cur.ss_size >= 65536)
        return;
    stack_t ss = {.ss_sp = cpu->altstack, .ss_size = cpu->altstack_bytes, .ss_flags = 0};
    sigaltstack(&ss, NULL);
}

void cpu_signal_thread_leave(struct cpu *cpu)
{
    if (sig_cpu == cpu)
        sig_cpu = NULL;
}
