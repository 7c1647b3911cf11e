/*
 * bus.h - the I/O bus: maps port ranges and MMIO windows to device
 * handlers (struct dev_io_ops) and dispatches the CPU's accesses.
 *
 * Lifecycle:
 *   1. dev_bus_create() -> bus.
 *   2. dev_bus_map_pio / dev_bus_map_mmio for each device (ranges may not
 *      overlap; the handler's opaque must outlive the bus).
 *   3. dev_bus_pio_read/write and dev_bus_mmio_read/write from the CPU's
 *      exits. An unclaimed port reads as all ones and ignores writes, as on
 *      a PC's ISA bus; an unclaimed MMIO address is reported to the caller.
 *   4. dev_bus_destroy(bus).
 * Not thread-safe: the board serialises calls (dev.h).
 */
#ifndef VMP_DEV_BUS_H
#define VMP_DEV_BUS_H

#include "dev.h"

struct dev_bus;

struct dev_bus *dev_bus_create(void);
void dev_bus_destroy(struct dev_bus *bus);

/* DEV_OK, DEV_EINVAL (empty range, wraps, overlaps a mapped range),
 * DEV_ENOMEM. */
int dev_bus_map_pio(struct dev_bus *bus, uint16_t first_port, uint32_t count,
                    const struct dev_io_ops *ops, void *opaque);
int dev_bus_map_mmio(struct dev_bus *bus, uint64_t first_gpa, uint64_t bytes,
                     const struct dev_io_ops *ops, void *opaque);
/* Claim ports that read as all ones and ignore writes (port 0x80 POST). */
int dev_bus_map_sink(struct dev_bus *bus, uint16_t first_port, uint32_t count);

uint32_t dev_bus_pio_read(struct dev_bus *bus, uint16_t port, unsigned size_bytes);
void dev_bus_pio_write(struct dev_bus *bus, uint16_t port, unsigned size_bytes, uint32_t value);
/* 0 if claimed, -1 if no device maps gpa. */
int dev_bus_mmio_read(struct dev_bus *bus, uint64_t gpa, unsigned size_bytes, uint32_t *value);
int dev_bus_mmio_write(struct dev_bus *bus, uint64_t gpa, unsigned size_bytes, uint32_t value);

#endif
