/*
 * pic.c - the 8259A PIC pair of a PC: master at ports 0x20-0x21 (IRQ 0-7),
 * slave at 0xA0-0xA1 (IRQ 8-15) cascaded into master input 2, and the
 * ELCR edge/level registers at 0x4D0-0x4D1. Output: INTR to the CPU
 * (pic_has_interrupt / pic_ack).
 * Models: ICW1-ICW4 initialisation, OCW1 masks, OCW2 EOI (non-specific,
 * specific, rotating), OCW3 (read IRR/ISR, poll, special mask), automatic
 * EOI, special fully nested mode, edge and level inputs, spurious IRQ 7.
 * Leaves out: 8080/8085 mode (ICW1 bit 0 = 0 and the call address), the
 * buffered-mode bits of ICW4, ICW1's LTIM (the ELCR decides edge or level,
 * as on every PC since the EISA chipset).
 * Saves: section "dev.pic" (spec/devices.md 2): both chips field by field.
 * Source: Intel 8259A datasheet (231468); the ELCR: Intel 82371AB (PIIX4)
 * datasheet 4.1.
 */
#include <stdlib.h>

#include "pic.h"

struct pic_chip {
    struct pic *pic;
    int is_slave;
    uint8_t irr;          /* requests latched */
    uint8_t imr;          /* masked inputs */
    uint8_t isr;          /* in service */
    uint8_t line;         /* current level of each input */
    uint8_t priority_add; /* the input with the highest priority */
    uint8_t irq_base;     /* ICW2 & 0xF8 */
    uint8_t read_isr;     /* OCW3 RR/RIS: read ISR rather than IRR */
    uint8_t poll;         /* OCW3 P: the next read is a poll */
    uint8_t special_mask;
    uint8_t init_state; /* 0 ready; 1-3 expect ICW2, ICW3, ICW4 */
    uint8_t auto_eoi;
    uint8_t rotate_on_aeoi;
    uint8_t sfnm; /* special fully nested mode */
    uint8_t need_icw4;
    uint8_t single;
    uint8_t elcr;      /* 1 = level-triggered input */
    uint8_t elcr_mask; /* inputs whose ELCR bit is writable */
};

struct pic {
    struct pic_chip chip[2];
    struct dev_irq intr_out;
    int intr_level;
};

/* Priority rank of the highest-priority set bit (0 best), 8 if none. */
static int pic_priority(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    int p = 0;
    while (!(mask & (1u << ((p + c->priority_add) & 7))))
        p++;
    return p;
}

/* The input this chip would request now, or -1. */
static int pic_chip_pending(const struct pic_chip *c)
{
    int p = pic_priority(c, c->irr & ~c->imr);
    if (p == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    /* 8259A: in special fully nested mode the master lets a slave request
     * through while another from the same slave is in service. */
    if (c->sfnm && !c->is_slave)
        in_service &= ~(1u << 2);
    if (p < pic_priority(c, in_service))
        return (p + c->priority_add) & 7;
    return -1;
}

static void pic_chip_input(struct pic_chip *c, unsigned n, int level)
{
    uint8_t m = (uint8_t)(1u << n);
    /* The cascade input follows the slave's INT output as a level, so a
     * slave request still pending after both EOIs is seen again. */
    int level_triggered = (c->elcr & m) || (!c->is_slave && n == 2);
    if (level_triggered) {
        if (level)
            c->irr |= m;
        else
            c->irr &= ~m;
    } else if (level && !(c->line & m)) {
        c->irr |= m;
    }
    if (level)
        c->line |= m;
    else
        c->line &= ~m;
}

/* Propagate the slave's output to master input 2 and INTR to the CPU. */
static void pic_update(struct pic *pic)
{
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    pic_chip_input(m, 2, pic_chip_pending(s) >= 0);
    int level = pic_chip_pending(m) >= 0;
    if (level != pic->intr_level) {
        pic->intr_level = level;
        dev_irq_set(&pic->intr_out, level);
    }
}

void pic_set_irq(struct pic *pic, unsigned irq, int level)
{
    if (irq > 15 || irq == 2)
        return;
    pic_chip_input(&pic->chip[irq >> 3], irq & 7, level);
    pic_update(pic);
}

static void pic_line_set(void *opaque, unsigned line, int level)
{
    pic_set_irq(opaque, line, level);
}

struct dev_irq pic_irq_line(struct pic *pic, unsigned irq)
{
    return (struct dev_irq){pic_line_set, pic, irq};
}

int pic_has_interrupt(const struct pic *pic)
{
    return pic_chip_pending(&pic->chip[0]) >= 0;
}

static void pic_chip_ack(struct pic_chip *c, int n)
{
    uint8_t m = (uint8_t)(1u << n);
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (uint8_t)((n + 1) & 7);
    } else {
        c->isr |= m;
    }
    /* An edge request is consumed by INTA; a level one stays while the
     * line is high. */
    if (!(c->elcr & m) && !(!c->is_slave && n == 2))
        c->irr &= ~m;
}

uint8_t pic_ack(struct pic *pic)
{
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    uint8_t vector;
    int n = pic_chip_pending(m);
    if (n < 0) {
        /* 8259A: the request went away before INTA: IR7, ISR untouched */
        vector = m->irq_base | 7;
    } else if (n == 2) {
        int sn = pic_chip_pending(s);
        if (sn < 0) {
            vector = s->irq_base | 7;
        } else {
            pic_chip_ack(s, sn);
            vector = (uint8_t)(s->irq_base | sn);
        }
        pic_chip_ack(m, 2);
    } else {
        pic_chip_ack(m, n);
        vector = (uint8_t)(m->irq_base | n);
    }
    pic_update(pic);
    return vector;
}

static void pic_chip_icw1(struct pic_chip *c, uint8_t v)
{
    /* 8259A "Initialization command words": ICW1 clears the IMR and ISR,
     * gives IR7 the lowest priority, clears special mask, selects IRR for
     * reading and resets the edge sense (a new rising edge is needed). */
    c->imr = 0;
    c->isr = 0;
    c->irr &= c->elcr & c->line;
    c->line &= c->elcr;
    c->priority_add = 0;
    c->read_isr = 0;
    c->poll = 0;
    c->special_mask = 0;
    c->auto_eoi = 0;
    c->rotate_on_aeoi = 0;
    c->sfnm = 0;
    c->need_icw4 = v & 1;
    c->single = (v >> 1) & 1;
    c->init_state = 1;
}

static void pic_chip_ocw2(struct pic_chip *c, uint8_t v)
{
    int n;
    switch (v >> 5) {
    case 0: /* rotate in automatic EOI: clear */
        c->rotate_on_aeoi = 0;
        break;
    case 4: /* rotate in automatic EOI: set */
        c->rotate_on_aeoi = 1;
        break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        n = pic_priority(c, c->isr);
        if (n == 8)
            break;
        n = (n + c->priority_add) & 7;
        c->isr &= (uint8_t) ~(1u << n);
        if (v >> 5 == 5)
            c->priority_add = (uint8_t)((n + 1) & 7);
        break;
    case 3: /* specific EOI */
        c->isr &= (uint8_t) ~(1u << (v & 7));
        break;
    case 6: /* set priority: L2-L0 becomes the lowest */
        c->priority_add = (uint8_t)((v + 1) & 7);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t) ~(1u << (v & 7));
        c->priority_add = (uint8_t)((v + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static uint32_t pic_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct pic_chip *c = opaque;
    (void)size_bytes;
    if (offset == 1)
        return c->imr;
    if (c->poll) {
        /* OCW3 poll: the read acts as INTA for this chip */
        c->poll = 0;
        int n = pic_chip_pending(c);
        if (n < 0)
            return 0;
        pic_chip_ack(c, n);
        pic_update(c->pic);
        return 0x80u | (uint32_t)n;
    }
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct pic_chip *c = opaque;
    uint8_t v = (uint8_t)value;
    (void)size_bytes;
    if (offset == 0) {
        if (v & 0x10)
            pic_chip_icw1(c, v);
        else if (v & 0x08) {
            if (v & 0x04)
                c->poll = 1;
            if (v & 0x02)
                c->read_isr = v & 1;
            if (v & 0x40)
                c->special_mask = (v >> 5) & 1;
        } else
            pic_chip_ocw2(c, v);
    } else {
        switch (c->init_state) {
        case 0:
            c->imr = v;
            break;
        case 1:
            c->irq_base = v & 0xF8;
            c->init_state = c->single ? (c->need_icw4 ? 3 : 0) : 2;
            break;
        case 2: /* ICW3: the cascade wiring is fixed on a PC */
            c->init_state = c->need_icw4 ? 3 : 0;
            break;
        default: /* ICW4 */
            c->auto_eoi = (v >> 1) & 1;
            c->sfnm = (v >> 4) & 1;
            c->init_state = 0;
            break;
        }
    }
    pic_update(c->pic);
}

const struct dev_io_ops pic_io_ops = {pic_read, pic_write, 1};

static uint32_t pic_elcr_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct pic *pic = opaque;
    if (size_bytes == 2 && offset == 0)
        return pic->chip[0].elcr | (uint32_t)pic->chip[1].elcr << 8;
    return offset < 2 ? pic->chip[offset].elcr : 0xFF;
}

static void pic_elcr_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct pic *pic = opaque;
    for (unsigned i = 0; i < size_bytes && offset + i < 2; i++) {
        struct pic_chip *c = &pic->chip[offset + i];
        c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
    }
    pic_update(pic);
}

const struct dev_io_ops pic_elcr_io_ops = {pic_elcr_read, pic_elcr_write, 1};

struct pic *pic_create(const struct dev_irq *intr_out)
{
    struct pic *pic = calloc(1, sizeof(*pic));
    if (!pic)
        return NULL;
    for (int i = 0; i < 2; i++) {
        pic->chip[i].pic = pic;
        pic->chip[i].is_slave = i;
    }
    /* PIIX4: IRQ 0, 1, 2, 8 and 13 are always edge-triggered */
    pic->chip[0].elcr_mask = 0xF8;
    pic->chip[1].elcr_mask = 0xDE;
    if (intr_out)
        pic->intr_out = *intr_out;
    return pic;
}

void pic_destroy(struct pic *pic)
{
    free(pic);
}

struct pic_chip *pic_master(struct pic *pic)
{
    return &pic->chip[0];
}

struct pic_chip *pic_slave(struct pic *pic)
{
    return &pic->chip[1];
}

/* spec/devices.md 2 */
#define PIC_SAVE_VERSION 1

int pic_save(const struct pic *pic, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, PIC_SAVE_VERSION);
    for (int i = 0; i < 2; i++) {
        const struct pic_chip *c = &pic->chip[i];
        dev_sec_put_u8(w, c->irr);
        dev_sec_put_u8(w, c->imr);
        dev_sec_put_u8(w, c->isr);
        dev_sec_put_u8(w, c->line);
        dev_sec_put_u8(w, c->priority_add);
        dev_sec_put_u8(w, c->irq_base);
        dev_sec_put_u8(w, c->init_state);
        dev_sec_put_u8(w, c->elcr);
        uint8_t flags =
            (uint8_t)(c->read_isr | c->poll << 1 | c->special_mask << 2 | c->auto_eoi << 3 |
                      c->rotate_on_aeoi << 4 | c->sfnm << 5 | c->need_icw4 << 6 | c->single << 7);
        dev_sec_put_u8(w, flags);
    }
    return dev_sec_writer_status(w);
}

int pic_restore(struct pic *pic, struct dev_sec_reader *r)
{
    struct pic_chip c[2];
    dev_sec_get_version(r, PIC_SAVE_VERSION);
    for (int i = 0; i < 2 && !r->status; i++) {
        c[i] = pic->chip[i];
        c[i].irr = dev_sec_get_u8(r);
        c[i].imr = dev_sec_get_u8(r);
        c[i].isr = dev_sec_get_u8(r);
        c[i].line = dev_sec_get_u8(r);
        c[i].priority_add = dev_sec_get_u8(r);
        if (c[i].priority_add > 7)
            dev_sec_fail(r, DEV_ECORRUPT, "chip %d priority_add: expected 0-7, found %u", i,
                         c[i].priority_add);
        c[i].irq_base = dev_sec_get_u8(r);
        if (c[i].irq_base & 7)
            dev_sec_fail(r, DEV_ECORRUPT, "chip %d irq_base: expected a multiple of 8, found 0x%x",
                         i, c[i].irq_base);
        c[i].init_state = dev_sec_get_u8(r);
        if (c[i].init_state > 3)
            dev_sec_fail(r, DEV_ECORRUPT, "chip %d init_state: expected 0-3, found %u", i,
                         c[i].init_state);
        c[i].elcr = dev_sec_get_u8(r);
        if (c[i].elcr & ~c[i].elcr_mask)
            dev_sec_fail(r, DEV_ECORRUPT,
                         "chip %d elcr: 0x%02x sets fixed edge inputs (mask 0x%02x)", i, c[i].elcr,
                         c[i].elcr_mask);
        uint8_t f = dev_sec_get_u8(r);
        c[i].read_isr = f & 1;
        c[i].poll = (f >> 1) & 1;
        c[i].special_mask = (f >> 2) & 1;
        c[i].auto_eoi = (f >> 3) & 1;
        c[i].rotate_on_aeoi = (f >> 4) & 1;
        c[i].sfnm = (f >> 5) & 1;
        c[i].need_icw4 = (f >> 6) & 1;
        c[i].single = (f >> 7) & 1;
    }
    if (dev_sec_end(r))
        return r->status;
    pic->chip[0] = c[0];
    pic->chip[1] = c[1];
    pic->intr_level = pic_chip_pending(&pic->chip[0]) >= 0;
    dev_irq_set(&pic->intr_out, pic->intr_level);
    return DEV_OK;
}
