/*
 * virtio_blk.h - a virtio block device (virtio 1.2 5.2) on virtio-mmio.
 *
 * Lifecycle: virtio_blk_create(backend, id, &irq, &ram) (the backend must
 * outlive the device; id is the serial GET_ID returns, up to 20 bytes) ->
 * map virtio_mmio_io_ops with opaque virtio_blk_transport(blk) -> save and
 * restore through virtio_mmio_save/restore(virtio_blk_transport(blk)) ->
 * virtio_blk_destroy(blk).
 */
#ifndef VMP_DEV_VIRTIO_BLK_H
#define VMP_DEV_VIRTIO_BLK_H

#include "blkback.h"
#include "virtio_mmio.h"

/* virtio 1.2 5.2.6 */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtio_blk;

struct virtio_blk *virtio_blk_create(const struct blk_backend *backend, const char *id,
                                     const struct dev_irq *irq, const struct dev_ram *ram);
void virtio_blk_destroy(struct virtio_blk *blk);
struct virtio_mmio *virtio_blk_transport(struct virtio_blk *blk);
/* Requests that completed with IOERR or UNSUPP (guest errors, counted). */
uint64_t virtio_blk_failed_requests(const struct virtio_blk *blk);

#endif
