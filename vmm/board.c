/*
 * board.c - the virtual PC of spec/machine.md (board.h): device wiring,
 * the ACPI PM1 registers, the CPU's I/O callbacks, interrupt delivery and
 * the I/O loop that drives timers, the console and slirp.
 *
 * Threads. The vCPU thread enters devices through the cpu_io_ops; the I/O
 * thread through board_io_step. Both hold b->lock for every device call,
 * so devices see one thread at a time (dev.h). Device callbacks (the PIC's
 * INTR output, the UART's transmit, the i8042's reset) run inside those
 * calls, with the lock held.
 *
 * Waking. A device deadline that the vCPU moves earlier than the I/O
 * thread's current sleep (a guest reprogramming the PIT) wakes the I/O
 * thread through an eventfd; a rising INTR wakes a halted vCPU (condition
 * variable) and kicks a running one (cpu_kick), so an idle guest costs a
 * timer wake-up per guest tick and nothing else.
 *
 * Deterministic mode (spec/machine.md): the clock counts instructions; the
 * vCPU thread runs the timers (board_det_service at the icount deadline
 * the dispatcher stops at; board_det_idle on HLT) and moves console input
 * into the UART at PIT ticks; the I/O thread only reads console input,
 * writes output and serves the control socket.
 */
#define _GNU_SOURCE
#include "board.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* ---- the ACPI PM1 registers (spec/machine.md 4.2) ------------------------ */

static uint32_t pm1_evt_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct board *b = opaque;
    /* PM1_STS (0-1) reads 0; PM1_EN (2-3) reads back */
    uint32_t regs = (uint32_t)b->pm1_en << 16;

    return (regs >> (8 * offset)) & (size_bytes == 4 ? 0xFFFFFFFFu : (1u << (8 * size_bytes)) - 1);
}

static void pm1_evt_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct board *b = opaque;
    unsigned i;

    for (i = 0; i < size_bytes && offset + i < 4; i++) {
        uint8_t byte = (uint8_t)(value >> (8 * i));
        unsigned at = offset + i;

        if (at == 2)
            b->pm1_en = (uint16_t)((b->pm1_en & 0xFF00) | byte);
        else if (at == 3)
            b->pm1_en = (uint16_t)((b->pm1_en & 0x00FF) | (byte << 8));
        /* PM1_STS: write-1-to-clear of bits that never get set */
    }
}

static uint32_t pm1_cnt_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct board *b = opaque;
    uint32_t v = b->pm1_cnt | MACHINE_ACPI_PM1_CNT_SCI_EN;

    (void)size_bytes;
    return offset == 0 ? v : v >> 8;
}

static void pm1_cnt_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct board *b = opaque;
    uint16_t v = b->pm1_cnt;
    unsigned typ;

    if (offset == 0 && size_bytes >= 2)
        v = (uint16_t)value;
    else if (offset == 0)
        v = (uint16_t)((v & 0xFF00) | (value & 0xFF));
    else
        v = (uint16_t)((v & 0x00FF) | ((value & 0xFF) << 8));
    typ = (v & MACHINE_ACPI_PM1_CNT_SLP_TYP_MASK) >> MACHINE_ACPI_PM1_CNT_SLP_TYP_SHIFT;
    if ((v & MACHINE_ACPI_PM1_CNT_SLP_EN) && typ == MACHINE_ACPI_SLP_TYP_S5)
        board_request_stop(b, BOARD_STOP_POWEROFF);
    /* SLP_EN is write-only (ACPI 6.4 4.8.3.2.1): it reads as 0 */
    b->pm1_cnt = (uint16_t)(v & ~MACHINE_ACPI_PM1_CNT_SLP_EN);
}

static const struct dev_io_ops pm1_evt_ops = {pm1_evt_read, pm1_evt_write, 0};
static const struct dev_io_ops pm1_cnt_ops = {pm1_cnt_read, pm1_cnt_write, 0};

/* ---- stops and interrupts -------------------------------------------------- */

void board_io_wake(struct board *b)
{
    uint64_t one = 1;
    ssize_t n = write(b->wake_fd, &one, sizeof one);

    (void)n; /* a full counter already means "wake" */
}

void board_request_stop(struct board *b, enum board_stop why)
{
    int expected = BOARD_RUNNING;

    atomic_compare_exchange_strong(&b->stop, &expected, (int)why);
    if (b->cfg.kick)
        b->cfg.kick(b->cfg.kick_opaque);
    board_io_wake(b);
    /* a halted vCPU: the I/O thread broadcasts the condition when it sees
     * the stop (pthread_cond_broadcast is not async-signal-safe) */
}

enum board_stop board_stop_reason(const struct board *b)
{
    return (enum board_stop)atomic_load(&b->stop);
}

/* The PIC's INTR output; called with b->lock held. */
static void board_intr_set(void *opaque, unsigned line, int level)
{
    struct board *b = opaque;

    (void)line;
    atomic_store(&b->intr, level);
    if (level) {
        pthread_cond_broadcast(&b->intr_cv);
        if (b->cfg.kick)
            b->cfg.kick(b->cfg.kick_opaque);
    }
}

static void board_reset_cb(void *opaque)
{
    board_request_stop(opaque, BOARD_STOP_RESET);
}

int board_wait_interrupt(struct board *b)
{
    int pending;

    pthread_mutex_lock(&b->lock);
    b->stats.hlt_waits++;
    while (!(pending = pic_has_interrupt(b->pic)) && atomic_load(&b->stop) == BOARD_RUNNING) {
        struct timespec ts;

        /* A stop requested from a signal handler (which cannot signal the
         * condition) wakes the I/O thread, which broadcasts; the timeout is
         * only a backstop, so an idle guest costs no periodic wake-ups. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&b->intr_cv, &b->lock, &ts);
    }
    pthread_mutex_unlock(&b->lock);
    return pending;
}

/* ---- timers ------------------------------------------------------------------ */

static uint64_t board_next_deadline(const struct board *b)
{
    uint64_t d = pit_next_deadline_ns(b->pit);
    uint64_t r = rtc_next_deadline_ns(b->rtc);

    if (r < d)
        d = r;
    if (b->net) {
        r = virtio_net_next_deadline_ns(b->net);
        if (r < d)
            d = r;
    }
    return d;
}

void board_run_timers(struct board *b, uint64_t now_ns)
{
    if (pit_next_deadline_ns(b->pit) <= now_ns)
        pit_advance(b->pit, now_ns);
    if (rtc_next_deadline_ns(b->rtc) <= now_ns)
        rtc_advance(b->rtc, now_ns);
    if (b->net && virtio_net_next_deadline_ns(b->net) <= now_ns)
        virtio_net_advance(b->net, now_ns);
}

/* After the vCPU touched a device (lock held): does the I/O thread sleep
 * past something that is now due earlier (a reprogrammed PIT, console
 * output with no flush armed, a packet slirp must now poll for)? */
static void board_after_vcpu_access(struct board *b, int net_touched)
{
    if (b->cfg.deterministic && b->cfg.det_deadline != NULL)
        b->cfg.det_deadline(b->cfg.kick_opaque, board_next_deadline(b));
    if (b->io_wake_pending)
        return;
    if (net_touched || board_next_deadline(b) < b->io_sleep_until_ns ||
        (b->con.out_len > 0 && !b->io_flush_armed)) {
        b->io_wake_pending = 1;
        b->stats.io_wakeups++;
        board_io_wake(b);
    }
}

/* Console input goes to the UART only while the guest's driver listens
 * (IER.ERBFI set) and has listened for BOARD_UART_SETTLE_NS of guest time.
 * Linux's 8250 driver probes with IER 0x0F for a moment, clears the FIFOs
 * when it opens the port, enables receive interrupts and then, in the same
 * open, switches the FIFO on, which empties the receiver again (PC16550D:
 * changing FCR0 clears both FIFOs). Bytes pushed before that settles (a
 * script's piped commands arrive before the guest boots) would be lost.
 * board_uart_watch runs at every COM1 access, so the moment the driver
 * starts listening is known in both clock modes. Lock held. */
#define BOARD_UART_SETTLE_NS 2000000ull

static void board_uart_watch(struct board *b)
{
    uint32_t lcr = uart_io_ops.read(b->uart, 3, 1);
    int on;

    if (lcr & 0x80) /* with DLAB set, offset 1 is the divisor latch */
        return;
    on = (uart_io_ops.read(b->uart, 1, 1) & 0x01) != 0;
    if (on && !b->uart_rx_listening)
        b->uart_listen_ns = vclock_now(b->cfg.clock);
    b->uart_rx_listening = on;
}

static void board_console_pump(struct board *b)
{
    board_uart_watch(b);
    if (b->uart_rx_listening &&
        vclock_now(b->cfg.clock) - b->uart_listen_ns >= BOARD_UART_SETTLE_NS)
        console_pump(&b->con, b->uart);
}

/* ---- the CPU's callbacks ----------------------------------------------------- */

static uint32_t board_port_in(void *opaque, uint16_t port, unsigned size_bytes)
{
    struct board *b = opaque;
    uint32_t v;

    pthread_mutex_lock(&b->lock);
    v = dev_bus_pio_read(b->bus, port, size_bytes);
    if (port >= MACHINE_COM1_PORT && port < MACHINE_COM1_PORT + 8) {
        if (b->cfg.deterministic)
            board_uart_watch(b);
        else
            board_console_pump(b); /* the guest may have made room */
    }
    board_after_vcpu_access(b, 0);
    pthread_mutex_unlock(&b->lock);
    return v;
}

static void board_port_out(void *opaque, uint16_t port, unsigned size_bytes, uint32_t value)
{
    struct board *b = opaque;

    pthread_mutex_lock(&b->lock);
    dev_bus_pio_write(b->bus, port, size_bytes, value);
    if (port >= MACHINE_COM1_PORT && port < MACHINE_COM1_PORT + 8) {
        if (b->cfg.deterministic)
            board_uart_watch(b);
        else
            board_console_pump(b); /* the driver may have started listening */
    }
    board_after_vcpu_access(b, 0);
    pthread_mutex_unlock(&b->lock);
}

static int board_mmio_read(void *opaque, uint32_t gpa, unsigned size_bytes, uint32_t *value)
{
    struct board *b = opaque;
    int rc;

    pthread_mutex_lock(&b->lock);
    rc = dev_bus_mmio_read(b->bus, gpa, size_bytes, value);
    if (rc != 0) {
        b->stats.unclaimed_mmio++;
        /* spec/machine.md 2: nothing there reads as all ones */
        *value = size_bytes >= 4 ? 0xFFFFFFFFu : (1u << (8 * size_bytes)) - 1;
    }
    if (b->cfg.deterministic && b->cfg.det_deadline != NULL)
        b->cfg.det_deadline(b->cfg.kick_opaque, board_next_deadline(b));
    pthread_mutex_unlock(&b->lock);
    return 0;
}

static int board_mmio_write(void *opaque, uint32_t gpa, unsigned size_bytes, uint32_t value)
{
    struct board *b = opaque;
    int rc;

    pthread_mutex_lock(&b->lock);
    rc = dev_bus_mmio_write(b->bus, gpa, size_bytes, value);
    if (rc != 0)
        b->stats.unclaimed_mmio++;
    /* a virtio-net transmit may have opened sockets slirp must now poll */
    board_after_vcpu_access(b, b->net && gpa >= machine_virtio_gpa(MACHINE_SLOT_NET0) &&
                                   gpa < machine_virtio_gpa(MACHINE_SLOT_NET0) +
                                             MACHINE_VIRTIO_MMIO_SIZE_BYTES);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

static int board_intr_ack(void *opaque)
{
    struct board *b = opaque;
    int v = -1;

    pthread_mutex_lock(&b->lock);
    if (pic_has_interrupt(b->pic)) {
        v = pic_ack(b->pic);
        b->stats.irqs_delivered++;
    }
    pthread_mutex_unlock(&b->lock);
    return v;
}

static uint64_t board_clock_ns(void *opaque)
{
    struct board *b = opaque;

    return vclock_now(b->cfg.clock);
}

static const struct cpu_io_ops board_io = {
    board_port_in,    board_port_out, board_mmio_read,
    board_mmio_write, board_intr_ack, board_clock_ns,
};

const struct cpu_io_ops *board_cpu_io_ops(void)
{
    return &board_io;
}

static uint64_t board_dev_clock(void *opaque)
{
    return vclock_now(opaque);
}

/* ---- deterministic mode ------------------------------------------------------
 * Everything a device does on its own happens here, on the vCPU thread, at
 * a time that is a function of the instruction count only. */

/* The timers due at now_ns; console input lands at PIT ticks: a time the
 * instruction count fixes. Lock held. */
static void board_det_run_timers(struct board *b, uint64_t now_ns)
{
    if (pit_next_deadline_ns(b->pit) <= now_ns)
        board_console_pump(b);
    board_run_timers(b, now_ns);
}

uint64_t board_det_service(struct board *b)
{
    uint64_t next;

    pthread_mutex_lock(&b->lock);
    board_det_run_timers(b, vclock_now(b->cfg.clock));
    next = board_next_deadline(b);
    pthread_mutex_unlock(&b->lock);
    return next;
}

#define BOARD_DET_IDLE_MAX 100000 /* deadlines skipped in one HLT before giving up */

int board_det_idle(struct board *b)
{
    int pending, n;

    pthread_mutex_lock(&b->lock);
    b->stats.hlt_waits++;
    for (n = 0; !(pending = pic_has_interrupt(b->pic)) && n < BOARD_DET_IDLE_MAX; n++) {
        uint64_t now = vclock_now(b->cfg.clock), next = board_next_deadline(b);

        if (next == DEV_NO_DEADLINE || atomic_load(&b->stop) != BOARD_RUNNING)
            break;
        if (next > now)
            vclock_skip(b->cfg.clock, next - now);
        board_det_run_timers(b, vclock_now(b->cfg.clock));
    }
    pthread_mutex_unlock(&b->lock);
    return pending;
}

/* ---- the I/O loop ---------------------------------------------------------- */

static int board_grow_pfds(struct board *b, size_t n)
{
    struct pollfd *p;

    if (n <= b->npfds_cap)
        return 0;
    p = realloc(b->pfds, n * sizeof *p);
    if (p == NULL)
        return -1;
    b->pfds = p;
    b->npfds_cap = n;
    return 0;
}

void board_set_extra_fd(struct board *b, int fd, void (*fn)(void *ctx), void *ctx)
{
    b->extra_fd = fn != NULL ? fd : -1;
    b->extra_fn = fn;
    b->extra_ctx = ctx;
}

/* The I/O thread, without b->lock: 1 if a stop was requested, and then a
 * vCPU halted in board_wait_interrupt is woken to see it. Checked after the
 * extra fd's handler, which may itself request the stop. */
static int board_io_stopped(struct board *b)
{
    if (atomic_load(&b->stop) == BOARD_RUNNING)
        return 0;
    pthread_mutex_lock(&b->lock);
    pthread_cond_broadcast(&b->intr_cv);
    pthread_mutex_unlock(&b->lock);
    return 1;
}

int board_io_step(struct board *b, int max_wait_ms)
{
    uint64_t now, deadline, host_deadline, host_now, flush_at;
    size_t nfds = 1, net_first = 0, net_n = 0;
    int con_idx = -1, extra_idx = -1, extra_ready = 0, timeout_ms = max_wait_ms, rc;
    struct timespec ts, *tsp = NULL;
    uint64_t wait_ns = UINT64_MAX;

    pthread_mutex_lock(&b->lock);
    /* deterministic mode: timers and console input are the vCPU's
     * (board_det_service); this thread only reads input, flushes output
     * and serves the extra fd */
    if (!b->cfg.deterministic) {
        now = vclock_now(b->cfg.clock);
        board_run_timers(b, now);
    }
    if (b->con.quit)
        board_request_stop(b, BOARD_STOP_QUIT);
    if (!b->cfg.deterministic)
        board_console_pump(b);
    host_now = vclock_host_ns();
    if (console_flush_deadline(&b->con) <= host_now)
        console_flush(&b->con);

    if (board_grow_pfds(b, 8) != 0)
        goto nomem;
    b->pfds[0] = (struct pollfd){.fd = b->wake_fd, .events = POLLIN};
    if (console_want_input(&b->con)) {
        con_idx = (int)nfds;
        b->pfds[nfds++] = (struct pollfd){.fd = b->con.in_fd, .events = POLLIN};
    }
    if (b->extra_fd >= 0) {
        extra_idx = (int)nfds;
        b->pfds[nfds++] = (struct pollfd){.fd = b->extra_fd, .events = POLLIN};
    }
    if (b->net) {
        net_first = nfds;
        for (;;) {
            net_n = virtio_net_poll_fill(b->net, b->pfds + net_first, b->npfds_cap - net_first,
                                         &timeout_ms);
            if (net_first + net_n <= b->npfds_cap)
                break;
            if (board_grow_pfds(b, net_first + net_n + 8) != 0)
                goto nomem;
        }
        nfds += net_n;
    }
    deadline = b->cfg.deterministic ? DEV_NO_DEADLINE : board_next_deadline(b);
    if (!b->cfg.deterministic && b->uart_rx_listening && b->con.pend_len > b->con.pend_off &&
        b->uart_listen_ns + BOARD_UART_SETTLE_NS < deadline)
        deadline = b->uart_listen_ns + BOARD_UART_SETTLE_NS; /* input waits for the settle */
    host_deadline =
        deadline == DEV_NO_DEADLINE ? UINT64_MAX : vclock_host_deadline(b->cfg.clock, deadline);
    flush_at = console_flush_deadline(&b->con);
    if (flush_at < host_deadline)
        host_deadline = flush_at;
    if (host_deadline != UINT64_MAX)
        wait_ns = host_deadline > host_now ? host_deadline - host_now : 0;
    if (timeout_ms >= 0 && (uint64_t)timeout_ms * 1000000ull < wait_ns)
        wait_ns = (uint64_t)timeout_ms * 1000000ull;
    if (wait_ns != UINT64_MAX) {
        ts.tv_sec = (time_t)(wait_ns / 1000000000ull);
        ts.tv_nsec = (long)(wait_ns % 1000000000ull);
        tsp = &ts;
    }
    b->io_sleep_until_ns = deadline;
    b->io_flush_armed = flush_at != UINT64_MAX;
    b->io_wake_pending = 0;
    pthread_mutex_unlock(&b->lock);

    if (board_io_stopped(b))
        return -1;
    rc = ppoll(b->pfds, nfds, tsp, NULL);

    pthread_mutex_lock(&b->lock);
    if (rc > 0 && (b->pfds[0].revents & POLLIN)) {
        uint64_t v;
        ssize_t n = read(b->wake_fd, &v, sizeof v);

        (void)n;
    }
    if (rc > 0 && con_idx >= 0 && (b->pfds[con_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
        console_read_input(&b->con);
        if (b->con.quit)
            board_request_stop(b, BOARD_STOP_QUIT);
        if (!b->cfg.deterministic)
            board_console_pump(b);
    }
    if (rc > 0 && extra_idx >= 0 && (b->pfds[extra_idx].revents & (POLLIN | POLLHUP | POLLERR)))
        extra_ready = 1;
    if (b->net)
        virtio_net_poll_process(b->net, b->pfds + net_first, net_n, rc < 0);
    pthread_mutex_unlock(&b->lock);
    if (extra_ready)
        b->extra_fn(b->extra_ctx);
    return board_io_stopped(b) ? -1 : 0;
nomem:
    pthread_mutex_unlock(&b->lock);
    board_request_stop(b, BOARD_STOP_ERROR);
    return -1;
}

/* ---- creation ------------------------------------------------------------- */

static int map_pio(struct board *b, uint16_t port, uint32_t n, const struct dev_io_ops *ops,
                   void *opaque, char *err, size_t errlen)
{
    if (dev_bus_map_pio(b->bus, port, n, ops, opaque) == DEV_OK)
        return 0;
    snprintf(err, errlen, "board: cannot map ports 0x%x-0x%x", port, port + n - 1);
    return -1;
}

static int map_virtio(struct board *b, unsigned slot, struct virtio_mmio *vm, char *err,
                      size_t errlen)
{
    if (dev_bus_map_mmio(b->bus, machine_virtio_gpa(slot), MACHINE_VIRTIO_MMIO_SIZE_BYTES,
                         &virtio_mmio_io_ops, vm) != DEV_OK) {
        snprintf(err, errlen, "board: cannot map virtio-mmio slot %u", slot);
        return -1;
    }
    b->virtio_slots |= 1u << slot;
    return 0;
}

int board_create(const struct board_config *cfg, struct board **out, char *err, size_t errlen)
{
    static const unsigned blk_slots[BOARD_MAX_DISKS] = {MACHINE_SLOT_BLK0, MACHINE_SLOT_BLK1,
                                                        MACHINE_SLOT_BLK2};
    struct board *b;
    struct dev_irq intr, irq, irq2;
    unsigned i;

    *out = NULL;
    if (cfg->ndisks > BOARD_MAX_DISKS || cfg->clock == NULL) {
        snprintf(err, errlen, "board: bad configuration");
        return -1;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, errlen, "board: out of memory");
        return -1;
    }
    b->cfg = *cfg;
    if (cfg->deterministic && (cfg->rng_seed == NULL || cfg->net)) {
        snprintf(err, errlen, "board: deterministic mode needs an RNG seed and no network");
        free(b);
        return -1;
    }
    if (cfg->rng_seed != NULL) {
        memcpy(b->det_seed, cfg->rng_seed, sizeof b->det_seed);
        b->cfg.rng_seed = b->det_seed;
    }
    b->wake_fd = -1;
    b->extra_fd = -1;
    pthread_mutex_init(&b->lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&b->intr_cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    b->ram.host = cfg->ram;
    b->ram.bytes = cfg->ram_bytes;
    b->clock.now_ns = board_dev_clock;
    b->clock.opaque = cfg->clock;
    b->io_wake_pending = 1; /* until the I/O loop first runs */
    console_init(&b->con, cfg->console_in_fd, cfg->console_out_fd, cfg->console_err_fd);

    b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->bus = dev_bus_create();
    intr = (struct dev_irq){board_intr_set, b, 0};
    b->pic = pic_create(&intr);
    if (b->wake_fd < 0 || b->bus == NULL || b->pic == NULL)
        goto nomem;
    irq = pic_irq_line(b->pic, MACHINE_IRQ_PIT);
    b->pit = pit_create(&irq, &b->clock);
    irq = pic_irq_line(b->pic, MACHINE_IRQ_RTC);
    b->rtc = rtc_create(&irq, &b->clock, cfg->rtc_unix_seconds);
    irq = pic_irq_line(b->pic, MACHINE_IRQ_COM1);
    b->uart = uart_create(&irq, console_tx, &b->con);
    irq = pic_irq_line(b->pic, MACHINE_IRQ_I8042_KBD);
    irq2 = pic_irq_line(b->pic, MACHINE_IRQ_I8042_AUX);
    b->kbc = i8042_create(&irq, &irq2, board_reset_cb, b);
    if (b->pit == NULL || b->rtc == NULL || b->uart == NULL || b->kbc == NULL)
        goto nomem;

    /* spec/machine.md 3.1 */
    if (map_pio(b, MACHINE_PIC_MASTER_PORT, 2, &pic_io_ops, pic_master(b->pic), err, errlen) ||
        map_pio(b, MACHINE_PIC_SLAVE_PORT, 2, &pic_io_ops, pic_slave(b->pic), err, errlen) ||
        map_pio(b, MACHINE_PIC_ELCR_PORT, 2, &pic_elcr_io_ops, b->pic, err, errlen) ||
        map_pio(b, MACHINE_PIT_PORT, 4, &pit_io_ops, b->pit, err, errlen) ||
        map_pio(b, MACHINE_PORT61, 1, &pit_port61_io_ops, b->pit, err, errlen) ||
        map_pio(b, MACHINE_I8042_DATA_PORT, 1, &i8042_data_io_ops, b->kbc, err, errlen) ||
        map_pio(b, MACHINE_I8042_CMD_PORT, 1, &i8042_cmd_io_ops, b->kbc, err, errlen) ||
        map_pio(b, MACHINE_RTC_PORT, 2, &rtc_io_ops, b->rtc, err, errlen) ||
        map_pio(b, MACHINE_COM1_PORT, 8, &uart_io_ops, b->uart, err, errlen) ||
        map_pio(b, MACHINE_ACPI_PM1A_EVT_PORT, 4, &pm1_evt_ops, b, err, errlen) ||
        map_pio(b, MACHINE_ACPI_PM1A_CNT_PORT, 2, &pm1_cnt_ops, b, err, errlen))
        goto fail;
    if (dev_bus_map_sink(b->bus, MACHINE_POST_PORT, 1) != DEV_OK) {
        snprintf(err, errlen, "board: cannot map port 0x80");
        goto fail;
    }

    /* spec/machine.md 3.2 */
    for (i = 0; i < cfg->ndisks; i++) {
        irq = pic_irq_line(b->pic, machine_virtio_irq(blk_slots[i]));
        b->blk[i] = virtio_blk_create(cfg->disks[i], cfg->disk_ids[i] ? cfg->disk_ids[i] : "", &irq,
                                      &b->ram);
        if (b->blk[i] == NULL)
            goto nomem;
        if (map_virtio(b, blk_slots[i], virtio_blk_transport(b->blk[i]), err, errlen))
            goto fail;
    }
    if (cfg->net) {
        irq = pic_irq_line(b->pic, machine_virtio_irq(MACHINE_SLOT_NET0));
        b->net = virtio_net_create(cfg->mac, &irq, &b->ram, &b->clock);
        if (b->net == NULL)
            goto nomem;
        if (map_virtio(b, MACHINE_SLOT_NET0, virtio_net_transport(b->net), err, errlen))
            goto fail;
    }
    if (cfg->rng) {
        irq = pic_irq_line(b->pic, machine_virtio_irq(MACHINE_SLOT_RNG));
        b->rng = virtio_rng_create(cfg->rng_seed, &irq, &b->ram);
        if (b->rng == NULL)
            goto nomem;
        if (map_virtio(b, MACHINE_SLOT_RNG, virtio_rng_transport(b->rng), err, errlen))
            goto fail;
    }
    *out = b;
    return 0;
nomem:
    snprintf(err, errlen, "board: out of memory (or a device could not start)");
fail:
    board_destroy(b);
    return -1;
}

void board_destroy(struct board *b)
{
    unsigned i;

    if (b == NULL)
        return;
    console_flush(&b->con);
    console_stop(&b->con);
    for (i = 0; i < BOARD_MAX_DISKS; i++)
        virtio_blk_destroy(b->blk[i]);
    virtio_net_destroy(b->net);
    virtio_rng_destroy(b->rng);
    i8042_destroy(b->kbc);
    uart_destroy(b->uart);
    rtc_destroy(b->rtc);
    pit_destroy(b->pit);
    pic_destroy(b->pic);
    dev_bus_destroy(b->bus);
    if (b->wake_fd >= 0)
        close(b->wake_fd);
    free(b->pfds);
    pthread_cond_destroy(&b->intr_cv);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
