/*
 * xr_signal.c - signals of an x86run guest: the dispositions the guest set
 * with rt_sigaction, its mask, pending signals, and delivery to a guest
 * handler on an i386 signal frame, undone by sigreturn/rt_sigreturn.
 *
 * Signals come from the guest itself only: exceptions (#PF -> SIGSEGV ...),
 * kill/tgkill/tkill of its own pid (raise, abort) and SIGPIPE from a write
 * to a broken pipe. Frames follow Linux's ia32 layouts (arch/x86/include/
 * asm/sigframe.h, uapi asm/sigcontext.h: struct sigframe_ia32 and
 * rt_sigframe_ia32), so glibc's restorers and handlers that read ucontext
 * work. The FPU/SSE image is kept after the frame, 64-byte aligned, and the
 * sigcontext's fpstate pointer is 0 (Linux's value for a task that never
 * used the FPU): nobody reads a format we do not write.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "xr.h"

#define I386_SA_SIGINFO 0x00000004u
#define I386_SA_ONSTACK 0x08000000u
#define I386_SA_RESTORER 0x04000000u
#define I386_SA_NODEFER 0x40000000u
#define I386_SA_RESETHAND 0x80000000u
#define I386_SS_ONSTACK 1
#define I386_SS_DISABLE 2
#define SIG_FX_BYTES 512u

struct i386_sigcontext {
    uint16_t gs, gsh, fs, fsh, es, esh, ds, dsh;
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t trapno, err, eip;
    uint16_t cs, csh;
    uint32_t eflags, esp_at_signal;
    uint16_t ss, ssh;
    uint32_t fpstate, oldmask, cr2;
};

struct i386_ucontext {
    uint32_t uc_flags, uc_link;
    uint32_t ss_sp;
    int32_t ss_flags;
    uint32_t ss_size;
    struct i386_sigcontext mc;
    uint32_t sigmask[2];
};

struct i386_rt_sigframe {
    uint32_t pretcode;
    int32_t sig;
    uint32_t pinfo, puc;
    int32_t info[32];           /* compat_siginfo_t: 128 bytes */
    struct i386_ucontext uc;
    uint8_t retcode[8];
};

struct i386_sigframe {
    uint32_t pretcode;
    int32_t sig;
    struct i386_sigcontext sc;
    uint8_t fpstate_unused[624];  /* struct _fpstate_32 */
    uint32_t extramask;
    uint8_t retcode[8];
};

_Static_assert(sizeof(struct i386_sigcontext) == 88, "sigcontext_32 is 88 bytes");
_Static_assert(sizeof(struct i386_ucontext) == 116, "ucontext_ia32 is 116 bytes");

static uint64_t sig_bit(int sig) { return 1ull << (sig - 1); }

/* Default actions (signal(7)): these are ignored, the others end the
 * process (stop signals: treated as ignored, there is no job control). */
static int sig_ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT ||
           sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int sig_on_altstack(const struct xr *xr, uint32_t esp)
{
    return !(xr->altstack_flags & I386_SS_DISABLE) && xr->altstack_size &&
           esp - xr->altstack_sp < xr->altstack_size;
}

static void sig_save_context(struct xr *xr, struct i386_sigcontext *sc, uint64_t oldmask)
{
    const struct vmp_x86_state *s = cpu_state(xr->cpu);
    memset(sc, 0, sizeof *sc);
    sc->gs = s->seg[VMP_GS].selector;
    sc->fs = s->seg[VMP_FS].selector;
    sc->es = s->seg[VMP_ES].selector;
    sc->ds = s->seg[VMP_DS].selector;
    sc->edi = s->gpr[VMP_EDI];
    sc->esi = s->gpr[VMP_ESI];
    sc->ebp = s->gpr[VMP_EBP];
    sc->esp = s->gpr[VMP_ESP];
    sc->ebx = s->gpr[VMP_EBX];
    sc->edx = s->gpr[VMP_EDX];
    sc->ecx = s->gpr[VMP_ECX];
    sc->eax = s->gpr[VMP_EAX];
    sc->trapno = xr->sig_trapno;
    sc->err = xr->sig_err;
    sc->eip = s->eip;
    sc->cs = s->seg[VMP_CS].selector;
    sc->eflags = s->eflags;
    sc->esp_at_signal = s->gpr[VMP_ESP];
    sc->ss = s->seg[VMP_SS].selector;
    sc->oldmask = (uint32_t)oldmask;
    sc->cr2 = xr->sig_cr2;
}

/* Build the frame and point the vCPU at the handler; -1 if the guest stack
 * cannot hold it (Linux then forces SIGSEGV). */
static int sig_setup_frame(struct xr *xr, int sig, const int32_t info[32])
{
    struct vmp_x86_state *s = cpu_state(xr->cpu);
    const struct xr_sigaction32 *act = &xr->sigact[sig];
    uint64_t oldmask = xr->sigmask;
    uint32_t sp = s->gpr[VMP_ESP];
    if ((act->flags & I386_SA_ONSTACK) && !(xr->altstack_flags & I386_SS_DISABLE) &&
        xr->altstack_size && !sig_on_altstack(xr, sp))
        sp = xr->altstack_sp + xr->altstack_size;
    int rt = (act->flags & I386_SA_SIGINFO) != 0;
    uint32_t size = rt ? sizeof(struct i386_rt_sigframe) : sizeof(struct i386_sigframe);
    /* [frame][pad][fx image at the frame's end rounded up to 64] below the
     * old stack pointer; (frame + 4) 16-byte aligned, as Linux does. */
    uint32_t frame = ((sp - SIG_FX_BYTES - 64 - size + 4) & ~15u) - 4;
    uint32_t fx = (frame + size + 63) & ~63u;
    /* Restorer: glibc always gives SA_RESTORER; else the retcode in the
     * frame (which needs an executable stack, as on Linux). */
    static const uint8_t rt_code[8] = {0xb8, 173, 0, 0, 0, 0xcd, 0x80, 0};
    static const uint8_t code[8] = {0x58, 0xb8, 119, 0, 0, 0, 0xcd, 0x80};
    if (rt) {
        struct i386_rt_sigframe f;
        memset(&f, 0, sizeof f);
        f.sig = sig;
        f.pinfo = frame + (uint32_t)offsetof(struct i386_rt_sigframe, info);
        f.puc = frame + (uint32_t)offsetof(struct i386_rt_sigframe, uc);
        memcpy(f.info, info, sizeof f.info);
        f.uc.ss_sp = xr->altstack_sp;
        f.uc.ss_size = xr->altstack_size;
        f.uc.ss_flags = xr->altstack_flags & I386_SS_DISABLE ? I386_SS_DISABLE
                        : sig_on_altstack(xr, s->gpr[VMP_ESP]) ? I386_SS_ONSTACK : 0;
        sig_save_context(xr, &f.uc.mc, oldmask);
        f.uc.sigmask[0] = (uint32_t)oldmask;
        f.uc.sigmask[1] = (uint32_t)(oldmask >> 32);
        memcpy(f.retcode, rt_code, sizeof rt_code);
        f.pretcode = (act->flags & I386_SA_RESTORER)
                         ? act->restorer
                         : frame + (uint32_t)offsetof(struct i386_rt_sigframe, retcode);
        if (xr_copy_out(xr, frame, &f, sizeof f) < 0)
            return -1;
        s->gpr[VMP_EDX] = f.pinfo;
        s->gpr[VMP_ECX] = f.puc;
    } else {
        struct i386_sigframe f;
        memset(&f, 0, sizeof f);
        f.sig = sig;
        sig_save_context(xr, &f.sc, oldmask);
        f.extramask = (uint32_t)(oldmask >> 32);
        memcpy(f.retcode, code, sizeof code);
        f.pretcode = (act->flags & I386_SA_RESTORER)
                         ? act->restorer
                         : frame + (uint32_t)offsetof(struct i386_sigframe, retcode);
        if (xr_copy_out(xr, frame, &f, sizeof f) < 0)
            return -1;
        s->gpr[VMP_EDX] = 0;
        s->gpr[VMP_ECX] = 0;
    }
    if (xr_copy_out(xr, fx, s->fxsave, SIG_FX_BYTES) < 0)
        return -1;
    s->gpr[VMP_EAX] = (uint32_t)sig;
    s->gpr[VMP_ESP] = frame;
    s->eip = act->handler;
    s->eflags &= ~(0x400u | 0x100u | 0x10000u);    /* DF TF RF (SDM 1 3.4.3) */
    /* FCW and MXCSR at their initial values in the handler, as Linux does. */
    memset(s->fxsave, 0, 32);
    s->fxsave[0] = 0x7F;
    s->fxsave[1] = 0x03;
    s->fxsave[24] = 0x80;
    s->fxsave[25] = 0x1F;
    xr->sigmask |= act->mask;
    if (!(act->flags & I386_SA_NODEFER))
        xr->sigmask |= sig_bit(sig);
    xr->sigmask &= ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
    if (act->flags & I386_SA_RESETHAND)
        xr->sigact[sig].handler = 0;
    cpu_state_changed(xr->cpu);
    return 0;
}

/* Act on a signal whose disposition now applies: 0 handled (delivered or
 * ignored), -1 fatal (xr->fatal_signal set). */
static int sig_act(struct xr *xr, int sig, const int32_t info[32])
{
    uint32_t h = xr->sigact[sig].handler;
    if (sig == SIGKILL || sig == SIGSTOP || h == 0) {
        if (sig != SIGKILL && sig_ignored_by_default(sig))
            return 0;
        xr->fatal_signal = sig;
        return -1;
    }
    if (h == 1)
        return 0;
    if (sig_setup_frame(xr, sig, info) < 0) {
        fprintf(stderr, "x86run: cannot write the signal %d frame on the guest stack\n", sig);
        xr->fatal_signal = SIGSEGV;
        return -1;
    }
    return 0;
}

void xr_signal_send(struct xr *xr, int sig, int code)
{
    if (sig <= 0 || sig > 64)
        return;
    xr->sigpending |= sig_bit(sig);
    xr->sigcode[sig] = code;
}

int xr_signal_deliver_pending(struct xr *xr)
{
    uint64_t ready = xr->sigpending & ~xr->sigmask;
    ready |= xr->sigpending & (sig_bit(SIGKILL) | sig_bit(SIGSTOP));
    if (!ready)
        return 0;
    int sig = __builtin_ctzll(ready) + 1;
    xr->sigpending &= ~sig_bit(sig);
    int32_t info[32] = {0};
    info[0] = sig;
    info[2] = xr->sigcode[sig];
    info[3] = (int32_t)getpid();    /* si_pid, si_uid of kill() */
    info[4] = (int32_t)getuid();
    xr->sig_trapno = xr->sig_err = xr->sig_cr2 = 0;
    return sig_act(xr, sig, info);
}

int xr_signal_fault(struct xr *xr, int sig, int code, uint32_t addr, unsigned vector,
                    uint32_t error_code)
{
    /* force_sig_fault: a blocked or ignored fault signal kills. */
    uint32_t h = xr->sigact[sig].handler;
    if (h <= 1 || (xr->sigmask & sig_bit(sig))) {
        xr->fatal_signal = sig;
        return -1;
    }
    int32_t info[32] = {0};
    info[0] = sig;
    info[2] = code;
    info[3] = (int32_t)addr;        /* si_addr */
    xr->sig_trapno = vector;
    xr->sig_err = error_code;
    xr->sig_cr2 = vector == 14 ? addr : 0;
    return sig_act(xr, sig, info);
}

long xr_signal_return(struct xr *xr, int rt)
{
    struct vmp_x86_state *s = cpu_state(xr->cpu);
    struct i386_sigcontext sc;
    uint64_t mask;
    uint32_t frame, size;
    if (rt) {
        /* The handler's ret popped pretcode. */
        frame = s->gpr[VMP_ESP] - 4;
        size = sizeof(struct i386_rt_sigframe);
        struct i386_ucontext uc;
        if (xr_copy_in(xr, &uc, frame + (uint32_t)offsetof(struct i386_rt_sigframe, uc),
                       sizeof uc) < 0)
            goto bad;
        sc = uc.mc;
        mask = (uint64_t)uc.sigmask[1] << 32 | uc.sigmask[0];
    } else {
        /* __restore popped pretcode and sig. */
        frame = s->gpr[VMP_ESP] - 8;
        size = sizeof(struct i386_sigframe);
        struct i386_sigframe f;
        if (xr_copy_in(xr, &f, frame, sizeof f) < 0)
            goto bad;
        sc = f.sc;
        mask = (uint64_t)f.extramask << 32 | f.sc.oldmask;
    }
    uint32_t fx = (frame + size + 63) & ~63u;
    uint8_t fximg[SIG_FX_BYTES];
    if (xr_copy_in(xr, fximg, fx, SIG_FX_BYTES) < 0)
        goto bad;
    /* MXCSR bits past 15 are reserved: a host FXRSTOR would fault on them. */
    fximg[26] = fximg[27] = 0;
    memcpy(s->fxsave, fximg, SIG_FX_BYTES);
    s->gpr[VMP_EDI] = sc.edi;
    s->gpr[VMP_ESI] = sc.esi;
    s->gpr[VMP_EBP] = sc.ebp;
    s->gpr[VMP_ESP] = sc.esp;
    s->gpr[VMP_EBX] = sc.ebx;
    s->gpr[VMP_EDX] = sc.edx;
    s->gpr[VMP_ECX] = sc.ecx;
    s->gpr[VMP_EAX] = sc.eax;
    s->eip = sc.eip;
    /* Only the flags a user may change (Linux's FIX_EFLAGS): AC OF DF TF SF
     * ZF AF PF CF and RF. */
    const uint32_t user = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 |
                          0x10000;
    s->eflags = (s->eflags & ~user) | (sc.eflags & user);
    xr->sigmask = mask & ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
    xr->regs_restored = 1;
    cpu_state_changed(xr->cpu);
    return 0;
bad:
    fprintf(stderr, "x86run: %ssigreturn with a bad frame at 0x%08x\n", rt ? "rt_" : "",
            s->gpr[VMP_ESP]);
    xr->fatal_signal = SIGSEGV;
    return -1;
}

long xr_signal_altstack(struct xr *xr, uint32_t ss_gla, uint32_t old_gla)
{
    const struct vmp_x86_state *s = cpu_state(xr->cpu);
    int on = sig_on_altstack(xr, s->gpr[VMP_ESP]);
    if (old_gla) {
        uint32_t old[3] = {xr->altstack_sp,
                           on ? I386_SS_ONSTACK : xr->altstack_flags & I386_SS_DISABLE,
                           xr->altstack_size};
        if (xr_copy_out(xr, old_gla, old, sizeof old) < 0)
            return -EFAULT;
    }
    if (ss_gla) {
        uint32_t ss[3];
        if (xr_copy_in(xr, ss, ss_gla, sizeof ss) < 0)
            return -EFAULT;
        if (on)
            return -EPERM;
        if (ss[1] & ~(uint32_t)I386_SS_DISABLE)
            return -EINVAL;
        if (!(ss[1] & I386_SS_DISABLE) && ss[2] < 2048)    /* MINSIGSTKSZ */
            return -ENOMEM;
        xr->altstack_sp = ss[1] & I386_SS_DISABLE ? 0 : ss[0];
        xr->altstack_size = ss[1] & I386_SS_DISABLE ? 0 : ss[2];
        xr->altstack_flags = ss[1];
    }
    return 0;
}
