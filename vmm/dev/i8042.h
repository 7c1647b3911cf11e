/*
 * i8042.h - the PS/2 controller, for its reset line (i8042.c).
 *
 * Lifecycle: i8042_create(&irq1, &irq12, reset, reset_opaque) -> map
 * i8042_data_io_ops at 0x60 and i8042_cmd_io_ops at 0x64 (one port each,
 * opaque the controller; 0x61 belongs to the PIT) -> reset() is called
 * when the guest asks for a system reset (the board ends the run with a
 * "reset" status, spec/machine.md 4.3) -> i8042_destroy().
 */
#ifndef VMP_DEV_I8042_H
#define VMP_DEV_I8042_H

#include "dev.h"

struct i8042;

typedef void i8042_reset_fn(void *opaque);

struct i8042 *i8042_create(const struct dev_irq *irq1, const struct dev_irq *irq12,
                           i8042_reset_fn *reset, void *reset_opaque);
void i8042_destroy(struct i8042 *kbc);

extern const struct dev_io_ops i8042_data_io_ops; /* port 0x60 */
extern const struct dev_io_ops i8042_cmd_io_ops;  /* port 0x64 */

int i8042_save(const struct i8042 *kbc, struct dev_sec_writer *w);
int i8042_restore(struct i8042 *kbc, struct dev_sec_reader *r);

#endif
