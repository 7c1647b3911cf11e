/*
 * x86run - run a static i386 Linux program under the binary translator.
 *
 *   x86run [--cpu PROFILE] [--stats] [--strace] PROGRAM [ARGS...]
 *
 * The program's stdout, stderr and exit status are what it would give run
 * natively. A guest exception that Linux turns into a signal (#PF, #GP ->
 * SIGSEGV, #DE -> SIGFPE, #UD -> SIGILL, INT3 -> SIGTRAP) ends x86run with
 * that same signal after one line on stderr that starts with "x86run:".
 * x86run's own failures (bad arguments, unloadable program, a translator
 * internal error) exit with status 125 or 126/127 as a shell would.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vmpack/profile.h>

#include "cpu.h"
#include "xr.h"

#define XR_EXIT_INTERNAL 125
#define XR_EXIT_NOEXEC 126
#define XR_EXIT_NOTFOUND 127

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f, "usage: x86run [--cpu PROFILE] [--stats] [--strace] PROGRAM [ARGS...]\n"
               "  --cpu PROFILE  CPU profile the guest sees (default: host); one of:");
    for (const char *const *n = vmp_profile_names(); *n; n++)
        fprintf(f, " %s", *n);
    fprintf(f, "\n  --stats        print translator statistics to stderr at exit\n"
               "  --strace       log every system call to stderr\n");
}

/* End the way the native process would: by the signal itself. */
static void die_by_signal(int sig)
{
    struct rlimit no_core = {0, 0};
    sigset_t set;
    fflush(NULL);
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* Linux's trap handlers (arch/x86/kernel/traps.c): the signal for each
 * exception vector taken in user mode, with its si_code and si_addr. */
static int vector_signal(unsigned vector, uint32_t error_code, uint32_t eip, uint32_t cr2,
                         int *code, uint32_t *addr)
{
    *addr = eip;
    switch (vector) {
    case 0: *code = 1; return SIGFPE;                   /* #DE: FPE_INTDIV */
    case 7: case 16: case 19: *code = 0; return SIGFPE; /* #NM #MF #XM */
    case 1: *code = 2; return SIGTRAP;                  /* TF single step: TRAP_TRACE */
    case 3: *code = 0x80; return SIGTRAP;               /* SI_KERNEL */
    case 6: *code = 2; return SIGILL;                   /* #UD: ILL_ILLOPN */
    case 12: case 17: *code = 1; return SIGBUS;         /* #SS #AC: BUS_ADRALN */
    case 14:                                            /* SEGV_MAPERR / _ACCERR */
        *code = (error_code & 1) ? 2 : 1;
        *addr = cr2;
        return SIGSEGV;
    default:                                            /* #GP #OF #BR ... */
        *code = 0x80;
        *addr = 0;
        return SIGSEGV;
    }
}

static void init_state(struct cpu *cpu, uint32_t entry, uint32_t esp)
{
    struct vmp_x86_state *s = cpu_state(cpu);
    memset(s, 0, sizeof *s);
    s->eip = entry;
    s->gpr[VMP_ESP] = esp;      /* psABI: the others are 0 (EDX: no atexit) */
    s->eflags = 0x202;          /* IF and the always-one bit 1 */
    /* Flat 4 GiB user segments of i386 Linux (__USER_CS 0x73, __USER_DS 0x7b):
     * code: type 0xB, data: type 0x3; S=1 DPL=3 P=1; D/B=1 G=1. */
    for (int r = 0; r < VMP_NSEG; r++) {
        if (r == VMP_FS || r == VMP_GS)
            continue;
        s->seg[r].selector = r == VMP_CS ? 0x73 : 0x7b;
        s->seg[r].attr = r == VMP_CS ? 0xCFB : 0xCF3;
        s->seg[r].base = 0;
        s->seg[r].limit = 0xFFFFFFFFu;
    }
    s->cr0 = 0x33;              /* PE MP ET NE */
    s->cr4 = 0x600;             /* OSFXSR OSXMMEXCPT: SSE usable */
    /* FXSAVE image (SDM 1 10.5.1): FCW 0x37F as Linux's fninit, MXCSR 0x1F80. */
    s->fxsave[0] = 0x7F;
    s->fxsave[1] = 0x03;
    s->fxsave[24] = 0x80;
    s->fxsave[25] = 0x1F;
    cpu_state_changed(cpu);
}

int main(int argc, char **argv)
{
    const char *profile_name = "host";
    int stats = 0, strace = 0, argi = 1;
    for (; argi < argc && argv[argi][0] == '-'; argi++) {
        if (!strcmp(argv[argi], "--cpu") && argi + 1 < argc) {
            profile_name = argv[++argi];
        } else if (!strcmp(argv[argi], "--stats")) {
            stats = 1;
        } else if (!strcmp(argv[argi], "--strace")) {
            strace = 1;
        } else if (!strcmp(argv[argi], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[argi], "--")) {
            argi++;
            break;
        } else {
            usage(stderr);
            return XR_EXIT_INTERNAL;
        }
    }
    if (argi >= argc) {
        usage(stderr);
        return XR_EXIT_INTERNAL;
    }

    struct vmp_cpu_profile profile;
    int rc = !strcmp(profile_name, "host") ? vmp_profile_host(&profile)
                                           : vmp_profile_builtin(profile_name, &profile);
    if (rc != 0) {
        fprintf(stderr, "x86run: unknown CPU profile '%s'\n", profile_name);
        usage(stderr);
        return XR_EXIT_INTERNAL;
    }
    uint32_t leaf1[4];
    vmp_profile_cpuid(&profile, 1, 0, leaf1);

    const char *prog = argv[argi];
    if (access(prog, F_OK) != 0) {
        fprintf(stderr, "x86run: %s: %s\n", prog, strerror(errno));
        return XR_EXIT_NOTFOUND;
    }

    /* A broken pipe is the guest's SIGPIPE (xr_sys.c), not x86run's. */
    signal(SIGPIPE, SIG_IGN);
    struct cpu_config cfg = {.mode = CPU_MODE_USER, .profile = &profile};
    struct cpu *cpu = NULL;
    rc = cpu_create(&cfg, &cpu);
    if (rc < 0) {
        fprintf(stderr, "x86run: cannot create the vCPU (%d)\n", rc);
        return XR_EXIT_INTERNAL;
    }
    static struct xr xr;
    if (xr_init(&xr, cpu) < 0) {
        fprintf(stderr, "x86run: out of memory\n");
        return XR_EXIT_INTERNAL;
    }
    xr.strace = strace;
    if (!realpath(prog, xr.exe_path))
        snprintf(xr.exe_path, sizeof xr.exe_path, "%s", prog);
    const char *base = strrchr(prog, '/');
    snprintf(xr.comm, sizeof xr.comm, "%s", base ? base + 1 : prog);

    struct xr_image img;
    char err[512];
    if (xr_load_elf(&xr, prog, &img, err, sizeof err) < 0) {
        fprintf(stderr, "x86run: %s\n", err);
        return XR_EXIT_NOEXEC;
    }
    uint32_t esp = xr_setup_stack(&xr, &img, argc - argi, argv + argi, environ, leaf1[3], prog);
    if (!esp) {
        fprintf(stderr, "x86run: arguments and environment do not fit the guest stack\n");
        return XR_EXIT_NOEXEC;
    }
    init_state(cpu, img.entry, esp);

    int sig = 0;
    for (;;) {
        struct cpu_exit ex;
        memset(&ex, 0, sizeof ex);
        rc = cpu_run(cpu, &ex);
        if (rc < 0) {
            fprintf(stderr, "x86run: internal error: %s\n", cpu_errmsg(cpu));
            return XR_EXIT_INTERNAL;
        }
        const struct vmp_x86_state *s = cpu_state(cpu);
        if (ex.reason == CPU_EXIT_KICK)
            continue;
        if (ex.reason == CPU_EXIT_INT && ex.vector == 0x80) {
            if (xr_syscall(&xr) < 0)
                break;
            continue;
        }
        if (ex.reason == CPU_EXIT_INT || ex.reason == CPU_EXIT_EXCEPTION ||
            ex.reason == CPU_EXIT_HLT) {
            /* INT n other than 0x80 and INT3 hits a DPL 0 gate, and HLT at
             * CPL 3 is privileged: both #GP (SDM 3A 6.12.1.1, HLT). */
            unsigned v = ex.reason == CPU_EXIT_HLT ? 13
                         : ex.reason == CPU_EXIT_INT && ex.vector != 3 ? 13 : ex.vector;
            uint32_t addr;
            int code;
            int fsig = vector_signal(v, ex.error_code, s->eip, ex.fault_gla, &code, &addr);
            /* a signal the guest handled does not end x86run by it later */
            if (xr_signal_fault(&xr, fsig, code, addr, v, ex.has_error_code ? ex.error_code : 0) == 0)
                continue;
            sig = fsig;
            fprintf(stderr, "x86run: guest %s %u at eip 0x%08x",
                    ex.reason == CPU_EXIT_INT ? "int" : ex.reason == CPU_EXIT_HLT ? "hlt" : "exception",
                    ex.vector, s->eip);
            if (v == 14)
                fprintf(stderr, " (address 0x%08x, error 0x%x)", ex.fault_gla, ex.error_code);
            else if (ex.has_error_code)
                fprintf(stderr, " (error 0x%x)", ex.error_code);
            fprintf(stderr, ": %s\n", strsignal(sig));
            break;
        }
        if (ex.reason == CPU_EXIT_SYSENTER) {
            /* No vDSO was offered, so nothing should use SYSENTER. */
            sig = SIGILL;
            fprintf(stderr, "x86run: guest sysenter at eip 0x%08x: %s\n", s->eip, strsignal(sig));
            break;
        }
        fprintf(stderr, "x86run: internal error (exit reason %d): %s\n", (int)ex.reason,
                cpu_errmsg(cpu));
        return XR_EXIT_INTERNAL;
    }
    if (xr.fatal_signal)
        sig = xr.fatal_signal;
    if (stats) {
        struct cpu_stats st;
        cpu_get_stats(cpu, &st);
        fprintf(stderr,
                "x86run: stats: %llu system calls, %llu blocks translated, %llu exits, "
                "%llu helper calls, %llu cache flushes, %llu SMC invalidations",
                (unsigned long long)xr.nsyscalls, (unsigned long long)st.blocks_translated,
                (unsigned long long)st.exits, (unsigned long long)st.helper_calls,
                (unsigned long long)st.cache_flushes, (unsigned long long)st.smc_invalidations);
        if (cpu_state(cpu)->icount)     /* only where the translator counts them */
            fprintf(stderr, ", %llu instructions", (unsigned long long)cpu_state(cpu)->icount);
        fprintf(stderr, "\n");
    }
    if (sig)
        die_by_signal(sig);
    int status = xr.exit_status;
    xr_fini(&xr);
    cpu_destroy(cpu);
    return status;
}
