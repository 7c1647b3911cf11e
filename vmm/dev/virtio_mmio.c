/*
 * virtio_mmio.c - the virtio-mmio transport, version 2 (virtio 1.2 4.2.2):
 * a 0x200-byte MMIO window per device, one interrupt line per device.
 * Models: the register layout of 4.2.2 (magic, version 2, IDs, feature
 * words with selectors, queue selection and setup with 64-bit addresses,
 * QueueReady, QueueNotify, InterruptStatus/ACK, Status with the
 * FEATURES_OK check, ConfigGeneration, the device config space from 0x100)
 * and the device reset of 2.4.
 * Leaves out: shared memory regions (SHMLen reads as all ones: none) and
 * VIRTIO_F_RING_RESET (QueueReset reads 0), the legacy version 1 layout.
 * Interrupt: the line is high while InterruptStatus is non-zero
 * (spec/machine.md 3.2): the edge-triggered PIC input latches its rising
 * edge; a new event while the status is still non-zero makes no new edge,
 * since the driver acks and then processes every queue.
 * Requests are completed synchronously inside the QueueNotify write, so a
 * suspend never finds a request in flight.
 * Saves: section "dev.virtio-<slot>" (spec/devices.md 7): transport,
 * queues, then the device's own fields.
 */
#include <stdlib.h>
#include <string.h>

#include "virtio_mmio.h"

enum {
    R_MAGIC = 0x000,
    R_VERSION = 0x004,
    R_DEVICE_ID = 0x008,
    R_VENDOR_ID = 0x00C,
    R_DEVICE_FEATURES = 0x010,
    R_DEVICE_FEATURES_SEL = 0x014,
    R_DRIVER_FEATURES = 0x020,
    R_DRIVER_FEATURES_SEL = 0x024,
    R_QUEUE_SEL = 0x030,
    R_QUEUE_NUM_MAX = 0x034,
    R_QUEUE_NUM = 0x038,
    R_QUEUE_READY = 0x044,
    R_QUEUE_NOTIFY = 0x050,
    R_INTERRUPT_STATUS = 0x060,
    R_INTERRUPT_ACK = 0x064,
    R_STATUS = 0x070,
    R_QUEUE_DESC_LOW = 0x080,
    R_QUEUE_DESC_HIGH = 0x084,
    R_QUEUE_DRIVER_LOW = 0x090,
    R_QUEUE_DRIVER_HIGH = 0x094,
    R_QUEUE_DEVICE_LOW = 0x0A0,
    R_QUEUE_DEVICE_HIGH = 0x0A4,
    R_SHM_SEL = 0x0AC,
    R_SHM_LEN_LOW = 0x0B0,
    R_SHM_LEN_HIGH = 0x0B4,
    R_SHM_BASE_LOW = 0x0B8,
    R_SHM_BASE_HIGH = 0x0BC,
    R_QUEUE_RESET = 0x0C0,
    R_CONFIG_GENERATION = 0x0FC,
    R_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC  0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x504D5056u /* "VPMP": vmpack, no PCI vendor id needed on MMIO */
#define INT_USED_BUFFER    1u
#define INT_CONFIG_CHANGE  2u

struct virtio_mmio {
    const struct virtio_dev_ops *ops;
    void *opaque;
    uint64_t device_features;
    const uint8_t *config;
    uint32_t config_bytes;
    struct dev_irq irq;
    struct dev_ram ram;
    uint32_t status;
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint64_t driver_features;
    uint32_t queue_sel;
    uint32_t int_status;
    uint32_t config_generation;
    struct virtqueue vq[VIRTIO_MMIO_QUEUES_MAX];
    int irq_level;
    uint64_t guest_errors;
    char last_error[120];
};

static void vmm_irq_update(struct virtio_mmio *vm)
{
    int level = vm->int_status != 0;
    if (level != vm->irq_level)
        dev_irq_set(&vm->irq, level);
    vm->irq_level = level;
}

static void vmm_interrupt(struct virtio_mmio *vm, uint32_t cause)
{
    vm->int_status |= cause;
    vmm_irq_update(vm);
}

void virtio_mmio_guest_error(struct virtio_mmio *vm, const char *why)
{
    vm->guest_errors++;
    strncpy(vm->last_error, why, sizeof(vm->last_error) - 1);
    vm->last_error[sizeof(vm->last_error) - 1] = '\0';
    /* virtio 1.2 2.1.2: only once the driver is up can it react */
    if (vm->status & VIRTIO_STATUS_DRIVER_OK) {
        vm->status |= VIRTIO_STATUS_NEEDS_RESET;
        vmm_interrupt(vm, INT_CONFIG_CHANGE);
    }
}

static void vmm_reset(struct virtio_mmio *vm)
{
    vm->status = 0;
    vm->device_features_sel = 0;
    vm->driver_features_sel = 0;
    vm->driver_features = 0;
    vm->queue_sel = 0;
    vm->int_status = 0;
    memset(vm->vq, 0, sizeof(vm->vq));
    vmm_irq_update(vm);
    if (vm->ops->reset)
        vm->ops->reset(vm->opaque);
}

static struct virtqueue *vmm_sel(struct virtio_mmio *vm)
{
    return vm->queue_sel < vm->ops->num_queues ? &vm->vq[vm->queue_sel] : NULL;
}

static void vmm_set_queue_ready(struct virtio_mmio *vm, struct virtqueue *q, uint32_t v)
{
    if (!(v & 1)) {
        q->ready = 0;
        return;
    }
    if (q->ready)
        return; /* already live: keep its ring positions */
    if (q->num > vm->ops->queue_max) {
        virtio_mmio_guest_error(vm, "QueueNum exceeds QueueNumMax");
        return;
    }
    const char *why;
    if (vq_check(q, &vm->ram, &why)) {
        virtio_mmio_guest_error(vm, why);
        return;
    }
    q->event_idx = (vm->driver_features & VIRTIO_F_EVENT_IDX) != 0;
    q->indirect = (vm->driver_features & VIRTIO_F_INDIRECT_DESC) != 0;
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_used = 0;
    q->ready = 1;
}

static void vmm_set_status(struct virtio_mmio *vm, uint32_t v)
{
    if (v == 0) {
        vmm_reset(vm);
        return;
    }
    v &= 0xFF & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET; /* the device's bit */
    /* virtio 1.2 2.2.2 and 4.2.2.2: FEATURES_OK only for a subset of the
     * offer that includes VERSION_1 (version 2 has no legacy mode) */
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vm->status & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t f = vm->driver_features;
        if ((f & ~vm->device_features) || !(f & VIRTIO_F_VERSION_1))
            v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
    }
    vm->status = v | (vm->status & VIRTIO_STATUS_NEEDS_RESET);
}

static uint32_t vmm_read(void *opaque, uint32_t offset, unsigned size_bytes)
{
    struct virtio_mmio *vm = opaque;
    if (offset >= R_CONFIG) {
        uint32_t off = offset - R_CONFIG, v = 0;
        for (unsigned i = 0; i < size_bytes; i++)
            if (off + i < vm->config_bytes)
                v |= (uint32_t)vm->config[off + i] << (8 * i);
        return v;
    }
    /* virtio 1.2 4.2.2.2: registers are 32-bit wide, aligned */
    if (size_bytes != 4 || (offset & 3))
        return 0;
    struct virtqueue *q = vmm_sel(vm);
    switch (offset) {
    case R_MAGIC:
        return VIRTIO_MMIO_MAGIC;
    case R_VERSION:
        return 2;
    case R_DEVICE_ID:
        return vm->ops->device_id;
    case R_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case R_DEVICE_FEATURES:
        if (vm->device_features_sel > 1)
            return 0;
        return (uint32_t)(vm->device_features >> (32 * vm->device_features_sel));
    case R_QUEUE_NUM_MAX:
        return q ? vm->ops->queue_max : 0;
    case R_QUEUE_READY:
        return q ? q->ready : 0;
    case R_INTERRUPT_STATUS:
        return vm->int_status;
    case R_STATUS:
        return vm->status;
    case R_SHM_LEN_LOW:
    case R_SHM_LEN_HIGH:
    case R_SHM_BASE_LOW:
    case R_SHM_BASE_HIGH:
        return 0xFFFFFFFFu;
    case R_CONFIG_GENERATION:
        return vm->config_generation;
    default:
        return 0;
    }
}

static void vmm_set_addr(uint64_t *field, int high, uint32_t v)
{
    if (high)
        *field = (*field & 0xFFFFFFFFull) | (uint64_t)v << 32;
    else
        *field = (*field & ~0xFFFFFFFFull) | v;
}

static void vmm_write(void *opaque, uint32_t offset, unsigned size_bytes, uint32_t value)
{
    struct virtio_mmio *vm = opaque;
    if (offset >= R_CONFIG) {
        if (vm->ops->config_write)
            vm->ops->config_write(vm->opaque, offset - R_CONFIG, size_bytes, value);
        return;
    }
    if (size_bytes != 4 || (offset & 3))
        return;
    struct virtqueue *q = vmm_sel(vm);
    /* virtio 1.2 4.2.2.3: queue setup only while the queue is not ready */
    struct virtqueue *setup = q && !q->ready ? q : NULL;
    switch (offset) {
    case R_DEVICE_FEATURES_SEL:
        vm->device_features_sel = value;
        break;
    case R_DRIVER_FEATURES_SEL:
        vm->driver_features_sel = value;
        break;
    case R_DRIVER_FEATURES:
        if ((vm->status & VIRTIO_STATUS_FEATURES_OK) || vm->driver_features_sel > 1)
            break;
        vmm_set_addr(&vm->driver_features, vm->driver_features_sel == 1, value);
        break;
    case R_QUEUE_SEL:
        vm->queue_sel = value;
        break;
    case R_QUEUE_NUM:
        if (setup)
            setup->num = value > 0xFFFF ? 0 : (uint16_t)value;
        break;
    case R_QUEUE_READY:
        if (q)
            vmm_set_queue_ready(vm, q, value);
        break;
    case R_QUEUE_NOTIFY:
        if (value < vm->ops->num_queues && virtio_mmio_queue(vm, value))
            vm->ops->notify(vm->opaque, vm, value);
        break;
    case R_INTERRUPT_ACK:
        vm->int_status &= ~value;
        vmm_irq_update(vm);
        break;
    case R_STATUS:
        vmm_set_status(vm, value);
        break;
    case R_QUEUE_DESC_LOW:
    case R_QUEUE_DESC_HIGH:
        if (setup)
            vmm_set_addr(&setup->desc_gpa, offset == R_QUEUE_DESC_HIGH, value);
        break;
    case R_QUEUE_DRIVER_LOW:
    case R_QUEUE_DRIVER_HIGH:
        if (setup)
            vmm_set_addr(&setup->avail_gpa, offset == R_QUEUE_DRIVER_HIGH, value);
        break;
    case R_QUEUE_DEVICE_LOW:
    case R_QUEUE_DEVICE_HIGH:
        if (setup)
            vmm_set_addr(&setup->used_gpa, offset == R_QUEUE_DEVICE_HIGH, value);
        break;
    default: /* read-only registers, SHMSel, QueueReset */
        break;
    }
}

const struct dev_io_ops virtio_mmio_io_ops = {vmm_read, vmm_write, 0};

struct virtio_mmio *virtio_mmio_create(const struct virtio_dev_ops *ops, void *opaque,
                                       uint64_t features, const uint8_t *config,
                                       uint32_t config_bytes, const struct dev_irq *irq,
                                       const struct dev_ram *ram)
{
    if (!ops || !ops->notify || ops->num_queues == 0 || ops->num_queues > VIRTIO_MMIO_QUEUES_MAX ||
        ops->queue_max == 0 || ops->queue_max > VQ_MAX_SIZE ||
        (ops->queue_max & (ops->queue_max - 1)) || config_bytes > VIRTIO_MMIO_WINDOW - R_CONFIG)
        return NULL;
    struct virtio_mmio *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return NULL;
    vm->ops = ops;
    vm->opaque = opaque;
    vm->device_features =
        features | VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX;
    vm->config = config;
    vm->config_bytes = config_bytes;
    vm->irq = *irq;
    vm->ram = *ram;
    return vm;
}

void virtio_mmio_destroy(struct virtio_mmio *vm)
{
    free(vm);
}

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *vm, unsigned queue)
{
    if (queue >= vm->ops->num_queues || !vm->vq[queue].ready)
        return NULL;
    if ((vm->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) !=
        VIRTIO_STATUS_DRIVER_OK)
        return NULL;
    return &vm->vq[queue];
}

const struct dev_ram *virtio_mmio_ram(const struct virtio_mmio *vm)
{
    return &vm->ram;
}

uint64_t virtio_mmio_driver_features(const struct virtio_mmio *vm)
{
    return vm->driver_features;
}

void virtio_mmio_used(struct virtio_mmio *vm, unsigned queue)
{
    if (queue >= vm->ops->num_queues)
        return;
    struct virtqueue *q = &vm->vq[queue];
    vq_publish_avail_event(q, &vm->ram);
    if (vq_need_interrupt(q, &vm->ram))
        vmm_interrupt(vm, INT_USED_BUFFER);
}

void virtio_mmio_config_changed(struct virtio_mmio *vm)
{
    vm->config_generation++;
    if (vm->status & VIRTIO_STATUS_DRIVER_OK)
        vmm_interrupt(vm, INT_CONFIG_CHANGE);
}

uint64_t virtio_mmio_guest_errors(const struct virtio_mmio *vm)
{
    return vm->guest_errors;
}

const char *virtio_mmio_last_error(const struct virtio_mmio *vm)
{
    return vm->last_error;
}

uint32_t virtio_mmio_status(const struct virtio_mmio *vm)
{
    return vm->status;
}

/* spec/devices.md 7 */
#define VIRTIO_MMIO_SAVE_VERSION 1

int virtio_mmio_save(const struct virtio_mmio *vm, struct dev_sec_writer *w)
{
    dev_sec_put_u32(w, VIRTIO_MMIO_SAVE_VERSION);
    dev_sec_put_u32(w, vm->ops->device_id);
    dev_sec_put_u32(w, vm->status);
    dev_sec_put_u32(w, vm->device_features_sel);
    dev_sec_put_u32(w, vm->driver_features_sel);
    dev_sec_put_u64(w, vm->driver_features);
    dev_sec_put_u32(w, vm->queue_sel);
    dev_sec_put_u32(w, vm->int_status);
    dev_sec_put_u32(w, vm->config_generation);
    dev_sec_put_u8(w, (uint8_t)vm->ops->num_queues);
    for (unsigned i = 0; i < vm->ops->num_queues; i++) {
        const struct virtqueue *q = &vm->vq[i];
        dev_sec_put_u16(w, q->num);
        dev_sec_put_u8(w, q->ready);
        dev_sec_put_u64(w, q->desc_gpa);
        dev_sec_put_u64(w, q->avail_gpa);
        dev_sec_put_u64(w, q->used_gpa);
        dev_sec_put_u16(w, q->last_avail);
        dev_sec_put_u16(w, q->used_idx);
        dev_sec_put_u16(w, q->signalled_used);
    }
    if (vm->ops->save) {
        int rc = vm->ops->save(vm->opaque, w);
        if (rc)
            return rc;
    }
    return dev_sec_writer_status(w);
}

int virtio_mmio_restore(struct virtio_mmio *vm, struct dev_sec_reader *r)
{
    struct virtio_mmio n = *vm;
    dev_sec_get_version(r, VIRTIO_MMIO_SAVE_VERSION);
    uint32_t id = dev_sec_get_u32(r);
    if (!r->status && id != vm->ops->device_id)
        dev_sec_fail(r, DEV_ECORRUPT, "device id: expected %u, found %u", vm->ops->device_id, id);
    n.status = dev_sec_get_u32(r);
    if (n.status & ~0xCFu)
        dev_sec_fail(r, DEV_ECORRUPT, "status: undefined bits in 0x%x", n.status);
    n.device_features_sel = dev_sec_get_u32(r);
    n.driver_features_sel = dev_sec_get_u32(r);
    n.driver_features = dev_sec_get_u64(r);
    if (!r->status && (n.driver_features & ~vm->device_features))
        dev_sec_fail(r, DEV_ECORRUPT, "driver features 0x%llx exceed the offer 0x%llx",
                     (unsigned long long)n.driver_features,
                     (unsigned long long)vm->device_features);
    n.queue_sel = dev_sec_get_u32(r);
    n.int_status = dev_sec_get_u32(r);
    if (n.int_status & ~3u)
        dev_sec_fail(r, DEV_ECORRUPT, "interrupt status: undefined bits in 0x%x", n.int_status);
    n.config_generation = dev_sec_get_u32(r);
    uint8_t nq = dev_sec_get_u8(r);
    if (!r->status && nq != vm->ops->num_queues)
        dev_sec_fail(r, DEV_ECORRUPT, "queues: expected %u, found %u", vm->ops->num_queues, nq);
    for (unsigned i = 0; i < vm->ops->num_queues && !r->status; i++) {
        struct virtqueue *q = &n.vq[i];
        q->num = dev_sec_get_u16(r);
        q->ready = dev_sec_get_bool(r, "queue ready");
        q->desc_gpa = dev_sec_get_u64(r);
        q->avail_gpa = dev_sec_get_u64(r);
        q->used_gpa = dev_sec_get_u64(r);
        q->last_avail = dev_sec_get_u16(r);
        q->used_idx = dev_sec_get_u16(r);
        q->signalled_used = dev_sec_get_u16(r);
        q->event_idx = (n.driver_features & VIRTIO_F_EVENT_IDX) != 0;
        q->indirect = (n.driver_features & VIRTIO_F_INDIRECT_DESC) != 0;
        const char *why;
        if (!r->status && q->ready && (q->num > vm->ops->queue_max || vq_check(q, &vm->ram, &why)))
            dev_sec_fail(r, DEV_ECORRUPT, "queue %u: %s", i,
                         q->num > vm->ops->queue_max ? "size exceeds QueueNumMax" : why);
        if (!r->status && q->ready && (uint16_t)(q->last_avail - q->used_idx) > q->num)
            dev_sec_fail(r, DEV_ECORRUPT, "queue %u: %u buffers taken but not returned (size %u)",
                         i, (uint16_t)(q->last_avail - q->used_idx), q->num);
    }
    if (!r->status && vm->ops->restore)
        vm->ops->restore(vm->opaque, r);
    if (dev_sec_end(r))
        return r->status;
    n.irq_level = 0;
    *vm = n;
    dev_irq_set(&vm->irq, 0);
    vmm_irq_update(vm);
    return DEV_OK;
}
