/*
 * virtio_blk.c - virtio-blk (virtio 1.2 5.2), device id 2, one request
 * queue of up to 256 entries, on a virtio-mmio window with its own IRQ.
 * Models: IN, OUT, FLUSH and GET_ID requests over 512-byte sectors of a
 * struct blk_backend; features SEG_MAX, BLK_SIZE, FLUSH, and RO for a
 * read-only backend. Requests are framed as virtio 1.2 5.2.6.4 asks:
 * the 16-byte header is read from the first readable bytes wherever the
 * descriptors split it, the status is the last writable byte.
 * A request outside the disk, a data length that is not whole sectors, a
 * write to a read-only disk or a backend failure completes with
 * VIRTIO_BLK_S_IOERR; an unknown type with VIRTIO_BLK_S_UNSUPP. A chain
 * with no writable byte for the status cannot be answered: it is a ring
 * error (DEVICE_NEEDS_RESET), as is any chain vq_pop refuses.
 * Requests complete synchronously inside the QueueNotify write: nothing is
 * in flight between two MMIO accesses, so suspend needs no draining.
 * Leaves out: DISCARD, WRITE_ZEROES, multiqueue, zoned devices, geometry
 * and topology hints.
 * Saves: the transport's section (spec/devices.md 7) with no device
 * fields after it: the config space derives from the backend.
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_blk.h"

#define VIRTIO_BLK_F_SEG_MAX  (1ull << 2)
#define VIRTIO_BLK_F_RO       (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH    (1ull << 9)

#define BLK_QUEUE_MAX      256
#define BLK_SEG_MAX        (BLK_QUEUE_MAX - 2)
#define BLK_BOUNCE_SECTORS 128 /* 64 KiB per backend call */
#define BLK_ID_BYTES       20
#define BLK_CONFIG_BYTES   36

struct virtio_blk {
    struct virtio_mmio *vm;
    const struct blk_backend *be;
    uint8_t config[BLK_CONFIG_BYTES];
    char id[BLK_ID_BYTES];
    uint8_t *bounce;
    struct vq_chain chain;
    uint64_t failed;
};

static void blk_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Move `bytes` between the backend at `sector` and the chain's data area
 * (readable bytes from rd_off for OUT, writable bytes from 0 for IN). */
static uint8_t blk_rw(struct virtio_blk *blk, const struct vq_chain *c, int out, uint64_t sector,
                      uint64_t bytes)
{
    const struct blk_backend *be = blk->be;
    if (bytes % BLK_SECTOR_BYTES)
        return VIRTIO_BLK_S_IOERR;
    uint64_t count = bytes / BLK_SECTOR_BYTES;
    if (sector > be->sectors || count > be->sectors - sector)
        return VIRTIO_BLK_S_IOERR;
    if (out && be->read_only)
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t done = 0; done < count;) {
        uint32_t n =
            count - done > BLK_BOUNCE_SECTORS ? BLK_BOUNCE_SECTORS : (uint32_t)(count - done);
        uint64_t off = done * BLK_SECTOR_BYTES;
        uint64_t len = (uint64_t)n * BLK_SECTOR_BYTES;
        if (out) {
            vq_chain_read(c, 16 + off, blk->bounce, len);
            if (be->write(be->opaque, sector + done, n, blk->bounce))
                return VIRTIO_BLK_S_IOERR;
        } else {
            if (be->read(be->opaque, sector + done, n, blk->bounce))
                return VIRTIO_BLK_S_IOERR;
            vq_chain_write(c, off, blk->bounce, len);
        }
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

/* Handle one request; returns the bytes written into the chain. */
static uint32_t blk_request(struct virtio_blk *blk, const struct vq_chain *c)
{
    uint8_t hdr[16];
    uint8_t status;
    uint64_t data_in = c->writable_bytes - 1; /* writable bytes before the status */
    uint32_t written = 0;
    if (vq_chain_read(c, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
        status = VIRTIO_BLK_S_IOERR;
        goto done;
    }
    uint32_t type =
        (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    uint64_t sector = 0;
    for (int i = 7; i >= 0; i--)
        sector = sector << 8 | hdr[8 + i];
    switch (type) {
    case VIRTIO_BLK_T_IN:
        status = blk_rw(blk, c, 0, sector, data_in);
        if (status == VIRTIO_BLK_S_OK)
            written = (uint32_t)data_in;
        break;
    case VIRTIO_BLK_T_OUT:
        status = blk_rw(blk, c, 1, sector, c->readable_bytes - 16);
        break;
    case VIRTIO_BLK_T_FLUSH:
        status = blk->be->flush && blk->be->flush(blk->be->opaque) ? VIRTIO_BLK_S_IOERR
                                                                   : VIRTIO_BLK_S_OK;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint64_t n = data_in < BLK_ID_BYTES ? data_in : BLK_ID_BYTES;
        written = (uint32_t)vq_chain_write(c, 0, blk->id, n);
        status = VIRTIO_BLK_S_OK;
        break;
    }
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
done:
    if (status != VIRTIO_BLK_S_OK)
        blk->failed++;
    vq_chain_write(c, c->writable_bytes - 1, &status, 1);
    return written + 1;
}

static void blk_notify(void *opaque, struct virtio_mmio *vm, unsigned queue)
{
    struct virtio_blk *blk = opaque;
    const struct dev_ram *ram = virtio_mmio_ram(vm);
    struct virtqueue *q;
    const char *why;
    int pushed = 0;
    while ((q = virtio_mmio_queue(vm, queue))) {
        int rc = vq_pop(q, ram, &blk->chain, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            virtio_mmio_guest_error(vm, why);
            break;
        }
        if (blk->chain.writable_bytes == 0) {
            virtio_mmio_guest_error(vm, "virtio-blk request without a status byte");
            break;
        }
        vq_push(q, ram, blk->chain.head, blk_request(blk, &blk->chain));
        pushed = 1;
        /* publish avail_event and re-check, so a buffer added meanwhile is
         * not left waiting for a notification the driver suppressed */
        vq_publish_avail_event(q, ram);
    }
    if (pushed)
        virtio_mmio_used(vm, queue);
}

static const struct virtio_dev_ops blk_ops = {
    .device_id = 2,
    .num_queues = 1,
    .queue_max = BLK_QUEUE_MAX,
    .notify = blk_notify,
};

struct virtio_blk *virtio_blk_create(const struct blk_backend *backend, const char *id,
                                     const struct dev_irq *irq, const struct dev_ram *ram)
{
    if (!backend || !backend->read || !backend->write)
        return NULL;
    struct virtio_blk *blk = calloc(1, sizeof(*blk));
    if (!blk)
        return NULL;
    blk->be = backend;
    blk->bounce = malloc((size_t)BLK_BOUNCE_SECTORS * BLK_SECTOR_BYTES);
    if (id) /* virtio 1.2 5.2.6: not NUL-terminated if 20 bytes long */
        memcpy(blk->id, id, strnlen(id, sizeof(blk->id)));
    /* virtio 1.2 5.2.4: capacity, size_max, seg_max, geometry, blk_size */
    blk_put_le(blk->config + 0, backend->sectors, 8);
    blk_put_le(blk->config + 12, BLK_SEG_MAX, 4);
    blk_put_le(blk->config + 20, BLK_SECTOR_BYTES, 4);
    uint64_t features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
    if (backend->read_only)
        features |= VIRTIO_BLK_F_RO;
    blk->vm =
        virtio_mmio_create(&blk_ops, blk, features, blk->config, sizeof(blk->config), irq, ram);
    if (!blk->vm || !blk->bounce) {
        virtio_blk_destroy(blk);
        return NULL;
    }
    return blk;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
    if (!blk)
        return;
    virtio_mmio_destroy(blk->vm);
    free(blk->bounce);
    free(blk);
}

struct virtio_mmio *virtio_blk_transport(struct virtio_blk *blk)
{
    return blk->vm;
}

uint64_t virtio_blk_failed_requests(const struct virtio_blk *blk)
{
    return blk->failed;
}
