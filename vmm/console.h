/*
 * console.h - COM1 as the user's console: the UART's output to an fd
 * (buffered, flushed by the board's I/O loop within a few milliseconds),
 * and input from an fd into the UART's receive FIFO.
 *
 * Lifecycle:
 *   1. console_init(&c, in_fd, out_fd, err_fd): in_fd < 0 means no input.
 *      When in_fd is a terminal, console_start() puts it in raw mode, and
 *      the escape key works: Ctrl-A x quits, Ctrl-A h prints help on
 *      err_fd, Ctrl-A Ctrl-A sends one Ctrl-A. When it is not a terminal
 *      (a pipe, a file), its bytes go to the guest as they are, and at its
 *      end input simply stops.
 *   2. The board's I/O loop: console_want_input() says whether to poll
 *      in_fd; console_read_input() after poll says it is readable;
 *      console_pump() moves pending input into the UART as far as its
 *      receive FIFO has room (flow control: nothing is dropped; the board
 *      calls it again after the guest reads the UART).
 *   3. console_tx() is the UART's transmit callback.
 *   4. console_stop() restores the terminal (also safe to call twice, and
 *      from an atexit handler: it only uses tcsetattr).
 * Not thread-safe: the board calls it under its device lock.
 */
#ifndef VMP_CONSOLE_H
#define VMP_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "dev/uart.h"

#define CONSOLE_ESCAPE    0x01 /* Ctrl-A */
#define CONSOLE_OUT_BYTES 4096

struct console {
    int in_fd, out_fd, err_fd;
    int is_tty;
    int raw; /* raw mode is on: restore at stop */
    struct termios saved;
    int eof;           /* in_fd ended or failed */
    int escape;        /* the last input byte was the escape key */
    int quit;          /* the user asked to quit (Ctrl-A x) */
    uint8_t pend[512]; /* read from in_fd, not yet in the UART */
    size_t pend_off, pend_len;
    uint8_t out[CONSOLE_OUT_BYTES];
    size_t out_len;
    uint64_t out_first_ns; /* host ns of the oldest buffered output byte */
    uint64_t in_bytes, out_bytes;
};

void console_init(struct console *c, int in_fd, int out_fd, int err_fd);
/* Raw mode when in_fd is a terminal, and the escape-key hint on err_fd.
 * 0, or -1 if the terminal cannot be set (errno). */
int console_start(struct console *c);
void console_stop(struct console *c);

int console_want_input(const struct console *c);
/* Read what in_fd has (it is readable); 0, or -1 at its end. */
int console_read_input(struct console *c);
/* Push pending input into the UART. Returns how many bytes went in. */
size_t console_pump(struct console *c, struct uart *uart);

void console_tx(void *opaque, uint8_t byte);
/* Write buffered output; returns 0 or -1 (errno) if out_fd failed. */
int console_flush(struct console *c);
/* Host ns by which buffered output should be flushed, or UINT64_MAX. */
uint64_t console_flush_deadline(const struct console *c);

#endif
