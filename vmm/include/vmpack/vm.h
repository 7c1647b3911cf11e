/*
 * vmpack/vm.h - run a virtual machine from a container: the VMM's public
 * API for tools (vmpack run, and later suspend and resume).
 *
 * Lifecycle:
 *   1. vmp_vm_create(&vm).
 *   2. vmp_vm_load(vm, reader, &opts): builds the machine of
 *      spec/machine.md from the open container (which must stay open until
 *      vmp_vm_destroy): guest RAM (a memfd of the configured size), the
 *      devices, the disks (copy-on-write over the container's chunks), the
 *      vCPU with the container's CPU profile, and the Linux kernel, initrd
 *      and command line placed by the loader; or, for a suspended
 *      container, the saved RAM, devices, vCPU and clock (below).
 *   3. vmp_vm_run(vm, &exit) runs the guest on the calling thread (the vCPU
 *      thread; a second thread serves timers, the console and the network)
 *      until the guest powers off, halts, asks for a reset, the console's
 *      quit key is pressed, or vmp_vm_request_stop() is called. After a
 *      requested stop the vCPU is at an instruction boundary with all
 *      device calls finished: the place where a later vmp_vm_save (CPU
 *      state, each device's section, the RAM memfd, the disks' dirty
 *      chunks) will run; calling vmp_vm_run again continues the guest.
 *   4. vmp_vm_destroy(vm): frees everything and restores the terminal.
 *      destroy(NULL) does nothing.
 *
 * Errors: calls return 0 or a negative vmp_status (vmpack/error.h); the
 * message is on the handle (vmp_vm_errmsg). The library never prints: the
 * console's bytes go to the fds given in the options.
 * Thread safety: one thread drives a vm; vmp_vm_request_stop may be called
 * from any thread and from a signal handler (handlers in a process that runs
 * a vm must be installed with SA_ONSTACK, see vmm/cpu/cpu.h).
 */
#ifndef VMPACK_VM_H
#define VMPACK_VM_H

#include <stdint.h>

#include <vmpack/reader.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmp_vm vmp_vm;

struct vmp_vm_options {
    /* COM1, the console. in_fd < 0: no input. A terminal is put in raw mode
     * for the run, with the escape key Ctrl-A (x quits, h helps). Anything
     * else is fed to the guest as is, as fast as its UART takes it. */
    int console_in_fd;
    int console_out_fd;
    int console_err_fd;              /* the escape-key hint and help; < 0: none */
    const char *work_dir;            /* where the disks' working files go; NULL: /var/tmp */
    uint16_t net_hostfwd_host_port;  /* 0: none; else forward 127.0.0.1:host to */
    uint16_t net_hostfwd_guest_port; /* the guest's 10.0.2.15:guest (TCP) */
    /* Deterministic mode (spec/machine.md "Deterministic mode"): the clock
     * counts guest instructions, entropy comes from a seed in the container,
     * no network; the same container with the same console input runs the
     * same instruction stream. A container saved in this mode resumes in it
     * whatever this says; a suspended real-time one cannot be made so. */
    int deterministic;
};

/* Defaults: stdin, stdout, stderr; /var/tmp; no port forwarding. */
void vmp_vm_options_init(struct vmp_vm_options *o);

int vmp_vm_create(vmp_vm **out);
void vmp_vm_destroy(vmp_vm *vm);
const char *vmp_vm_errmsg(const vmp_vm *vm);

int vmp_vm_load(vmp_vm *vm, vmp_reader *r, const struct vmp_vm_options *opts);

enum vmp_vm_stop {
    VMP_VM_POWEROFF = 1, /* ACPI S5: the guest powered off */
    VMP_VM_HALTED = 2,   /* HLT with interrupts off: nothing can wake it */
    VMP_VM_RESET = 3,    /* the guest asked for a reset (reboot, panic=-1, triple fault);
                            the VM is not rebooted */
    VMP_VM_STOPPED = 4,  /* vmp_vm_request_stop() */
    VMP_VM_QUIT = 5,     /* the console's quit key */
    VMP_VM_SUSPEND = 6,  /* a control client asked for a suspend: vmp_vm_control_suspend */
};

struct vmp_vm_exit {
    enum vmp_vm_stop reason;
    uint32_t eip; /* the guest's EIP when it stopped */
};

/* 0 with *exit filled, or a negative vmp_status (VMP_ERR_IO, an internal
 * error of the translator, VMP_ERR_STATE when not loaded). */
int vmp_vm_run(vmp_vm *vm, struct vmp_vm_exit *exit);

/* Async-signal-safe. */
void vmp_vm_request_stop(vmp_vm *vm);

struct vmp_vm_stats {
    uint64_t blocks_translated, cache_flushes, smc_invalidations, cpu_exits, helper_calls;
    uint64_t irqs_delivered, hlt_waits, io_wakeups, unclaimed_mmio;
    uint64_t console_in_bytes, console_out_bytes;
    uint64_t disk_dirty_chunks;
    uint64_t run_ns;
    uint64_t icount;      /* guest instructions retired since power on */
    int deterministic;    /* the VM runs in deterministic mode */
    /* system mode's shadow views (vmm/cpu/cpu.h struct cpu_stats): pages
     * mapped on a fault, both views emptied, of those at the host's limit */
    uint64_t view_maps, view_flushes, view_resets;
};
void vmp_vm_get_stats(const vmp_vm *vm, struct vmp_vm_stats *st);

/* SHA-256 of the whole guest RAM, with the vCPU stopped (after vmp_vm_run
 * returned): two deterministic runs compare with it. 0 or VMP_ERR_STATE. */
int vmp_vm_ram_digest(const vmp_vm *vm, uint8_t digest[32]);

/* ---- suspend and resume (vm_snap.c, spec/snapshot.md) ---------------------
 * Resume: vmp_vm_load of a suspended container restores guest RAM, every
 * device, the vCPU and the virtual clock instead of booting the kernel;
 * the disks start from the container's images. vmp_vm_run then continues
 * the guest at the instruction where it stopped.
 * Suspend through the API: once vmp_vm_run has returned VMP_VM_STOPPED or
 * VMP_VM_SUSPEND, vmp_vm_save writes the whole state into a suspended
 * container at path (atomically: path keeps its old content until the new
 * one is complete; path may be the container the VM runs from). The VM
 * may run on afterwards.
 * Suspend through the control socket (vmm/ctl.h): vmp_vm_control_open
 * before vmp_vm_run; a client's "suspend PATH" request stops the guest and
 * makes vmp_vm_run return VMP_VM_SUSPEND; vmp_vm_control_suspend then saves
 * to that PATH with progress lines to the client and answers it. The
 * socket's "quit" request ends vmp_vm_run with VMP_VM_QUIT.
 */
struct vmp_vm_save_stats {
    uint64_t chunks_new;                    /* compressed and stored anew */
    uint64_t chunks_copied;                 /* unchanged: copied from the source by digest */
    uint64_t chunks_zero;                   /* all zero: not stored */
    uint64_t ram_new, ram_copied, ram_zero; /* the RAM image's part of the above */
    uint64_t bytes_new;                     /* uncompressed bytes stored anew */
    uint64_t file_bytes;                    /* the container's size */
    double seconds;                         /* wall time of the save */
};

/* Called after each chunk with bytes done and the total; nonzero aborts the
 * save (VMP_ERR_CALLBACK; path untouched). */
typedef int vmp_vm_progress_fn(void *ctx, uint64_t done_bytes, uint64_t total_bytes);

/* 0, VMP_ERR_STATE (not loaded, or the guest is running or has ended for
 * good), or the writer's error (path untouched). stats may be NULL. */
int vmp_vm_save(vmp_vm *vm, const char *path, vmp_vm_progress_fn *progress, void *ctx,
                struct vmp_vm_save_stats *stats);

/* Opens the control socket NAME in $XDG_RUNTIME_DIR/vmpack (xdg_runtime_dir
 * as the caller read it; NULL or "": /tmp/vmpack-UID), serving "status",
 * "suspend PATH" and "quit" from the I/O thread; container is what
 * "status" reports. After vmp_vm_load. VMP_ERR_STATE if a live VM holds the
 * name. The socket is removed by vmp_vm_destroy or a successful suspend. */
int vmp_vm_control_open(vmp_vm *vm, const char *xdg_runtime_dir, const char *name,
                        const char *container);

/* After vmp_vm_run returned VMP_VM_SUSPEND: saves to the PATH the client
 * gave (copied to path, pathlen may be 0), telling the client the progress
 * and then "ok" with the figures or "error" with the reason. 0 when the
 * guest is saved (the socket is closed: end the process, the guest now
 * lives in the container); else the save's error (the client was told; the
 * guest may continue with vmp_vm_run). */
int vmp_vm_control_suspend(vmp_vm *vm, char *path, size_t pathlen,
                           struct vmp_vm_save_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
