/*
 * uart.c - a National Semiconductor 16550A UART at 0x3F8-0x3FF, IRQ 4.
 * Models: THR/RBR, the 16-byte receive FIFO with its trigger levels, IER,
 * IIR with the four interrupt causes in their priority order (line status,
 * received data or character timeout, THR empty, modem status), FCR, LCR
 * with the divisor latches (DLAB), MCR with loopback (THR to RBR, MCR
 * outputs to MSR inputs, used by Linux's 8250 autoconfig), LSR, MSR with
 * its delta bits, and the scratch register.
 * Transmission is instant: a byte written to THR goes to the tx callback
 * at once, so THR and the transmitter are always empty again (LSR THRE and
 * TEMT set) and the THR-empty interrupt is raised right after the write.
 * Leaves out: baud rate timing, parity/framing/break errors (nothing on
 * the host side produces them), and the four-character receive timeout
 * (data below the trigger level reports a character timeout at once).
 * IRQ: as on the PC, the line is driven only while MCR OUT2 is set and the
 * UART is not in loopback (spec/machine.md 3.1); IIR shows the cause
 * either way, which is what Linux's probes read.
 * Saves: section "dev.uart" (spec/devices.md 5).
 * Source: TI/National PC16550D datasheet (SNLS378).
 */
#include <stdlib.h>
#include <string.h>

#include "uart.h"

#define UART_FIFO 16

enum { IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08 };
enum {
    LSR_DR = 0x01,
    LSR_OE = 0x02,
    LSR_BI = 0x10,
    LSR_THRE = 0x20,
    LSR_TEMT = 0x40,
    LSR_FIFOE = 0x80
};
enum { MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10 };
enum {
    IIR_NONE = 0x01,
    IIR_MSI = 0x00,
    IIR_THRI = 0x02,
    IIR_RDI = 0x04,
    IIR_RLSI = 0x06,
    IIR_TIMEOUT = 0x0C
};

struct uart {
    struct dev_irq irq;
    uart_tx_fn *tx;
    void *tx_opaque;
    uint8_t rx[UART_FIFO];
    uint8_t rx_head; /* index of the oldest byte */
    uint8_t rx_count;
    uint8_t ier, lcr, mcr, lsr_err, msr, scr, dll, dlm;
    uint8_t fifo_on;     /* FCR bit 0 */
    uint8_t trigger;     /* FCR bits 7-6 */
    uint8_t thr_pending; /* the THR-empty interrupt is pending */
    uint8_t irq_level;
};

static const uint8_t uart_trigger_bytes[4] = {1, 4, 8, 14};

static size_t uart_capacity(const struct uart *u)
{
    return u->fifo_on ? UART_FIFO : 1;
}

static uint8_t uart_iir(const struct uart *u)
{
    if ((u->ier & IER_RLSI) && (u->lsr_err & (LSR_OE | LSR_BI)))
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count) {
        if (!u->fifo_on || u->rx_count >= uart_trigger_bytes[u->trigger])
            return IIR_RDI;
        return IIR_TIMEOUT;
    }
    if ((u->ier & IER_THRI) && u->thr_pending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && (u->msr & 0x0F))
        return IIR_MSI;
    return IIR_NONE;
}

static int uart_irq_wanted(const struct uart *u)
{
    /* PC wiring: OUT2 enables the IRQ buffer; loopback forces OUT2 off */
    return uart_iir(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
}

static void uart_update(struct uart *u)
{
    int level = uart_irq_wanted(u);
    if (level != u->irq_level) {
        u->irq_level = (uint8_t)level;
        dev_irq_set(&u->irq, level);
    }
}

/* The modem inputs: in loopback they follow MCR; else CTS, DSR and DCD
 * are asserted (a terminal is always there). */
static uint8_t uart_msr_inputs(const struct uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return 0xB0;
    uint8_t m = u->mcr;
    return (uint8_t)(((m & MCR_RTS) ? 0x10 : 0) | ((m & MCR_DTR) ? 0x20 : 0) |
                     ((m & MCR_OUT1) ? 0x40 : 0) | ((m & MCR_OUT2) ? 0x80 : 0));
}

static void uart_set_msr_inputs(struct uart *u, uint8_t in)
{
    uint8_t old = u->msr & 0xF0, d = 0;
    if ((old ^ in) & 0x10)
        d |= 0x01; /* DCTS */
    if ((old ^ in) & 0x20)
        d |= 0x02; /* DDSR */
    if ((old & 0x40) && !(in & 0x40))
        d |= 0x04; /* TERI: trailing edge of RI */
    if ((old ^ in) & 0x80)
        d |= 0x08; /* DDCD */
    u->msr = (uint8_t)(in | (u->msr & 0x0F) | d);
}

static int uart_rx_put(struct uart *u, uint8_t b)
{
    if (u->rx_count >= uart_capacity(u)) {
        u->lsr_err |= LSR_OE;
        return 0;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = b;
    u->rx_count++;
    return 1;
}

size_t uart_rx_room(const struct uart *u)
{
    if (u->mcr & MCR_LOOP)
        return 0;
    return uart_capacity(u) - u->rx_count;
}

size_t uart_rx_push(struct uart *u, const uint8_t *bytes, size_t len)
{
    size_t n = 0;
    while (n < len && uart_rx_room(u) > 0)
        uart_rx_put(u, bytes[n++]);
    uart_update(u);
    return n;
}

static uint32_t uart_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct uart *u = opaque;
    uint8_t v = 0xFF;
    (void)size_bytes;
    int dlab = (u->lcr & 0x80) != 0;
    switch (offset) {
    case 0:
        if (dlab) {
            v = u->dll;
        } else if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO);
            u->rx_count--;
        } else {
            v = 0;
        }
        break;
    case 1:
        v = dlab ? u->dlm : u->ier;
        break;
    case 2:
        v = uart_iir(u);
        /* PC16550D table V: reading IIR clears a THR-empty cause it shows */
        if (v == IIR_THRI)
            u->thr_pending = 0;
        if (u->fifo_on)
            v |= 0xC0;
        break;
    case 3:
        v = u->lcr;
        break;
    case 4:
        v = u->mcr;
        break;
    case 5:
        v = (uint8_t)(u->lsr_err | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0));
        u->lsr_err = 0;
        break;
    case 6:
        v = u->msr;
        u->msr &= 0xF0;
        break;
    case 7:
        v = u->scr;
        break;
    }
    uart_update(u);
    return v;
}

static void uart_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct uart *u = opaque;
    uint8_t v = (uint8_t)value;
    (void)size_bytes;
    int dlab = (u->lcr & 0x80) != 0;
    switch (offset) {
    case 0:
        if (dlab) {
            u->dll = v;
            break;
        }
        if (u->mcr & MCR_LOOP)
            uart_rx_put(u, v);
        else if (u->tx)
            u->tx(u->tx_opaque, v);
        u->thr_pending = 1;
        break;
    case 1:
        if (dlab) {
            u->dlm = v;
            break;
        }
        /* enabling THRI while THR is empty raises it: Linux's 8250
         * startup tests exactly this (UART_BUG_THRE) */
        if ((v & IER_THRI) && !(u->ier & IER_THRI))
            u->thr_pending = 1;
        u->ier = v & 0x0F;
        break;
    case 2: {
        uint8_t on = v & 1;
        if (on != u->fifo_on || (v & 0x02)) {
            u->rx_count = 0;
            u->rx_head = 0;
        }
        u->fifo_on = on;
        u->trigger = on ? (v >> 6) & 3 : 0;
        if (v & 0x04)
            u->thr_pending = 1; /* TX FIFO reset: empty */
        break;
    }
    case 3:
        u->lcr = v;
        break;
    case 4:
        u->mcr = v & 0x1F;
        uart_set_msr_inputs(u, uart_msr_inputs(u));
        break;
    case 7:
        u->scr = v;
        break;
    default: /* LSR and MSR are read-only */
        break;
    }
    uart_update(u);
}

const struct dev_io_ops uart_io_ops = {uart_read, uart_write, 1};

struct uart *uart_create(const struct dev_irq *irq, uart_tx_fn *tx, void *tx_opaque)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->irq = *irq;
    u->tx = tx;
    u->tx_opaque = tx_opaque;
    u->msr = uart_msr_inputs(u);
    u->dll = 0x0C; /* 9600 baud, as after a BIOS */
    return u;
}

void uart_destroy(struct uart *uart)
{
    free(uart);
}

/* spec/devices.md 5 */
#define UART_SAVE_VERSION 1

int uart_save(const struct uart *u, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, UART_SAVE_VERSION);
    dev_sec_put_u8(w, u->ier);
    dev_sec_put_u8(w, u->lcr);
    dev_sec_put_u8(w, u->mcr);
    dev_sec_put_u8(w, u->lsr_err);
    dev_sec_put_u8(w, u->msr);
    dev_sec_put_u8(w, u->scr);
    dev_sec_put_u8(w, u->dll);
    dev_sec_put_u8(w, u->dlm);
    dev_sec_put_u8(w, u->fifo_on);
    dev_sec_put_u8(w, u->trigger);
    dev_sec_put_u8(w, u->thr_pending);
    dev_sec_put_u8(w, u->irq_level);
    dev_sec_put_u8(w, u->rx_count);
    for (unsigned i = 0; i < u->rx_count; i++)
        dev_sec_put_u8(w, u->rx[(u->rx_head + i) % UART_FIFO]);
    return dev_sec_writer_status(w);
}

int uart_restore(struct uart *uart, struct dev_sec_reader *r)
{
    struct uart n = *uart;
    dev_sec_get_version(r, UART_SAVE_VERSION);
    n.ier = dev_sec_get_u8(r);
    if (n.ier & 0xF0)
        dev_sec_fail(r, DEV_ECORRUPT, "IER: expected bits 0-3 only, found 0x%02x", n.ier);
    n.lcr = dev_sec_get_u8(r);
    n.mcr = dev_sec_get_u8(r);
    if (n.mcr & 0xE0)
        dev_sec_fail(r, DEV_ECORRUPT, "MCR: expected bits 0-4 only, found 0x%02x", n.mcr);
    n.lsr_err = dev_sec_get_u8(r);
    if (n.lsr_err & ~(LSR_OE | LSR_BI))
        dev_sec_fail(r, DEV_ECORRUPT, "LSR errors: expected OE/BI only, found 0x%02x", n.lsr_err);
    n.msr = dev_sec_get_u8(r);
    n.scr = dev_sec_get_u8(r);
    n.dll = dev_sec_get_u8(r);
    n.dlm = dev_sec_get_u8(r);
    n.fifo_on = dev_sec_get_bool(r, "fifo_on");
    n.trigger = dev_sec_get_u8(r);
    if (n.trigger > 3 || (!n.fifo_on && n.trigger))
        dev_sec_fail(r, DEV_ECORRUPT, "FIFO trigger: expected 0-3 (0 with the FIFO off), found %u",
                     n.trigger);
    n.thr_pending = dev_sec_get_bool(r, "thr_pending");
    n.irq_level = dev_sec_get_bool(r, "irq_level");
    n.rx_count = dev_sec_get_u8(r);
    if (!r->status && n.rx_count > uart_capacity(&n))
        dev_sec_fail(r, DEV_ECORRUPT, "receive FIFO: %u bytes, capacity %zu", n.rx_count,
                     uart_capacity(&n));
    n.rx_head = 0;
    if (!r->status)
        dev_sec_get_bytes(r, n.rx, n.rx_count);
    if (!r->status && (n.msr & 0xF0) != uart_msr_inputs(&n))
        dev_sec_fail(r, DEV_ECORRUPT, "MSR 0x%02x disagrees with MCR 0x%02x", n.msr, n.mcr);
    if (dev_sec_end(r))
        return r->status;
    *uart = n;
    uart->irq_level = (uint8_t)uart_irq_wanted(uart);
    dev_irq_set(&uart->irq, uart->irq_level);
    return DEV_OK;
}
