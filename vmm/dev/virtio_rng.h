/*
 * virtio_rng.h - a virtio entropy device (virtio 1.2 5.4) on virtio-mmio.
 *
 * Lifecycle: virtio_rng_create(seed, &irq, &ram): seed NULL gives bytes
 * from libsodium's randombytes_buf (sodium_init() must have been called);
 * a 32-byte seed gives a deterministic stream (deterministic mode: the
 * same seed and the same requests give the same bytes on any host) ->
 * map virtio_mmio_io_ops with opaque virtio_rng_transport(rng) -> save and
 * restore through the transport -> virtio_rng_destroy(rng).
 */
#ifndef VMP_DEV_VIRTIO_RNG_H
#define VMP_DEV_VIRTIO_RNG_H

#include "virtio_mmio.h"

#define VIRTIO_RNG_SEED_BYTES 32

struct virtio_rng;

struct virtio_rng *virtio_rng_create(const uint8_t *seed, const struct dev_irq *irq,
                                     const struct dev_ram *ram);
void virtio_rng_destroy(struct virtio_rng *rng);
struct virtio_mmio *virtio_rng_transport(struct virtio_rng *rng);

#endif
