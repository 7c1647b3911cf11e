/* Signal delivery: handlers for faults (SIGSEGV with si_addr, SIGFPE,
 * SIGILL skipped by editing the saved EIP), raise() with SA_SIGINFO and
 * with an old-style handler (sigreturn), masks and pending signals,
 * SA_RESETHAND, SIGPIPE, sigaltstack, and abort() caught by siglongjmp. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ucontext.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t count, last_sig, last_code;
static volatile uintptr_t last_addr;
static char altstack[65536];
static volatile int on_alt;
static volatile int seen_in_handler;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    siglongjmp(jb, 1);
}

static void skip_ud2(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)si;
    last_sig = sig;
    uc->uc_mcontext.gregs[REG_EIP] += 2;    /* over the ud2 */
    uc->uc_mcontext.gregs[REG_EAX] = 1234;
}

static void counter(int sig) { count++; last_sig = sig; }

static void with_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    count += 10;
    last_sig = sig;
    last_code = si->si_code;
    if (si->si_pid != getpid())
        count += 1000;
}

static void nested(int sig)
{
    (void)sig;
    count += 100;
    raise(SIGUSR1);     /* blocked in here by sa_mask: runs after return */
    seen_in_handler = count;
    count += 100;
}

static void on_alt_handler(int sig)
{
    char here;
    (void)sig;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
}

static void install(int sig, void (*h)(int), void (*sa)(int, siginfo_t *, void *), int flags)
{
    struct sigaction act;
    memset(&act, 0, sizeof act);
    sigemptyset(&act.sa_mask);
    if (sa) {
        act.sa_sigaction = sa;
        act.sa_flags = SA_SIGINFO | flags;
    } else {
        act.sa_handler = h;
        act.sa_flags = flags;
    }
    sigaction(sig, &act, NULL);
}

int main(void)
{
    install(SIGSEGV, NULL, on_fault, 0);
    if (sigsetjmp(jb, 1) == 0)
        *(volatile int *)(uintptr_t)strtoul("0x1234", NULL, 16) = 1;
    printf("segv: sig %d code %d addr %#lx\n", last_sig, last_code, (unsigned long)last_addr);

    install(SIGFPE, NULL, on_fault, 0);
    volatile int zero = 0;
    if (sigsetjmp(jb, 1) == 0)
        printf("%d\n", 100 / zero);
    printf("fpe: sig %d code %d\n", last_sig, last_code);

    install(SIGILL, NULL, skip_ud2, 0);
    int eax = 0;
    __asm__ volatile("movl $1, %%eax\n\tud2\n\tmovl %%eax, %0" : "=r"(eax) : : "eax");
    printf("ill: sig %d, resumed after ud2 with eax %d\n", last_sig, eax);

    install(SIGUSR1, counter, NULL, 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    printf("usr1 old-style handler: count %d sig %d\n", count, last_sig);

    count = 0;
    install(SIGUSR2, NULL, with_info, 0);
    raise(SIGUSR2);
    printf("usr2 siginfo handler: count %d code %d\n", count, last_code);

    /* blocked: pending until unblocked */
    count = 0;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("while blocked: count %d\n", count);
    sigset_t pend;
    sigpending(&pend);
    printf("pending usr1 %d usr2 %d\n", sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock: count %d\n", count);

    /* a signal raised inside a handler of another waits for its return */
    count = 0;
    install(SIGHUP, nested, NULL, 0);
    struct sigaction hup;
    sigaction(SIGHUP, NULL, &hup);
    sigaddset(&hup.sa_mask, SIGUSR1);
    sigaction(SIGHUP, &hup, NULL);
    raise(SIGHUP);
    printf("nested: count %d, %d inside the handler\n", count, seen_in_handler);

    /* SA_RESETHAND: the second one is ignored by default (SIGWINCH) */
    count = 0;
    install(SIGWINCH, counter, NULL, SA_RESETHAND);
    raise(SIGWINCH);
    raise(SIGWINCH);
    printf("resethand: count %d\n", count);

    /* SIGPIPE handled: write returns EPIPE */
    count = 0;
    install(SIGPIPE, counter, NULL, 0);
    int p[2];
    pipe(p);
    close(p[0]);
    long w = write(p[1], "x", 1);
    printf("sigpipe: write %ld count %d sig %d\n", w, count, last_sig);

    /* sigaltstack + SA_ONSTACK */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    install(SIGUSR2, on_alt_handler, NULL, SA_ONSTACK);
    raise(SIGUSR2);
    printf("altstack: handler ran on it %d\n", on_alt);

    /* abort() caught */
    install(SIGABRT, NULL, on_fault, 0);
    if (sigsetjmp(jb, 1) == 0)
        abort();
    printf("abort caught: sig %d\n", last_sig);

    /* SIG_IGN for a raised signal */
    signal(SIGTERM, SIG_IGN);
    raise(SIGTERM);
    printf("ignored sigterm\n");
    fflush(stdout);
    /* finally the default action */
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    printf("not reached\n");
    return 0;
}
