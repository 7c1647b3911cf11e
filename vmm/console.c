/*
 * console.c - COM1 as the user's console (console.h).
 */
#define _DEFAULT_SOURCE
#include "console.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vclock.h"

/* Output waits at most this long in the buffer: the user sees a character
 * promptly, and the guest's byte-at-a-time OUTs cost no system call each. */
#define CONSOLE_FLUSH_NS 3000000ull

static const char console_help[] =
    "\r\nvmpack console escape keys:\r\n"
    "  Ctrl-A x   quit (stops the VM at once, like pulling the plug)\r\n"
    "  Ctrl-A h   this help\r\n"
    "  Ctrl-A Ctrl-A   send Ctrl-A to the guest\r\n";

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

void console_init(struct console *c, int in_fd, int out_fd, int err_fd)
{
    memset(c, 0, sizeof *c);
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->err_fd = err_fd;
    c->eof = in_fd < 0;
    c->is_tty = in_fd >= 0 && isatty(in_fd);
    c->out_first_ns = UINT64_MAX;
}

int console_start(struct console *c)
{
    struct termios t;

    if (!c->is_tty)
        return 0;
    if (tcgetattr(c->in_fd, &c->saved) != 0)
        return -1;
    t = c->saved;
    cfmakeraw(&t);
    /* keep output processing so that the host side's \n stays \n */
    t.c_oflag = c->saved.c_oflag;
    if (tcsetattr(c->in_fd, TCSANOW, &t) != 0)
        return -1;
    c->raw = 1;
    if (c->err_fd >= 0) {
        static const char hint[] = "vmpack: console on COM1; Ctrl-A x quits, Ctrl-A h for help\r\n";

        write_all(c->err_fd, hint, sizeof hint - 1);
    }
    return 0;
}

void console_stop(struct console *c)
{
    if (c->raw) {
        tcsetattr(c->in_fd, TCSANOW, &c->saved);
        c->raw = 0;
    }
}

int console_want_input(const struct console *c)
{
    return !c->eof && !c->quit && c->pend_len == 0;
}

/* The escape key, on a terminal only: a pipe's bytes go through as they are. */
static void console_filter(struct console *c, const uint8_t *in, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t b = in[i];

        if (c->escape) {
            c->escape = 0;
            if (b == 'x' || b == 'X') {
                c->quit = 1;
                return;
            }
            if (b == 'h' || b == 'H' || b == '?') {
                if (c->err_fd >= 0)
                    write_all(c->err_fd, console_help, sizeof console_help - 1);
                continue;
            }
            if (b != CONSOLE_ESCAPE)
                continue; /* an unknown escape: swallowed */
        } else if (b == CONSOLE_ESCAPE) {
            c->escape = 1;
            continue;
        }
        c->pend[c->pend_len++] = b;
    }
}

int console_read_input(struct console *c)
{
    uint8_t buf[sizeof c->pend];
    ssize_t n;

    if (!console_want_input(c))
        return 0;
    c->pend_off = 0;
    c->pend_len = 0;
    n = read(c->in_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        c->eof = 1;
        return -1;
    }
    c->in_bytes += (uint64_t)n;
    if (c->is_tty)
        console_filter(c, buf, (size_t)n);
    else {
        memcpy(c->pend, buf, (size_t)n);
        c->pend_len = (size_t)n;
    }
    return 0;
}

size_t console_pump(struct console *c, struct uart *uart)
{
    size_t n;

    if (c->pend_off >= c->pend_len)
        return 0;
    n = uart_rx_push(uart, c->pend + c->pend_off, c->pend_len - c->pend_off);
    c->pend_off += n;
    if (c->pend_off >= c->pend_len)
        c->pend_off = c->pend_len = 0;
    return n;
}

void console_tx(void *opaque, uint8_t byte)
{
    struct console *c = opaque;

    if (c->out_len == sizeof c->out)
        console_flush(c);
    if (c->out_len == 0)
        c->out_first_ns = vclock_host_ns();
    c->out[c->out_len++] = byte;
    c->out_bytes++;
}

int console_flush(struct console *c)
{
    size_t len = c->out_len;

    c->out_len = 0;
    c->out_first_ns = UINT64_MAX;
    if (len == 0 || c->out_fd < 0)
        return 0;
    write_all(c->out_fd, c->out, len);
    return 0;
}

uint64_t console_flush_deadline(const struct console *c)
{
    return c->out_len ? c->out_first_ns + CONSOLE_FLUSH_NS : UINT64_MAX;
}
