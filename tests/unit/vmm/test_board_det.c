/* test_board_det.c - the board in deterministic mode (board.h,
 * spec/machine.md 7) without a CPU: the clock is the instruction-count
 * source over a counter the test moves. Timers run only through
 * board_det_service; HLT (board_det_idle) skips the clock to the next
 * deadline at once, or reports that nothing can wake the guest; a guest
 * reprogramming the PIT moves the vCPU deadline through det_deadline;
 * console input reaches the UART only at PIT ticks; the vm.determinism
 * section round trips and a different seed is refused on restore. No
 * threads, no wall-clock sleeps. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "board_fx.h"

static const uint8_t test_seed[VIRTIO_RNG_SEED_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

static struct fx *mk_seed(const uint8_t *seed)
{
    struct board_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.rtc_unix_seconds = 1704067200;
    cfg.rng = 1;
    cfg.rng_seed = seed;
    cfg.deterministic = 1;
    /* 2 ns per instruction, the clock starting at 5 us */
    return fx_create(&cfg, NULL, 5000, 2);
}

static struct fx *mk(void)
{
    return mk_seed(test_seed);
}

static void out(struct fx *f, uint16_t port, uint32_t v)
{
    f->io->port_out(f->b, port, 1, v);
}

/* PIT channel 0, mode 2, 1 kHz; the programming edge acknowledged */
static uint64_t pit_1khz(struct fx *f)
{
    out(f, 0x43, 0x34);
    out(f, 0x40, 0xA9);
    out(f, 0x40, 0x04);
    assert_int_equal(f->io->intr_ack(f->b), 0x30);
    out(f, 0x20, 0x20);
    return pit_next_deadline_ns(f->b->pit);
}

static void test_board_det_create_refuses_net_or_no_seed(void **state)
{
    struct vclock c;
    _Atomic uint64_t ic = 0;
    struct board_config cfg;
    struct board *b = NULL;
    char err[256];
    uint8_t ram[4096];

    (void)state;
    vclock_init_icount(&c, 0, &ic, 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.ram = ram;
    cfg.ram_bytes = sizeof ram;
    cfg.clock = &c;
    cfg.deterministic = 1;
    cfg.console_in_fd = cfg.console_out_fd = cfg.console_err_fd = -1;
    assert_int_not_equal(board_create(&cfg, &b, err, sizeof err), 0); /* no seed */
    assert_non_null(strstr(err, "deterministic"));
    cfg.rng_seed = test_seed;
    cfg.net = 1;
    assert_int_not_equal(board_create(&cfg, &b, err, sizeof err), 0); /* a network */
    assert_null(b);
}

static void test_board_det_service_fires_at_icount(void **state)
{
    struct fx *f = mk();
    uint64_t d, next;

    (void)state;
    fx_pic_init(f);
    d = pit_1khz(f);
    /* the guest's programming told the vCPU where to stop */
    assert_true(f->deadline_calls > 0);
    assert_int_equal(f->last_deadline, d);
    assert_int_equal(vclock_icount_at(&f->clock, d), (d - 5000 + 1) / 2);
    /* the I/O thread's step runs no timers in this mode */
    atomic_store(&f->icount, (d - 5000) / 2 + 10);
    assert_int_equal(board_io_step(f->b, 0), 0);
    assert_int_equal(pit_next_deadline_ns(f->b->pit), d);
    assert_int_equal(f->io->intr_ack(f->b), -1);
    /* one instruction short: nothing */
    atomic_store(&f->icount, vclock_icount_at(&f->clock, d) - 1);
    assert_int_equal(board_det_service(f->b), d);
    assert_int_equal(f->io->intr_ack(f->b), -1);
    /* at the deadline: IRQ 0, and the next deadline one period on */
    atomic_store(&f->icount, vclock_icount_at(&f->clock, d));
    next = board_det_service(f->b);
    assert_int_equal(f->io->intr_ack(f->b), 0x30);
    out(f, 0x20, 0x20);
    assert_true(next > d && next - d > 990000 && next - d < 1010000);
    fx_destroy(f);
}

static void test_board_det_idle_skips_to_the_deadline(void **state)
{
    struct fx *f = mk();
    uint64_t d, before;

    (void)state;
    fx_pic_init(f);
    d = pit_1khz(f);
    atomic_store(&f->icount, 1000);
    before = vclock_now(&f->clock);
    assert_true(before < d);
    assert_int_equal(board_det_idle(f->b), 1);
    /* no instruction ran, the clock is at the tick, IRQ 0 is pending */
    assert_int_equal(atomic_load(&f->icount), 1000);
    assert_int_equal(vclock_now(&f->clock), d);
    assert_int_equal(f->io->intr_ack(f->b), 0x30);
    out(f, 0x20, 0x20);
    /* with the PIT's IRQ masked, nothing can wake it: the clock stops
     * after the bounded number of skips and idle says so */
    out(f, 0x21, 0x01);
    assert_int_equal(board_det_idle(f->b), 0);
    fx_destroy(f);
}

static void test_board_det_idle_without_timers(void **state)
{
    struct fx *f = mk();

    (void)state;
    fx_pic_init(f);
    atomic_store(&f->icount, 77);
    assert_int_equal(board_det_service(f->b), DEV_NO_DEADLINE);
    assert_int_equal(board_det_idle(f->b), 0);
    assert_int_equal(vclock_now(&f->clock), 5000 + 77 * 2); /* not moved */
    fx_destroy(f);
}

static void test_board_det_console_input_at_ticks(void **state)
{
    struct fx *f = mk();
    uint64_t d, listen_ns;
    int ticks;

    (void)state;
    fx_pic_init(f);
    d = pit_1khz(f);
    out(f, 0x3F8 + 1, 0x01); /* IER: receive interrupts (the driver listens) */
    listen_ns = vclock_now(&f->clock);
    assert_int_equal(write(f->in[1], "ab", 2), 2);
    assert_int_equal(board_io_step(f->b, 0), 0); /* the I/O thread reads it */
    assert_int_equal(f->b->con.pend_len, 2);
    /* neither the I/O thread nor a guest port access moves it into the UART */
    f->io->port_in(f->b, 0x3F8 + 5, 1);
    assert_int_equal(f->io->port_in(f->b, 0x3F8 + 5, 1) & 1, 0); /* LSR.DR clear */
    board_det_service(f->b);                                      /* not at a tick */
    assert_int_equal(f->io->port_in(f->b, 0x3F8 + 5, 1) & 1, 0);
    /* at the PIT ticks less than 2 ms after the driver started listening:
     * not yet (the board waits for the driver to settle: board.c); at the
     * first tick after that it lands */
    for (ticks = 0;; ticks++) {
        atomic_store(&f->icount, vclock_icount_at(&f->clock, d));
        d = board_det_service(f->b);
        if (vclock_now(&f->clock) - listen_ns >= 2000000)
            break;
        assert_int_equal(f->io->port_in(f->b, 0x3F8 + 5, 1) & 1, 0);
    }
    assert_int_equal(ticks, 2); /* 1 kHz: at 1 ms and 2 ms less a little */
    assert_int_equal(f->io->port_in(f->b, 0x3F8 + 5, 1) & 1, 1);
    assert_int_equal(f->io->port_in(f->b, 0x3F8, 1), 'a');
    fx_destroy(f);
}

static const uint8_t *secs_find(struct secs *s, const char *name, size_t *len)
{
    const void *d = NULL;

    assert_int_equal(sec_find(s, name, &d, len), 1);
    return d;
}

static void test_board_det_section_round_trip(void **state)
{
    static struct secs s;
    struct fx *f = mk(), *g;
    struct vmp_det d;
    const uint8_t *sec;
    size_t len = 0;
    char err[256];
    uint8_t bad[sizeof s.data[0]];

    (void)state;
    memset(&s, 0, sizeof s);
    atomic_store(&f->icount, 123456);
    vclock_skip(&f->clock, 1000);
    assert_int_equal(board_save(f->b, sec_sink, &s), 0);
    sec = secs_find(&s, VMP_DET_SECTION_ID, &len);
    assert_int_equal(vmp_det_decode(sec, len, &d, err, sizeof err), 0);
    assert_int_equal(d.ns_per_insn, 2);
    assert_memory_equal(d.seed, test_seed, sizeof d.seed);
    assert_int_equal(d.rtc_unix_seconds, 1704067200);
    assert_int_equal(d.icount, 123456);
    assert_int_equal(d.clock_ns, 5000 + 1000 + 123456 * 2);
    /* vm.c rebuilds the clock from it: start = clock - icount * ns */
    assert_int_equal(d.clock_ns - d.icount * d.ns_per_insn, 6000);
    /* refusals: a cut section, a rate of 0 */
    assert_int_not_equal(vmp_det_decode(sec, len - 1, &d, err, sizeof err), 0);
    memcpy(bad, sec, len);
    memset(bad + 4, 0, 4);
    assert_int_not_equal(vmp_det_decode(bad, len, &d, err, sizeof err), 0);
    assert_non_null(strstr(err, "ns per instruction"));

    /* the same configuration restores; another seed is refused */
    g = mk();
    assert_int_equal(board_restore(g->b, sec_find, &s, err, sizeof err), DEV_OK);
    fx_destroy(g);
    static const uint8_t other[VIRTIO_RNG_SEED_BYTES] = {9};
    g = mk_seed(other);
    assert_int_not_equal(board_restore(g->b, sec_find, &s, err, sizeof err), DEV_OK);
    assert_non_null(strstr(err, "vm.determinism"));
    assert_non_null(strstr(err, "seed"));
    fx_destroy(g);
    fx_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_board_det_create_refuses_net_or_no_seed),
        cmocka_unit_test(test_board_det_service_fires_at_icount),
        cmocka_unit_test(test_board_det_idle_skips_to_the_deadline),
        cmocka_unit_test(test_board_det_idle_without_timers),
        cmocka_unit_test(test_board_det_console_input_at_ticks),
        cmocka_unit_test(test_board_det_section_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
