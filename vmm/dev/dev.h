/*
 * dev.h - the device model seam: what every device of the virtual PC uses
 * and what the board (vmm/) wires together.
 *
 * Lifecycle of a device, as the board drives it:
 *   1. <dev>_create(...) with the seam objects below: interrupt lines
 *      (struct dev_irq), the virtual clock (struct dev_clock), guest RAM for
 *      DMA (struct dev_ram). The board keeps these objects alive for the
 *      device's lifetime; devices copy the structs, never free them.
 *   2. The board maps the device's ports or MMIO window on a struct dev_bus
 *      (bus.h) and routes the CPU's port I/O and MMIO exits to it.
 *   3. Timers: devices that keep time expose <dev>_next_deadline_ns() and
 *      <dev>_advance(now_ns). The board calls advance with the virtual clock,
 *      from its timer logic or from an instruction count in deterministic
 *      mode. Devices never start threads and never read a wall clock.
 *   4. Suspend: with the vCPU stopped, <dev>_save() serialises the device
 *      into a versioned byte section (spec/devices.md); resume: create the
 *      device as in step 1, then <dev>_restore() from the section. Restore
 *      validates every field and refuses a corrupt section with a message.
 *   5. <dev>_destroy(); destroy(NULL) does nothing.
 *
 * Threads: a device is not thread-safe. All calls into one device (port and
 * MMIO handlers, advance, input from the board, save) happen on one thread
 * at a time; the board serialises them (a device lock or one thread).
 * The callbacks a device makes (interrupt lines, output bytes, reset) are
 * made on the calling thread, inside those calls.
 *
 * Status codes: 0 is OK; the negative DEV_E* codes below; messages are kept
 * in the section reader (struct dev_sec_reader) or the device.
 *
 * Wiring the machine of spec/machine.md 3 (constants in vmm/machine.h):
 *   pic = pic_create(&intr_to_cpu)         pic_io_ops @0x20 (2, pic_master),
 *                                          @0xA0 (2, pic_slave),
 *                                          pic_elcr_io_ops @0x4D0 (2, pic)
 *   pit = pit_create(&irq0, &clock)        pit_io_ops @0x40 (4),
 *                                          pit_port61_io_ops @0x61 (1)
 *   rtc = rtc_create(&irq8, &clock, t)     rtc_io_ops @0x70 (2)
 *   uart = uart_create(&irq4, tx, o)       uart_io_ops @0x3F8 (8)
 *   kbc = i8042_create(&irq1, &irq12, ...) i8042_data_io_ops @0x60 (1),
 *                                          i8042_cmd_io_ops @0x64 (1)
 *   dev_bus_map_sink(bus, 0x80, 1)         POST
 *   virtio_{blk,net,console,rng}_create()  virtio_mmio_io_ops over slot n's
 *                                          0x200-byte window, IRQ of slot n
 * where irqN = pic_irq_line(pic, N). The CPU side: intr_ack() is
 * pic_has_interrupt(pic) ? pic_ack(pic) : -1. Timers: the board runs
 * pit_advance, rtc_advance and virtio_net_advance when the virtual clock
 * passes the earliest of their next_deadline_ns(). Sections: "dev.pic",
 * "dev.pit", "dev.rtc", "dev.uart0", "dev.i8042", "dev.virtio-<slot>"
 * (spec/devices.md), restored after RAM, PIC first.
 */
#ifndef VMP_DEV_H
#define VMP_DEV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum {
    DEV_OK = 0,
    DEV_ENOMEM = -1,   /* an allocation failed */
    DEV_ECORRUPT = -2, /* a saved section is malformed or inconsistent */
    DEV_EVERSION = -3, /* a saved section has an unknown version */
    DEV_EINVAL = -4,   /* a bad argument from the board */
    DEV_EIO = -5,      /* a host I/O error (block backend, sockets) */
};

/* ---- interrupt lines ---------------------------------------------------- */

/*
 * One interrupt line from a device to an interrupt controller. set_level is
 * called with 1 (asserted) or 0; setting the current level again is allowed
 * and is a no-op for the receiver. Edge-triggered inputs see a rising edge
 * as a 0 -> 1 change. A line with set_level == NULL is not connected.
 */
struct dev_irq {
    void (*set_level)(void *opaque, unsigned line, int level);
    void *opaque;
    unsigned line;
};

static inline void dev_irq_set(const struct dev_irq *irq, int level)
{
    if (irq->set_level)
        irq->set_level(irq->opaque, irq->line, level ? 1 : 0);
}

/* ---- virtual clock ------------------------------------------------------ */

/* The VM's virtual clock in nanoseconds: monotonic, continuous across
 * suspend and resume (the board restores its base), never a host wall
 * clock read inside a device. */
struct dev_clock {
    uint64_t (*now_ns)(void *opaque);
    void *opaque;
};

static inline uint64_t dev_clock_now(const struct dev_clock *clk)
{
    return clk->now_ns(clk->opaque);
}

/* next_deadline_ns() returns this when the device has nothing scheduled */
#define DEV_NO_DEADLINE UINT64_MAX

/* ---- guest RAM for DMA -------------------------------------------------- */

/*
 * Guest physical RAM as one host mapping: guest physical address gpa is at
 * host + gpa for gpa < bytes. Everything outside is not RAM: a device that
 * is asked to touch it reports an error of the guest and never dereferences
 * a host pointer outside [host, host + bytes).
 */
struct dev_ram {
    uint8_t *host;
    uint64_t bytes;
};

/* Host pointer to [gpa, gpa + len) if the whole range is RAM, else NULL.
 * len 0 is allowed (a valid gpa <= bytes). */
static inline uint8_t *dev_ram_ptr(const struct dev_ram *ram, uint64_t gpa, uint64_t len)
{
    if (gpa > ram->bytes || len > ram->bytes - gpa)
        return NULL;
    return ram->host + gpa;
}

/* Copy between guest RAM and a host buffer: 0, or -1 if the range is not
 * entirely RAM (nothing is copied then). */
int dev_ram_read(const struct dev_ram *ram, uint64_t gpa, void *dst, uint64_t len);
int dev_ram_write(const struct dev_ram *ram, uint64_t gpa, const void *src, uint64_t len);

/* ---- port I/O and MMIO handlers ----------------------------------------- */

/*
 * A device's register window: offset is relative to the start of the port
 * range or MMIO window it was mapped at; size_bytes is 1, 2 or 4. Reads
 * return the value in the low size_bytes bytes. Handlers never fail: a
 * guest access the device does not implement reads as the hardware would
 * (usually all ones or zero) and is otherwise ignored.
 */
struct dev_io_ops {
    uint32_t (*read)(void *opaque, uint32_t offset, unsigned size_bytes);
    void (*write)(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value);
    /* 1 for an 8-bit ISA device: the bus splits wider accesses into byte
     * accesses to consecutive ports, as the ISA bus does; 0: any size is
     * passed through. */
    unsigned width_bytes;
};

/* ---- saved state sections ----------------------------------------------- */

/*
 * A section is little-endian, field by field, never a raw struct; it opens
 * with a u32 version. spec/devices.md gives each device's layout.
 *
 * Writer: dev_sec_writer_init, put_*, then take buf/len (the writer owns buf
 * until dev_sec_writer_free; a failed allocation sets failed and later puts
 * do nothing: check dev_sec_writer_status once at the end).
 */
struct dev_sec_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int failed;
};

void dev_sec_writer_init(struct dev_sec_writer *w);
void dev_sec_writer_free(struct dev_sec_writer *w);
int dev_sec_writer_status(const struct dev_sec_writer *w); /* DEV_OK or DEV_ENOMEM */
void dev_sec_put_u8(struct dev_sec_writer *w, uint8_t v);
void dev_sec_put_u16(struct dev_sec_writer *w, uint16_t v);
void dev_sec_put_u32(struct dev_sec_writer *w, uint32_t v);
void dev_sec_put_u64(struct dev_sec_writer *w, uint64_t v);
void dev_sec_put_bytes(struct dev_sec_writer *w, const void *p, size_t len);

/*
 * Reader over untrusted bytes. The first error is kept (status and message
 * naming the section, the offset, what was expected and what was found);
 * later gets return 0 and do nothing, so a parser reads all fields and
 * checks dev_sec_reader_status once, plus its own validation through
 * dev_sec_fail. dev_sec_end() fails if bytes are left over.
 */
struct dev_sec_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
    size_t field_off; /* where the last field read starts: messages cite it */
    const char *name; /* section name for messages, e.g. "dev.pic" */
    int status;
    char errmsg[200];
};

void dev_sec_reader_init(struct dev_sec_reader *r, const char *name, const void *p, size_t len);
int dev_sec_reader_status(const struct dev_sec_reader *r);
const char *dev_sec_reader_errmsg(const struct dev_sec_reader *r);
uint8_t dev_sec_get_u8(struct dev_sec_reader *r);
uint16_t dev_sec_get_u16(struct dev_sec_reader *r);
uint32_t dev_sec_get_u32(struct dev_sec_reader *r);
uint64_t dev_sec_get_u64(struct dev_sec_reader *r);
void dev_sec_get_bytes(struct dev_sec_reader *r, void *p, size_t len);
/* Read a u8 that must be 0 or 1. */
uint8_t dev_sec_get_bool(struct dev_sec_reader *r, const char *field);
/* Read the version field; fails with DEV_EVERSION unless it is `expected`. */
uint32_t dev_sec_get_version(struct dev_sec_reader *r, uint32_t expected);
/* Record a validation failure (first one wins); returns the status. */
int dev_sec_fail(struct dev_sec_reader *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails if bytes remain; returns the reader's status. */
int dev_sec_end(struct dev_sec_reader *r);

#endif
