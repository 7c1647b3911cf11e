/*
 * virtio_mmio.h - the virtio-mmio transport, version 2 (virtio 1.2 4.2),
 * shared by virtio-blk, virtio-net and virtio-rng.
 *
 * Lifecycle (the board's view):
 *   1. A device's create() (virtio_blk_create, ...) builds its transport;
 *      <device>_transport() returns it.
 *   2. Map virtio_mmio_io_ops with that transport as opaque over a window
 *      of VIRTIO_MMIO_WINDOW bytes: the slots and IRQs of spec/machine.md
 *      3.2 (the guest learns them from the DSDT).
 *   3. Requests are handled synchronously inside the QueueNotify write, so
 *      no request is ever half done: suspend may save at any point between
 *      two calls.
 *   4. virtio_mmio_save/restore cover the transport and the device behind
 *      it (one section per device, "dev.virtio-<slot>"; layout in
 *      spec/devices.md 7). Restore needs guest RAM already restored: it
 *      checks the rings against it.
 *   5. The device's destroy() frees the transport.
 * Errors of the guest (a bad ring, a descriptor outside RAM, a loop) set
 * DEVICE_NEEDS_RESET and raise a configuration-change interrupt (virtio
 * 1.2 2.1.2); the count and the last message are kept for the board's log.
 */
#ifndef VMP_DEV_VIRTIO_MMIO_H
#define VMP_DEV_VIRTIO_MMIO_H

#include "dev.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_WINDOW     0x200
#define VIRTIO_MMIO_QUEUES_MAX 4

/* virtio 1.2 6: reserved feature bits */
#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_EVENT_IDX     (1ull << 29)
#define VIRTIO_F_VERSION_1     (1ull << 32)

/* virtio 1.2 2.1: device status */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

struct virtio_mmio;

/* What a device plugs into the transport. */
struct virtio_dev_ops {
    uint32_t device_id;  /* virtio 1.2 5: 1 net, 2 block, 4 entropy */
    unsigned num_queues; /* <= VIRTIO_MMIO_QUEUES_MAX */
    uint16_t queue_max;  /* QueueNumMax, a power of 2 <= VQ_MAX_SIZE */
    /* The driver wrote QueueNotify for a ready queue with DRIVER_OK. */
    void (*notify)(void *opaque, struct virtio_mmio *vm, unsigned queue);
    /* The driver reset the device (status 0). May be NULL. */
    void (*reset)(void *opaque);
    /* A driver write to the config space (offset, size 1/2/4); NULL: ignored. */
    void (*config_write)(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value);
    /* Device state after the transport's in the section; NULL: none.
     * restore is the last reader of the section: it parses into a copy,
     * calls dev_sec_end(r), and changes the device only if that is 0. */
    int (*save)(void *opaque, struct dev_sec_writer *w);
    int (*restore)(void *opaque, struct dev_sec_reader *r);
};

/* features: the device's offer (VERSION_1 is added, INDIRECT_DESC and
 * EVENT_IDX too); config: the device's config space, read by the driver
 * as it is at the time (the device owns it and may change it, then calls
 * virtio_mmio_config_changed). irq and ram are copied. */
struct virtio_mmio *virtio_mmio_create(const struct virtio_dev_ops *ops, void *opaque,
                                       uint64_t features, const uint8_t *config,
                                       uint32_t config_bytes, const struct dev_irq *irq,
                                       const struct dev_ram *ram);
void virtio_mmio_destroy(struct virtio_mmio *vm);

extern const struct dev_io_ops virtio_mmio_io_ops;

/* For devices: the queue if the driver made it ready and the device is
 * live (DRIVER_OK, not NEEDS_RESET), else NULL. */
struct virtqueue *virtio_mmio_queue(struct virtio_mmio *vm, unsigned queue);
const struct dev_ram *virtio_mmio_ram(const struct virtio_mmio *vm);
uint64_t virtio_mmio_driver_features(const struct virtio_mmio *vm);
/* After pushing used buffers on `queue`: interrupt the driver if it wants. */
void virtio_mmio_used(struct virtio_mmio *vm, unsigned queue);
void virtio_mmio_config_changed(struct virtio_mmio *vm);
/* An error of the guest: NEEDS_RESET, interrupt, count, keep the message. */
void virtio_mmio_guest_error(struct virtio_mmio *vm, const char *why);
uint64_t virtio_mmio_guest_errors(const struct virtio_mmio *vm);
const char *virtio_mmio_last_error(const struct virtio_mmio *vm);
uint32_t virtio_mmio_status(const struct virtio_mmio *vm);

int virtio_mmio_save(const struct virtio_mmio *vm, struct dev_sec_writer *w);
int virtio_mmio_restore(struct virtio_mmio *vm, struct dev_sec_reader *r);

#endif
