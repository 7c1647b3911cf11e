/*
 * vclock.h - the VM's virtual clock (DESIGN.md "Time", spec/machine.md 6).
 *
 * Lifecycle:
 *   1. vclock_init(&c, start_ns): the clock reads start_ns now (0 at power
 *      on; the saved value on resume) and then follows the host's
 *      CLOCK_MONOTONIC.
 *   2. vclock_now(&c) from any thread.
 *   3. vclock_pause / vclock_resume around a stop (suspend, a paused VM):
 *      the guest sees no time pass while paused, so the clock stays
 *      continuous across suspend and resume.
 * The source is one function so that a deterministic mode can replace the
 * host clock with one derived from the retired instruction count
 * (VCLOCK_ICOUNT: ns = start + icount * ns_per_insn) without touching the
 * devices, which only ever see struct dev_clock.
 * Thread safety: vclock_now is lock-free and may be called from any thread;
 * pause/resume/init from one thread while no other thread reads.
 */
#ifndef VMP_VCLOCK_H
#define VMP_VCLOCK_H

#include <stdatomic.h>
#include <stdint.h>

enum vclock_source { VCLOCK_HOST = 0, VCLOCK_ICOUNT = 1 };

struct vclock {
    enum vclock_source source;
    /* VCLOCK_HOST: guest ns = host monotonic ns + offset (wraps as u64) */
    _Atomic uint64_t offset_ns;
    _Atomic uint64_t paused_at_ns; /* guest ns while paused, else UINT64_MAX */
    /* VCLOCK_ICOUNT: the caller keeps *icount current */
    const _Atomic uint64_t *icount;
    uint64_t start_ns;
    uint32_t ns_per_insn;
};

/* Host CLOCK_MONOTONIC in ns. */
uint64_t vclock_host_ns(void);

void vclock_init(struct vclock *c, uint64_t start_ns);
void vclock_init_icount(struct vclock *c, uint64_t start_ns, const _Atomic uint64_t *icount,
                        uint32_t ns_per_insn);
uint64_t vclock_now(const struct vclock *c);
void vclock_pause(struct vclock *c);
void vclock_resume(struct vclock *c);

/* VCLOCK_ICOUNT, one thread: move the clock forward by ns without
 * instructions (a halted CPU in deterministic mode). */
void vclock_skip(struct vclock *c, uint64_t ns);
/* VCLOCK_ICOUNT: the first icount at which the clock reads >= guest_ns. */
uint64_t vclock_icount_at(const struct vclock *c, uint64_t guest_ns);

/* Guest ns -> host monotonic ns at which the clock reaches it (for sleeping
 * until a device deadline); UINT64_MAX if never (paused or icount mode). */
uint64_t vclock_host_deadline(const struct vclock *c, uint64_t guest_ns);

#endif
