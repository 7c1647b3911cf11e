/*
 * virtio_console.h - a virtio console (virtio 1.2 5.3) on virtio-mmio,
 * one port (hvc0 in a Linux guest), for slot 3 of spec/machine.md 3.2.
 *
 * Lifecycle: virtio_console_create(tx, tx_opaque, &irq, &ram) -> map
 * virtio_mmio_io_ops with opaque virtio_console_transport(con) -> bytes the
 * guest writes go to tx(); the board pushes input with
 * virtio_console_push(), which takes what fits in the receive buffers the
 * guest has posted and returns that count (the board keeps the rest and
 * retries later) -> save and restore through the transport ->
 * virtio_console_destroy(con).
 */
#ifndef VMP_DEV_VIRTIO_CONSOLE_H
#define VMP_DEV_VIRTIO_CONSOLE_H

#include "virtio_mmio.h"

struct virtio_console;

typedef void virtio_console_tx_fn(void *opaque, const uint8_t *bytes, size_t len);

struct virtio_console *virtio_console_create(virtio_console_tx_fn *tx, void *tx_opaque,
                                             const struct dev_irq *irq, const struct dev_ram *ram);
void virtio_console_destroy(struct virtio_console *con);
struct virtio_mmio *virtio_console_transport(struct virtio_console *con);

size_t virtio_console_push(struct virtio_console *con, const uint8_t *bytes, size_t len);

#endif
