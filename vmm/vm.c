/*
 * vm.c - a virtual machine built from a container and run (vmpack/vm.h):
 * guest RAM as a memfd, the board, the disks, the loader, the vCPU, and the
 * two threads (the caller's as the vCPU thread, one I/O thread).
 */
#define _GNU_SOURCE
#include <vmpack/vm.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loader.h"
#include "vm_int.h"

int vm_fail(struct vmp_vm *vm, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(vm->errmsg, sizeof vm->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

void vmp_vm_options_init(struct vmp_vm_options *o)
{
    memset(o, 0, sizeof *o);
    o->console_in_fd = 0;
    o->console_out_fd = 1;
    o->console_err_fd = 2;
}

int vmp_vm_create(vmp_vm **out)
{
    struct vmp_vm *vm;

    *out = NULL;
    vm = calloc(1, sizeof *vm);
    if (vm == NULL)
        return VMP_ERR_NOMEM;
    vm->ram_fd = -1;
    vmp_vm_options_init(&vm->opts);
    *out = vm;
    return 0;
}

void vmp_vm_destroy(vmp_vm *vm)
{
    unsigned i;

    if (vm == NULL)
        return;
    vm_snap_free(vm);
    cpu_destroy(atomic_load(&vm->cpu));
    board_destroy(vm->board);
    for (i = 0; i < vm->ndisks; i++)
        diskback_close(vm->disks[i]);
    if (vm->ram != NULL)
        munmap(vm->ram, vm->ram_bytes);
    if (vm->ram_fd >= 0)
        close(vm->ram_fd);
    free(vm);
}

const char *vmp_vm_errmsg(const vmp_vm *vm)
{
    return vm ? vm->errmsg : "no vm";
}

static void vm_kick(void *opaque)
{
    struct vmp_vm *vm = opaque;
    struct cpu *cpu = atomic_load(&vm->cpu);

    if (cpu != NULL)
        cpu_kick(cpu);
}

static int vm_check_config(struct vmp_vm *vm, const struct vmp_config *cfg)
{
    if (cfg->power != VMP_POWER_OFF && cfg->power != VMP_POWER_SUSPENDED)
        return vm_fail(vm, VMP_ERR_UNSUPPORTED, "power state %u: unknown", (unsigned)cfg->power);
    if (cfg->mem_bytes < MACHINE_RAM_MIN_BYTES || cfg->mem_bytes > MACHINE_RAM_MAX_BYTES ||
        cfg->mem_bytes % MACHINE_RAM_ALIGN_BYTES != 0)
        return vm_fail(vm, VMP_ERR_UNSUPPORTED,
                       "memory: %llu bytes; this machine takes a multiple of 1 MiB from 32 MiB "
                       "to 3 GiB (spec/machine.md 2)",
                       (unsigned long long)cfg->mem_bytes);
    return 0;
}

static int vm_open_disks(struct vmp_vm *vm, const struct vmp_config *cfg)
{
    char err[300];
    uint32_t i;
    int rc;

    for (i = 0; i < cfg->ndevices; i++) {
        const struct vmp_device *d = &cfg->devices[i];
        unsigned image;

        if (strcmp(d->kind, "virtio-blk") != 0)
            continue;
        if (vm->ndisks == BOARD_MAX_DISKS)
            return vm_fail(vm, VMP_ERR_UNSUPPORTED, "device %s: the machine has %d disk slots",
                           d->id, BOARD_MAX_DISKS);
        rc = vmp_reader_image_find(vm->reader, d->image, &image);
        if (rc != 0)
            return vm_fail(vm, rc, "device %s: image '%s': %s", d->id, d->image,
                           vmp_reader_errmsg(vm->reader));
        rc = diskback_open(vm->reader, image, vm->opts.work_dir, &vm->disks[vm->ndisks], err,
                           sizeof err);
        if (rc != 0)
            return vm_fail(vm, rc, "device %s: %s", d->id, err);
        snprintf(vm->disk_ids[vm->ndisks], VMP_NAME_MAX, "%s", d->id);
        vm->ndisks++;
    }
    return 0;
}

/* Deterministic mode (spec/machine.md "Deterministic mode"): a container
 * with a "vm.determinism" section (a suspend in this mode, or `vmpack
 * create --deterministic` for a powered-off one) runs in it with that
 * section's seed, time and clock; otherwise --deterministic starts a powered-off one with
 * a seed derived from its manifest digest, 1 ns per instruction and the
 * RTC at VM_DET_RTC_EPOCH. Sets vm->det and vm->det_params. */
#define VM_DET_RTC_EPOCH 1704067200 /* 2024-01-01T00:00:00Z */
#define VM_DET_NS_PER_INSN 1

static int vm_det_config(struct vmp_vm *vm, const struct vmp_config *cfg)
{
    struct vmp_det *d = &vm->det_params;
    unsigned sec;
    void *data = NULL;
    size_t len = 0;
    char err[300];
    int rc;

    memset(d, 0, sizeof *d);
    vm->det = 0;
    if (vmp_reader_section_find(vm->reader, VMP_DET_SECTION_ID, &sec) == 0) {
        rc = vmp_reader_section_read(vm->reader, sec, &data, &len);
        if (rc != 0)
            return vm_fail(vm, rc, "section %s: %s", VMP_DET_SECTION_ID,
                           vmp_reader_errmsg(vm->reader));
        rc = vmp_det_decode(data, len, d, err, sizeof err);
        free(data);
        if (rc != 0)
            return vm_fail(vm, rc, "%s", err);
        vm->det = 1;
        return 0;
    }
    if (!vm->opts.deterministic)
        return 0;
    if (cfg->power == VMP_POWER_SUSPENDED)
        return vm_fail(vm, VMP_ERR_UNSUPPORTED,
                       "the container was suspended in real-time mode; it cannot continue "
                       "deterministically");
    {
        static const char tag[] = "vmpack deterministic seed v1";
        uint8_t md[VMP_DIGEST_BYTES];
        crypto_generichash_state h;

        vmp_reader_manifest_digest(vm->reader, md);
        crypto_generichash_init(&h, NULL, 0, sizeof d->seed);
        crypto_generichash_update(&h, (const unsigned char *)tag, sizeof tag - 1);
        crypto_generichash_update(&h, md, sizeof md);
        crypto_generichash_final(&h, d->seed, sizeof d->seed);
    }
    d->ns_per_insn = VM_DET_NS_PER_INSN;
    d->rtc_unix_seconds = VM_DET_RTC_EPOCH;
    vm->det = 1;
    return 0;
}

/* Deterministic mode: the board's next device deadline moved (the guest
 * programmed a timer): the vCPU stops at the first block boundary at or
 * past it. vCPU thread, inside cpu_run. */
static void vm_det_deadline(void *opaque, uint64_t guest_ns)
{
    struct vmp_vm *vm = opaque;
    struct cpu *cpu = atomic_load(&vm->cpu);

    if (cpu != NULL)
        cpu_set_icount_deadline(cpu, guest_ns == DEV_NO_DEADLINE
                                         ? UINT64_MAX
                                         : vclock_icount_at(&vm->clock, guest_ns));
}

/* The board's part of deterministic mode, before board_create. */
static void vm_det_board(struct vmp_vm *vm, struct board_config *bc)
{
    const struct vmp_det *d = &vm->det_params;

    atomic_store(&vm->det_icount, d->icount);
    vclock_init_icount(&vm->clock, d->clock_ns - d->icount * d->ns_per_insn, &vm->det_icount,
                       d->ns_per_insn);
    bc->deterministic = 1;
    bc->det_deadline = vm_det_deadline;
    bc->rtc_unix_seconds = d->rtc_unix_seconds;
    bc->rng_seed = d->seed;
    bc->net = 0;
}

int vmp_vm_ram_digest(const vmp_vm *vm, uint8_t digest[32])
{
    if (vm == NULL || vm->ram == NULL)
        return VMP_ERR_STATE;
    crypto_hash_sha256(digest, vm->ram, vm->ram_bytes);
    return 0;
}

static int vm_alloc_ram(struct vmp_vm *vm, uint64_t bytes)
{
    vm->ram_fd = memfd_create("vmpack-ram", MFD_CLOEXEC);
    if (vm->ram_fd < 0)
        return vm_fail(vm, VMP_ERR_IO, "guest RAM: memfd_create: %s", strerror(errno));
    if (ftruncate(vm->ram_fd, (off_t)bytes) != 0)
        return vm_fail(vm, VMP_ERR_IO, "guest RAM: %llu bytes: %s", (unsigned long long)bytes,
                       strerror(errno));
    vm->ram = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vm->ram_fd, 0);
    if (vm->ram == MAP_FAILED) {
        vm->ram = NULL;
        return vm_fail(vm, VMP_ERR_IO, "guest RAM: mmap: %s", strerror(errno));
    }
    vm->ram_bytes = bytes;
    return 0;
}

static int vm_load_linux(struct vmp_vm *vm, const struct vmp_config *cfg,
                         struct vmp_x86_state *state)
{
    void *kernel = NULL, *initrd = NULL;
    size_t kernel_len = 0, initrd_len = 0;
    struct loader_linux lin;
    char err[300];
    int present = 0, rc;
    uint64_t size;
    uint8_t digest[VMP_DIGEST_BYTES];

    rc = vmp_reader_boot_info(vm->reader, VMP_BOOT_KERNEL, &present, &size, digest);
    if (rc == 0 && !present)
        return vm_fail(vm, VMP_ERR_NOT_FOUND, "the container has no kernel to boot");
    if (rc == 0)
        rc = vmp_reader_boot_read(vm->reader, VMP_BOOT_KERNEL, &kernel, &kernel_len);
    if (rc != 0)
        return vm_fail(vm, rc, "kernel: %s", vmp_reader_errmsg(vm->reader));
    rc = vmp_reader_boot_info(vm->reader, VMP_BOOT_INITRD, &present, &size, digest);
    if (rc == 0 && present)
        rc = vmp_reader_boot_read(vm->reader, VMP_BOOT_INITRD, &initrd, &initrd_len);
    if (rc != 0) {
        rc = vm_fail(vm, rc, "initrd: %s", vmp_reader_errmsg(vm->reader));
        goto out;
    }
    memset(&lin, 0, sizeof lin);
    lin.kernel = kernel;
    lin.kernel_bytes = kernel_len;
    lin.initrd = initrd;
    lin.initrd_bytes = initrd_len;
    lin.cmdline = cfg->cmdline;
    lin.virtio_slots = vm->board->virtio_slots;
    rc = loader_boot_linux(vm->ram, vm->ram_bytes, &lin, state, NULL, err, sizeof err);
    if (rc != 0)
        rc = vm_fail(vm, VMP_ERR_UNSUPPORTED, "kernel: %s", err);
out:
    free(kernel);
    free(initrd);
    return rc;
}

int vmp_vm_load(vmp_vm *vm, vmp_reader *r, const struct vmp_vm_options *opts)
{
    const struct vmp_config *cfg;
    struct board_config bc;
    struct cpu_config cc;
    struct vmp_x86_state *state = NULL;
    struct cpu *cpu = NULL;
    char err[300];
    unsigned i;
    int rc;

    if (vm->loaded || vm->board != NULL)
        return vm_fail(vm, VMP_ERR_STATE, "the vm is already loaded");
    vm->reader = r;
    if (opts != NULL)
        vm->opts = *opts;
    cfg = vmp_reader_config(r);
    /* a suspended container brings its RAM (vm_snap.c) */
    if ((rc = vm_check_config(vm, cfg)) != 0 ||
        (rc = cfg->power == VMP_POWER_SUSPENDED ? vm_snap_load_ram(vm)
                                                : vm_alloc_ram(vm, cfg->mem_bytes)) != 0 ||
        (rc = vm_open_disks(vm, cfg)) != 0 || (rc = vm_det_config(vm, cfg)) != 0)
        return rc;

    vclock_init(&vm->clock, 0);
    vclock_pause(&vm->clock); /* guest time starts with vmp_vm_run */
    memset(&bc, 0, sizeof bc);
    bc.ram = vm->ram;
    bc.ram_bytes = vm->ram_bytes;
    bc.clock = &vm->clock;
    bc.rtc_unix_seconds = (int64_t)time(NULL);
    for (i = 0; i < vm->ndisks; i++) {
        bc.disks[i] = diskback_backend(vm->disks[i]);
        bc.disk_ids[i] = vm->disk_ids[i];
    }
    bc.ndisks = vm->ndisks;
    /* the machine's standard set: virtio-net on slirp, virtio-rng */
    bc.net = 1;
    memcpy(bc.mac, (const uint8_t[6]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 6);
    bc.rng = 1;
    bc.console_in_fd = vm->opts.console_in_fd;
    bc.console_out_fd = vm->opts.console_out_fd;
    bc.console_err_fd = vm->opts.console_err_fd;
    bc.kick = vm_kick;
    bc.kick_opaque = vm;
    if (vm->det && vm->opts.net_hostfwd_host_port != 0)
        return vm_fail(vm, VMP_ERR_UNSUPPORTED,
                       "deterministic mode has no network: no port forwarding");
    if (vm->det)
        vm_det_board(vm, &bc);
    if (board_create(&bc, &vm->board, err, sizeof err) != 0)
        return vm_fail(vm, VMP_ERR_NOMEM, "%s", err);
    if (vm->opts.net_hostfwd_host_port != 0 &&
        virtio_net_hostfwd(vm->board->net, 0, vm->opts.net_hostfwd_host_port,
                           vm->opts.net_hostfwd_guest_port) != DEV_OK)
        return vm_fail(vm, VMP_ERR_IO, "port forward 127.0.0.1:%u: the port is taken",
                       vm->opts.net_hostfwd_host_port);

    state = aligned_alloc(64, (sizeof *state + 63) / 64 * 64);
    if (state == NULL)
        return vm_fail(vm, VMP_ERR_NOMEM, "out of memory");
    /* resume: devices, clock and CPU from the container instead of a boot */
    rc = cfg->power == VMP_POWER_SUSPENDED ? vm_snap_restore(vm, state)
                                           : vm_load_linux(vm, cfg, state);
    if (rc != 0)
        goto out;

    memset(&cc, 0, sizeof cc);
    cc.mode = CPU_MODE_SYSTEM;
    cc.profile = &cfg->cpu;
    cc.ram_fd = vm->ram_fd;
    cc.ram_bytes = vm->ram_bytes;
    cc.io = board_cpu_io_ops();
    cc.io_opaque = vm->board;
    rc = cpu_create(&cc, &cpu);
    if (rc != 0) {
        rc = vm_fail(vm, VMP_ERR_UNSUPPORTED, "the vCPU (system mode) could not be created: %s",
                     rc < 0 ? strerror(-rc) : "error");
        goto out;
    }
    *cpu_state(cpu) = *state;
    cpu_state_changed(cpu);
    if (vm->det) {
        /* the clock now follows the vCPU's own count (cpu.h: exact at every
         * exit and inside the I/O callbacks) */
        cpu_set_deterministic(cpu, 1);
        vm->clock.icount = (const _Atomic uint64_t *)&cpu_state(cpu)->icount;
    }
    atomic_store(&vm->cpu, cpu);
    vm->loaded = 1;
out:
    free(state);
    return rc;
}

/* Deterministic mode, before each cpu_run: the timers due at the
 * instruction-count time run, and the vCPU stops at the next deadline. */
static void vm_det_arm(struct vmp_vm *vm, struct cpu *cpu)
{
    uint64_t next = board_det_service(vm->board);

    cpu_set_icount_deadline(cpu, next == DEV_NO_DEADLINE ? UINT64_MAX
                                                         : vclock_icount_at(&vm->clock, next));
}

static void *vm_io_thread(void *arg)
{
    struct vmp_vm *vm = arg;

    while (board_io_step(vm->board, -1) == 0)
        ;
    return NULL;
}

int vmp_vm_run(vmp_vm *vm, struct vmp_vm_exit *exit_info)
{
    struct board *b = vm->board;
    struct cpu *cpu = atomic_load(&vm->cpu);
    struct cpu_exit ex;
    pthread_t io;
    uint64_t t0 = vclock_host_ns();
    int rc = 0, why;

    memset(exit_info, 0, sizeof *exit_info);
    if (!vm->loaded)
        return vm_fail(vm, VMP_ERR_STATE, "vmp_vm_run before a successful vmp_vm_load");
    why = atomic_load(&b->stop);
    if (why == BOARD_STOP_REQUEST) /* continuing after a requested stop */
        atomic_store(&b->stop, BOARD_RUNNING);
    else if (why != BOARD_RUNNING)
        return vm_fail(vm, VMP_ERR_STATE, "the guest has stopped for good");

    pthread_mutex_lock(&b->lock);
    if (console_start(&b->con) != 0) {
        pthread_mutex_unlock(&b->lock);
        return vm_fail(vm, VMP_ERR_IO, "console: cannot set the terminal: %s", strerror(errno));
    }
    pthread_mutex_unlock(&b->lock);
    vclock_resume(&vm->clock);
    if (pthread_create(&io, NULL, vm_io_thread, vm) != 0) {
        rc = vm_fail(vm, VMP_ERR_IO, "cannot start the I/O thread");
        goto out_console;
    }
    /* stopped (or suspended) inside HLT with IF=1: the CPU is still halted
     * (spec/snapshot.md 3.1), so wait as the HLT exit below does */
    if (!vm->det && cpu_state(cpu)->halted && (cpu_state(cpu)->eflags & 0x200))
        board_wait_interrupt(b);
    /* deterministic mode: as its HLT exit does (board_det_idle returns at
     * once when the interrupt that ended the HLT is already pending) */
    if (vm->det && cpu_state(cpu)->halted && (cpu_state(cpu)->eflags & 0x200) &&
        !board_det_idle(b))
        board_wait_interrupt(b);

    while (atomic_load(&b->stop) == BOARD_RUNNING) {
        if (vm->det)
            vm_det_arm(vm, cpu);
        if (cpu_run(cpu, &ex) != 0 && ex.reason != CPU_EXIT_INTERNAL) {
            rc = vm_fail(vm, VMP_ERR_IO, "vCPU: %s", cpu_errmsg(cpu));
            board_request_stop(b, BOARD_STOP_ERROR);
            break;
        }
        switch (ex.reason) {
        case CPU_EXIT_KICK:
        case CPU_EXIT_DEADLINE: /* deterministic mode: vm_det_arm runs the timers */
            break;
        case CPU_EXIT_HLT:
            /* spec/machine.md 4.3: HLT with IF=0 never resumes */
            if (!(cpu_state(cpu)->eflags & 0x200))
                board_request_stop(b, BOARD_STOP_HALTED);
            else if (!vm->det || !board_det_idle(b))
                board_wait_interrupt(b);
            break;
        case CPU_EXIT_SHUTDOWN:
            board_request_stop(b, BOARD_STOP_RESET);
            break;
        case CPU_EXIT_INTERNAL:
            rc = vm_fail(vm, VMP_ERR_IO, "vCPU internal error at EIP 0x%08x: %s",
                         cpu_state(cpu)->eip, cpu_errmsg(cpu));
            board_request_stop(b, BOARD_STOP_ERROR);
            break;
        default:
            rc = vm_fail(vm, VMP_ERR_IO, "vCPU: unexpected exit %d (vector %u) at EIP 0x%08x",
                         (int)ex.reason, ex.vector, cpu_state(cpu)->eip);
            board_request_stop(b, BOARD_STOP_ERROR);
            break;
        }
    }
    board_io_wake(b);
    pthread_join(io, NULL);
    vclock_pause(&vm->clock);

out_console:
    pthread_mutex_lock(&b->lock);
    console_flush(&b->con);
    console_stop(&b->con);
    pthread_mutex_unlock(&b->lock);
    vm->run_ns += vclock_host_ns() - t0;
    exit_info->eip = cpu_state(cpu)->eip;
    switch (atomic_load(&b->stop)) {
    case BOARD_STOP_POWEROFF:
        exit_info->reason = VMP_VM_POWEROFF;
        break;
    case BOARD_STOP_HALTED:
        exit_info->reason = VMP_VM_HALTED;
        break;
    case BOARD_STOP_RESET:
        exit_info->reason = VMP_VM_RESET;
        break;
    case BOARD_STOP_QUIT:
        exit_info->reason = VMP_VM_QUIT;
        break;
    case BOARD_STOP_ERROR:
        if (rc == 0)
            rc = vm_fail(vm, VMP_ERR_NOMEM, "the board failed (out of memory)");
        exit_info->reason = VMP_VM_STOPPED;
        break;
    default:
        exit_info->reason = vm_snap_suspend_pending(vm) ? VMP_VM_SUSPEND : VMP_VM_STOPPED;
        break;
    }
    return rc;
}

void vmp_vm_request_stop(vmp_vm *vm)
{
    if (vm != NULL && vm->board != NULL)
        board_request_stop(vm->board, BOARD_STOP_REQUEST);
}

void vmp_vm_get_stats(const vmp_vm *vm, struct vmp_vm_stats *st)
{
    struct cpu *cpu = atomic_load(&((struct vmp_vm *)vm)->cpu);
    unsigned i;

    memset(st, 0, sizeof *st);
    if (cpu != NULL) {
        struct cpu_stats cs;

        cpu_get_stats(cpu, &cs);
        st->blocks_translated = cs.blocks_translated;
        st->cache_flushes = cs.cache_flushes;
        st->smc_invalidations = cs.smc_invalidations;
        st->cpu_exits = cs.exits;
        st->helper_calls = cs.helper_calls;
        st->view_maps = cs.view_maps;
        st->view_flushes = cs.view_flushes;
        st->view_resets = cs.view_resets;
        st->icount = cpu_state(cpu)->icount;
    }
    st->deterministic = vm->det;
    if (vm->board != NULL) {
        st->irqs_delivered = vm->board->stats.irqs_delivered;
        st->hlt_waits = vm->board->stats.hlt_waits;
        st->io_wakeups = vm->board->stats.io_wakeups;
        st->unclaimed_mmio = vm->board->stats.unclaimed_mmio;
        st->console_in_bytes = vm->board->con.in_bytes;
        st->console_out_bytes = vm->board->con.out_bytes;
    }
    for (i = 0; i < vm->ndisks; i++)
        st->disk_dirty_chunks += diskback_dirty_count(vm->disks[i]);
    st->run_ns = vm->run_ns;
}
