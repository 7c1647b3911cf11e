/*
 * vclock.c - the virtual clock: host CLOCK_MONOTONIC plus an offset, frozen
 * while paused; or, in deterministic mode, start + icount * ns_per_insn
 * (vclock.h).
 */
#include "vclock.h"

#include <time.h>

uint64_t vclock_host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vclock_init(struct vclock *c, uint64_t start_ns)
{
    c->source = VCLOCK_HOST;
    c->icount = NULL;
    c->start_ns = start_ns;
    c->ns_per_insn = 0;
    atomic_store(&c->paused_at_ns, UINT64_MAX);
    atomic_store(&c->offset_ns, start_ns - vclock_host_ns());
}

void vclock_init_icount(struct vclock *c, uint64_t start_ns, const _Atomic uint64_t *icount,
                        uint32_t ns_per_insn)
{
    vclock_init(c, start_ns);
    c->source = VCLOCK_ICOUNT;
    c->icount = icount;
    c->ns_per_insn = ns_per_insn ? ns_per_insn : 1;
}

uint64_t vclock_now(const struct vclock *c)
{
    uint64_t paused;

    if (c->source == VCLOCK_ICOUNT)
        return c->start_ns + atomic_load(c->icount) * c->ns_per_insn;
    paused = atomic_load(&c->paused_at_ns);
    if (paused != UINT64_MAX)
        return paused;
    return vclock_host_ns() + atomic_load(&c->offset_ns);
}

void vclock_pause(struct vclock *c)
{
    if (c->source == VCLOCK_HOST && atomic_load(&c->paused_at_ns) == UINT64_MAX)
        atomic_store(&c->paused_at_ns, vclock_now(c));
}

void vclock_resume(struct vclock *c)
{
    uint64_t paused = atomic_load(&c->paused_at_ns);

    if (c->source != VCLOCK_HOST || paused == UINT64_MAX)
        return;
    /* continue from where the guest saw the clock stop */
    atomic_store(&c->offset_ns, paused - vclock_host_ns());
    atomic_store(&c->paused_at_ns, UINT64_MAX);
}

uint64_t vclock_host_deadline(const struct vclock *c, uint64_t guest_ns)
{
    if (c->source != VCLOCK_HOST || atomic_load(&c->paused_at_ns) != UINT64_MAX)
        return UINT64_MAX;
    return guest_ns - atomic_load(&c->offset_ns);
}

void vclock_skip(struct vclock *c, uint64_t ns)
{
    if (c->source == VCLOCK_ICOUNT)
        c->start_ns += ns;
}

uint64_t vclock_icount_at(const struct vclock *c, uint64_t guest_ns)
{
    if (c->source != VCLOCK_ICOUNT || guest_ns <= c->start_ns)
        return 0;
    return (guest_ns - c->start_ns + c->ns_per_insn - 1) / c->ns_per_insn;
}
