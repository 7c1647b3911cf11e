/*
 * uart.h - a 16550A serial port (uart.c), COM1 of the board: the console.
 *
 * Lifecycle: uart_create(&irq4, tx, tx_opaque) -> map uart_io_ops at 0x3F8
 * (8 ports, opaque uart) -> bytes the guest transmits go to tx(); the
 * board pushes received bytes with uart_rx_push() (it accepts as many as
 * fit in the receive FIFO and returns that count: the board keeps the rest
 * and retries after the guest reads, e.g. when uart_rx_room() > 0) ->
 * uart_destroy().
 */
#ifndef VMP_DEV_UART_H
#define VMP_DEV_UART_H

#include "dev.h"

struct uart;

typedef void uart_tx_fn(void *opaque, uint8_t byte);

struct uart *uart_create(const struct dev_irq *irq, uart_tx_fn *tx, void *tx_opaque);
void uart_destroy(struct uart *uart);

extern const struct dev_io_ops uart_io_ops;

size_t uart_rx_push(struct uart *uart, const uint8_t *bytes, size_t len);
size_t uart_rx_room(const struct uart *uart);

int uart_save(const struct uart *uart, struct dev_sec_writer *w);
int uart_restore(struct uart *uart, struct dev_sec_reader *r);

#endif
