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
#include "decode.h"

#define SIG_ALTSTACK_BYTES (256u << 10)

static __thread struct cpu *sig_cpu;
static __thread void *sig_altstack_set;  /* the altstack this thread got from us */
static struct sigaction sig_old[4];
static const int sig_nums[4] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every live cpu, so a write by C code (the caller through cpu_user_ptr)
 * to a page that holds translated code can be let through: the page is
 * made writable again and the cache is flushed before the next entry. */
#define SIG_MAX_CPUS 64
static struct cpu *volatile sig_cpus[SIG_MAX_CPUS];

static int sig_host_write_to_code(uint8_t *a, int write)
{
    if (!write)
        return 0;
    for (int i = 0; i < SIG_MAX_CPUS; i++) {
        struct cpu *cpu = sig_cpus[i];
        if (!cpu || cpu->in_guest || a < cpu->view || a >= cpu->view + CPU_VIEW_BYTES)
            continue;
        uint32_t gla = (uint32_t)(uintptr_t)(a - cpu->view);
        uint8_t *pp = &cpu->page[gla >> 12];
        if (!(*pp & PP_CODE) || !(*pp & PROT_WRITE))
            return 0;
        *pp &= (uint8_t)~PP_CODE;
        cpu->pending_flush = 1;
        return mprotect(cpu->view + ((uint64_t)(gla >> 12) << 12), CPU_PAGE_SIZE,
                        PROT_READ | PROT_WRITE) == 0;
    }
    return 0;
}

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
    if (cpu && cpu->in_guest && g[REG_RIP] == 0 && sig == SIGSEGV && cpu->ibt) {
        /* jmp [r12 + r14*8] read an empty entry: a lookup miss (tcache.c) */
        cpu->rt->exit_eip = (uint32_t)g[REG_R14];
        cpu->rt->reason = XE_LOOKUP;
        g[REG_RIP] = (greg_t)(uintptr_t)xlat_exit;
        return;
    }
    uint8_t fixup = 0;
    if (cpu && cpu->in_guest)
        b = tc_find_pc(cpu, (const uint8_t *)g[REG_RIP], &eip, &fixup);
    if (!b) {
        if (sig == SIGSEGV && si->si_code == SEGV_ACCERR &&
            sig_host_write_to_code(si->si_addr, (g[REG_ERR] & 2) != 0))
            return;
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
        } else if (a >= cpu->view + CPU_VIEW_BYTES && a < cpu->view + CPU_VIEW_BYTES + CPU_VIEW_GUARD) {
            /* an access that starts below 4 GiB and ends above it: beyond
             * the flat segment's limit, #GP(0) (SDM 3A 5.3) */
            arg = 13 | 0x100;
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
        if (arg == 16) {
            /* an unmasked SSE exception is #XM, an x87 one #MF (SDM 3A 6.15) */
            struct x86_insn in;
            if (x86_decode(cpu->view + eip, X86_MAX_INSN_LEN, 1, &in) == X86_DEC_OK &&
                (in.flags & X86F_SSE))
                arg = 19;
        }
    }
    if (fixup >= 1 && fixup <= 4 && reason != XE_KICK) {
        static const int regs[4] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX};
        greg_t v = g[regs[fixup - 1]];
        g[regs[fixup - 1]] = (v & ~(greg_t)0xFFFF) | ((v & 0xFF) << 8) | ((v >> 8) & 0xFF);
    }
    rt->exit_eip = eip;
    rt->reason = reason;
    rt->arg = arg;
    rt->scratch = scratch;
    rt->sig_block = (uint64_t)g[REG_RIP]; /* icount: cpu.c, cpu_icount_fix */
    /* string instructions run on host addresses: the guest's ESI/EDI are
     * the low halves (the view is 4 GiB aligned) */
    g[REG_RSI] &= 0xFFFFFFFF;
    g[REG_RDI] &= 0xFFFFFFFF;
    g[REG_RIP] = (greg_t)(uintptr_t)xlat_exit;
}

/* Install our handlers where someone else's is current (a test framework
 * or a sanitizer may install theirs after cpu_create); theirs becomes the
 * one faults outside translated code are passed to. */
static int sig_ensure_installed(void)
{
    int rc = 0;
    struct sigaction segv;
    /* fast path (one system call per cpu_run): whoever replaces handlers
     * (test frameworks, sanitizers) replaces SIGSEGV with the others */
    if (sigaction(SIGSEGV, NULL, &segv) == 0 && (segv.sa_flags & SA_SIGINFO) &&
        segv.sa_sigaction == sig_handler)
        return 0;
    pthread_mutex_lock(&sig_lock);
    for (int i = 0; i < 4; i++) {
        struct sigaction cur;
        if (sigaction(sig_nums[i], NULL, &cur) != 0) {
            rc = -1;
            continue;
        }
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == sig_handler)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = sig_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig_nums[i], &sa, NULL) != 0)
            rc = -1;
        else
            sig_old[i] = cur;
    }
    pthread_mutex_unlock(&sig_lock);
    return rc;
}

int cpu_signal_install(struct cpu *cpu)
{
    pthread_mutex_lock(&sig_lock);
    for (int i = 0; i < SIG_MAX_CPUS; i++) {
        if (!sig_cpus[i]) {
            sig_cpus[i] = cpu;
            break;
        }
    }
    pthread_mutex_unlock(&sig_lock);
    cpu->altstack_bytes = SIG_ALTSTACK_BYTES;
    cpu->altstack = malloc(cpu->altstack_bytes);
    if (!cpu->altstack)
        return -1;
    return sig_ensure_installed();
}

void cpu_signal_thread_enter(struct cpu *cpu)
{
    stack_t cur;
    sig_cpu = cpu;
    sig_ensure_installed();
    if (sig_altstack_set == cpu->altstack)
        return;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
        cur.ss_size >= 65536)
        return;
    stack_t ss = {.ss_sp = cpu->altstack, .ss_size = cpu->altstack_bytes, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) == 0)
        sig_altstack_set = cpu->altstack;
}

void cpu_signal_thread_leave(struct cpu *cpu)
{
    if (sig_cpu == cpu)
        sig_cpu = NULL;
}

void cpu_signal_release(struct cpu *cpu)
{
    stack_t cur;
    cpu_signal_thread_leave(cpu);
    pthread_mutex_lock(&sig_lock);
    for (int i = 0; i < SIG_MAX_CPUS; i++)
        if (sig_cpus[i] == cpu)
            sig_cpus[i] = NULL;
    pthread_mutex_unlock(&sig_lock);
    if (cpu->altstack && sigaltstack(NULL, &cur) == 0 && cur.ss_sp == cpu->altstack &&
        !(cur.ss_flags & SS_ONSTACK)) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    if (sig_altstack_set == cpu->altstack)
        sig_altstack_set = NULL;
}
