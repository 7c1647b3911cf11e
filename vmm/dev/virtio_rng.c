/*
 * virtio_rng.c - virtio-rng (virtio 1.2 5.4), device id 4, one request
 * queue: every device-writable byte of each buffer is filled.
 * Bytes come from libsodium's randombytes_buf, or in deterministic mode
 * from randombytes_buf_deterministic (ChaCha20) keyed per request by
 * BLAKE2b(seed || request counter), so a resumed VM continues the same
 * stream from the saved counter.
 * Leaves out: nothing of 5.4 (the device has no config and no features).
 * Saves: the transport's section (spec/devices.md 7) followed by the
 * deterministic flag and the request counter; the seed itself is VM
 * configuration, not device state.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "virtio_rng.h"

#define RNG_CHUNK 4096

struct virtio_rng {
    struct virtio_mmio *vm;
    int deterministic;
    uint8_t seed[VIRTIO_RNG_SEED_BYTES];
    uint64_t counter;
    struct vq_chain chain;
    uint8_t buf[RNG_CHUNK];
};

static void rng_fill(struct virtio_rng *rng, uint8_t *out, size_t len)
{
    if (!rng->deterministic) {
        randombytes_buf(out, len);
        return;
    }
    uint8_t in[VIRTIO_RNG_SEED_BYTES + 8], key[randombytes_SEEDBYTES];
    memcpy(in, rng->seed, VIRTIO_RNG_SEED_BYTES);
    for (int i = 0; i < 8; i++)
        in[VIRTIO_RNG_SEED_BYTES + i] = (uint8_t)(rng->counter >> (8 * i));
    crypto_generichash(key, sizeof(key), in, sizeof(in), NULL, 0);
    randombytes_buf_deterministic(out, len, key);
    rng->counter++;
}

static void rng_notify(void *opaque, struct virtio_mmio *vm, unsigned queue)
{
    struct virtio_rng *rng = opaque;
    const struct dev_ram *ram = virtio_mmio_ram(vm);
    struct virtqueue *q;
    const char *why;
    int pushed = 0;
    while ((q = virtio_mmio_queue(vm, queue))) {
        int rc = vq_pop(q, ram, &rng->chain, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            virtio_mmio_guest_error(vm, why);
            break;
        }
        /* one stream per request, cut into chunks the size of our buffer */
        uint64_t total = rng->chain.writable_bytes;
        if (total > UINT32_MAX)
            total = UINT32_MAX;
        for (uint64_t off = 0; off < total; off += RNG_CHUNK) {
            size_t n = total - off > RNG_CHUNK ? RNG_CHUNK : (size_t)(total - off);
            rng_fill(rng, rng->buf, n);
            vq_chain_write(&rng->chain, off, rng->buf, n);
        }
        vq_push(q, ram, rng->chain.head, (uint32_t)total);
        vq_publish_avail_event(q, ram);
        pushed = 1;
    }
    if (pushed)
        virtio_mmio_used(vm, queue);
}

static int rng_save(void *opaque, struct dev_sec_writer *w)
{
    const struct virtio_rng *rng = opaque;
    dev_sec_put_u8(w, (uint8_t)rng->deterministic);
    dev_sec_put_u64(w, rng->counter);
    return dev_sec_writer_status(w);
}

static int rng_restore(void *opaque, struct dev_sec_reader *r)
{
    struct virtio_rng *rng = opaque;
    uint8_t det = dev_sec_get_bool(r, "deterministic");
    uint64_t counter = dev_sec_get_u64(r);
    if (!r->status && det != rng->deterministic)
        dev_sec_fail(r, DEV_ECORRUPT, "saved in %s mode, resumed in %s mode",
                     det ? "deterministic" : "random",
                     rng->deterministic ? "deterministic" : "random");
    if (dev_sec_end(r))
        return r->status;
    rng->counter = counter;
    return DEV_OK;
}

static const struct virtio_dev_ops rng_ops = {
    .device_id = 4,
    .num_queues = 1,
    .queue_max = 64,
    .notify = rng_notify,
    .save = rng_save,
    .restore = rng_restore,
};

struct virtio_rng *virtio_rng_create(const uint8_t *seed, const struct dev_irq *irq,
                                     const struct dev_ram *ram)
{
    struct virtio_rng *rng = calloc(1, sizeof(*rng));
    if (!rng)
        return NULL;
    if (seed) {
        rng->deterministic = 1;
        memcpy(rng->seed, seed, VIRTIO_RNG_SEED_BYTES);
    }
    rng->vm = virtio_mmio_create(&rng_ops, rng, 0, NULL, 0, irq, ram);
    if (!rng->vm) {
        free(rng);
        return NULL;
    }
    return rng;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
    if (!rng)
        return;
    virtio_mmio_destroy(rng->vm);
    sodium_memzero(rng->seed, sizeof(rng->seed));
    free(rng);
}

struct virtio_mmio *virtio_rng_transport(struct virtio_rng *rng)
{
    return rng->vm;
}
