/* fake_driver.h - a minimal virtio-mmio driver over a fake guest RAM
 * buffer, for the virtio device tests (header-only, test code). */
#ifndef VMP_TEST_FAKE_DRIVER_H
#define VMP_TEST_FAKE_DRIVER_H

#include <stdlib.h>
#include <string.h>

#include "virtio_mmio.h"

#define FD_RAM_BYTES (1u << 20)
#define FD_QSIZE     16

struct fake_driver {
    struct dev_ram ram;
    struct virtio_mmio *vm;
    int irq_level;
    int irq_edges;
    uint16_t avail_idx[2];
    uint16_t used_seen[2];
    uint16_t next_desc[2];
};

static void fd_irq(void *opaque, unsigned line, int level)
{
    struct fake_driver *d = opaque;
    (void)line;
    if (level && !d->irq_level)
        d->irq_edges++;
    d->irq_level = level;
}

static inline void fd_init(struct fake_driver *d)
{
    memset(d, 0, sizeof(*d));
    d->ram.bytes = FD_RAM_BYTES;
    d->ram.host = calloc(1, FD_RAM_BYTES);
}

static inline struct dev_irq fd_irq_line(struct fake_driver *d)
{
    return (struct dev_irq){fd_irq, d, 5};
}

static inline uint32_t fd_rd(struct fake_driver *d, uint32_t off)
{
    return virtio_mmio_io_ops.read(d->vm, off, 4);
}

static inline void fd_wr(struct fake_driver *d, uint32_t off, uint32_t v)
{
    virtio_mmio_io_ops.write(d->vm, off, 4, v);
}

/* Ring layout of queue q: desc at 0x1000 + q*0x1000, avail +0x400,
 * used +0x800 (within a page per queue). */
static inline uint64_t fd_desc_gpa(unsigned q)
{
    return 0x1000u + q * 0x1000u;
}
static inline uint64_t fd_avail_gpa(unsigned q)
{
    return fd_desc_gpa(q) + 0x400;
}
static inline uint64_t fd_used_gpa(unsigned q)
{
    return fd_desc_gpa(q) + 0x800;
}

static inline void fd_put16(struct fake_driver *d, uint64_t gpa, uint16_t v)
{
    d->ram.host[gpa] = (uint8_t)v;
    d->ram.host[gpa + 1] = (uint8_t)(v >> 8);
}

static inline void fd_put32(struct fake_driver *d, uint64_t gpa, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d->ram.host[gpa + i] = (uint8_t)(v >> (8 * i));
}

static inline void fd_put64(struct fake_driver *d, uint64_t gpa, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        d->ram.host[gpa + i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t fd_get32(struct fake_driver *d, uint64_t gpa)
{
    const uint8_t *p = d->ram.host + gpa;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t fd_get16(struct fake_driver *d, uint64_t gpa)
{
    return (uint16_t)(d->ram.host[gpa] | d->ram.host[gpa + 1] << 8);
}

/* Probe and negotiate as Linux's virtio_mmio does (virtio 1.2 3.1.1);
 * returns the status read back after FEATURES_OK. */
static inline uint32_t fd_negotiate(struct fake_driver *d, uint64_t want)
{
    fd_wr(d, 0x070, 0);
    fd_wr(d, 0x070, 1);
    fd_wr(d, 0x070, 3);
    fd_wr(d, 0x014, 0);
    uint64_t offer = fd_rd(d, 0x010);
    fd_wr(d, 0x014, 1);
    offer |= (uint64_t)fd_rd(d, 0x010) << 32;
    uint64_t f = offer & want;
    fd_wr(d, 0x024, 0);
    fd_wr(d, 0x020, (uint32_t)f);
    fd_wr(d, 0x024, 1);
    fd_wr(d, 0x020, (uint32_t)(f >> 32));
    fd_wr(d, 0x070, 3 | 8);
    return fd_rd(d, 0x070);
}

static inline void fd_setup_queue(struct fake_driver *d, unsigned q)
{
    fd_wr(d, 0x030, q);
    fd_wr(d, 0x038, FD_QSIZE);
    fd_wr(d, 0x080, (uint32_t)fd_desc_gpa(q));
    fd_wr(d, 0x084, 0);
    fd_wr(d, 0x090, (uint32_t)fd_avail_gpa(q));
    fd_wr(d, 0x094, 0);
    fd_wr(d, 0x0A0, (uint32_t)fd_used_gpa(q));
    fd_wr(d, 0x0A4, 0);
    fd_wr(d, 0x044, 1);
}

static inline void fd_driver_ok(struct fake_driver *d)
{
    fd_wr(d, 0x070, 1 | 2 | 4 | 8);
}

/* Write descriptor i of queue q (or of a table at table_gpa if non-zero). */
static inline void fd_desc(struct fake_driver *d, uint64_t table_gpa, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t at = table_gpa + 16u * i;
    fd_put64(d, at, addr);
    fd_put32(d, at + 8, len);
    fd_put16(d, at + 12, flags);
    fd_put16(d, at + 14, next);
}

/* Make chain `head` available on queue q and notify. */
static inline void fd_kick(struct fake_driver *d, unsigned q, uint16_t head)
{
    uint64_t avail = fd_avail_gpa(q);
    fd_put16(d, avail + 4 + 2u * (d->avail_idx[q] % FD_QSIZE), head);
    d->avail_idx[q]++;
    fd_put16(d, avail + 2, d->avail_idx[q]);
    fd_wr(d, 0x050, q);
}

/* The next used element of queue q: returns 1 and fills id/len, or 0. */
static inline int fd_used(struct fake_driver *d, unsigned q, uint32_t *id, uint32_t *len)
{
    uint64_t used = fd_used_gpa(q);
    if (fd_get16(d, used + 2) == d->used_seen[q])
        return 0;
    uint64_t e = used + 4 + 8u * (d->used_seen[q] % FD_QSIZE);
    *id = fd_get32(d, e);
    *len = fd_get32(d, e + 4);
    d->used_seen[q]++;
    return 1;
}

#endif
