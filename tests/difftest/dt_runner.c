/*
 * dt_runner.c - the native side of the differential tester: a 32-bit
 * static executable that runs each case on the host CPU.
 *
 * Usage: difftest-native FD. FD is the exchange memfd (dt_proto.h); the
 * control pipe is stdin (commands) and stdout (replies).
 *
 * For one case: map the regions at their fixed addresses (MAP_FIXED, in
 * the window below the runner's image), point GDT TLS entries 13 and 14
 * at the FS and GS bases (dt_proto.h), then dt_enter loads the registers, EFLAGS and the
 * FXSAVE image and jumps to the code. Every end is a signal: the INT3
 * that closes a sequence (SIGTRAP), a fault (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL) or the watchdog timer (SIGALRM). The handler records the
 * signal, the trap number, error code and CR2 from the signal frame, and
 * returns into dt_capture instead of the test code: the kernel's
 * sigreturn restores the test's exact registers and FPU state, and
 * dt_capture stores them from the CPU itself, so the FPU and SSE state
 * never has to be parsed out of a signal frame.
 *
 * glibc's i386 TLS lives behind GS; a test runs with its own GS. The
 * handler therefore touches nothing but globals (no TLS, no errno; the
 * executable is built without stack protector), and dt_capture puts the
 * runner's GS back before any C code runs.
 */
#define _GNU_SOURCE
#include <asm/ldt.h> /* struct user_desc */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "dt_proto.h"

#if !defined(__i386__)
#error "dt_runner.c is the 32-bit native runner: build it with -m32"
#endif

/* Shared with the assembly below. */
struct dt_cpu dt_in_cpu;            /* what dt_enter loads */
struct dt_cpu dt_out_cpu;           /* what dt_capture stores */
uint32_t dt_host_esp;
uint16_t dt_host_gs;
uint32_t dt_jump_target;
uint8_t dt_cap_stack[4096] __attribute__((aligned(16)));

static volatile sig_atomic_t dt_in_test;
static volatile uint32_t dt_sig_no, dt_sig_trap, dt_sig_err, dt_sig_cr2, dt_sig_eip;

void dt_enter(void);
void dt_capture(void);

#define DT_OFF_ESP (4 * 4)
__asm__(".text\n"
        ".globl dt_enter\n"
        "dt_enter:\n"
        "  push %ebp\n  push %ebx\n  push %esi\n  push %edi\n"
        "  mov %esp, dt_host_esp\n"
        "  movw %gs, dt_host_gs\n"
        "  fxrstor dt_in_cpu+64\n"
        "  movw dt_in_cpu+48, %fs\n"
        "  movw dt_in_cpu+50, %gs\n"
        "  mov dt_in_cpu+32, %eax\n"
        "  mov %eax, dt_jump_target\n"
        "  pushl dt_in_cpu+36\n"
        "  popfl\n"
        "  mov dt_in_cpu+4, %ecx\n"
        "  mov dt_in_cpu+8, %edx\n"
        "  mov dt_in_cpu+12, %ebx\n"
        "  mov dt_in_cpu+16, %esp\n"
        "  mov dt_in_cpu+20, %ebp\n"
        "  mov dt_in_cpu+24, %esi\n"
        "  mov dt_in_cpu+28, %edi\n"
        "  mov dt_in_cpu+0, %eax\n"
        "  jmp *dt_jump_target\n"
        "\n"
        ".globl dt_capture\n"
        "dt_capture:\n"
        "  mov %esp, dt_out_cpu+16\n"
        "  mov $dt_cap_stack+4096, %esp\n"
        "  pushfl\n"
        "  popl dt_out_cpu+36\n"
        "  mov %eax, dt_out_cpu+0\n"
        "  mov %ecx, dt_out_cpu+4\n"
        "  mov %edx, dt_out_cpu+8\n"
        "  mov %ebx, dt_out_cpu+12\n"
        "  mov %ebp, dt_out_cpu+20\n"
        "  mov %esi, dt_out_cpu+24\n"
        "  mov %edi, dt_out_cpu+28\n"
        "  fxsave dt_out_cpu+64\n"
        "  movw %fs, dt_out_cpu+48\n"
        "  movw %gs, dt_out_cpu+50\n"
        "  movw dt_host_gs, %gs\n"
        "  xor %eax, %eax\n"
        "  movw %ax, %fs\n"
        "  cld\n"
        "  fninit\n"
        "  pushl $0x1f80\n"
        "  ldmxcsr (%esp)\n"
        "  mov dt_host_esp, %esp\n"
        "  pop %edi\n  pop %esi\n  pop %ebx\n  pop %ebp\n"
        "  ret\n");

_Static_assert(offsetof(struct dt_cpu, eip) == 32, "asm offsets");
_Static_assert(offsetof(struct dt_cpu, eflags) == 36, "asm offsets");
_Static_assert(offsetof(struct dt_cpu, fs_sel) == 48, "asm offsets");
_Static_assert(offsetof(struct dt_cpu, gs_sel) == 50, "asm offsets");

/* write(2) and _exit(2) without libc: GS may be the test's here, and
 * i386 glibc reaches the kernel through a pointer in its TLS. */
static void runner_die(const char *msg, unsigned len)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4), "b"(2), "c"(msg), "d"(len) : "memory");
    __asm__ volatile("int $0x80" : : "a"(1), "b"(3));
    for (;;)
        ;
}

static void runner_on_signal(int sig, siginfo_t *si, void *ctx_v)
{
    ucontext_t *uc = ctx_v;
    (void)si;
    if (!dt_in_test) {
        static const char msg[] = "difftest-native: signal outside a test\n";
        runner_die(msg, sizeof msg - 1);
    }
    dt_in_test = 0;
    dt_sig_no = (uint32_t)sig;
    dt_sig_trap = (uint32_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    dt_sig_err = (uint32_t)uc->uc_mcontext.gregs[REG_ERR];
    dt_sig_cr2 = (uint32_t)uc->uc_mcontext.cr2;
    dt_sig_eip = (uint32_t)uc->uc_mcontext.gregs[REG_EIP];
    uc->uc_mcontext.gregs[REG_EIP] = (greg_t)(uintptr_t)dt_capture;
    /* dt_capture must not single-step or check alignment (TF, AC) */
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x40100;
}

static int runner_set_tls(unsigned entry, uint32_t base)
{
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = entry;
    d.base_addr = base;
    d.limit = 0xfffff;
    d.seg_32bit = 1;
    d.contents = 0; /* data, expand up */
    d.limit_in_pages = 1;
    d.useable = 1;
    return (int)syscall(SYS_set_thread_area, &d);
}

static void runner_fail(struct dt_result *res, const char *what)
{
    res->status = DT_ST_ERROR;
    strncpy(res->msg, what, sizeof res->msg - 1);
}

static void runner_run_case(uint8_t *xchg)
{
    static uint32_t cur_fs_base = 1, cur_gs_base = 1; /* 1: never a base we set */
    const struct dt_case *c = (const struct dt_case *)xchg;
    struct dt_result *res = (struct dt_result *)(xchg + DT_RESULT_OFF);
    uint32_t i, mapped = 0;

    memset(res, 0, sizeof *res);
    if (c->magic != DT_CASE_MAGIC || c->nregions > DT_MAX_REGIONS) {
        runner_fail(res, "bad case header");
        return;
    }
    for (i = 0; i < c->nregions; i++) {
        const struct dt_region *r = &c->region[i];
        void *p;
        if (r->gla < DT_GLA_MIN || r->gla >= DT_GLA_MAX || r->size_bytes > DT_GLA_MAX - r->gla ||
            (r->gla & 0xfff) || (r->size_bytes & 0xfff) || r->init_off > DT_XCHG_BYTES - r->size_bytes ||
            r->fin_off > DT_XCHG_BYTES - r->size_bytes) {
            runner_fail(res, "region outside the runner's window");
            goto out;
        }
        p = mmap((void *)(uintptr_t)r->gla, r->size_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) {
            runner_fail(res, "mmap of a region failed");
            goto out;
        }
        mapped = i + 1;
        memcpy(p, xchg + r->init_off, r->size_bytes);
        if (mprotect(p, r->size_bytes, (int)r->prot) != 0) {
            runner_fail(res, "mprotect of a region failed");
            goto out;
        }
    }
    if (cur_fs_base != c->init.fs_base) {
        if (runner_set_tls(DT_FS_TLS_ENTRY, c->init.fs_base) != 0) {
            runner_fail(res, "set_thread_area for FS failed");
            goto out;
        }
        cur_fs_base = c->init.fs_base;
    }
    if (cur_gs_base != c->init.gs_base) {
        if (runner_set_tls(DT_GS_TLS_ENTRY, c->init.gs_base) != 0) {
            runner_fail(res, "set_thread_area for GS failed");
            goto out;
        }
        cur_gs_base = c->init.gs_base;
    }

    memcpy(&dt_in_cpu, &c->init, sizeof dt_in_cpu);
    dt_in_cpu.fs_sel = DT_FS_SEL;
    dt_in_cpu.gs_sel = DT_GS_SEL;
    {
        struct itimerval it;
        memset(&it, 0, sizeof it);
        it.it_value.tv_sec = c->timeout_ms / 1000;
        it.it_value.tv_usec = (c->timeout_ms % 1000) * 1000;
        setitimer(ITIMER_REAL, &it, NULL);
        dt_in_test = 1;
        dt_enter();
        memset(&it, 0, sizeof it);
        setitimer(ITIMER_REAL, &it, NULL);
    }

    res->fin = dt_out_cpu;
    res->fin.eip = dt_sig_eip;
    res->fin.fs_base = c->init.fs_base;
    res->fin.gs_base = c->init.gs_base;
    res->signo = dt_sig_no;
    if (dt_sig_no == SIGALRM) {
        res->status = DT_ST_TIMEOUT;
    } else if (dt_sig_no == SIGTRAP && dt_sig_trap == 3) {
        res->status = DT_ST_INT3;
    } else {
        res->status = DT_ST_EXC;
        res->vector = dt_sig_trap;
        res->error_code = dt_sig_err;
        res->cr2 = dt_sig_trap == 14 ? dt_sig_cr2 : 0;
    }
    for (i = 0; i < c->nregions; i++) {
        const struct dt_region *r = &c->region[i];
        if (!(r->prot & PROT_READ))
            mprotect((void *)(uintptr_t)r->gla, r->size_bytes, PROT_READ);
        memcpy(xchg + r->fin_off, (void *)(uintptr_t)r->gla, r->size_bytes);
    }
out:
    for (i = 0; i < mapped; i++)
        munmap((void *)(uintptr_t)c->region[i].gla, c->region[i].size_bytes);
}

int main(int argc, char **argv)
{
    static uint8_t altstack[65536];
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM};
    struct sigaction sa;
    stack_t ss;
    uint8_t *xchg;
    unsigned i;

    if (argc != 2) {
        static const char msg[] = "usage: difftest-native MEMFD (started by difftest)\n";
        ssize_t n = write(2, msg, sizeof msg - 1);
        (void)n;
        return 2;
    }
    xchg = mmap(NULL, DT_XCHG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(argv[1]), 0);
    if (xchg == MAP_FAILED)
        return 1;
    ss.ss_sp = altstack;
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0)
        return 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = runner_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return 1;

    for (;;) {
        char cmd, reply = 'r';
        if (read(0, &cmd, 1) != 1 || cmd == 'q')
            return 0;
        runner_run_case(xchg);
        if (write(1, &reply, 1) != 1)
            return 1;
    }
}
