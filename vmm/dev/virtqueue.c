/*
 * virtqueue.c - the device side of split virtqueues (virtio 1.2 2.7).
 * Guest RAM is shared with a vCPU that may run on another thread, so ring
 * indices are read once into locals and every value is checked after it
 * is read; the used index is published with a release fence after the
 * used element (virtio 1.2 2.7.8.2).
 */
#include <stdlib.h>
#include <string.h>

#include "virtqueue.h"

static uint16_t vq_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t vq_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void vq_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void vq_wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* virtio 1.2 2.7: sizes of the three parts, with the event fields */
static uint64_t vq_desc_bytes(const struct virtqueue *vq)
{
    return 16ull * vq->num;
}

static uint64_t vq_avail_bytes(const struct virtqueue *vq)
{
    return 6ull + 2ull * vq->num;
}

static uint64_t vq_used_bytes(const struct virtqueue *vq)
{
    return 6ull + 8ull * vq->num;
}

int vq_check(const struct virtqueue *vq, const struct dev_ram *ram, const char **why)
{
    if (vq->num == 0 || vq->num > VQ_MAX_SIZE || (vq->num & (vq->num - 1))) {
        *why = "queue size is not a power of 2 within QueueNumMax";
        return -1;
    }
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
        *why = "ring parts are misaligned";
        return -1;
    }
    if (!dev_ram_ptr(ram, vq->desc_gpa, vq_desc_bytes(vq)) ||
        !dev_ram_ptr(ram, vq->avail_gpa, vq_avail_bytes(vq)) ||
        !dev_ram_ptr(ram, vq->used_gpa, vq_used_bytes(vq))) {
        *why = "ring parts lie outside guest RAM";
        return -1;
    }
    return 0;
}

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static void vq_desc_at(const uint8_t *table, unsigned i, struct vq_desc *d)
{
    const uint8_t *p = table + 16u * i;
    d->addr = (uint64_t)vq_rd32(p) | (uint64_t)vq_rd32(p + 4) << 32;
    d->len = vq_rd32(p + 8);
    d->flags = vq_rd16(p + 12);
    d->next = vq_rd16(p + 14);
}

static int vq_add_seg(struct vq_chain *c, const struct dev_ram *ram, const struct vq_desc *d,
                      const char **why)
{
    if (d->len == 0)
        return 0;
    uint8_t *host = dev_ram_ptr(ram, d->addr, d->len);
    if (!host) {
        *why = "a descriptor points outside guest RAM";
        return -1;
    }
    int writable = (d->flags & VIRTQ_DESC_F_WRITE) != 0;
    /* virtio 1.2 2.7.4.2: device-readable descriptors come first */
    if (!writable && c->writable_bytes) {
        *why = "a device-readable descriptor follows a device-writable one";
        return -1;
    }
    if (c->nsegs == VQ_MAX_SEGS) {
        *why = "a descriptor chain is too long";
        return -1;
    }
    c->seg[c->nsegs++] = (struct vq_seg){host, d->len, (uint8_t)writable};
    if (writable)
        c->writable_bytes += d->len;
    else
        c->readable_bytes += d->len;
    return 0;
}

/* Walk the table of `n` descriptors from index `first`; at most n steps,
 * so a loop is refused rather than followed. */
static int vq_walk(struct vq_chain *c, const struct dev_ram *ram, const uint8_t *table, unsigned n,
                   unsigned first, int allow_indirect, int indirect_ok, const char **why)
{
    unsigned i = first;
    for (unsigned steps = 0;; steps++) {
        if (steps >= n) {
            *why = "a descriptor chain loops";
            return -1;
        }
        struct vq_desc d;
        vq_desc_at(table, i, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            /* virtio 1.2 2.7.5.3.1: not inside an indirect table, not
             * with NEXT, a whole number of descriptors */
            if (!allow_indirect || !indirect_ok) {
                *why = "an indirect descriptor where none is allowed";
                return -1;
            }
            if (d.flags & VIRTQ_DESC_F_NEXT) {
                *why = "an indirect descriptor has NEXT set";
                return -1;
            }
            if (d.len == 0 || d.len % 16 || d.len / 16 > VQ_MAX_SEGS) {
                *why = "an indirect table has a bad length";
                return -1;
            }
            const uint8_t *sub = dev_ram_ptr(ram, d.addr, d.len);
            if (!sub) {
                *why = "an indirect table lies outside guest RAM";
                return -1;
            }
            return vq_walk(c, ram, sub, d.len / 16, 0, 0, indirect_ok, why);
        }
        if (vq_add_seg(c, ram, &d, why))
            return -1;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (d.next >= n) {
            *why = "a descriptor's next index is out of range";
            return -1;
        }
        i = d.next;
    }
}

int vq_pop(struct virtqueue *vq, const struct dev_ram *ram, struct vq_chain *chain,
           const char **why)
{
    if (vq_check(vq, ram, why))
        return -1;
    const uint8_t *avail = ram->host + vq->avail_gpa;
    uint16_t avail_idx =
        __atomic_load_n((const uint16_t *)(const void *)(avail + 2), __ATOMIC_ACQUIRE);
    avail_idx = vq_rd16((const uint8_t *)&avail_idx);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending == 0)
        return 0;
    if (pending > vq->num) {
        *why = "the available index runs more than a queue size ahead";
        return -1;
    }
    uint16_t head = vq_rd16(avail + 4 + 2u * (vq->last_avail & (vq->num - 1)));
    if (head >= vq->num) {
        *why = "an available ring entry is out of range";
        return -1;
    }
    chain->head = head;
    chain->nsegs = 0;
    chain->readable_bytes = 0;
    chain->writable_bytes = 0;
    if (vq_walk(chain, ram, ram->host + vq->desc_gpa, vq->num, head, 1, vq->indirect, why))
        return -1;
    vq->last_avail++;
    return 1;
}

void vq_push(struct virtqueue *vq, const struct dev_ram *ram, uint16_t head, uint32_t written_bytes)
{
    const char *why;
    if (vq_check(vq, ram, &why))
        return;
    uint8_t *used = ram->host + vq->used_gpa;
    uint8_t *elem = used + 4 + 8u * (vq->used_idx & (vq->num - 1));
    vq_wr32(elem, head);
    vq_wr32(elem + 4, written_bytes);
    vq->used_idx++;
    uint8_t idx[2];
    vq_wr16(idx, vq->used_idx);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(used + 2, idx, 2);
}

int vq_need_interrupt(struct virtqueue *vq, const struct dev_ram *ram)
{
    const char *why;
    if (vq_check(vq, ram, &why))
        return 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    const uint8_t *avail = ram->host + vq->avail_gpa;
    uint16_t old = vq->signalled_used, now = vq->used_idx;
    if (old == now)
        return 0;
    vq->signalled_used = now;
    if (vq->event_idx) {
        /* virtio 1.2 2.7.10: vring_need_event(used_event, new, old) */
        uint16_t used_event = vq_rd16(avail + 4 + 2u * vq->num);
        return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
    }
    return !(vq_rd16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void vq_publish_avail_event(struct virtqueue *vq, const struct dev_ram *ram)
{
    const char *why;
    if (!vq->event_idx || vq_check(vq, ram, &why))
        return;
    vq_wr16(ram->host + vq->used_gpa + 4 + 8u * vq->num, vq->last_avail);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static uint64_t vq_chain_copy(const struct vq_chain *c, int writable, uint64_t off, uint8_t *buf,
                              uint64_t len, int to_guest)
{
    uint64_t done = 0;
    for (unsigned i = 0; i < c->nsegs && done < len; i++) {
        const struct vq_seg *s = &c->seg[i];
        if (s->writable != writable)
            continue;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint64_t n = s->len - off;
        if (n > len - done)
            n = len - done;
        if (to_guest)
            memcpy(s->host + off, buf + done, n);
        else
            memcpy(buf + done, s->host + off, n);
        done += n;
        off = 0;
    }
    return done;
}

uint64_t vq_chain_read(const struct vq_chain *chain, uint64_t off, void *dst, uint64_t len)
{
    return vq_chain_copy(chain, 0, off, dst, len, 0);
}

uint64_t vq_chain_write(const struct vq_chain *chain, uint64_t off, const void *src, uint64_t len)
{
    return vq_chain_copy(chain, 1, off, (uint8_t *)(uintptr_t)src, len, 1);
}

int virtqueue_fuzz_walk(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    struct dev_ram ram = {NULL, size - 8};
    ram.host = malloc(ram.bytes ? ram.bytes : 1);
    struct vq_chain *chain = malloc(sizeof(*chain));
    int walked = 0;
    if (!ram.host || !chain)
        goto out;
    memcpy(ram.host, data + 8, ram.bytes);
    struct virtqueue vq = {0};
    vq.num = (uint16_t)(1u << (data[0] % 11));
    vq.event_idx = data[1] & 1;
    vq.indirect = (data[1] >> 1) & 1;
    vq.desc_gpa = (uint64_t)data[2] << 4 | (uint64_t)data[3] << 12;
    vq.avail_gpa = (uint64_t)data[4] << 1 | (uint64_t)data[5] << 9;
    vq.used_gpa = (uint64_t)data[6] << 2 | (uint64_t)data[7] << 10;
    vq.ready = 1;
    const char *why;
    for (unsigned i = 0; i < 2u * vq.num; i++) {
        int rc = vq_pop(&vq, &ram, chain, &why);
        if (rc < 0) {
            walked = -1;
            break;
        }
        if (rc == 0)
            break;
        uint8_t buf[64];
        uint64_t sum = 0;
        for (uint64_t off = 0; off < chain->readable_bytes; off += sizeof(buf)) {
            uint64_t n = vq_chain_read(chain, off, buf, sizeof(buf));
            for (uint64_t k = 0; k < n; k++)
                sum += buf[k];
        }
        memset(buf, (int)(sum & 0xFF), sizeof(buf));
        for (uint64_t off = 0; off < chain->writable_bytes; off += sizeof(buf))
            vq_chain_write(chain, off, buf, sizeof(buf));
        vq_push(&vq, &ram, chain->head, (uint32_t)chain->writable_bytes);
        vq_need_interrupt(&vq, &ram);
        vq_publish_avail_event(&vq, &ram);
        walked++;
    }
out:
    free(chain);
    free(ram.host);
    return walked;
}
