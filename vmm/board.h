/*
 * board.h - the virtual PC of spec/machine.md: the devices of vmm/dev wired
 * on one I/O bus at the machine's ports, IRQs and MMIO windows, the ACPI
 * PM1 registers (power off), the virtual clock and the console; and the
 * CPU-facing callbacks (struct cpu_io_ops) that route port I/O, MMIO and
 * interrupt acknowledge to them. The board knows nothing of the CPU beyond
 * a kick callback, so it is built and tested without one.
 *
 * Lifecycle:
 *   1. board_create(&cfg, &b, err, errlen).
 *   2. board_cpu_io_ops() and b as the CPU's io/io_opaque; set cfg.kick
 *      (the vCPU's cpu_kick) before running.
 *   3. Two threads: the vCPU thread calls the cpu_io_ops (and
 *      board_wait_interrupt on HLT); the I/O thread runs board_io_step in a
 *      loop. Both take b->lock around every call into a device (dev.h).
 *   4. board_request_stop(b, why) from any thread, board_stop_reason().
 *   5. board_destroy(b).
 */
#ifndef VMP_BOARD_H
#define VMP_BOARD_H

#include <pthread.h>
#include <stdint.h>

#include <vmpack/detsection.h>

#include "console.h"
#include "cpu/cpu.h"
#include "dev/bus.h"
#include "dev/blkback.h"
#include "dev/i8042.h"
#include "dev/pic.h"
#include "dev/pit.h"
#include "dev/rtc.h"
#include "dev/uart.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_net.h"
#include "dev/virtio_rng.h"
#include "machine.h"
#include "vclock.h"

#define BOARD_MAX_DISKS 3

/* Why the board wants the vCPU to stop; the first reason wins. */
enum board_stop {
    BOARD_RUNNING = 0,
    BOARD_STOP_POWEROFF, /* ACPI S5 (spec/machine.md 4.2) */
    BOARD_STOP_HALTED,   /* HLT with IF=0 (4.3) */
    BOARD_STOP_RESET,    /* i8042 reset line or triple fault (4.3) */
    BOARD_STOP_REQUEST,  /* the host asked (signal, API) */
    BOARD_STOP_QUIT,     /* the console's escape key */
    BOARD_STOP_ERROR,    /* an internal error; message in the VM */
};

struct board_config {
    uint8_t *ram; /* guest physical RAM, host mapping of GPA 0 */
    uint64_t ram_bytes;
    struct vclock *clock;
    int64_t rtc_unix_seconds;
    const struct blk_backend *disks[BOARD_MAX_DISKS]; /* slots 0, 4, 5 */
    const char *disk_ids[BOARD_MAX_DISKS];
    unsigned ndisks;
    int net; /* populate virtio-net (slot 1) */
    uint8_t mac[6];
    int rng;                 /* populate virtio-rng (slot 2) */
    const uint8_t *rng_seed; /* NULL: host entropy */
    /* Deterministic mode (spec/machine.md "Deterministic mode"): clock is
     * an instruction-count clock (vclock_init_icount), rng_seed is set and
     * net is 0; device timers and console input run on the vCPU thread
     * through board_det_service / board_det_idle, never on the I/O thread. */
    int deterministic;
    int console_in_fd, console_out_fd, console_err_fd;
    void (*kick)(void *opaque); /* make the vCPU leave cpu_run; async-signal-safe */
    void *kick_opaque;
    /* deterministic mode: called on the vCPU thread, inside cpu_run, after
     * every device access by the guest with the next device deadline (guest
     * ns or DEV_NO_DEADLINE): a guest reprogramming a timer moves the
     * vCPU's icount deadline at once, not at its next exit */
    void (*det_deadline)(void *opaque, uint64_t guest_ns); /* opaque: kick_opaque */
};

struct board_stats {
    uint64_t unclaimed_pio_reads, unclaimed_pio_writes;
    uint64_t unclaimed_mmio;
    uint64_t irqs_delivered;
    uint64_t hlt_waits;
    uint64_t io_wakeups;
};

struct board {
    pthread_mutex_t lock;
    pthread_cond_t intr_cv; /* signalled when the PIC's INTR rises or a stop is requested */
    struct board_config cfg;
    struct dev_ram ram;
    struct dev_clock clock;
    struct dev_bus *bus;
    struct pic *pic;
    struct pit *pit;
    struct rtc *rtc;
    struct uart *uart;
    struct i8042 *kbc;
    struct virtio_blk *blk[BOARD_MAX_DISKS];
    struct virtio_net *net;
    struct virtio_rng *rng;
    uint32_t virtio_slots; /* bit n: slot n populated (for the loader's DSDT) */
    uint16_t pm1_en, pm1_cnt;
    struct console con;
    int uart_rx_listening;      /* the guest's driver enabled receive interrupts */
    uint64_t uart_listen_ns;    /* guest ns when it did (board_console_pump) */
    int wake_fd;                /* eventfd that wakes the I/O thread */
    uint64_t io_sleep_until_ns; /* guest ns the I/O thread sleeps until */
    int io_flush_armed;         /* ... and it will flush console output */
    int io_wake_pending;        /* a wake was sent and not yet seen */
    _Atomic int stop;           /* enum board_stop */
    _Atomic int intr;           /* the PIC's INTR output */
    struct board_stats stats;
    int extra_fd; /* board_set_extra_fd */
    void (*extra_fn)(void *ctx);
    void *extra_ctx;
    struct pollfd *pfds;
    size_t npfds_cap;
    uint8_t det_seed[VIRTIO_RNG_SEED_BYTES]; /* deterministic mode: cfg.rng_seed's bytes */
};

int board_create(const struct board_config *cfg, struct board **out, char *err, size_t errlen);
void board_destroy(struct board *b);

const struct cpu_io_ops *board_cpu_io_ops(void);

/* From any thread (async-signal-safe): stop the vCPU and the I/O loop. */
void board_request_stop(struct board *b, enum board_stop why);
enum board_stop board_stop_reason(const struct board *b);

/* vCPU thread, on a HLT exit: sleep until an interrupt is pending or a
 * stop is requested. Returns 1 if an interrupt is pending. */
int board_wait_interrupt(struct board *b);

/* One round of the I/O loop: run due timers, move console input, serve
 * slirp, then sleep in poll() until the next deadline or fd activity (at
 * most max_wait_ms; -1: no limit). Returns 0, or -1 once a stop was
 * requested. */
int board_io_step(struct board *b, int max_wait_ms);
/* One more fd for the I/O loop (e.g. the control socket, vmm/ctl.h): when
 * it is readable, fn(ctx) runs on the I/O thread without b->lock held (it
 * may call board_request_stop). fd < 0 removes it. Set it before the I/O
 * thread starts, or from that thread. */
void board_set_extra_fd(struct board *b, int fd, void (*fn)(void *ctx), void *ctx);

/* Wake the I/O thread (async-signal-safe). */
void board_io_wake(struct board *b);

/* Run the devices' timers that are due at the virtual time now_ns (lock held). */
void board_run_timers(struct board *b, uint64_t now_ns);

/* ---- deterministic mode (vCPU thread only) ----------------------------------
 * board_det_service: run the timers due at the clock's time; console input
 * moves into the UART only when the PIT ticked. Returns the guest ns of
 * the next device deadline (DEV_NO_DEADLINE if none): the caller turns it
 * into the vCPU's icount deadline.
 * board_det_idle, on HLT with IF=1: while no interrupt is pending, move the
 * clock on to the next deadline at once (vclock_skip) and run the timers.
 * Returns 1 if an interrupt is pending, 0 if nothing can ever raise one
 * (the caller then waits for a stop with board_wait_interrupt). */
uint64_t board_det_service(struct board *b);
int board_det_idle(struct board *b);

/* The "vm.determinism" section (vmpack/detsection.h, spec/machine.md 7):
 * board_save writes it in deterministic mode; vm.c reads it with
 * vmp_det_decode before building the machine, so a container keeps its
 * mode, seed and time. */

/* ---- saved state (board_state.c) -----------------------------------------
 * The devices' sections of spec/devices.md ("dev.pic", "dev.pit", "dev.rtc",
 * "dev.uart0", "dev.i8042", "dev.virtio-<slot>") and the board's own
 * "dev.acpi-pm" (u32 version 1, u16 PM1_EN, u16 PM1_CNT). Call with the
 * vCPU stopped (vmp_vm_run returned) and the I/O thread gone.
 */
typedef int board_section_sink(void *ctx, const char *name, const void *data, size_t len);
/* Each section to sink, PIC first. 0, or the first nonzero sink or DEV_E* status. */
int board_save(struct board *b, board_section_sink *sink, void *ctx);

/* Finds a section: 1 with *data and *len set, 0 if absent. */
typedef int board_section_find(void *ctx, const char *name, const void **data, size_t *len);
/* Restores every device of this board from its section (guest RAM must be
 * restored first: virtio checks its rings), PIC first. A missing or refused
 * section is an error with a message in err naming it. 0 or DEV_E*. */
int board_restore(struct board *b, board_section_find *find, void *ctx, char *err, size_t errlen);

#endif
