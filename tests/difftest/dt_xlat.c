/*
 * dt_xlat.c - the translated side of the differential tester: runs each
 * case under vmm/cpu (cpu.h) in CPU_MODE_USER, in a forked child so that a
 * translator crash is a finding rather than the end of the run.
 *
 * One cpu serves every case: its regions are unmapped, its blocks flushed
 * and its state rewritten between cases. A case ends at the INT3 that
 * closes the sequence (CPU_EXIT_EXCEPTION vector 3, EIP after it), at any
 * other exit, or when the watchdog (SIGALRM -> cpu_kick) fires.
 */
#define _GNU_SOURCE
#include "dt_worker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dt_proto.h"

#ifdef DT_HAVE_XLAT

#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "cpu.h"

static struct cpu *xlat_cpu;
static struct dt_xlat_opts xlat_opts;

static void xlat_on_alarm(int sig)
{
    (void)sig;
    if (xlat_cpu)
        cpu_kick(xlat_cpu);
}

void dt_xlat_configure(const struct dt_xlat_opts *opts)
{
    xlat_opts = *opts;
}

static uint64_t xlat_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A flat 4 GiB segment with its descriptor cache (x86state.h attr layout:
 * type:4 s:1 dpl:2 p:1, then avl l db g in bits 8..11). */
static void xlat_flat_seg(struct vmp_x86_seg *s, uint16_t sel, uint32_t base, unsigned type)
{
    s->selector = sel;
    s->attr = (uint16_t)(type | 1u << 4 | 3u << 5 | 1u << 7 | (1u << 2 | 1u << 3) << 8);
    s->base = base;
    s->limit = 0xffffffffu;
}

static void xlat_fail(struct dt_result *res, const char *what, const char *detail)
{
    res->status = DT_ST_ERROR;
    snprintf(res->msg, sizeof res->msg, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

static void xlat_run_case(uint8_t *xchg, struct dt_region *mapped, uint32_t *nmapped)
{
    const struct dt_case *c = (const struct dt_case *)xchg;
    struct dt_result *res = (struct dt_result *)(xchg + DT_RESULT_OFF);
    struct vmp_x86_state *st;
    struct cpu_exit ex;
    struct itimerval it;
    uint64_t deadline_us;
    uint32_t i;

    memset(res, 0, sizeof *res);
    for (i = 0; i < *nmapped; i++)
        cpu_user_unmap(xlat_cpu, mapped[i].gla, mapped[i].size_bytes);
    *nmapped = 0;
    if (!xlat_opts.keep_cache)
        cpu_flush(xlat_cpu);
    if (c->magic != DT_CASE_MAGIC || c->nregions > DT_MAX_REGIONS) {
        xlat_fail(res, "bad case header", NULL);
        return;
    }
    for (i = 0; i < c->nregions; i++) {
        const struct dt_region *r = &c->region[i];
        void *p;
        if (cpu_user_map(xlat_cpu, r->gla, r->size_bytes, PROT_READ | PROT_WRITE, -1, 0) != 0) {
            xlat_fail(res, "cpu_user_map", cpu_errmsg(xlat_cpu));
            return;
        }
        mapped[(*nmapped)++] = *r;
        p = cpu_user_ptr(xlat_cpu, r->gla);
        if (!p) {
            xlat_fail(res, "cpu_user_ptr returned NULL", NULL);
            return;
        }
        memcpy(p, xchg + r->init_off, r->size_bytes);
        if (r->prot != (PROT_READ | PROT_WRITE) &&
            cpu_user_protect(xlat_cpu, r->gla, r->size_bytes, (int)r->prot) != 0) {
            xlat_fail(res, "cpu_user_protect", cpu_errmsg(xlat_cpu));
            return;
        }
    }

    st = cpu_state(xlat_cpu);
    memcpy(st->gpr, c->init.gpr, sizeof st->gpr);
    st->eip = c->init.eip;
    st->eflags = c->init.eflags | 0x202u; /* reserved bit 1; IF as in a Linux process */
    xlat_flat_seg(&st->seg[VMP_CS], DT_USER_CS, 0, 0xb);
    xlat_flat_seg(&st->seg[VMP_SS], DT_USER_DS, 0, 0x3);
    xlat_flat_seg(&st->seg[VMP_DS], DT_USER_DS, 0, 0x3);
    xlat_flat_seg(&st->seg[VMP_ES], DT_USER_DS, 0, 0x3);
    xlat_flat_seg(&st->seg[VMP_FS], DT_FS_SEL, c->init.fs_base, 0x3);
    xlat_flat_seg(&st->seg[VMP_GS], DT_GS_SEL, c->init.gs_base, 0x3);
    /* the same descriptors as GDT TLS entries, for segment loads */
    if (cpu_user_set_tls(xlat_cpu, DT_FS_TLS_ENTRY, c->init.fs_base, 0xffffffffu, st->seg[VMP_FS].attr) != 0 ||
        cpu_user_set_tls(xlat_cpu, DT_GS_TLS_ENTRY, c->init.gs_base, 0xffffffffu, st->seg[VMP_GS].attr) != 0) {
        xlat_fail(res, "cpu_user_set_tls", cpu_errmsg(xlat_cpu));
        return;
    }
    memcpy(st->fxsave, c->init.fx, sizeof st->fxsave);
    cpu_state_changed(xlat_cpu);

    /* the watchdog: a kick at the deadline, or a kick every kick_us
     * (exits and re-entries at block boundaries, as timer interrupts
     * cause them) with the deadline checked at each */
    deadline_us = xlat_now_us() + (uint64_t)c->timeout_ms * 1000u;
    memset(&it, 0, sizeof it);
    if (xlat_opts.kick_us) {
        it.it_value.tv_usec = xlat_opts.kick_us;
        it.it_interval.tv_usec = xlat_opts.kick_us;
    } else {
        it.it_value.tv_sec = c->timeout_ms / 1000;
        it.it_value.tv_usec = (c->timeout_ms % 1000) * 1000;
    }
    setitimer(ITIMER_REAL, &it, NULL);
    for (;;) {
        int rc = cpu_run(xlat_cpu, &ex);
        if (rc != 0) {
            res->status = DT_ST_REFUSED;
            snprintf(res->msg, sizeof res->msg, "cpu_run: %s", cpu_errmsg(xlat_cpu));
            break;
        }
        if (ex.reason == CPU_EXIT_KICK) {
            if (xlat_now_us() >= deadline_us) {
                res->status = DT_ST_TIMEOUT;
                break;
            }
            res->kicks++;
            continue;
        }
        if (ex.reason == CPU_EXIT_EXCEPTION && ex.vector == 3) {
            res->status = DT_ST_INT3;
        } else if (ex.reason == CPU_EXIT_EXCEPTION) {
            res->status = DT_ST_EXC;
            res->vector = ex.vector;
            res->error_code = ex.has_error_code ? ex.error_code : 0;
            res->cr2 = ex.vector == 14 ? ex.fault_gla : 0;
        } else if (ex.reason == CPU_EXIT_INT) {
            /* a user process's INT n is #GP natively; this tells them apart */
            res->status = DT_ST_EXC;
            res->vector = 0x100u + ex.vector;
        } else if (ex.reason == CPU_EXIT_INTERNAL) {
            res->status = DT_ST_REFUSED;
            snprintf(res->msg, sizeof res->msg, "CPU_EXIT_INTERNAL: %s", cpu_errmsg(xlat_cpu));
        } else {
            res->status = DT_ST_EXC;
            res->vector = 0x200u + (uint32_t)ex.reason;
            snprintf(res->msg, sizeof res->msg, "unexpected exit reason %d", (int)ex.reason);
        }
        break;
    }
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);

    st = cpu_state(xlat_cpu);
    memcpy(res->fin.gpr, st->gpr, sizeof res->fin.gpr);
    res->fin.eip = st->eip;
    res->fin.eflags = st->eflags;
    res->fin.fs_base = st->seg[VMP_FS].base;
    res->fin.gs_base = st->seg[VMP_GS].base;
    res->fin.fs_sel = st->seg[VMP_FS].selector;
    res->fin.gs_sel = st->seg[VMP_GS].selector;
    memcpy(res->fin.fx, st->fxsave, sizeof res->fin.fx);
    for (i = 0; i < c->nregions; i++) {
        const struct dt_region *r = &c->region[i];
        void *p;
        if (!(r->prot & PROT_READ))
            cpu_user_protect(xlat_cpu, r->gla, r->size_bytes, PROT_READ);
        p = cpu_user_ptr(xlat_cpu, r->gla);
        if (p)
            memcpy(xchg + r->fin_off, p, r->size_bytes);
    }
}

int dt_xlat_serve(uint8_t *xchg, int cmd_fd, int reply_fd, const char *profile)
{
    struct vmp_cpu_profile prof;
    struct cpu_config cfg;
    struct dt_region mapped[DT_MAX_REGIONS];
    uint32_t nmapped = 0;
    struct sigaction sa;
    int rc;

    rc = profile ? vmp_profile_builtin(profile, &prof) : vmp_profile_host(&prof);
    if (rc != 0) {
        fprintf(stderr, "difftest: unknown profile %s\n", profile ? profile : "host");
        return -1;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = CPU_MODE_USER;
    cfg.profile = &prof;
    cfg.code_cache_bytes = xlat_opts.code_cache_kb ? (size_t)xlat_opts.code_cache_kb << 10 : 16u << 20;
    if (cpu_create(&cfg, &xlat_cpu) != 0) {
        fprintf(stderr, "difftest: cpu_create failed\n");
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = xlat_on_alarm;
    sa.sa_flags = SA_ONSTACK | SA_RESTART; /* RSP may be the guest's ESP */
    sigaction(SIGALRM, &sa, NULL);

    for (;;) {
        char cmd, reply = 'r';
        if (read(cmd_fd, &cmd, 1) != 1 || cmd == 'q')
            break;
        xlat_run_case(xchg, mapped, &nmapped);
        if (write(reply_fd, &reply, 1) != 1)
            break;
    }
    cpu_destroy(xlat_cpu);
    xlat_cpu = NULL;
    return 0;
}

int dt_xlat_available(void)
{
    return 1;
}

#else /* !DT_HAVE_XLAT */

void dt_xlat_configure(const struct dt_xlat_opts *opts)
{
    (void)opts;
}

int dt_xlat_serve(uint8_t *xchg, int cmd_fd, int reply_fd, const char *profile)
{
    (void)xchg;
    (void)cmd_fd;
    (void)reply_fd;
    (void)profile;
    fprintf(stderr, "difftest: built without the translator (vmp_cpu)\n");
    return -1;
}

int dt_xlat_available(void)
{
    return 0;
}

#endif
