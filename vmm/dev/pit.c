/*
 * pit.c - the 8254 PIT at ports 0x40-0x43, clocked at 1.193182 MHz from the
 * virtual clock, and the PC's port 0x61 (channel 2 gate, speaker enable,
 * refresh toggle, channel 2 output) that Linux's PIT calibration polls.
 * Channel 0 drives IRQ 0.
 * Models: modes 0-5, binary counting, lobyte/hibyte/both access, the
 * counter latch command, the read-back command (count and status), gate
 * of channel 2 from port 0x61 (a rising gate restarts modes 1, 2, 3, 5;
 * a low gate holds modes 2 and 3 with OUT high).
 * Leaves out: BCD counting (the bit is kept and read back, counting stays
 * binary), a low gate pausing modes 0 and 4, the speaker sound, and the
 * null-count flag timing (clear as soon as a count is loaded). A new count
 * written while counting in modes 2 and 3 applies at once rather than at
 * the next reload.
 * Counters are not stepped: a channel keeps the virtual time its count was
 * loaded, and its count and OUT are computed from the clock when read.
 * Saves: section "dev.pit" (spec/devices.md 3).
 * Source: Intel 8254 datasheet (231164); port 0x61: IBM PC/AT technical
 * reference, "System control port B".
 */
#include <stdlib.h>

#include "pit.h"

#define NS_PER_S 1000000000ull

struct pit_channel {
    uint32_t count;   /* reload value, 1..0x10000 */
    uint64_t load_ns; /* virtual time the count was loaded or restarted */
    uint8_t mode;     /* 0-5 */
    uint8_t rw;       /* 1 lsb, 2 msb, 3 lsb then msb */
    uint8_t bcd;
    uint8_t armed; /* a count has been loaded since the control word */
    uint8_t gate;
    uint8_t read_msb;  /* rw 3: next read returns the msb */
    uint8_t write_msb; /* rw 3: next write is the msb */
    uint8_t write_lsb; /* the lsb written first */
    uint8_t latched;   /* a latched count is pending: 0, or rw of the latch (3: both bytes left, 4:
                          msb left) */
    uint16_t latch;
    uint8_t status_latched;
    uint8_t status;
};

struct pit {
    struct pit_channel ch[3];
    struct dev_irq irq0;
    struct dev_clock clock;
    uint64_t irq_ns; /* channel 0 accounted up to here */
    uint8_t irq_level;
    uint8_t port61; /* bits 0-3 as written */
};

static uint64_t pit_ticks(const struct pit_channel *c, uint64_t now_ns)
{
    if (now_ns <= c->load_ns)
        return 0;
    return (uint64_t)((unsigned __int128)(now_ns - c->load_ns) * PIT_HZ / NS_PER_S);
}

/* The first virtual ns at which `ticks` have elapsed since the load. */
static uint64_t pit_tick_ns(const struct pit_channel *c, uint64_t ticks)
{
    unsigned __int128 ns = ((unsigned __int128)ticks * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
    ns += c->load_ns;
    return ns > UINT64_MAX - 1 ? UINT64_MAX - 1 : (uint64_t)ns;
}

static int pit_running(const struct pit_channel *c)
{
    if (!c->armed)
        return 0;
    if ((c->mode == 2 || c->mode == 3) && !c->gate)
        return 0;
    return 1;
}

static uint16_t pit_count(const struct pit_channel *c, uint64_t now_ns)
{
    if (!pit_running(c))
        return (uint16_t)c->count;
    uint64_t d = pit_ticks(c, now_ns);
    switch (c->mode) {
    case 2:
        return (uint16_t)(c->count - d % c->count);
    case 3: /* counts down by two, twice per period */
        return (uint16_t)(c->count - (2 * d) % c->count);
    default: /* 0, 1, 4, 5 wrap through 0xFFFF after terminal count */
        return (uint16_t)(c->count - d);
    }
}

static int pit_out(const struct pit_channel *c, uint64_t now_ns)
{
    if (!c->armed)
        return c->mode != 0;
    if (!pit_running(c))
        return 1;
    uint64_t d = pit_ticks(c, now_ns);
    switch (c->mode) {
    case 0: /* low until terminal count */
    case 1:
        return d >= c->count;
    case 2: /* low for the one clock at count 1 */
        return d % c->count != c->count - 1;
    case 3: /* high for the first half (the larger one if odd) */
        return d % c->count < (c->count + 1) / 2;
    default: /* 4, 5: low for the one clock at terminal count */
        return d != c->count;
    }
}

/* Rising OUT edges in ticks (d0, d1]. */
static uint64_t pit_rising(const struct pit_channel *c, uint64_t d0, uint64_t d1)
{
    if (d1 <= d0)
        return 0;
    switch (c->mode) {
    case 0:
    case 1:
        return d0 < c->count && c->count <= d1;
    case 2:
    case 3:
        return d1 / c->count - d0 / c->count;
    default:
        return d0 < c->count + 1ull && c->count + 1ull <= d1;
    }
}

/* Tick of the first rising edge after tick d, or UINT64_MAX. */
static uint64_t pit_next_rising(const struct pit_channel *c, uint64_t d)
{
    switch (c->mode) {
    case 0:
    case 1:
        return d < c->count ? c->count : UINT64_MAX;
    case 2:
    case 3:
        return (d / c->count + 1) * c->count;
    default:
        return d < c->count + 1ull ? c->count + 1ull : UINT64_MAX;
    }
}

static void pit_set_irq(struct pit *pit, int level)
{
    pit->irq_level = (uint8_t)level;
    dev_irq_set(&pit->irq0, level);
}

void pit_advance(struct pit *pit, uint64_t now_ns)
{
    const struct pit_channel *c = &pit->ch[0];
    if (now_ns < pit->irq_ns)
        return;
    uint64_t edges = 0;
    if (pit_running(c))
        edges = pit_rising(c, pit_ticks(c, pit->irq_ns), pit_ticks(c, now_ns));
    int out = pit_out(c, now_ns);
    /* Missed periods collapse into one edge: the PIC latches one request
     * per edge anyway, and Linux counts time from the clocksource. */
    if (edges) {
        if (out) {
            pit_set_irq(pit, 0);
            pit_set_irq(pit, 1);
        } else {
            pit_set_irq(pit, 1);
            pit_set_irq(pit, 0);
        }
    } else if (out != pit->irq_level) {
        pit_set_irq(pit, out);
    }
    pit->irq_ns = now_ns;
}

uint64_t pit_next_deadline_ns(const struct pit *pit)
{
    const struct pit_channel *c = &pit->ch[0];
    if (!pit_running(c))
        return DEV_NO_DEADLINE;
    uint64_t t = pit_next_rising(c, pit_ticks(c, pit->irq_ns));
    if (t == UINT64_MAX)
        return DEV_NO_DEADLINE;
    return pit_tick_ns(c, t);
}

static void pit_load(struct pit *pit, struct pit_channel *c, uint32_t v, uint64_t now)
{
    if (c == &pit->ch[0])
        pit_advance(pit, now);
    c->count = v ? v : 0x10000;
    c->load_ns = now;
    c->armed = 1;
    if (c == &pit->ch[0]) {
        pit->irq_ns = now;
        pit_advance(pit, now);
    }
}

static void pit_latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->latched)
        return;
    c->latch = pit_count(c, now);
    c->latched = c->rw;
}

static void pit_control(struct pit *pit, uint8_t v, uint64_t now)
{
    unsigned sc = v >> 6;
    if (sc == 3) { /* 8254 read-back; bits 5 and 4 are active low */
        for (unsigned i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            struct pit_channel *c = &pit->ch[i];
            if (!(v & 0x20))
                pit_latch_count(c, now);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = (uint8_t)(pit_out(c, now) << 7 | (!c->armed) << 6 | c->rw << 4 |
                                      c->mode << 1 | c->bcd);
                c->status_latched = 1;
            }
        }
        return;
    }
    struct pit_channel *c = &pit->ch[sc];
    unsigned rw = (v >> 4) & 3;
    if (rw == 0) {
        pit_latch_count(c, now);
        return;
    }
    if (sc == 0)
        pit_advance(pit, now);
    unsigned mode = (v >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);
    c->rw = (uint8_t)rw;
    c->bcd = v & 1;
    c->armed = 0;
    c->read_msb = 0;
    c->write_msb = 0;
    c->latched = 0;
    c->status_latched = 0;
    if (sc == 0)
        pit_advance(pit, now);
}

static uint32_t pit_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct pit *pit = opaque;
    (void)size_bytes;
    if (offset == 3)
        return 0xFF; /* the control word register is write-only */
    struct pit_channel *c = &pit->ch[offset];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->latched) {
        uint8_t b;
        switch (c->latched) {
        case 1:
            b = (uint8_t)c->latch;
            c->latched = 0;
            break;
        case 3:
            b = (uint8_t)c->latch;
            c->latched = 4;
            break;
        default: /* 2, 4 */
            b = (uint8_t)(c->latch >> 8);
            c->latched = 0;
            break;
        }
        return b;
    }
    uint16_t n = pit_count(c, dev_clock_now(&pit->clock));
    switch (c->rw) {
    case 1:
        return n & 0xFF;
    case 2:
        return n >> 8;
    default:
        c->read_msb ^= 1;
        return c->read_msb ? (n & 0xFFu) : (uint32_t)(n >> 8);
    }
}

static void pit_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct pit *pit = opaque;
    uint8_t v = (uint8_t)value;
    uint64_t now = dev_clock_now(&pit->clock);
    (void)size_bytes;
    if (offset == 3) {
        pit_control(pit, v, now);
        return;
    }
    struct pit_channel *c = &pit->ch[offset];
    switch (c->rw) {
    case 1:
        pit_load(pit, c, v, now);
        break;
    case 2:
        pit_load(pit, c, (uint32_t)v << 8, now);
        break;
    case 3:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = 1;
            if (c->mode == 0) /* 8254: writing the first byte stops mode 0 */
                c->armed = 0;
        } else {
            c->write_msb = 0;
            pit_load(pit, c, c->write_lsb | (uint32_t)v << 8, now);
        }
        break;
    default: /* no control word yet */
        break;
    }
}

const struct dev_io_ops pit_io_ops = {pit_read, pit_write, 1};

static uint32_t pit_port61_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct pit *pit = opaque;
    uint64_t now = dev_clock_now(&pit->clock);
    (void)offset;
    (void)size_bytes;
    /* bit 4 toggles with DRAM refresh, every 15.085 us on the AT */
    unsigned refresh = (unsigned)((now / 15085) & 1);
    return (pit->port61 & 0x0Fu) | refresh << 4 | (unsigned)pit_out(&pit->ch[2], now) << 5;
}

static void pit_port61_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct pit *pit = opaque;
    struct pit_channel *c = &pit->ch[2];
    (void)offset;
    (void)size_bytes;
    uint8_t gate = value & 1;
    if (gate && !c->gate && c->armed && c->mode != 0 && c->mode != 4)
        c->load_ns = dev_clock_now(&pit->clock);
    c->gate = gate;
    pit->port61 = value & 0x0F;
}

const struct dev_io_ops pit_port61_io_ops = {pit_port61_read, pit_port61_write, 1};

struct pit *pit_create(const struct dev_irq *irq0, const struct dev_clock *clock)
{
    struct pit *pit = calloc(1, sizeof(*pit));
    if (!pit)
        return NULL;
    pit->irq0 = *irq0;
    pit->clock = *clock;
    for (int i = 0; i < 3; i++) {
        pit->ch[i].count = 0x10000;
        pit->ch[i].gate = i != 2; /* channels 0 and 1 are gated on */
    }
    pit->irq_ns = dev_clock_now(clock);
    return pit;
}

void pit_destroy(struct pit *pit)
{
    free(pit);
}

/* spec/devices.md 3 */
#define PIT_SAVE_VERSION 1

int pit_save(const struct pit *pit, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, PIT_SAVE_VERSION);
    for (int i = 0; i < 3; i++) {
        const struct pit_channel *c = &pit->ch[i];
        dev_sec_put_u32(w, c->count);
        dev_sec_put_u64(w, c->load_ns);
        dev_sec_put_u8(w, c->mode);
        dev_sec_put_u8(w, c->rw);
        dev_sec_put_u8(w, c->bcd);
        dev_sec_put_u8(w, c->armed);
        dev_sec_put_u8(w, c->gate);
        dev_sec_put_u8(w, c->read_msb);
        dev_sec_put_u8(w, c->write_msb);
        dev_sec_put_u8(w, c->write_lsb);
        dev_sec_put_u8(w, c->latched);
        dev_sec_put_u16(w, c->latch);
        dev_sec_put_u8(w, c->status_latched);
        dev_sec_put_u8(w, c->status);
    }
    dev_sec_put_u64(w, pit->irq_ns);
    dev_sec_put_u8(w, pit->irq_level);
    dev_sec_put_u8(w, pit->port61);
    return dev_sec_writer_status(w);
}

int pit_restore(struct pit *pit, struct dev_sec_reader *r)
{
    struct pit n = *pit;
    dev_sec_get_version(r, PIT_SAVE_VERSION);
    for (int i = 0; i < 3 && !r->status; i++) {
        struct pit_channel *c = &n.ch[i];
        c->count = dev_sec_get_u32(r);
        if (!r->status && (c->count == 0 || c->count > 0x10000))
            dev_sec_fail(r, DEV_ECORRUPT, "channel %d count: expected 1-65536, found %u", i,
                         c->count);
        c->load_ns = dev_sec_get_u64(r);
        c->mode = dev_sec_get_u8(r);
        if (c->mode > 5)
            dev_sec_fail(r, DEV_ECORRUPT, "channel %d mode: expected 0-5, found %u", i, c->mode);
        c->rw = dev_sec_get_u8(r);
        if (c->rw > 3)
            dev_sec_fail(r, DEV_ECORRUPT, "channel %d access: expected 0-3, found %u", i, c->rw);
        c->bcd = dev_sec_get_bool(r, "bcd");
        c->armed = dev_sec_get_bool(r, "armed");
        c->gate = dev_sec_get_bool(r, "gate");
        c->read_msb = dev_sec_get_bool(r, "read_msb");
        c->write_msb = dev_sec_get_bool(r, "write_msb");
        c->write_lsb = dev_sec_get_u8(r);
        c->latched = dev_sec_get_u8(r);
        if (c->latched > 4)
            dev_sec_fail(r, DEV_ECORRUPT, "channel %d latched: expected 0-4, found %u", i,
                         c->latched);
        c->latch = dev_sec_get_u16(r);
        c->status_latched = dev_sec_get_bool(r, "status_latched");
        c->status = dev_sec_get_u8(r);
    }
    n.irq_ns = dev_sec_get_u64(r);
    n.irq_level = dev_sec_get_bool(r, "irq_level");
    n.port61 = dev_sec_get_u8(r);
    if (n.port61 > 0x0F)
        dev_sec_fail(r, DEV_ECORRUPT, "port61: expected bits 0-3 only, found 0x%02x", n.port61);
    if (!r->status && (n.port61 & 1) != n.ch[2].gate)
        dev_sec_fail(r, DEV_ECORRUPT, "port61 gate bit %u disagrees with channel 2 gate %u",
                     n.port61 & 1, n.ch[2].gate);
    if (dev_sec_end(r))
        return r->status;
    *pit = n;
    dev_irq_set(&pit->irq0, pit->irq_level);
    return DEV_OK;
}
