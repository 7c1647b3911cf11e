/*
 * vm_snap.c - suspend and resume of a whole VM (vmpack/vm.h, spec/snapshot.md):
 * gathers what snapshot_save needs from a stopped struct vmp_vm (CPU state,
 * the board's device sections, the virtual clock, the RAM memfd, the disks'
 * dirty chunks), restores a VM from snapshot_load's result, and serves the
 * control socket's "suspend PATH" and "quit" requests (vmm/ctl.h) from the
 * board's I/O thread.
 *
 * The suspend handshake: the request arrives on the I/O thread, which keeps
 * the client's connection and asks the board to stop; the vCPU stops at the
 * next block boundary (DESIGN.md "Exits without per-block cost") and
 * vmp_vm_run joins the I/O thread and returns VMP_VM_SUSPEND; the caller's
 * thread then saves (vmp_vm_control_suspend) with nothing else running, so
 * no device request is in flight (spec/devices.md 7: requests complete
 * inside the guest's QueueNotify write).
 */
#define _GNU_SOURCE
#include <vmpack/vm.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctl.h"
#include "snapshot.h"
#include "vm_int.h"

/* spec/devices.md 8: the virtual clock's value at the save. */
#define VM_CLOCK_SECTION "vm.clock"
#define VM_CLOCK_VERSION 1
#define VM_SECTIONS_MAX  24
/* Progress lines to a control client: at most five a second. */
#define VM_PROGRESS_NS 200000000ull

struct vm_snap {
    struct snapshot_state st; /* resume: the loaded state until vm_snap_restore */
    int have_state;
    struct ctl_server *ctl;
    struct ctl_conn *pending; /* a client's suspend, answered by vmp_vm_control_suspend */
    char pending_path[VMP_CTL_LINE_MAX];
    uint64_t last_progress_ns;
    int progress_sent;
};

static struct vm_snap *vm_snap_get(struct vmp_vm *vm)
{
    if (vm->snap == NULL) {
        vm->snap = calloc(1, sizeof *vm->snap);
        if (vm->snap != NULL)
            vm->snap->st.ram_fd = -1;
    }
    return vm->snap;
}

void vm_snap_free(struct vmp_vm *vm)
{
    struct vm_snap *s = vm->snap;

    if (s == NULL)
        return;
    if (s->pending != NULL) {
        ctl_reply(s->pending, 0, "the guest stopped before it could be suspended");
        ctl_conn_close(s->pending);
    }
    ctl_server_close(s->ctl);
    if (s->have_state)
        snapshot_state_free(&s->st);
    free(s);
    vm->snap = NULL;
}

int vm_snap_suspend_pending(const struct vmp_vm *vm)
{
    return vm->snap != NULL && vm->snap->pending != NULL;
}

/* ---- resume ---------------------------------------------------------------- */

int vm_snap_load_ram(struct vmp_vm *vm)
{
    struct vm_snap *s = vm_snap_get(vm);
    char err[400];
    int rc;

    if (s == NULL)
        return vm_fail(vm, VMP_ERR_NOMEM, "out of memory");
    rc = snapshot_load(vm->reader, &s->st, NULL, err, sizeof err);
    s->have_state = 1;
    if (rc != 0)
        return vm_fail(vm, rc, "suspended state: %s", err);
    vm->ram_fd = s->st.ram_fd;
    s->st.ram_fd = -1;
    vm->ram = mmap(NULL, s->st.ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vm->ram_fd, 0);
    if (vm->ram == MAP_FAILED) {
        vm->ram = NULL;
        return vm_fail(vm, VMP_ERR_IO, "guest RAM: mmap: %s", strerror(errno));
    }
    vm->ram_bytes = s->st.ram_bytes;
    return 0;
}

static int vm_snap_find(void *ctx, const char *name, const void **data, size_t *len)
{
    const struct snapshot_section *sec = snapshot_state_section(ctx, name);

    if (sec == NULL)
        return 0;
    *data = sec->data;
    *len = sec->len;
    return 1;
}

/* spec/devices.md 8 */
static int vm_snap_restore_clock(struct vmp_vm *vm, const struct snapshot_state *st)
{
    const struct snapshot_section *sec = snapshot_state_section(st, VM_CLOCK_SECTION);
    struct dev_sec_reader r;
    uint64_t now_ns;

    if (sec == NULL)
        return vm_fail(vm, VMP_ERR_FORMAT, "section %s: missing", VM_CLOCK_SECTION);
    dev_sec_reader_init(&r, VM_CLOCK_SECTION, sec->data, sec->len);
    dev_sec_get_version(&r, VM_CLOCK_VERSION);
    now_ns = dev_sec_get_u64(&r);
    if (dev_sec_end(&r) != DEV_OK)
        return vm_fail(vm, VMP_ERR_FORMAT, "%s", dev_sec_reader_errmsg(&r));
    /* The guest sees no time pass while suspended (DESIGN.md "Time"); an
     * instruction-count clock follows from the restored icount instead. */
    if (vm->clock.source == VCLOCK_HOST) {
        vclock_init(&vm->clock, now_ns);
        /* paused at exactly the saved value (vclock_pause would add the
         * nanoseconds since the init); vmp_vm_run resumes it */
        atomic_store(&vm->clock.paused_at_ns, now_ns);
    }
    return 0;
}

int vm_snap_restore(struct vmp_vm *vm, struct vmp_x86_state *state)
{
    struct vm_snap *s = vm->snap;
    char err[300];
    int rc;

    if (s == NULL || !s->have_state)
        return vm_fail(vm, VMP_ERR_STATE, "resume: no suspended state loaded");
    if ((rc = vm_snap_restore_clock(vm, &s->st)) != 0)
        return rc;
    /* spec/devices.md 1: RAM is in place; the board restores the PIC first. */
    err[0] = '\0';
    rc = board_restore(vm->board, vm_snap_find, &s->st, err, sizeof err);
    if (rc != DEV_OK)
        return vm_fail(vm, VMP_ERR_FORMAT, "device state: %s", err);
    *state = s->st.cpu;
    snapshot_state_free(&s->st);
    s->have_state = 0;
    return 0;
}

/* ---- suspend --------------------------------------------------------------- */

struct vm_snap_sections {
    struct snapshot_section s[VM_SECTIONS_MAX];
    size_t n;
};

static void vm_snap_sections_free(struct vm_snap_sections *ss)
{
    size_t i;

    for (i = 0; i < ss->n; i++) {
        free((void *)ss->s[i].id);
        free((void *)ss->s[i].data);
    }
    ss->n = 0;
}

static int vm_snap_sink(void *ctx, const char *name, const void *data, size_t len)
{
    struct vm_snap_sections *ss = ctx;
    struct snapshot_section *sec;
    char *id;
    void *copy;

    if (ss->n == VM_SECTIONS_MAX)
        return DEV_ENOMEM;
    id = strdup(name);
    copy = malloc(len ? len : 1);
    if (id == NULL || copy == NULL) {
        free(id);
        free(copy);
        return DEV_ENOMEM;
    }
    memcpy(copy, data, len);
    sec = &ss->s[ss->n++];
    sec->id = id;
    sec->version = 1; /* the container's section version; the layout has its own */
    sec->flags = VMP_SECTION_REQUIRED;
    sec->data = copy;
    sec->len = len;
    return 0;
}

static int vm_snap_clock_section(struct vmp_vm *vm, struct vm_snap_sections *ss)
{
    struct dev_sec_writer w;
    int rc;

    dev_sec_writer_init(&w);
    dev_sec_put_u32(&w, VM_CLOCK_VERSION);
    dev_sec_put_u64(&w, vclock_now(&vm->clock));
    rc = dev_sec_writer_status(&w);
    if (rc == DEV_OK)
        rc = vm_snap_sink(ss, VM_CLOCK_SECTION, w.buf, w.len);
    dev_sec_writer_free(&w);
    return rc;
}

/* The source image of each disk, in vm->disks[] order (as vm.c opened them). */
static int vm_snap_disks(struct vmp_vm *vm, struct snapshot_disk *dk)
{
    const struct vmp_config *cfg = vmp_reader_config(vm->reader);
    unsigned n = 0, image;
    uint32_t i;

    for (i = 0; i < cfg->ndevices && n < vm->ndisks; i++) {
        if (strcmp(cfg->devices[i].kind, "virtio-blk") != 0)
            continue;
        if (vmp_reader_image_find(vm->reader, cfg->devices[i].image, &image) != 0)
            return vm_fail(vm, VMP_ERR_NOT_FOUND, "device %s: image '%s': %s", cfg->devices[i].id,
                           cfg->devices[i].image, vmp_reader_errmsg(vm->reader));
        snapshot_disk_diskback(&dk[n], vm->disks[n], image);
        n++;
    }
    if (n != vm->ndisks)
        return vm_fail(vm, VMP_ERR_STATE, "%u disks open, %u in the config", vm->ndisks, n);
    return 0;
}

/*
 * The CPU state as the container keeps it: nothing of the host (DESIGN.md
 * "The container"). The translator's 64-bit FXSAVE image (SDM 1 10.5.1,
 * table 10-2) holds host values in the x87 last-instruction and
 * last-operand pointers (bytes 8-23: the host address of the translated
 * instruction), MXCSR_MASK (28-31: this CPU's) and XMM8-15 and the
 * reserved area (288-511: registers a 32-bit guest cannot name). They are
 * zeroed: FXRSTOR ignores MXCSR_MASK, and a guest never sees the others
 * with a meaning.
 */
static void vm_snap_neutral_cpu(struct vmp_x86_state *s)
{
    memset(s->fxsave + 8, 0, 16);
    memset(s->fxsave + 28, 0, 4);
    memset(s->fxsave + 288, 0, 512 - 288);
}

int vmp_vm_save(vmp_vm *vm, const char *path, vmp_vm_progress_fn *progress, void *ctx,
                struct vmp_vm_save_stats *stats)
{
    struct snapshot_disk dk[BOARD_MAX_DISKS];
    struct vm_snap_sections ss;
    struct snapshot_stats st;
    struct snapshot_in in;
    struct vmp_x86_state *cpu_copy = NULL;
    struct cpu *cpu;
    char err[400];
    int rc, why;

    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (vm == NULL || path == NULL)
        return VMP_ERR_INVALID;
    cpu = atomic_load(&vm->cpu);
    if (!vm->loaded || cpu == NULL)
        return vm_fail(vm, VMP_ERR_STATE, "save: the vm is not loaded");
    /* Never run, stopped on request, or quit: the guest can go on from here.
     * After a power off, halt, reset or error it cannot. */
    why = atomic_load(&vm->board->stop);
    if (why != BOARD_RUNNING && why != BOARD_STOP_REQUEST && why != BOARD_STOP_QUIT)
        return vm_fail(vm, VMP_ERR_STATE, "save: the guest has stopped for good");
    memset(&ss, 0, sizeof ss);
    rc = board_save(vm->board, vm_snap_sink, &ss);
    if (rc == 0)
        rc = vm_snap_clock_section(vm, &ss);
    if (rc != 0) {
        rc = vm_fail(vm, VMP_ERR_NOMEM, "save: device state: error %d", rc);
        goto out;
    }
    if ((rc = vm_snap_disks(vm, dk)) != 0)
        goto out;
    cpu_copy = aligned_alloc(64, (sizeof *cpu_copy + 63) / 64 * 64);
    if (cpu_copy == NULL) {
        rc = vm_fail(vm, VMP_ERR_NOMEM, "out of memory");
        goto out;
    }
    *cpu_copy = *cpu_state(cpu);
    vm_snap_neutral_cpu(cpu_copy);
    memset(&in, 0, sizeof in);
    in.config = vmp_reader_config(vm->reader);
    in.cpu = cpu_copy;
    in.sections = ss.s;
    in.nsections = ss.n;
    in.ram_fd = vm->ram_fd;
    in.ram_bytes = vm->ram_bytes;
    in.src = vm->reader;
    in.disks = dk;
    in.ndisks = vm->ndisks;
    in.progress = progress;
    in.progress_ctx = ctx;
    rc = snapshot_save(&in, path, &st, err, sizeof err);
    if (rc != 0) {
        rc = vm_fail(vm, rc, "save to %s: %s", path, err);
        goto out;
    }
    if (stats != NULL) {
        stats->chunks_new = st.chunks_new;
        stats->chunks_copied = st.chunks_copied;
        stats->chunks_zero = st.chunks_zero;
        stats->ram_new = st.ram_new;
        stats->ram_copied = st.ram_copied;
        stats->ram_zero = st.ram_zero;
        stats->bytes_new = st.bytes_new;
        stats->file_bytes = st.file_bytes;
        stats->seconds = st.seconds;
    }
out:
    free(cpu_copy);
    vm_snap_sections_free(&ss);
    return rc;
}

/* ---- the control socket ---------------------------------------------------- */

/* The I/O thread (board_set_extra_fd), without the board's lock. */
static int vm_snap_ctl_handler(void *ctx, struct ctl_conn *c, const char *verb, const char *arg)
{
    struct vmp_vm *vm = ctx;
    struct vm_snap *s = vm->snap;

    if (strcmp(verb, "suspend") == 0) {
        if (arg[0] != '/') {
            ctl_reply(c, 0, "suspend: expected an absolute container path, got '%s'", arg);
            return 0;
        }
        if (s->pending != NULL) {
            ctl_reply(c, 0, "a suspend is already under way");
            return 0;
        }
        snprintf(s->pending_path, sizeof s->pending_path, "%s", arg);
        s->pending = c;
        s->progress_sent = 0;
        ctl_server_set_state(s->ctl, "suspending");
        ctl_progress(c, "stopping the guest");
        board_request_stop(vm->board, BOARD_STOP_REQUEST);
        return 1;
    }
    if (strcmp(verb, "quit") == 0) {
        if (s->pending != NULL) {
            ctl_reply(c, 0, "a suspend is under way");
            return 0;
        }
        ctl_reply(c, 1, "the VM stops");
        board_request_stop(vm->board, BOARD_STOP_QUIT);
        return 0;
    }
    ctl_reply(c, 0, "unknown request '%s'", verb);
    return 0;
}

static void vm_snap_ctl_ready(void *ctx)
{
    struct vmp_vm *vm = ctx;

    if (vm->snap != NULL && vm->snap->ctl != NULL)
        ctl_server_handle(vm->snap->ctl);
}

int vmp_vm_control_open(vmp_vm *vm, const char *xdg_runtime_dir, const char *name,
                        const char *container)
{
    struct vm_snap *s;
    char dir[VMP_CTL_PATH_MAX], err[400];
    int rc;

    if (!vm->loaded)
        return vm_fail(vm, VMP_ERR_STATE, "control socket: the vm is not loaded");
    s = vm_snap_get(vm);
    if (s == NULL)
        return vm_fail(vm, VMP_ERR_NOMEM, "out of memory");
    if (s->ctl != NULL)
        return vm_fail(vm, VMP_ERR_STATE, "control socket: already open");
    rc = vmp_ctl_dir(xdg_runtime_dir, dir, sizeof dir, err, sizeof err);
    if (rc == 0)
        rc = ctl_server_open(dir, name, container, vm_snap_ctl_handler, vm, &s->ctl, err,
                             sizeof err);
    if (rc != 0)
        return vm_fail(vm, rc, "control socket: %s", err);
    ctl_server_set_state(s->ctl, "running");
    board_set_extra_fd(vm->board, ctl_server_fd(s->ctl), vm_snap_ctl_ready, vm);
    return 0;
}

/* During the save, on the caller's thread: progress to the client, and
 * "status" answered for `vmpack ps` (the I/O thread is gone). */
static int vm_snap_ctl_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct vm_snap *s = ctx;
    uint64_t now = vclock_host_ns();
    struct pollfd pfd;

    if (!s->progress_sent || now - s->last_progress_ns >= VM_PROGRESS_NS || done == total) {
        ctl_progress(s->pending, "progress %llu %llu", (unsigned long long)done,
                     (unsigned long long)total);
        s->last_progress_ns = now;
        s->progress_sent = 1;
    }
    pfd.fd = ctl_server_fd(s->ctl);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) == 1)
        ctl_server_handle(s->ctl); /* a second suspend is refused: one is pending */
    return 0;
}

int vmp_vm_control_suspend(vmp_vm *vm, char *path, size_t pathlen, struct vmp_vm_save_stats *stats)
{
    struct vm_snap *s = vm->snap;
    struct vmp_vm_save_stats local;
    struct ctl_conn *c;
    struct cpu *cpu = atomic_load(&vm->cpu);
    int rc;

    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (s == NULL || s->pending == NULL)
        return vm_fail(vm, VMP_ERR_STATE, "no suspend was requested");
    c = s->pending;
    if (path != NULL && pathlen > 0)
        snprintf(path, pathlen, "%s", s->pending_path);
    ctl_progress(c, "stopped at EIP 0x%08x; saving to %s", cpu_state(cpu)->eip, s->pending_path);
    rc = vmp_vm_save(vm, s->pending_path, vm_snap_ctl_progress, s, stats);
    if (rc == 0) {
        /* The socket goes first: once the client hears "ok", this VM is no
         * longer listed or reachable. */
        board_set_extra_fd(vm->board, -1, NULL, NULL);
        ctl_server_close(s->ctl);
        s->ctl = NULL;
        ctl_reply(c, 1,
                  "pid=%ld chunks_new=%llu chunks_copied=%llu chunks_zero=%llu ram_new=%llu "
                  "ram_copied=%llu ram_zero=%llu bytes_new=%llu file_bytes=%llu seconds=%.3f "
                  "path=%s",
                  (long)getpid(), (unsigned long long)stats->chunks_new,
                  (unsigned long long)stats->chunks_copied, (unsigned long long)stats->chunks_zero,
                  (unsigned long long)stats->ram_new, (unsigned long long)stats->ram_copied,
                  (unsigned long long)stats->ram_zero, (unsigned long long)stats->bytes_new,
                  (unsigned long long)stats->file_bytes, stats->seconds, s->pending_path);
    } else {
        ctl_reply(c, 0, "%s; the guest runs on", vm->errmsg);
        ctl_server_set_state(s->ctl, "running");
    }
    ctl_conn_close(c);
    s->pending = NULL;
    return rc;
}
