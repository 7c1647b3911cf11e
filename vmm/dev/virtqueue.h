/*
 * virtqueue.h - split virtqueues (virtio 1.2 2.7) over guest RAM: the
 * device side of the descriptor walk, shared by the virtio devices.
 *
 * Use: the transport (virtio_mmio.c) fills a struct virtqueue from the
 * driver's QueueNum/QueueDesc/QueueDriver/QueueDevice writes and checks it
 * with vq_check() when the driver sets QueueReady. A device then calls
 * vq_pop() until it returns 0, moves data with vq_chain_read/_write, and
 * gives each chain back with vq_push(); virtio_mmio_used() then decides on
 * the interrupt with vq_need_interrupt().
 * Every address the guest supplies is bounds-checked against struct
 * dev_ram; a malformed ring or chain is an error of the guest, reported by
 * vq_pop() returning -1 with a message, never a host memory access outside
 * guest RAM.
 */
#ifndef VMP_DEV_VIRTQUEUE_H
#define VMP_DEV_VIRTQUEUE_H

#include "dev.h"

#define VQ_MAX_SIZE 1024 /* virtio 1.2 2.7: Queue Size at most 32768; we offer less */
#define VQ_MAX_SEGS 512  /* longest chain a device accepts (direct + indirect) */

/* virtio 1.2 2.7.5 */
#define VIRTQ_DESC_F_NEXT          1
#define VIRTQ_DESC_F_WRITE         2
#define VIRTQ_DESC_F_INDIRECT      4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtqueue {
    uint16_t num; /* queue size, a power of 2 */
    uint8_t ready;
    uint8_t event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
    uint8_t indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint64_t desc_gpa;
    uint64_t avail_gpa;      /* the driver area */
    uint64_t used_gpa;       /* the device area */
    uint16_t last_avail;     /* next avail ring slot to take */
    uint16_t used_idx;       /* next used ring slot to fill */
    uint16_t signalled_used; /* used_idx when the driver was last interrupted */
};

struct vq_seg {
    uint8_t *host; /* inside guest RAM, checked */
    uint32_t len;
    uint8_t writable; /* device-writable */
};

struct vq_chain {
    uint16_t head;
    unsigned nsegs;
    uint64_t readable_bytes;
    uint64_t writable_bytes;
    struct vq_seg seg[VQ_MAX_SEGS];
};

/* The ring layout fits in RAM and is aligned (virtio 1.2 2.7, table
 * "Virtqueue Part Alignment"): 0, or -1 with *why set. */
int vq_check(const struct virtqueue *vq, const struct dev_ram *ram, const char **why);
/* 1: a chain is in *chain; 0: the ring is empty; -1: the guest broke the
 * ring or a chain (*why says how); the queue is then unusable until reset. */
int vq_pop(struct virtqueue *vq, const struct dev_ram *ram, struct vq_chain *chain,
           const char **why);
/* Return chain `head` with `written_bytes` written by the device. */
void vq_push(struct virtqueue *vq, const struct dev_ram *ram, uint16_t head,
             uint32_t written_bytes);
/* After pushes: should the driver be interrupted (virtio 1.2 2.7.7 and
 * 2.7.10)? Updates the event-index bookkeeping. */
int vq_need_interrupt(struct virtqueue *vq, const struct dev_ram *ram);
/* With EVENT_IDX: publish avail_event so the driver notifies on the next
 * buffer (we process everything on each notify). */
void vq_publish_avail_event(struct virtqueue *vq, const struct dev_ram *ram);

/* Copy [off, off+len) of the chain's readable bytes into dst, or write src
 * into its writable bytes at off. They return the bytes copied (short if
 * the chain is shorter). */
uint64_t vq_chain_read(const struct vq_chain *chain, uint64_t off, void *dst, uint64_t len);
uint64_t vq_chain_write(const struct vq_chain *chain, uint64_t off, const void *src, uint64_t len);

/*
 * Fuzz entry point for the descriptor walk (for a libFuzzer target in
 * tests/fuzz): data[0..7] choose the queue size and ring addresses, the
 * rest is guest RAM. Pops and pushes every chain and touches every byte of
 * each segment. Returns the number of chains walked, or -1 if the guest
 * input was refused; never crashes or touches memory outside its copy of
 * the RAM.
 */
int virtqueue_fuzz_walk(const uint8_t *data, size_t size);

#endif
