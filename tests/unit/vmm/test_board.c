/* test_board.c - the board without a CPU: the port map of spec/machine.md
 * 3.1, unclaimed ports and MMIO reading as all ones, the virtio slots,
 * IRQ routing through the PIC to the CPU's interrupt acknowledge, the
 * power-off and reset stops, the virtual clock, and the console's
 * non-terminal input and output paths through the I/O loop. The clock is
 * the instruction-count source with a counter the test moves, so no test
 * depends on wall-clock timing except the clock's own. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <termios.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "board_fx.h"

static struct fx *mk(void)
{
    struct board_config cfg;
    static const uint8_t seed[VIRTIO_RNG_SEED_BYTES];
    struct blk_mem *disk = blk_mem_create(2048);

    assert_non_null(disk);
    memset(&cfg, 0, sizeof cfg);
    cfg.rtc_unix_seconds = 1700000000;
    cfg.disks[0] = blk_mem_backend(disk);
    cfg.disk_ids[0] = "vda";
    cfg.ndisks = 1;
    cfg.rng = 1;
    cfg.rng_seed = seed;
    return fx_create(&cfg, disk, 0, 1);
}

static uint32_t in(struct fx *f, uint16_t port, unsigned size)
{
    return f->io->port_in(f->b, port, size);
}

static void out(struct fx *f, uint16_t port, unsigned size, uint32_t v)
{
    f->io->port_out(f->b, port, size, v);
}

static uint32_t mmio_rd(struct fx *f, uint32_t gpa)
{
    uint32_t v = 0;

    assert_int_equal(f->io->mmio_read(f->b, gpa, 4, &v), 0);
    return v;
}

static void test_board_port_map(void **state)
{
    struct fx *f = mk();

    (void)state;
    assert_int_equal(in(f, 0x3F8 + 5, 1), 0x60); /* 16550 LSR: THRE | TEMT */
    out(f, 0x3F8 + 7, 1, 0x5A);                  /* scratch register */
    assert_int_equal(in(f, 0x3F8 + 7, 1), 0x5A);
    out(f, 0x70, 1, 0x0A); /* RTC register A */
    assert_int_not_equal(in(f, 0x71, 1), 0xFF);
    out(f, 0x43, 1, 0x34); /* PIT channel 0 mode 2 */
    out(f, 0x40, 1, 0x00);
    out(f, 0x40, 1, 0x10);
    assert_int_not_equal(in(f, 0x61, 1), 0xFF); /* port 61 belongs to the PIT */
    assert_int_equal(in(f, 0x64, 1) & 0x02, 0); /* i8042: input buffer empty */
    fx_pic_init(f);
    assert_int_equal(in(f, 0x21, 1), 0x00); /* master IMR as written */
    out(f, 0xA1, 1, 0x5A);
    assert_int_equal(in(f, 0xA1, 1), 0x5A);
    out(f, 0x80, 1, 0x12);                    /* POST: ignored */
    assert_int_equal(in(f, 0x604, 2) & 1, 1); /* PM1_CNT: SCI_EN always 1 */
    out(f, 0x602, 2, 0x0120);                 /* PM1_EN reads back */
    assert_int_equal(in(f, 0x602, 2), 0x0120);
    assert_int_equal(in(f, 0x600, 2), 0); /* PM1_STS reads 0 */
    assert_int_equal(board_stop_reason(f->b), BOARD_RUNNING);
    fx_destroy(f);
}

static void test_board_unclaimed_reads_all_ones(void **state)
{
    struct fx *f = mk();
    uint32_t v = 0;

    (void)state;
    assert_int_equal(in(f, 0x2F8, 1), 0xFF); /* no COM2 */
    assert_int_equal(in(f, 0x1234, 2), 0xFFFF);
    assert_int_equal(in(f, 0xCF8, 4), 0xFFFFFFFFu); /* no PCI */
    out(f, 0x1234, 1, 0);                           /* ignored */
    /* RAM end .. 0xCFFFFFFF and unpopulated virtio slots: all ones */
    assert_int_equal(mmio_rd(f, 0xC0000000u), 0xFFFFFFFFu);
    assert_int_equal(mmio_rd(f, machine_virtio_gpa(MACHINE_SLOT_NET0)), 0xFFFFFFFFu);
    assert_int_equal(f->io->mmio_read(f->b, 0xFEE00000u, 2, &v), 0); /* no local APIC */
    assert_int_equal(v, 0xFFFF);
    assert_int_equal(f->io->mmio_write(f->b, 0xFEE00000u, 4, 1), 0);
    assert_true(f->b->stats.unclaimed_mmio >= 3);
    fx_destroy(f);
}

static void test_board_virtio_slots(void **state)
{
    struct fx *f = mk();

    (void)state;
    assert_int_equal(f->b->virtio_slots, (1u << MACHINE_SLOT_BLK0) | (1u << MACHINE_SLOT_RNG));
    assert_int_equal(mmio_rd(f, machine_virtio_gpa(0)), 0x74726976);           /* "virt" */
    assert_int_equal(mmio_rd(f, machine_virtio_gpa(0) + 4), 2);                /* version 2 */
    assert_int_equal(mmio_rd(f, machine_virtio_gpa(0) + 8), 2);                /* block */
    assert_int_equal(mmio_rd(f, machine_virtio_gpa(MACHINE_SLOT_RNG) + 8), 4); /* entropy */
    fx_destroy(f);
}

static void test_board_uart_irq_reaches_cpu(void **state)
{
    struct fx *f = mk();

    (void)state;
    fx_pic_init(f);
    assert_int_equal(f->io->intr_ack(f->b), -1);
    out(f, 0x3F8 + 4, 1, 0x08); /* MCR.OUT2: COM1's IRQ line enabled */
    out(f, 0x3F8 + 1, 1, 0x02); /* IER: THR empty */
    assert_true(f->b->intr);
    assert_true(f->kicks > 0);                       /* a running vCPU is kicked */
    assert_int_equal(board_wait_interrupt(f->b), 1); /* a halted one wakes */
    assert_int_equal(f->io->intr_ack(f->b), 0x30 + MACHINE_IRQ_COM1);
    fx_destroy(f);
}

static void test_board_pit_irq0_on_the_clock(void **state)
{
    struct fx *f = mk();
    uint64_t d;

    (void)state;
    fx_pic_init(f);
    out(f, 0x43, 1, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    out(f, 0x40, 1, 0xA9); /* 1193182 / 1193 = 1000 Hz: 0x04A9 */
    out(f, 0x40, 1, 0x04);
    d = pit_next_deadline_ns(f->b->pit);
    assert_true(d > 900000 && d < 1100000);
    /* the control word raised OUT (8254: mode 2 starts high): one edge */
    assert_int_equal(f->io->intr_ack(f->b), 0x30);
    out(f, 0x20, 1, 0x20);
    board_run_timers(f->b, d - 1);
    assert_int_equal(f->io->intr_ack(f->b), -1); /* not yet */
    atomic_store(&f->icount, d);
    assert_int_equal(f->io->clock_ns(f->b), d); /* the CPU's clock is the board's */
    board_run_timers(f->b, d);
    assert_int_equal(f->io->intr_ack(f->b), 0x30); /* IRQ 0 */
    out(f, 0x20, 1, 0x20);                         /* EOI */
    assert_true(pit_next_deadline_ns(f->b->pit) > d);
    fx_destroy(f);
}

static void test_board_rtc_irq8_through_cascade(void **state)
{
    struct fx *f = mk();
    int v = -1;
    uint64_t t;

    (void)state;
    fx_pic_init(f);
    out(f, 0x70, 1, 0x0B);
    out(f, 0x71, 1, (uint8_t)(in(f, 0x71, 1) | 0x40)); /* periodic interrupt on */
    for (t = 1; t < 20 && v < 0; t++) {
        atomic_store(&f->icount, t * 1000000ull);
        board_run_timers(f->b, t * 1000000ull);
        v = f->io->intr_ack(f->b);
    }
    assert_int_equal(v, 0x38); /* IRQ 8 on the slave, vector base 0x38 */
    fx_destroy(f);
}

static void test_board_poweroff_and_reset(void **state)
{
    struct fx *f = mk();

    (void)state;
    /* SLP_EN with SLP_TYP 3: no such sleep state, ignored */
    out(f, 0x604, 2, (3u << 10) | 0x2000);
    assert_int_equal(board_stop_reason(f->b), BOARD_RUNNING);
    /* byte writes: the low byte, then SLP_TYP 5 | SLP_EN in the high byte */
    out(f, 0x604, 1, 0x01);
    out(f, 0x605, 1, (5u << 2) | 0x20);
    assert_int_equal(board_stop_reason(f->b), BOARD_STOP_POWEROFF);
    assert_true(f->kicks > 0);
    assert_int_equal(board_wait_interrupt(f->b), 0); /* a stop ends a HLT wait */
    assert_int_equal(board_io_step(f->b, 0), -1);
    fx_destroy(f);

    f = mk();
    out(f, 0x64, 1, 0xFE); /* i8042: pulse the reset line */
    assert_int_equal(board_stop_reason(f->b), BOARD_STOP_RESET);
    board_request_stop(f->b, BOARD_STOP_POWEROFF); /* the first reason stays */
    assert_int_equal(board_stop_reason(f->b), BOARD_STOP_RESET);
    fx_destroy(f);
}

static void test_board_console_piped_input(void **state)
{
    struct fx *f = mk();
    static const char msg[] = "uname -m\npoweroff -f\n0123456789abcdefghijklmnopqrstuvwxyz\n";
    char got[sizeof msg];
    size_t n = 0;
    int spins;

    (void)state;
    assert_int_equal(write(f->in[1], msg, sizeof msg - 1), (ssize_t)sizeof msg - 1);
    close(f->in[1]);
    f->in[1] = -1;
    assert_int_equal(board_io_step(f->b, 0), 0);
    /* nothing reaches the UART before its driver listens (8250 startup
     * clears the FIFO, which would lose a script's early bytes) */
    assert_int_equal(in(f, 0x3F8 + 5, 1) & 0x01, 0);
    out(f, 0x3F8 + 2, 1, 0x07); /* FCR: FIFO on, both cleared */
    out(f, 0x3F8 + 1, 1, 0x01); /* IER: received data available */
    /* ... and only once it has listened for 2 ms: Linux switches the FIFO
     * on (which empties it) right after it enables receive interrupts */
    in(f, 0x3F8 + 5, 1);
    assert_int_equal(in(f, 0x3F8 + 5, 1) & 0x01, 0);
    atomic_fetch_add(&f->icount, 2000000);
    in(f, 0x3F8 + 5, 1);
    assert_int_equal(in(f, 0x3F8 + 5, 1) & 0x01, 0x01);
    /* flow control: the FIFO holds 16 bytes, the rest waits in the board */
    assert_int_equal(uart_rx_room(f->b->uart), 0);
    assert_true(f->b->con.pend_len > 0);
    /* the guest drains RBR; each read makes room that the board refills */
    for (spins = 0; spins < 1000 && n < sizeof msg - 1; spins++) {
        if (in(f, 0x3F8 + 5, 1) & 0x01)
            got[n++] = (char)in(f, 0x3F8, 1);
        else
            board_io_step(f->b, 0);
    }
    assert_int_equal(n, sizeof msg - 1);
    assert_memory_equal(got, msg, n);
    /* end of input: the board stops polling it, the VM keeps running */
    board_io_step(f->b, 0);
    board_io_step(f->b, 0);
    assert_true(f->b->con.eof);
    assert_int_equal(board_stop_reason(f->b), BOARD_RUNNING);
    fx_destroy(f);
}

static void test_board_console_output(void **state)
{
    struct fx *f = mk();
    char buf[16];
    ssize_t n;

    (void)state;
    out(f, 0x3F8, 1, 'o');
    out(f, 0x3F8, 1, 'k');
    /* buffered: flushed by the I/O loop within a few ms, not per byte */
    assert_int_equal(read(f->out[0], buf, sizeof buf), -1);
    assert_int_equal(board_io_step(f->b, 20), 0); /* sleeps until the flush deadline */
    board_io_step(f->b, 0);
    n = read(f->out[0], buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "ok", 2);
    assert_int_equal(f->b->con.out_bytes, 2);
    fx_destroy(f);
}

static void test_board_console_tty_escape(void **state)
{
    struct termios before, during, after;
    struct console c;
    struct uart *u;
    struct dev_irq noirq = {NULL, NULL, 0};
    int master, slave, err[2];
    char buf[512];
    ssize_t n;
    uint8_t b;

    (void)state;
    master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    assert_int_equal(pipe(err), 0);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    assert_int_equal(tcgetattr(slave, &before), 0);
    assert_true(before.c_lflag & ICANON);

    console_init(&c, slave, -1, err[1]);
    assert_int_equal(console_start(&c), 0);
    assert_int_equal(tcgetattr(slave, &during), 0);
    assert_false(during.c_lflag & (ICANON | ECHO | ISIG)); /* raw: Ctrl-C goes to the guest */
    n = read(err[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "Ctrl-A x")); /* the hint at start */

    u = uart_create(&noirq, NULL, NULL);
    assert_non_null(u);
    uart_io_ops.write(u, 2, 1, 0x01); /* FCR: FIFO on, as Linux's 8250 driver does */
    /* a, Ctrl-A Ctrl-A (one Ctrl-A to the guest), Ctrl-C, Ctrl-A h (help) */
    assert_int_equal(write(master, "a\x01\x01\x03\x01h", 6), 6);
    assert_int_equal(console_read_input(&c), 0);
    assert_int_equal(console_pump(&c, u), 3);
    assert_int_equal(uart_io_ops.read(u, 0, 1), 'a');
    b = (uint8_t)uart_io_ops.read(u, 0, 1);
    assert_int_equal(b, 0x01);
    assert_int_equal(uart_io_ops.read(u, 0, 1), 0x03);
    n = read(err[0], buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "escape keys"));
    assert_false(c.quit);
    assert_int_equal(write(master, "\x01x", 2), 2); /* Ctrl-A x: quit */
    assert_int_equal(console_read_input(&c), 0);
    assert_true(c.quit);
    assert_false(console_want_input(&c));

    console_stop(&c);
    console_stop(&c); /* twice is harmless */
    assert_int_equal(tcgetattr(slave, &after), 0);
    assert_int_equal(after.c_lflag, before.c_lflag); /* the terminal is restored */
    assert_int_equal(after.c_iflag, before.c_iflag);
    uart_destroy(u);
    close(err[0]);
    close(err[1]);
    close(slave);
    close(master);
}

struct io_loop {
    struct board *b;
    _Atomic int rounds;
};

static void *io_thread(void *arg)
{
    struct io_loop *l = arg;

    while (board_io_step(l->b, -1) == 0)
        l->rounds++;
    return NULL;
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 30000000};

    nanosleep(&ts, NULL);
    board_request_stop(arg, BOARD_STOP_REQUEST);
    return NULL;
}

/* The two threads for real, on the host clock: an idle board sleeps; a
 * PIT programmed by the vCPU wakes the sleeping I/O thread, whose timer
 * raises IRQ 0 and wakes the vCPU waiting in HLT; a stop ends the loop. */
static void test_board_io_thread_wakes_halted_vcpu(void **state)
{
    struct fx *f = mk();
    struct io_loop l = {0};
    struct timespec ts = {0, 100000000};
    pthread_t t;
    uint64_t t0, dt;
    int idle_rounds, i;

    (void)state;
    vclock_init(&f->clock, 0); /* the host clock, not the fake one */
    fx_pic_init(f);
    l.b = f->b;
    assert_int_equal(pthread_create(&t, NULL, io_thread, &l), 0);
    nanosleep(&ts, NULL);
    idle_rounds = l.rounds;
    assert_true(idle_rounds <= 3); /* nothing scheduled: no busy loop */

    out(f, 0x43, 1, 0x34); /* mode 2, 1 kHz */
    out(f, 0x40, 1, 0xA9);
    out(f, 0x40, 1, 0x04);
    assert_int_equal(f->io->intr_ack(f->b), 0x30); /* the edge of programming */
    out(f, 0x20, 1, 0x20);
    for (i = 0; i < 5; i++) {
        t0 = vclock_host_ns();
        assert_int_equal(board_wait_interrupt(f->b), 1);
        dt = vclock_host_ns() - t0;
        assert_true(dt < 50000000); /* a 1 ms tick, with slack for a loaded host */
        assert_int_equal(f->io->intr_ack(f->b), 0x30);
        out(f, 0x20, 1, 0x20);
    }
    assert_true(l.rounds > idle_rounds);
    /* halted with nothing to wake it: a stop requested from elsewhere (as a
     * signal handler does: no condition variable) still ends the wait fast */
    out(f, 0x21, 1, 0xFF);
    {
        pthread_t s;

        assert_int_equal(pthread_create(&s, NULL, stop_later, f->b), 0);
        t0 = vclock_host_ns();
        assert_int_equal(board_wait_interrupt(f->b), 0);
        dt = vclock_host_ns() - t0;
        assert_true(dt < 500000000); /* not the 1 s backstop */
        pthread_join(s, NULL);
    }
    pthread_join(t, NULL);
    assert_int_equal(board_stop_reason(f->b), BOARD_STOP_REQUEST);
    fx_destroy(f);
}

/* Save a board the guest has programmed, restore into a fresh one: the
 * guest sees the same registers and a second save gives the same bytes. */
static void test_board_save_restore(void **state)
{
    struct fx *f = mk(), *g;
    static struct secs a, b2;
    char err[256];
    unsigned i;

    (void)state;
    memset(&a, 0, sizeof a);
    memset(&b2, 0, sizeof b2);
    fx_pic_init(f);
    out(f, 0x21, 1, 0xB8); /* IMR */
    out(f, 0x43, 1, 0x34); /* PIT mode 2 */
    out(f, 0x40, 1, 0xA9);
    out(f, 0x40, 1, 0x04);
    out(f, 0x3F8 + 7, 1, 0x42); /* UART scratch */
    out(f, 0x602, 2, 0x0100);   /* PM1_EN */
    assert_int_equal(board_save(f->b, sec_sink, &a), 0);
    assert_string_equal(a.name[0], "dev.pic"); /* PIC first */
    assert_int_equal(a.n, 8); /* pic pit rtc uart0 i8042 acpi-pm virtio-0 virtio-2 */
    assert_string_equal(a.name[6], "dev.virtio-0");
    assert_string_equal(a.name[7], "dev.virtio-2");

    g = mk();
    assert_int_equal(board_restore(g->b, sec_find, &a, err, sizeof err), 0);
    assert_int_equal(in(g, 0x21, 1), 0xB8);
    assert_int_equal(in(g, 0x3F8 + 7, 1), 0x42);
    assert_int_equal(in(g, 0x602, 2), 0x0100);
    assert_int_equal(pit_next_deadline_ns(g->b->pit), pit_next_deadline_ns(f->b->pit));
    assert_int_equal(board_save(g->b, sec_sink, &b2), 0);
    assert_int_equal(b2.n, a.n);
    for (i = 0; i < a.n; i++) {
        assert_string_equal(b2.name[i], a.name[i]);
        assert_int_equal(b2.len[i], a.len[i]);
        assert_memory_equal(b2.data[i], a.data[i], a.len[i]);
    }

    a.drop = "dev.uart0"; /* a section the machine needs is missing */
    assert_int_not_equal(board_restore(g->b, sec_find, &a, err, sizeof err), 0);
    assert_non_null(strstr(err, "dev.uart0"));
    a.drop = NULL;
    for (i = 0; i < a.n && strcmp(a.name[i], "dev.acpi-pm") != 0; i++)
        ;
    a.data[i][7] |= 0x20; /* PM1_CNT with SLP_EN: never readable, so corrupt */
    assert_int_not_equal(board_restore(g->b, sec_find, &a, err, sizeof err), 0);
    assert_non_null(strstr(err, "dev.acpi-pm"));
    a.len[i] = 3; /* truncated */
    assert_int_not_equal(board_restore(g->b, sec_find, &a, err, sizeof err), 0);
    assert_non_null(strstr(err, "dev.acpi-pm"));
    fx_destroy(f);
    fx_destroy(g);
}

static void on_extra(void *ctx)
{
    int *fd = ctx;
    char c;

    assert_int_equal(read(fd[0], &c, 1), 1);
    assert_int_equal(c, 's');
    fd[2]++;
}

/* An extra fd (the control socket's place): its callback runs when it is
 * readable, and only then. */
static void test_board_extra_fd(void **state)
{
    struct fx *f = mk();
    int p[3] = {-1, -1, 0};

    (void)state;
    assert_int_equal(pipe(p), 0);
    board_set_extra_fd(f->b, p[0], on_extra, p);
    assert_int_equal(board_io_step(f->b, 0), 0);
    assert_int_equal(p[2], 0);
    assert_int_equal(write(p[1], "s", 1), 1);
    assert_int_equal(board_io_step(f->b, 1000), 0);
    assert_int_equal(p[2], 1);
    board_set_extra_fd(f->b, -1, NULL, NULL);
    assert_int_equal(write(p[1], "s", 1), 1);
    assert_int_equal(board_io_step(f->b, 0), 0);
    assert_int_equal(p[2], 1);
    close(p[0]);
    close(p[1]);
    fx_destroy(f);
}

struct extra_stop {
    struct board *b;
    int p[2];
};

static void on_extra_stop(void *ctx)
{
    struct extra_stop *e = ctx;
    char c;

    assert_int_equal(read(e->p[0], &c, 1), 1);
    board_request_stop(e->b, BOARD_STOP_REQUEST);
}

static void *write_later(void *arg)
{
    struct timespec ts = {0, 30000000};
    struct extra_stop *e = arg;

    nanosleep(&ts, NULL);
    assert_int_equal(write(e->p[1], "s", 1), 1);
    return NULL;
}

/* A stop requested by the extra fd's handler (vmpack suspend and quit)
 * wakes a vCPU halted in board_wait_interrupt at once, not at the wait's
 * 1 s backstop. */
static void test_board_extra_fd_stop_wakes_halted_vcpu(void **state)
{
    struct fx *f = mk();
    struct io_loop l = {0};
    struct extra_stop e;
    pthread_t t, w;
    uint64_t t0, dt;

    (void)state;
    fx_pic_init(f);
    out(f, 0x21, 1, 0xFF); /* nothing can raise an interrupt */
    e.b = f->b;
    assert_int_equal(pipe(e.p), 0);
    board_set_extra_fd(f->b, e.p[0], on_extra_stop, &e);
    l.b = f->b;
    assert_int_equal(pthread_create(&t, NULL, io_thread, &l), 0);
    assert_int_equal(pthread_create(&w, NULL, write_later, &e), 0);
    t0 = vclock_host_ns();
    assert_int_equal(board_wait_interrupt(f->b), 0);
    dt = vclock_host_ns() - t0;
    assert_true(dt < 500000000);
    pthread_join(w, NULL);
    pthread_join(t, NULL);
    assert_int_equal(board_stop_reason(f->b), BOARD_STOP_REQUEST);
    close(e.p[0]);
    close(e.p[1]);
    fx_destroy(f);
}

static void test_board_vclock_pause_resume(void **state)
{
    struct vclock c;
    struct timespec ts = {0, 20000000};
    uint64_t a, b2, c2;

    (void)state;
    vclock_init(&c, 5000000000ull);
    a = vclock_now(&c);
    assert_true(a >= 5000000000ull && a < 5000000000ull + 50000000ull);
    vclock_pause(&c);
    b2 = vclock_now(&c);
    nanosleep(&ts, NULL);
    assert_int_equal(vclock_now(&c), b2); /* frozen while paused */
    assert_int_equal(vclock_host_deadline(&c, b2 + 1), UINT64_MAX);
    vclock_resume(&c);
    c2 = vclock_now(&c);
    assert_true(c2 >= b2 && c2 - b2 < 15000000); /* continuous: the 20 ms pause is not seen */
    nanosleep(&ts, NULL);
    assert_true(vclock_now(&c) - c2 >= 20000000); /* and follows the host again */
    assert_true(vclock_host_deadline(&c, c2) <= vclock_host_ns());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_board_port_map),
        cmocka_unit_test(test_board_unclaimed_reads_all_ones),
        cmocka_unit_test(test_board_virtio_slots),
        cmocka_unit_test(test_board_uart_irq_reaches_cpu),
        cmocka_unit_test(test_board_pit_irq0_on_the_clock),
        cmocka_unit_test(test_board_rtc_irq8_through_cascade),
        cmocka_unit_test(test_board_poweroff_and_reset),
        cmocka_unit_test(test_board_console_piped_input),
        cmocka_unit_test(test_board_console_output),
        cmocka_unit_test(test_board_console_tty_escape),
        cmocka_unit_test(test_board_io_thread_wakes_halted_vcpu),
        cmocka_unit_test(test_board_save_restore),
        cmocka_unit_test(test_board_extra_fd),
        cmocka_unit_test(test_board_extra_fd_stop_wakes_halted_vcpu),
        cmocka_unit_test(test_board_vclock_pause_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
