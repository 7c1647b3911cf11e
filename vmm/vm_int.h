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
    char errmsg[512];
};

#endif
