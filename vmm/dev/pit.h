/*
 * pit.h - the 8254 programmable interval timer and port 0x61 (pit.c).
 *
 * Lifecycle: pit_create(&irq0, &clock) -> map pit_io_ops at 0x40 (4 ports)
 * and pit_port61_io_ops at 0x61 (1 port), both with opaque pit -> the
 * board calls pit_advance(pit, now) when the virtual clock reaches
 * pit_next_deadline_ns(pit) (or whenever it likes: advancing late
 * coalesces missed periods into one interrupt edge) -> pit_destroy().
 */
#ifndef VMP_DEV_PIT_H
#define VMP_DEV_PIT_H

#include "dev.h"

#define PIT_HZ 1193182u

struct pit;

struct pit *pit_create(const struct dev_irq *irq0, const struct dev_clock *clock);
void pit_destroy(struct pit *pit);

extern const struct dev_io_ops pit_io_ops;
extern const struct dev_io_ops pit_port61_io_ops;

uint64_t pit_next_deadline_ns(const struct pit *pit);
void pit_advance(struct pit *pit, uint64_t now_ns);

int pit_save(const struct pit *pit, struct dev_sec_writer *w);
int pit_restore(struct pit *pit, struct dev_sec_reader *r);

#endif
