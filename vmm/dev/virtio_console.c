/*
 * virtio_console.c - virtio-console (virtio 1.2 5.3), device id 3, one
 * port: receiveq 0 and transmitq 1.
 * Models: the single-port device with no features: bytes on transmitq go
 * to the board's callback during the QueueNotify write; input is written
 * into the guest's posted receive buffers, one buffer per push at most
 * filled as far as the input goes.
 * Leaves out: MULTIPORT (and so the control queues), SIZE (the console
 * size) and EMERG_WRITE; the config space reads as zeros.
 * Saves: the transport's section (spec/devices.md 7) with no device
 * fields: input not yet taken by the guest stays with the board.
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_console.h"

#define CON_RXQ          0
#define CON_TXQ          1
#define CON_QUEUE_MAX    128
#define CON_CONFIG_BYTES 12

struct virtio_console {
    struct virtio_mmio *vm;
    virtio_console_tx_fn *tx;
    void *tx_opaque;
    uint8_t config[CON_CONFIG_BYTES];
    struct vq_chain chain;
    uint8_t buf[4096];
};

static void con_notify(void *opaque, struct virtio_mmio *vm, unsigned queue)
{
    struct virtio_console *con = opaque;
    if (queue != CON_TXQ)
        return; /* receive buffers are used when input arrives */
    const struct dev_ram *ram = virtio_mmio_ram(vm);
    struct virtqueue *q;
    const char *why;
    int pushed = 0;
    while ((q = virtio_mmio_queue(vm, CON_TXQ))) {
        int rc = vq_pop(q, ram, &con->chain, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            virtio_mmio_guest_error(vm, why);
            break;
        }
        for (uint64_t off = 0; off < con->chain.readable_bytes; off += sizeof(con->buf)) {
            uint64_t n = vq_chain_read(&con->chain, off, con->buf, sizeof(con->buf));
            if (con->tx && n)
                con->tx(con->tx_opaque, con->buf, (size_t)n);
        }
        vq_push(q, ram, con->chain.head, 0);
        vq_publish_avail_event(q, ram);
        pushed = 1;
    }
    if (pushed)
        virtio_mmio_used(vm, CON_TXQ);
}

size_t virtio_console_push(struct virtio_console *con, const uint8_t *bytes, size_t len)
{
    struct virtio_mmio *vm = con->vm;
    const struct dev_ram *ram = virtio_mmio_ram(vm);
    const char *why;
    size_t done = 0;
    while (done < len) {
        struct virtqueue *q = virtio_mmio_queue(vm, CON_RXQ);
        if (!q)
            break;
        int rc = vq_pop(q, ram, &con->chain, &why);
        if (rc < 0)
            virtio_mmio_guest_error(vm, why);
        if (rc <= 0)
            break;
        uint64_t n = vq_chain_write(&con->chain, 0, bytes + done, len - done);
        vq_push(q, ram, con->chain.head, (uint32_t)n);
        done += (size_t)n;
        if (n == 0)
            break; /* a buffer with no room: do not spin on it */
    }
    if (done)
        virtio_mmio_used(vm, CON_RXQ);
    return done;
}

static const struct virtio_dev_ops con_ops = {
    .device_id = 3,
    .num_queues = 2,
    .queue_max = CON_QUEUE_MAX,
    .notify = con_notify,
};

struct virtio_console *virtio_console_create(virtio_console_tx_fn *tx, void *tx_opaque,
                                             const struct dev_irq *irq, const struct dev_ram *ram)
{
    struct virtio_console *con = calloc(1, sizeof(*con));
    if (!con)
        return NULL;
    con->tx = tx;
    con->tx_opaque = tx_opaque;
    con->vm = virtio_mmio_create(&con_ops, con, 0, con->config, sizeof(con->config), irq, ram);
    if (!con->vm) {
        free(con);
        return NULL;
    }
    return con;
}

void virtio_console_destroy(struct virtio_console *con)
{
    if (!con)
        return;
    virtio_mmio_destroy(con->vm);
    free(con);
}

struct virtio_mmio *virtio_console_transport(struct virtio_console *con)
{
    return con->vm;
}
