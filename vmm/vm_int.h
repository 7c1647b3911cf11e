/*
 * vm_int.h - the inside of a struct vmp_vm, for the VMM's own files that
 * work on a whole VM (vm.c; later the suspend/resume code, which needs,
 * with the vCPU stopped after vmp_vm_run returned VMP_VM_STOPPED: the CPU
 * state (cpu_state(vm->cpu)), each device's section (vm->board's devices,
 * PIC first: dev.h), the RAM memfd (vm->ram_fd, vm->ram_bytes), the disks'
 * dirty chunks (diskback_dirty_next on vm->disks[]) and the virtual clock
 * (vclock_now(&vm->clock), paused while stopped)).
 * Not a public header: tools use vmpack/vm.h.
 */
#ifndef VMP_VM_INT_H
#define VMP_VM_INT_H

#include <vmpack/vm.h>

#include "board.h"
#include "diskback.h"

struct vmp_vm {
    vmp_reader *reader;
    struct vmp_vm_options opts;
    int ram_fd;
    uint8_t *ram;
    uint64_t ram_bytes;
    struct vclock clock;
    struct diskback *disks[BOARD_MAX_DISKS];
    char disk_ids[BOARD_MAX_DISKS][VMP_NAME_MAX];
    unsigned ndisks;
    struct board *board;
    struct cpu *_Atomic cpu;
    int loaded;
    uint64_t run_ns;
    struct vm_snap *snap; /* vm_snap.c: resume state, control socket; NULL if unused */
    int det;              /* deterministic mode (vm.c, vm_det_config) */
    struct vmp_det det_params;
    _Atomic uint64_t det_icount; /* the icount clock's source until the vCPU exists */
    char errmsg[512];
};

/* vm.c: the message of a failure into vm->errmsg (vmp_vm_errmsg);
 * returns status. */
int vm_fail(struct vmp_vm *vm, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vm_snap.c: the suspend and resume steps vm.c calls. */
/* Suspended container: RAM from the container into vm->ram_fd/ram/ram_bytes
 * (in place of a fresh memfd), the CPU and device sections kept for
 * vm_snap_restore. */
int vm_snap_load_ram(struct vmp_vm *vm);
/* After board_create, in place of the kernel loader: devices (board_restore),
 * the virtual clock, and the CPU state into *state. */
int vm_snap_restore(struct vmp_vm *vm, struct vmp_x86_state *state);
/* 1 if a control client's suspend is waiting (vmp_vm_run's exit reason). */
int vm_snap_suspend_pending(const struct vmp_vm *vm);
void vm_snap_free(struct vmp_vm *vm);

#endif
