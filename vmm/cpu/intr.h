/*
 * intr.h - exception and interrupt delivery for system mode: through the
 * IVT in real mode, through the IDT's interrupt and trap gates in
 * protected mode (SDM 3A 6.12), with the switch to an inner ring's stack
 * from the TSS; through task gates by a task switch (seg_task_switch, the
 * error code pushed on the new task's stack: Linux's #DF handler); double
 * and triple faults (SDM 3A 6.15, table 6-5); IRET, with NT=1 a return to
 * the previous task.
 *
 * Not implemented: virtual-8086 mode (IRET to VM=1 raises #GP(0)), 16-bit
 * TSSs (#GP(selector)).
 */
#ifndef VMP_CPU_INTR_H
#define VMP_CPU_INTR_H

#include "sys.h"

enum intr_kind {
    INTR_EXCEPTION,  /* raised by the CPU; EXT=0 in selector error codes */
    INTR_EXTERNAL,   /* from the interrupt controller; EXT=1 */
    INTR_SOFT,       /* INT n, INT3, INTO: the gate's DPL must be >= CPL */
};

/*
 * Deliver one event: st->eip is the return address the frame gets (the
 * faulting instruction for faults, the next one for traps and INT n).
 * Returns 0 with the state at the handler, or -1 with *f the exception
 * delivery raised (nothing changed).
 */
int intr_deliver(struct sys_ctx *c, uint8_t vector, int has_error, uint32_t error,
                 enum intr_kind kind, struct sys_fault *f);

/*
 * Deliver an event and whatever its delivery raises: a second exception
 * becomes #DF where table 6-5 says so, a fault while delivering #DF shuts
 * the CPU down. For #PF, CR2 is set from cr2. Returns 0, or -1 for a
 * triple fault (the caller exits with CPU_EXIT_SHUTDOWN).
 */
int intr_raise(struct sys_ctx *c, uint8_t vector, int has_error, uint32_t error, uint32_t cr2,
               enum intr_kind kind);

/* Does the exception push an error code (SDM 3A table 6-1)? */
int intr_has_error_code(uint8_t vector);

/* IRET with operand size opsize_bytes (2 or 4). With NT=1 st->eip must
 * hold the next instruction (the old TSS saves it); a failing task return
 * sets f->in_new_task as seg_task_switch says. */
int intr_iret(struct sys_ctx *c, unsigned opsize_bytes, struct sys_fault *f);

#endif
