/*
 * virtio_net.c - virtio-net (virtio 1.2 5.1), device id 1, a receive queue
 * (0) and a transmit queue (1), backed by libslirp.
 * Models: features MAC and STATUS (link always up); the 12-byte
 * virtio_net_hdr of VERSION_1 devices, all zero on receive (no offloads)
 * with num_buffers 1 and ignored on transmit (the guest does its own
 * checksums since no CSUM feature is offered).
 * Transmit: each chain's readable bytes after the header are one Ethernet
 * frame, handed to slirp_input during the QueueNotify write. Receive:
 * slirp's send_packet callback takes the next receive buffer, or drops the
 * frame if there is none or it is too small.
 * Leaves out: offloads (CSUM, TSO, GUEST_*), MRG_RXBUF, control queue,
 * multiqueue, MTU, and saving slirp's connections.
 * Saves: the transport's section (spec/devices.md 7) followed by the MAC.
 * Source: libslirp's libslirp.h for the callbacks and the poll protocol.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <slirp/libslirp.h>

#include "virtio_net.h"

#define VIRTIO_NET_F_MAC    (1ull << 5)
#define VIRTIO_NET_F_STATUS (1ull << 16)
#define NET_HDR_BYTES       12
#define NET_FRAME_MAX       65562
#define NET_QUEUE_MAX       256
#define NET_RXQ             0
#define NET_TXQ             1

struct net_timer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
    struct net_timer *next;
};

struct virtio_net {
    struct virtio_mmio *vm;
    struct dev_clock clock;
    Slirp *slirp;
    uint8_t config[8]; /* mac[6], status le16 */
    struct net_timer *timers;
    struct pollfd *fds; /* during poll_fill / poll_process only */
    size_t fds_max;
    size_t fds_n;
    uint64_t rx_dropped;
    uint64_t slirp_errors;
    struct vq_chain rx_chain;
    struct vq_chain tx_chain;
    uint8_t frame[NET_FRAME_MAX];
};

static ssize_t net_send_packet(const void *buf, size_t len, void *opaque)
{
    struct virtio_net *net = opaque;
    struct virtqueue *q = virtio_mmio_queue(net->vm, NET_RXQ);
    const struct dev_ram *ram = virtio_mmio_ram(net->vm);
    const char *why;
    if (!q) {
        net->rx_dropped++;
        return (ssize_t)len;
    }
    int rc = vq_pop(q, ram, &net->rx_chain, &why);
    if (rc < 0)
        virtio_mmio_guest_error(net->vm, why);
    if (rc <= 0) {
        net->rx_dropped++;
        return (ssize_t)len;
    }
    uint8_t hdr[NET_HDR_BYTES] = {0};
    hdr[10] = 1; /* num_buffers */
    uint32_t used = 0;
    if (net->rx_chain.writable_bytes >= NET_HDR_BYTES + len) {
        vq_chain_write(&net->rx_chain, 0, hdr, sizeof(hdr));
        vq_chain_write(&net->rx_chain, NET_HDR_BYTES, buf, len);
        used = (uint32_t)(NET_HDR_BYTES + len);
    } else {
        net->rx_dropped++; /* the buffer goes back empty */
    }
    vq_push(q, ram, net->rx_chain.head, used);
    virtio_mmio_used(net->vm, NET_RXQ);
    return (ssize_t)len;
}

static void net_notify(void *opaque, struct virtio_mmio *vm, unsigned queue)
{
    struct virtio_net *net = opaque;
    if (queue != NET_TXQ)
        return; /* new receive buffers: used when slirp has a frame */
    const struct dev_ram *ram = virtio_mmio_ram(vm);
    struct virtqueue *q;
    const char *why;
    int pushed = 0;
    while ((q = virtio_mmio_queue(vm, NET_TXQ))) {
        int rc = vq_pop(q, ram, &net->tx_chain, &why);
        if (rc == 0)
            break;
        if (rc < 0) {
            virtio_mmio_guest_error(vm, why);
            break;
        }
        uint64_t len = net->tx_chain.readable_bytes;
        if (len > NET_HDR_BYTES && len - NET_HDR_BYTES <= sizeof(net->frame)) {
            uint64_t n =
                vq_chain_read(&net->tx_chain, NET_HDR_BYTES, net->frame, len - NET_HDR_BYTES);
            slirp_input(net->slirp, net->frame, (int)n);
        }
        /* slirp_input may have answered on the receive queue already; the
         * transmit queue is still ours */
        q = virtio_mmio_queue(vm, NET_TXQ);
        if (!q)
            break;
        vq_push(q, ram, net->tx_chain.head, 0);
        vq_publish_avail_event(q, ram);
        pushed = 1;
    }
    if (pushed)
        virtio_mmio_used(vm, NET_TXQ);
}

static void net_guest_error(const char *msg, void *opaque)
{
    struct virtio_net *net = opaque;
    (void)msg;
    net->slirp_errors++;
}

static int64_t net_clock_ns(void *opaque)
{
    struct virtio_net *net = opaque;
    return (int64_t)dev_clock_now(&net->clock);
}

static void *net_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct virtio_net *net = opaque;
    struct net_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = net->timers;
    net->timers = t;
    return t;
}

static void net_timer_free(void *timer, void *opaque)
{
    struct virtio_net *net = opaque;
    for (struct net_timer **p = &net->timers; *p; p = &(*p)->next)
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
}

static void net_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    ((struct net_timer *)timer)->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

static void net_register_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void net_kick(void *opaque)
{
    (void)opaque; /* the board's I/O loop polls again on its own */
}

static const SlirpCb net_slirp_cb = {
    .send_packet = net_send_packet,
    .guest_error = net_guest_error,
    .clock_get_ns = net_clock_ns,
    .timer_new = net_timer_new,
    .timer_free = net_timer_free,
    .timer_mod = net_timer_mod,
    .register_poll_fd = net_register_fd,
    .unregister_poll_fd = net_register_fd,
    .notify = net_kick,
};

uint64_t virtio_net_next_deadline_ns(const struct virtio_net *net)
{
    uint64_t next = DEV_NO_DEADLINE;
    for (const struct net_timer *t = net->timers; t; t = t->next)
        if (t->expire_ms >= 0 && (uint64_t)t->expire_ms * 1000000u < next)
            next = (uint64_t)t->expire_ms * 1000000u;
    return next;
}

void virtio_net_advance(struct virtio_net *net, uint64_t now_ns)
{
    /* a callback may re-arm or free timers: restart the scan after each */
    for (;;) {
        struct net_timer *due = NULL;
        for (struct net_timer *t = net->timers; t; t = t->next)
            if (t->expire_ms >= 0 && (uint64_t)t->expire_ms * 1000000u <= now_ns) {
                due = t;
                break;
            }
        if (!due)
            return;
        due->expire_ms = -1;
        due->cb(due->cb_opaque);
    }
}

/* libslirp's SLIRP_POLL_* and poll(2)'s bits are both defined by value in
 * their headers; translate rather than assume they agree. */
static int net_add_poll(int fd, int events, void *opaque)
{
    struct virtio_net *net = opaque;
    size_t i = net->fds_n++;
    if (i < net->fds_max) {
        short ev = 0;
        if (events & SLIRP_POLL_IN)
            ev |= POLLIN;
        if (events & SLIRP_POLL_OUT)
            ev |= POLLOUT;
        if (events & SLIRP_POLL_PRI)
            ev |= POLLPRI;
        net->fds[i] = (struct pollfd){fd, ev, 0};
    }
    return (int)i;
}

static int net_get_revents(int idx, void *opaque)
{
    struct virtio_net *net = opaque;
    if (idx < 0 || (size_t)idx >= net->fds_n)
        return 0;
    short re = net->fds[idx].revents;
    int ev = 0;
    if (re & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (re & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (re & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (re & POLLERR)
        ev |= SLIRP_POLL_ERR;
    if (re & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

size_t virtio_net_poll_fill(struct virtio_net *net, struct pollfd *fds, size_t max, int *timeout_ms)
{
    net->fds = fds;
    net->fds_max = max;
    net->fds_n = 0;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(net->slirp, &t, net_add_poll, net);
    *timeout_ms = t > INT32_MAX ? -1 : (int)t;
    size_t n = net->fds_n;
    net->fds = NULL;
    return n;
}

void virtio_net_poll_process(struct virtio_net *net, const struct pollfd *fds, size_t nfds,
                             int poll_failed)
{
    net->fds = (struct pollfd *)(uintptr_t)fds;
    net->fds_n = nfds;
    slirp_pollfds_poll(net->slirp, poll_failed, net_get_revents, net);
    net->fds = NULL;
    net->fds_n = 0;
}

int virtio_net_hostfwd(struct virtio_net *net, int udp, uint16_t host_port, uint16_t guest_port)
{
    struct in_addr host = {htonl(INADDR_LOOPBACK)}, guest;
    inet_pton(AF_INET, "10.0.2.15", &guest);
    return slirp_add_hostfwd(net->slirp, udp, host, host_port, guest, guest_port) ? DEV_EIO
                                                                                  : DEV_OK;
}

uint64_t virtio_net_rx_dropped(const struct virtio_net *net)
{
    return net->rx_dropped;
}

static int net_save(void *opaque, struct dev_sec_writer *w)
{
    const struct virtio_net *net = opaque;
    dev_sec_put_bytes(w, net->config, 6);
    return dev_sec_writer_status(w);
}

static int net_restore(void *opaque, struct dev_sec_reader *r)
{
    struct virtio_net *net = opaque;
    uint8_t mac[6];
    dev_sec_get_bytes(r, mac, sizeof(mac));
    if (!r->status && memcmp(mac, net->config, 6))
        dev_sec_fail(r, DEV_ECORRUPT,
                     "MAC %02x:%02x:%02x:%02x:%02x:%02x differs from the configured one", mac[0],
                     mac[1], mac[2], mac[3], mac[4], mac[5]);
    return dev_sec_end(r);
}

static const struct virtio_dev_ops net_ops = {
    .device_id = 1,
    .num_queues = 2,
    .queue_max = NET_QUEUE_MAX,
    .notify = net_notify,
    .save = net_save,
    .restore = net_restore,
};

struct virtio_net *virtio_net_create(const uint8_t mac[6], const struct dev_irq *irq,
                                     const struct dev_ram *ram, const struct dev_clock *clock)
{
    struct virtio_net *net = calloc(1, sizeof(*net));
    if (!net)
        return NULL;
    net->clock = *clock;
    memcpy(net->config, mac, 6);
    net->config[6] = 1; /* VIRTIO_NET_S_LINK_UP */
    net->vm = virtio_mmio_create(&net_ops, net, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS, net->config,
                                 sizeof(net->config), irq, ram);
    SlirpConfig cfg = {0};
    cfg.version = 1;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.vhostname = "vmpack";
    if (net->vm)
        net->slirp = slirp_new(&cfg, &net_slirp_cb, net);
    if (!net->slirp) {
        virtio_net_destroy(net);
        return NULL;
    }
    return net;
}

void virtio_net_destroy(struct virtio_net *net)
{
    if (!net)
        return;
    if (net->slirp)
        slirp_cleanup(net->slirp);
    while (net->timers) {
        struct net_timer *t = net->timers;
        net->timers = t->next;
        free(t);
    }
    virtio_mmio_destroy(net->vm);
    free(net);
}

struct virtio_mmio *virtio_net_transport(struct virtio_net *net)
{
    return net->vm;
}
