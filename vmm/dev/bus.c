/*
 * bus.c - port and MMIO dispatch to devices (bus.h). A linear table: a PC
 * has a dozen ranges, and the hot paths (serial, virtio notify) are few.
 * A port access that runs past the end of a device's range, or is wider
 * than an 8-bit device takes, is split into byte accesses, each dispatched
 * on its own, as the ISA bus does.
 */
#include <stdlib.h>

#include "bus.h"

struct bus_range {
    uint64_t first;
    uint64_t count;
    const struct dev_io_ops *ops; /* NULL: a sink */
    void *opaque;
};

struct bus_table {
    struct bus_range *r;
    size_t n;
};

struct dev_bus {
    struct bus_table pio;
    struct bus_table mmio;
};

struct dev_bus *dev_bus_create(void)
{
    return calloc(1, sizeof(struct dev_bus));
}

void dev_bus_destroy(struct dev_bus *bus)
{
    if (!bus)
        return;
    free(bus->pio.r);
    free(bus->mmio.r);
    free(bus);
}

static int bus_add(struct bus_table *t, uint64_t first, uint64_t count, uint64_t limit,
                   const struct dev_io_ops *ops, void *opaque)
{
    if (count == 0 || first > limit || count - 1 > limit - first)
        return DEV_EINVAL;
    for (size_t i = 0; i < t->n; i++) {
        const struct bus_range *o = &t->r[i];
        if (first <= o->first + (o->count - 1) && o->first <= first + (count - 1))
            return DEV_EINVAL;
    }
    struct bus_range *nr = realloc(t->r, (t->n + 1) * sizeof(*nr));
    if (!nr)
        return DEV_ENOMEM;
    t->r = nr;
    t->r[t->n++] = (struct bus_range){first, count, ops, opaque};
    return DEV_OK;
}

int dev_bus_map_pio(struct dev_bus *bus, uint16_t first_port, uint32_t count,
                    const struct dev_io_ops *ops, void *opaque)
{
    if (!ops || !ops->read || !ops->write)
        return DEV_EINVAL;
    return bus_add(&bus->pio, first_port, count, 0xFFFF, ops, opaque);
}

int dev_bus_map_mmio(struct dev_bus *bus, uint64_t first_gpa, uint64_t bytes,
                     const struct dev_io_ops *ops, void *opaque)
{
    if (!ops || !ops->read || !ops->write)
        return DEV_EINVAL;
    return bus_add(&bus->mmio, first_gpa, bytes, UINT64_MAX, ops, opaque);
}

int dev_bus_map_sink(struct dev_bus *bus, uint16_t first_port, uint32_t count)
{
    return bus_add(&bus->pio, first_port, count, 0xFFFF, NULL, NULL);
}

static const struct bus_range *bus_find(const struct bus_table *t, uint64_t at)
{
    for (size_t i = 0; i < t->n; i++)
        if (at >= t->r[i].first && at - t->r[i].first < t->r[i].count)
            return &t->r[i];
    return NULL;
}

static int bus_fits(const struct bus_range *r, uint64_t at, unsigned size_bytes)
{
    return at - r->first <= r->count - size_bytes && r->count >= size_bytes;
}

static int bus_size_ok(unsigned size_bytes)
{
    return size_bytes == 1 || size_bytes == 2 || size_bytes == 4;
}

uint32_t dev_bus_pio_read(struct dev_bus *bus, uint16_t port, unsigned size_bytes)
{
    if (!bus_size_ok(size_bytes))
        return 0xFFFFFFFFu;
    const struct bus_range *r = bus_find(&bus->pio, port);
    uint32_t all_ones = size_bytes == 4 ? 0xFFFFFFFFu : (1u << (8 * size_bytes)) - 1;
    int narrow = r && r->ops && r->ops->width_bytes && size_bytes > r->ops->width_bytes;
    if (r && bus_fits(r, port, size_bytes) && !narrow)
        return r->ops ? r->ops->read(r->opaque, (uint32_t)(port - r->first), size_bytes) & all_ones
                      : all_ones;
    if (size_bytes == 1)
        return 0xFF;
    uint32_t v = 0;
    for (unsigned i = 0; i < size_bytes; i++)
        v |= dev_bus_pio_read(bus, (uint16_t)(port + i), 1) << (8 * i);
    return v;
}

void dev_bus_pio_write(struct dev_bus *bus, uint16_t port, unsigned size_bytes, uint32_t value)
{
    if (!bus_size_ok(size_bytes))
        return;
    const struct bus_range *r = bus_find(&bus->pio, port);
    int narrow = r && r->ops && r->ops->width_bytes && size_bytes > r->ops->width_bytes;
    if (r && bus_fits(r, port, size_bytes) && !narrow) {
        if (r->ops)
            r->ops->write(r->opaque, (uint32_t)(port - r->first), size_bytes, value);
        return;
    }
    if (size_bytes == 1)
        return;
    for (unsigned i = 0; i < size_bytes; i++)
        dev_bus_pio_write(bus, (uint16_t)(port + i), 1, (value >> (8 * i)) & 0xFF);
}

int dev_bus_mmio_read(struct dev_bus *bus, uint64_t gpa, unsigned size_bytes, uint32_t *value)
{
    const struct bus_range *r = bus_find(&bus->mmio, gpa);
    if (!r)
        return -1;
    if (!bus_size_ok(size_bytes) || !bus_fits(r, gpa, size_bytes)) {
        *value = 0xFFFFFFFFu;
        return 0;
    }
    *value = r->ops->read(r->opaque, (uint32_t)(gpa - r->first), size_bytes);
    return 0;
}

int dev_bus_mmio_write(struct dev_bus *bus, uint64_t gpa, unsigned size_bytes, uint32_t value)
{
    const struct bus_range *r = bus_find(&bus->mmio, gpa);
    if (!r)
        return -1;
    if (bus_size_ok(size_bytes) && bus_fits(r, gpa, size_bytes))
        r->ops->write(r->opaque, (uint32_t)(gpa - r->first), size_bytes, value);
    return 0;
}
