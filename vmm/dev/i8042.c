/*
 * i8042.c - the 8042 keyboard controller of a PC at ports 0x60 (data) and
 * 0x64 (status, command), IRQ 1 (keyboard) and IRQ 12 (mouse), with
 * nothing plugged in: it exists for the reset line (command 0xFE, or an
 * output port write with bit 0 clear) and to answer Linux's i8042 probe
 * sanely.
 * Models: the status register, the controller RAM (byte 0 is the command
 * byte, CTR), self tests (0xAA -> 0x55, 0xAB -> 0x00), enable/disable of
 * the ports, the output port (0xD0/0xD1), writes to the output buffer
 * (0xD2/0xD3), pulse output (0xF0-0xFF), and a 16-byte output queue.
 * Leaves out: the keyboard and the mouse. A byte sent to the keyboard
 * (a data write) or to the mouse (0xD4) is answered with 0xFE and the
 * timeout status bit, which is what a controller with no device attached
 * reports, so Linux's atkbd and psmouse give up at once. The AUX loopback
 * (0xD3) answers without the AUX bit and the AUX test (0xA9) reports a
 * stuck clock line, so Linux decides there is no AUX port.
 * Saves: section "dev.i8042" (spec/devices.md 6).
 * Source: IBM PC/AT technical reference, "Keyboard controller"; Linux's
 * drivers/input/serio/i8042.c for what a guest relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "i8042.h"

#define KBC_QUEUE 16

enum {
    ST_OBF = 0x01,
    ST_SYS = 0x04,
    ST_CMD = 0x08,
    ST_UNLOCKED = 0x10,
    ST_AUXDATA = 0x20,
    ST_TIMEOUT = 0x40
};
enum { CTR_KBDINT = 0x01, CTR_AUXINT = 0x02, CTR_SYS = 0x04, CTR_KBDDIS = 0x10, CTR_AUXDIS = 0x20 };
enum { Q_AUX = 0x01, Q_TIMEOUT = 0x02 };

struct i8042 {
    struct dev_irq irq1, irq12;
    i8042_reset_fn *reset;
    void *reset_opaque;
    uint8_t ram[32]; /* ram[0] is the CTR */
    uint8_t outport;
    uint8_t pending;  /* a command waiting for its data byte, or 0 */
    uint8_t last_cmd; /* status bit 3: the last write went to 0x64 */
    uint8_t q[KBC_QUEUE];
    uint8_t qflags[KBC_QUEUE];
    uint8_t qn;
    uint8_t irq1_level, irq12_level;
};

static void kbc_update(struct i8042 *k)
{
    int kbd = k->qn && !(k->qflags[0] & Q_AUX) && (k->ram[0] & CTR_KBDINT);
    int aux = k->qn && (k->qflags[0] & Q_AUX) && (k->ram[0] & CTR_AUXINT);
    if (kbd != k->irq1_level) {
        k->irq1_level = (uint8_t)kbd;
        dev_irq_set(&k->irq1, kbd);
    }
    if (aux != k->irq12_level) {
        k->irq12_level = (uint8_t)aux;
        dev_irq_set(&k->irq12, aux);
    }
}

static void kbc_queue(struct i8042 *k, uint8_t b, uint8_t flags)
{
    if (k->qn == KBC_QUEUE)
        return; /* a real controller would drop it too */
    k->q[k->qn] = b;
    k->qflags[k->qn] = flags;
    k->qn++;
}

static void kbc_set_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v;
    if (!(v & 1) && k->reset)
        k->reset(k->reset_opaque);
}

static void kbc_command(struct i8042 *k, uint8_t c)
{
    if (c >= 0x20 && c < 0x40) {
        kbc_queue(k, k->ram[c & 0x1F], 0);
        return;
    }
    if ((c >= 0x60 && c < 0x80) || c == 0xD1 || c == 0xD2 || c == 0xD3 || c == 0xD4) {
        k->pending = c;
        return;
    }
    if (c >= 0xF0) { /* pulse output port bits whose mask bit is 0 */
        if (!(c & 1) && k->reset)
            k->reset(k->reset_opaque);
        return;
    }
    switch (c) {
    case 0xA7:
        k->ram[0] |= CTR_AUXDIS;
        break;
    case 0xA8:
        k->ram[0] &= (uint8_t)~CTR_AUXDIS;
        break;
    case 0xA9: /* AUX interface test: 0x01, clock line stuck low */
        kbc_queue(k, 0x01, 0);
        break;
    case 0xAA:
        k->ram[0] |= CTR_SYS;
        kbc_queue(k, 0x55, 0);
        break;
    case 0xAB:
        kbc_queue(k, 0x00, 0);
        break;
    case 0xAD:
        k->ram[0] |= CTR_KBDDIS;
        break;
    case 0xAE:
        k->ram[0] &= (uint8_t)~CTR_KBDDIS;
        break;
    case 0xC0: /* input port: keyboard not inhibited */
        kbc_queue(k, 0x80, 0);
        break;
    case 0xD0:
        kbc_queue(k, k->outport, 0);
        break;
    case 0xE0: /* test inputs */
        kbc_queue(k, 0x00, 0);
        break;
    default:
        break;
    }
}

static void kbc_data(struct i8042 *k, uint8_t v)
{
    uint8_t c = k->pending;
    k->pending = 0;
    if (c >= 0x60 && c < 0x80)
        k->ram[c & 0x1F] = v;
    else if (c == 0xD1)
        kbc_set_outport(k, v);
    else if (c == 0xD2 || c == 0xD3)
        kbc_queue(k, v, 0);
    else if (c == 0xD4)
        kbc_queue(k, 0xFE, Q_AUX | Q_TIMEOUT);
    else
        kbc_queue(k, 0xFE, Q_TIMEOUT); /* no keyboard */
}

static uint32_t kbc_status(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size_bytes;
    uint8_t s = ST_UNLOCKED | (k->ram[0] & CTR_SYS) | (k->last_cmd ? ST_CMD : 0);
    if (k->qn) {
        s |= ST_OBF;
        if (k->qflags[0] & Q_AUX)
            s |= ST_AUXDATA;
        if (k->qflags[0] & Q_TIMEOUT)
            s |= ST_TIMEOUT;
    }
    return s;
}

static uint32_t kbc_read_data(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size_bytes;
    if (!k->qn)
        return k->q[0]; /* the last byte read stays in the buffer */
    uint8_t b = k->q[0];
    memmove(k->q, k->q + 1, (size_t)(k->qn - 1));
    memmove(k->qflags, k->qflags + 1, (size_t)(k->qn - 1));
    k->qn--;
    k->q[k->qn] = 0;
    if (!k->qn)
        k->q[0] = b;
    kbc_update(k);
    return b;
}

static void kbc_write_cmd(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size_bytes;
    k->last_cmd = 1;
    k->pending = 0;
    kbc_command(k, (uint8_t)value);
    kbc_update(k);
}

static void kbc_write_data(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size_bytes;
    k->last_cmd = 0;
    kbc_data(k, (uint8_t)value);
    kbc_update(k);
}

const struct dev_io_ops i8042_data_io_ops = {kbc_read_data, kbc_write_data, 1};
const struct dev_io_ops i8042_cmd_io_ops = {kbc_status, kbc_write_cmd, 1};

struct i8042 *i8042_create(const struct dev_irq *irq1, const struct dev_irq *irq12,
                           i8042_reset_fn *reset, void *reset_opaque)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->irq1 = *irq1;
    k->irq12 = *irq12;
    k->reset = reset;
    k->reset_opaque = reset_opaque;
    k->ram[0] = CTR_KBDINT | CTR_SYS | CTR_AUXDIS;
    k->outport = 0x01; /* bit 0: the CPU runs (reset line high) */
    return k;
}

void i8042_destroy(struct i8042 *kbc)
{
    free(kbc);
}

/* spec/devices.md 6 */
#define I8042_SAVE_VERSION 1

int i8042_save(const struct i8042 *k, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, I8042_SAVE_VERSION);
    dev_sec_put_bytes(w, k->ram, sizeof(k->ram));
    dev_sec_put_u8(w, k->outport);
    dev_sec_put_u8(w, k->pending);
    dev_sec_put_u8(w, k->last_cmd);
    dev_sec_put_u8(w, k->qn);
    for (unsigned i = 0; i < k->qn; i++) {
        dev_sec_put_u8(w, k->q[i]);
        dev_sec_put_u8(w, k->qflags[i]);
    }
    dev_sec_put_u8(w, k->q[0]);
    return dev_sec_writer_status(w);
}

int i8042_restore(struct i8042 *kbc, struct dev_sec_reader *r)
{
    struct i8042 n = *kbc;
    memset(n.q, 0, sizeof(n.q));
    memset(n.qflags, 0, sizeof(n.qflags));
    dev_sec_get_version(r, I8042_SAVE_VERSION);
    dev_sec_get_bytes(r, n.ram, sizeof(n.ram));
    n.outport = dev_sec_get_u8(r);
    if (!r->status && !(n.outport & 1))
        dev_sec_fail(r, DEV_ECORRUPT, "output port 0x%02x holds the CPU in reset", n.outport);
    n.pending = dev_sec_get_u8(r);
    int pending_ok = n.pending == 0 || (n.pending >= 0x60 && n.pending < 0x80) ||
                     (n.pending >= 0xD1 && n.pending <= 0xD4);
    if (!r->status && !pending_ok)
        dev_sec_fail(r, DEV_ECORRUPT, "pending command 0x%02x takes no data byte", n.pending);
    n.last_cmd = dev_sec_get_bool(r, "last_cmd");
    n.qn = dev_sec_get_u8(r);
    if (n.qn > KBC_QUEUE)
        dev_sec_fail(r, DEV_ECORRUPT, "output queue: %u bytes, capacity %u", n.qn, KBC_QUEUE);
    for (unsigned i = 0; i < n.qn && !r->status; i++) {
        n.q[i] = dev_sec_get_u8(r);
        n.qflags[i] = dev_sec_get_u8(r);
        if (n.qflags[i] & ~(Q_AUX | Q_TIMEOUT))
            dev_sec_fail(r, DEV_ECORRUPT, "output queue byte %u: unknown flags 0x%02x", i,
                         n.qflags[i]);
    }
    uint8_t last = dev_sec_get_u8(r);
    if (!r->status && n.qn && last != n.q[0])
        dev_sec_fail(r, DEV_ECORRUPT, "output buffer 0x%02x disagrees with the queue head 0x%02x",
                     last, n.q[0]);
    if (!n.qn)
        n.q[0] = last;
    if (dev_sec_end(r))
        return r->status;
    n.irq1_level = n.irq12_level = 0;
    dev_irq_set(&n.irq1, 0);
    dev_irq_set(&n.irq12, 0);
    *kbc = n;
    kbc_update(kbc);
    return DEV_OK;
}
