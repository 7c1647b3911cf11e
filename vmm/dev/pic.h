/*
 * pic.h - the 8259A interrupt controller pair of a PC (pic.c).
 *
 * Lifecycle: pic_create(&intr_out) -> map pic_io_ops at 0x20 (2 ports,
 * opaque pic_master(pic)), 0xA0 (2 ports, pic_slave(pic)) and 0x4D0
 * (2 ports, ELCR, opaque pic) -> devices drive inputs through
 * pic_irq_line() -> the CPU side asks pic_has_interrupt() and, when it
 * takes the interrupt, pic_ack() for the vector -> pic_destroy().
 * intr_out (may have set_level NULL) follows the INTR output, so the board
 * can kick a halted vCPU.
 */
#ifndef VMP_DEV_PIC_H
#define VMP_DEV_PIC_H

#include "dev.h"

struct pic;
struct pic_chip;

struct pic *pic_create(const struct dev_irq *intr_out);
void pic_destroy(struct pic *pic);

extern const struct dev_io_ops pic_io_ops;      /* opaque: a chip */
extern const struct dev_io_ops pic_elcr_io_ops; /* opaque: the pic */
struct pic_chip *pic_master(struct pic *pic);
struct pic_chip *pic_slave(struct pic *pic);

/* Input line irq (0-15) of the pair; line 2 is the cascade and ignored. */
void pic_set_irq(struct pic *pic, unsigned irq, int level);
/* A struct dev_irq that drives input irq, for a device's create(). */
struct dev_irq pic_irq_line(struct pic *pic, unsigned irq);

int pic_has_interrupt(const struct pic *pic);
/* INTA cycle: the vector to deliver (a spurious IRQ 7 or 15 if the
 * request went away); updates ISR/IRR as the hardware does. */
uint8_t pic_ack(struct pic *pic);

int pic_save(const struct pic *pic, struct dev_sec_writer *w);
int pic_restore(struct pic *pic, struct dev_sec_reader *r);

#endif
