/* test_virtio_net.c - virtio-net with libslirp: ARP answered on the
 * receive queue, a UDP datagram from the guest reaching a socket on
 * 127.0.0.1, and the reply coming back to the guest through the poll loop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_driver.h"
#include "virtio_net.h"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static uint64_t now = 1000000000ull;

static uint64_t fake_now(void *opaque)
{
    (void)opaque;
    return now;
}

#define RXBUF   0x20000u
#define TXBUF   0x30000u
#define RXBYTES 2048u

struct fixture {
    struct fake_driver d;
    struct virtio_net *net;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fd_init(&f->d);
    struct dev_irq irq = fd_irq_line(&f->d);
    struct dev_clock clk = {fake_now, NULL};
    f->net = virtio_net_create(guest_mac, &irq, &f->d.ram, &clk);
    if (!f->net)
        return -1;
    f->d.vm = virtio_net_transport(f->net);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    virtio_net_destroy(f->net);
    free(f->d.ram.host);
    free(f);
    return 0;
}

static void bring_up(struct fixture *f)
{
    struct fake_driver *d = &f->d;
    assert_int_equal(fd_rd(d, 0x008), 1);
    assert_int_equal(fd_negotiate(d, ~0ull) & 8, 8);
    fd_setup_queue(d, 0);
    fd_setup_queue(d, 1);
    fd_driver_ok(d);
    /* post two receive buffers */
    for (uint16_t i = 0; i < 2; i++) {
        fd_desc(d, fd_desc_gpa(0), i, RXBUF + i * RXBYTES, RXBYTES, VIRTQ_DESC_F_WRITE, 0);
        fd_kick(d, 0, i);
    }
}

/* Send one frame: header descriptor + frame descriptor. */
static void send_frame(struct fixture *f, const uint8_t *frame, size_t len)
{
    struct fake_driver *d = &f->d;
    memset(d->ram.host + TXBUF, 0, 12);
    memcpy(d->ram.host + TXBUF + 64, frame, len);
    fd_desc(d, fd_desc_gpa(1), 0, TXBUF, 12, VIRTQ_DESC_F_NEXT, 1);
    fd_desc(d, fd_desc_gpa(1), 1, TXBUF + 64, (uint32_t)len, 0, 0);
    fd_kick(d, 1, 0);
    uint32_t id = 9, ulen = 9;
    assert_true(fd_used(d, 1, &id, &ulen));
    assert_int_equal(id, 0);
}

/* The next received frame (after the 12-byte header), or NULL. */
static const uint8_t *recv_frame(struct fixture *f, uint32_t *len)
{
    uint32_t id, ulen;
    if (!fd_used(&f->d, 0, &id, &ulen))
        return NULL;
    assert_true(ulen > 12);
    const uint8_t *buf = f->d.ram.host + RXBUF + id * RXBYTES;
    assert_int_equal(buf[10], 1); /* num_buffers */
    /* give the buffer back */
    fd_kick(&f->d, 0, (uint16_t)id);
    *len = ulen - 12;
    return buf + 12;
}

static void put_eth(uint8_t *p, const uint8_t *dst, uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, guest_mac, 6);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
}

/* ARP "who has 10.0.2.2": slirp answers at once on the receive queue
 * and learns the guest's MAC. */
static void arp_exchange(struct fixture *f)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t fr[42] = {0};
    put_eth(fr, bcast, 0x0806);
    uint8_t *a = fr + 14;
    a[1] = 1;    /* Ethernet */
    a[2] = 0x08; /* IPv4 */
    a[4] = 6;
    a[5] = 4;
    a[7] = 1; /* request */
    memcpy(a + 8, guest_mac, 6);
    inet_pton(AF_INET, "10.0.2.15", a + 14);
    inet_pton(AF_INET, "10.0.2.2", a + 24);
    send_frame(f, fr, sizeof(fr));
    uint32_t len;
    const uint8_t *r = recv_frame(f, &len);
    assert_non_null(r);
    assert_true(len >= 42);
    assert_memory_equal(r, guest_mac, 6);
    assert_int_equal(r[12], 0x08);
    assert_int_equal(r[13], 0x06);
    assert_int_equal(r[14 + 7], 2); /* reply */
    uint8_t host_ip[4];
    inet_pton(AF_INET, "10.0.2.2", host_ip);
    assert_memory_equal(r + 14 + 14, host_ip, 4);
    assert_int_equal(f->d.irq_level, 1);
}

static void test_virtio_net_arp_reply(void **state)
{
    struct fixture *f = *state;
    bring_up(f);
    arp_exchange(f);
}

/* Run the board's poll loop until a frame reaches the guest. */
static const uint8_t *pump(struct fixture *f, uint32_t *len)
{
    const uint8_t *r = NULL;
    for (int round = 0; round < 50 && !r; round++) {
        struct pollfd fds[64];
        int timeout = 100;
        size_t nf = virtio_net_poll_fill(f->net, fds, 64, &timeout);
        assert_true(nf <= 64);
        int rc = poll(fds, nf, 100);
        virtio_net_poll_process(f->net, fds, nf, rc < 0);
        r = recv_frame(f, len);
    }
    return r;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

static void test_virtio_net_udp_to_host_and_back(void **state)
{
    struct fixture *f = *state;
    bring_up(f);
    /* the host side: a UDP socket on 127.0.0.1 */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(s, (struct sockaddr *)&sa, &sl);
    uint16_t port = ntohs(sa.sin_port);

    /* ARP first so slirp knows the guest's MAC for the reply */
    arp_exchange(f);

    static const uint8_t slirp_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    const char msg[] = "hello from the guest";
    uint8_t fr[14 + 20 + 8 + sizeof(msg)] = {0};
    put_eth(fr, slirp_mac, 0x0800);
    uint8_t *ip = fr + 14;
    uint16_t tot = (uint16_t)(20 + 8 + sizeof(msg));
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[8] = 64;
    ip[9] = 17;
    inet_pton(AF_INET, "10.0.2.15", ip + 12);
    inet_pton(AF_INET, "10.0.2.2", ip + 16);
    uint16_t ck = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(ck >> 8);
    ip[11] = (uint8_t)ck;
    uint8_t *udp = ip + 20;
    udp[0] = 0x15;
    udp[1] = 0xB3; /* source port 5555 */
    udp[2] = (uint8_t)(port >> 8);
    udp[3] = (uint8_t)port;
    udp[4] = 0;
    udp[5] = (uint8_t)(8 + sizeof(msg));
    memcpy(udp + 8, msg, sizeof(msg));
    send_frame(f, fr, sizeof(fr));

    struct pollfd p = {s, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    char got[64];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(s, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));

    /* reply; slirp picks it up in the board's poll loop */
    const char reply[] = "hello guest";
    assert_int_equal(sendto(s, reply, sizeof(reply), 0, (struct sockaddr *)&from, fl),
                     sizeof(reply));
    uint32_t len = 0;
    const uint8_t *r = pump(f, &len);
    assert_non_null(r);
    assert_int_equal(r[12], 0x08);
    assert_int_equal(r[13], 0x00);
    const uint8_t *rudp = r + 14 + (r[14] & 0x0F) * 4;
    assert_int_equal(rudp[2] << 8 | rudp[3], 5555);
    assert_memory_equal(rudp + 8, reply, sizeof(reply));
    close(s);
}

static void test_virtio_net_hostfwd_udp(void **state)
{
    struct fixture *f = *state;
    bring_up(f);
    arp_exchange(f);
    /* find a free host port, then forward it to guest port 7777 */
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(probe, (struct sockaddr *)&sa, &sl);
    close(probe);
    uint16_t port = ntohs(sa.sin_port);
    assert_int_equal(virtio_net_hostfwd(f->net, 1, port, 7777), 0);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    const char msg[] = "to the guest";
    assert_int_equal(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)),
                     sizeof(msg));
    uint32_t len = 0;
    const uint8_t *r = pump(f, &len);
    assert_non_null(r);
    assert_memory_equal(r, guest_mac, 6);
    const uint8_t *ip = r + 14;
    uint8_t guest_ip[4];
    inet_pton(AF_INET, "10.0.2.15", guest_ip);
    assert_memory_equal(ip + 16, guest_ip, 4);
    assert_int_equal(ip[9], 17);
    const uint8_t *udp = ip + (ip[0] & 0x0F) * 4;
    assert_int_equal(udp[2] << 8 | udp[3], 7777);
    assert_memory_equal(udp + 8, msg, sizeof(msg));
    close(s);
}

static void test_virtio_net_no_rx_buffer_drops(void **state)
{
    struct fixture *f = *state;
    struct fake_driver *d = &f->d;
    assert_int_equal(fd_negotiate(d, ~0ull) & 8, 8);
    fd_setup_queue(d, 0);
    fd_setup_queue(d, 1);
    fd_driver_ok(d);
    /* MAC in config space */
    for (int i = 0; i < 6; i++)
        assert_int_equal(virtio_mmio_io_ops.read(d->vm, 0x100u + i, 1), guest_mac[i]);
    assert_int_equal(virtio_mmio_io_ops.read(d->vm, 0x106, 2), 1); /* link up */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t fr[42] = {0};
    put_eth(fr, bcast, 0x0806);
    uint8_t *a = fr + 14;
    a[1] = 1;
    a[2] = 0x08;
    a[4] = 6;
    a[5] = 4;
    a[7] = 1;
    memcpy(a + 8, guest_mac, 6);
    inet_pton(AF_INET, "10.0.2.15", a + 14);
    inet_pton(AF_INET, "10.0.2.2", a + 24);
    send_frame(f, fr, sizeof(fr));
    assert_int_equal(virtio_net_rx_dropped(f->net), 1);
    /* slirp has timers: the board gets a deadline, advancing runs them */
    uint64_t dl = virtio_net_next_deadline_ns(f->net);
    if (dl != DEV_NO_DEADLINE) {
        now = dl;
        virtio_net_advance(f->net, now);
        assert_true(virtio_net_next_deadline_ns(f->net) > dl);
    }
}

static void test_virtio_net_save_restore(void **state)
{
    struct fixture *f = *state;
    bring_up(f);
    struct dev_sec_writer w;
    dev_sec_writer_init(&w);
    assert_int_equal(virtio_mmio_save(f->d.vm, &w), 0);
    struct dev_irq irq = fd_irq_line(&f->d);
    struct dev_clock clk = {fake_now, NULL};
    struct virtio_net *n2 = virtio_net_create(guest_mac, &irq, &f->d.ram, &clk);
    struct dev_sec_reader r;
    dev_sec_reader_init(&r, "dev.virtio-net0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_net_transport(n2), &r), 0);
    struct dev_sec_writer w2;
    dev_sec_writer_init(&w2);
    virtio_mmio_save(virtio_net_transport(n2), &w2);
    assert_int_equal(w.len, w2.len);
    assert_memory_equal(w.buf, w2.buf, w.len);
    uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 1};
    struct virtio_net *n3 = virtio_net_create(other, &irq, &f->d.ram, &clk);
    dev_sec_reader_init(&r, "dev.virtio-net0", w.buf, w.len);
    assert_int_equal(virtio_mmio_restore(virtio_net_transport(n3), &r), DEV_ECORRUPT);
    assert_non_null(strstr(dev_sec_reader_errmsg(&r), "MAC"));
    virtio_net_destroy(n3);
    virtio_net_destroy(n2);
    dev_sec_writer_free(&w);
    dev_sec_writer_free(&w2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_virtio_net_arp_reply),    T(test_virtio_net_udp_to_host_and_back),
        T(test_virtio_net_hostfwd_udp),  T(test_virtio_net_no_rx_buffer_drops),
        T(test_virtio_net_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
