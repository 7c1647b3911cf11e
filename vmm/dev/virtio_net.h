/*
 * virtio_net.h - a virtio network device (virtio 1.2 5.1) on virtio-mmio,
 * connected to user-mode networking (libslirp): the guest is 10.0.2.15 on
 * 10.0.2.0/24, the host is reachable as 10.0.2.2 (its 127.0.0.1), DNS at
 * 10.0.2.3, DHCP hands out 10.0.2.15.
 *
 * Lifecycle:
 *   1. virtio_net_create(mac, &irq, &ram, &clock) -> map virtio_mmio_io_ops
 *      with opaque virtio_net_transport(net).
 *   2. Optional: virtio_net_hostfwd() to forward host ports to the guest.
 *   3. The board's I/O loop, serialised with every other call into the
 *      device (dev.h):
 *        n = virtio_net_poll_fill(net, fds, max, &timeout_ms);
 *        (grow fds if n > max and fill again)
 *        poll(fds, n, timeout_ms);
 *        virtio_net_poll_process(net, fds, n, poll_failed);
 *      and the timers: virtio_net_advance(net, now) when the virtual clock
 *      passes virtio_net_next_deadline_ns(net).
 *   4. Save/restore through the transport: only the virtio state and the
 *      MAC; slirp's connections are not saved (a resumed guest sees its
 *      TCP connections to the outside reset; its address stays valid).
 *   5. virtio_net_destroy(net).
 * Frames from slirp with no receive buffer posted by the guest are
 * dropped and counted, as a NIC would.
 */
#ifndef VMP_DEV_VIRTIO_NET_H
#define VMP_DEV_VIRTIO_NET_H

#include <poll.h>

#include "virtio_mmio.h"

struct virtio_net;

struct virtio_net *virtio_net_create(const uint8_t mac[6], const struct dev_irq *irq,
                                     const struct dev_ram *ram, const struct dev_clock *clock);
void virtio_net_destroy(struct virtio_net *net);
struct virtio_mmio *virtio_net_transport(struct virtio_net *net);

/* Forward host 127.0.0.1:host_port (TCP, or UDP if udp) to the guest's
 * 10.0.2.15:guest_port. DEV_OK, or DEV_EIO if the host port is taken. */
int virtio_net_hostfwd(struct virtio_net *net, int udp, uint16_t host_port, uint16_t guest_port);

/* Fill fds[0..max) with what slirp waits for; returns the count needed
 * (more than max: nothing beyond max was stored; call again with more).
 * *timeout_ms is lowered to when slirp needs to run again. */
size_t virtio_net_poll_fill(struct virtio_net *net, struct pollfd *fds, size_t max,
                            int *timeout_ms);
void virtio_net_poll_process(struct virtio_net *net, const struct pollfd *fds, size_t nfds,
                             int poll_failed);

uint64_t virtio_net_next_deadline_ns(const struct virtio_net *net);
void virtio_net_advance(struct virtio_net *net, uint64_t now_ns);

uint64_t virtio_net_rx_dropped(const struct virtio_net *net);

#endif
