/*
 * test_vm_snap.c - suspend and resume of a whole VM (vmm/vm_snap.c) with a
 * guest of two instructions (a counter in RAM incremented in a loop, run by
 * the real translator and board): the control socket's suspend handshake,
 * a resume that restores RAM, CPU and clock exactly and counts on, an
 * incremental save that stores only the changed chunk, the refusals
 * (relative path, unknown verb, a save that cannot be written: the guest
 * runs on), and a guest suspended in HLT that stays halted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include <vmpack/vm.h>
#include <vmpack/vmpack.h>

#include "ctl.h"
#include "vm_int.h"

#define RAM_BYTES   (64u << 20)
#define SETUP_SECTS 4u
#define PM_OFFSET   ((SETUP_SECTS + 1) * 512u)
#define PM_BYTES    4096u
#define IMAGE_BYTES (PM_OFFSET + PM_BYTES)
#define COUNTER_GPA 0x00800000u /* 8 MiB: below the kernel, away from the loader's tables */

static char tmp[64], src_path[128], hlt_path[128], xdg[128];

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The guests: a counter in RAM (at code offset 2) incremented in a loop;
 * and HLT with interrupts on in a loop, counting the wake-ups (nothing
 * interrupts it: the PIT is never programmed). */
static const uint8_t count_code[] = {0xFF, 0x05, 0, 0, 0, 0, 0xEB, 0xF8}; /* 1: inc [c]; jmp 1b */
static const uint8_t hlt_code[] = {0xFB, 0xF4, 0xFF, 0x05, 0, 0, 0, 0, 0xEB, 0xF7};
/*                                 sti   1: hlt  inc [c]                jmp 1b */

/* A bzImage (boot protocol 2.15, relocatable, loaded at 16 MiB) whose
 * protected-mode code is code, with COUNTER_GPA at code offset addr_at. */
static void make_kernel(uint8_t *img, const uint8_t *code, size_t len, size_t addr_at)
{

    memset(img, 0, IMAGE_BYTES);
    img[0x1F1] = SETUP_SECTS;
    w32(img + 0x1F4, PM_BYTES / 16);
    w16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x6A;
    memcpy(img + 0x202, "HdrS", 4);
    w16(img + 0x206, 0x020F);
    img[0x211] = 0x01;            /* LOADED_HIGH */
    w32(img + 0x214, 0x100000);   /* code32_start */
    w32(img + 0x22C, 0x7FFFFFFF); /* initrd_addr_max */
    w32(img + 0x230, 16u << 20);  /* kernel_alignment */
    img[0x234] = 1;               /* relocatable */
    w32(img + 0x238, 2047);       /* cmdline_size */
    w32(img + 0x258, 16u << 20);  /* pref_address */
    w32(img + 0x260, 4u << 20);   /* init_size */
    memcpy(img + PM_OFFSET, code, len);
    w32(img + PM_OFFSET + addr_at, COUNTER_GPA);
}

/* A powered-off container at path: 64 MiB, i686, one 64 KiB disk. */
static int write_container(const char *path, const uint8_t *kernel)
{
    static uint8_t disk[65536];
    struct vmp_config cfg;
    struct vmp_image_desc desc = {"disk0", VMP_IMAGE_DISK, 0, sizeof disk, 4096};
    vmp_writer *w = NULL;
    int pfd[2];

    memset(disk, 0x5A, sizeof disk);
    vmp_config_init(&cfg);
    cfg.mem_bytes = RAM_BYTES;
    if (vmp_profile_builtin("i686", &cfg.cpu) != 0)
        return -1;
    strcpy(cfg.devices[0].kind, "virtio-blk");
    strcpy(cfg.devices[0].id, "vda");
    strcpy(cfg.devices[0].image, "disk0");
    cfg.ndevices = 1;
    if (vmp_writer_create(&w) != 0 || vmp_writer_open(w, path) != 0 || pipe(pfd) != 0)
        return -1;
    if (write(pfd[1], disk, sizeof disk) != (ssize_t)sizeof disk)
        return -1;
    close(pfd[1]);
    if (vmp_writer_add_image_fd(w, &desc, pfd[0]) != 0 || vmp_writer_set_config(w, &cfg) != 0 ||
        vmp_writer_set_kernel_mem(w, kernel, IMAGE_BYTES) != 0 || vmp_writer_commit(w, NULL) != 0)
        return -1;
    close(pfd[0]);
    vmp_writer_destroy(w);
    return 0;
}

static int setup(void **state)
{
    static uint8_t kernel[IMAGE_BYTES];

    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/test_vm_snap.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    snprintf(src_path, sizeof src_path, "%s/src.vmpk", tmp);
    snprintf(hlt_path, sizeof hlt_path, "%s/hlt.vmpk", tmp);
    snprintf(xdg, sizeof xdg, "%s/xdg", tmp);
    if (mkdir(xdg, 0700) != 0)
        return -1;
    make_kernel(kernel, count_code, sizeof count_code, 2);
    if (write_container(src_path, kernel) != 0)
        return -1;
    make_kernel(kernel, hlt_code, sizeof hlt_code, 4);
    return write_container(hlt_path, kernel);
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

struct loaded {
    vmp_reader *r;
    vmp_vm *vm;
};

static void load(struct loaded *l, const char *path)
{
    struct vmp_vm_options o;

    vmp_vm_options_init(&o);
    o.console_in_fd = -1;
    o.console_out_fd = -1;
    o.console_err_fd = -1;
    o.work_dir = tmp;
    assert_int_equal(vmp_reader_create(&l->r), 0);
    assert_int_equal(vmp_reader_open(l->r, path), 0);
    assert_int_equal(vmp_vm_create(&l->vm), 0);
    assert_int_equal(vmp_vm_load(l->vm, l->r, &o), 0);
}

static void unload(struct loaded *l)
{
    vmp_vm_destroy(l->vm);
    vmp_reader_destroy(l->r);
}

static uint32_t counter(const struct loaded *l)
{
    uint32_t v;

    memcpy(&v, l->vm->ram + COUNTER_GPA, sizeof v);
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A control client on its own thread: sends line after delay_ms. */
struct client {
    pthread_t t;
    const char *name;
    char line[512];
    long delay_ms;
    int rc;
    char reply[VMP_CTL_LINE_MAX], err[512];
    unsigned progress_lines;
};

static void client_line(void *ctx, const char *text)
{
    struct client *c = ctx;

    if (strncmp(text, "progress ", 9) == 0)
        c->progress_lines++;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    char dir[256];

    sleep_ms(c->delay_ms);
    c->rc = vmp_ctl_dir(xdg, dir, sizeof dir, c->err, sizeof c->err);
    if (c->rc == 0)
        c->rc = vmp_ctl_request(dir, c->name, c->line, client_line, c, 0, c->reply, sizeof c->reply,
                            c->err, sizeof c->err);
    return NULL;
}

static void client_start(struct client *c, const char *name, const char *line, long delay_ms)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    snprintf(c->line, sizeof c->line, "%s", line);
    c->delay_ms = delay_ms;
    assert_int_equal(pthread_create(&c->t, NULL, client_main, c), 0);
}

struct stopper {
    pthread_t t;
    vmp_vm *vm;
    long delay_ms;
};

static void *stopper_main(void *arg)
{
    struct stopper *s = arg;

    sleep_ms(s->delay_ms);
    vmp_vm_request_stop(s->vm);
    return NULL;
}

/* Runs the guest for about ms milliseconds; it must stop on request. */
static void run_for(struct loaded *l, long ms)
{
    struct stopper s = {0, l->vm, ms};
    struct vmp_vm_exit ex;

    assert_int_equal(pthread_create(&s.t, NULL, stopper_main, &s), 0);
    assert_int_equal(vmp_vm_run(l->vm, &ex), 0);
    pthread_join(s.t, NULL);
    assert_int_equal(ex.reason, VMP_VM_STOPPED);
}

/* The control socket's suspend: vmp_vm_run returns VMP_VM_SUSPEND, the
 * save answers the client with progress and figures; the resumed VM has the
 * same RAM, registers and clock, and counts on from the saved value. */
static void test_vm_snap_control_suspend_resume(void **state)
{
    struct loaded a, b;
    struct client cl;
    struct vmp_vm_exit ex;
    struct vmp_vm_save_stats st;
    struct vmp_x86_state cpu_a, *cpu_b;
    char out[256], line[300], saved_to[256];
    uint64_t clock_a;
    uint32_t count_a;

    (void)state;
    snprintf(out, sizeof out, "%s/out.vmpk", tmp);
    load(&a, src_path);
    assert_int_equal(vmp_vm_control_open(a.vm, xdg, "snap-t1", src_path), 0);
    snprintf(line, sizeof line, "suspend %s", out);
    client_start(&cl, "snap-t1", line, 100);
    assert_int_equal(vmp_vm_run(a.vm, &ex), 0);
    assert_int_equal(ex.reason, VMP_VM_SUSPEND);
    assert_int_equal(vmp_vm_control_suspend(a.vm, saved_to, sizeof saved_to, &st), 0);
    pthread_join(cl.t, NULL);
    assert_int_equal(cl.rc, 0);
    assert_string_equal(saved_to, out);
    assert_true(cl.progress_lines >= 1);
    assert_non_null(strstr(cl.reply, "chunks_new="));
    assert_non_null(strstr(cl.reply, "path="));
    assert_true(st.ram_new >= 2); /* the counter's chunk, the kernel's, the loader's */
    assert_true(st.file_bytes > 0);
    count_a = counter(&a);
    assert_true(count_a > 1000);
    cpu_a = *cpu_state(a.vm->cpu);
    clock_a = vclock_now(&a.vm->clock);

    load(&b, out);
    assert_memory_equal(a.vm->ram, b.vm->ram, RAM_BYTES);
    cpu_b = cpu_state(b.vm->cpu);
    assert_memory_equal(cpu_a.gpr, cpu_b->gpr, sizeof cpu_a.gpr);
    assert_int_equal(cpu_a.eip, cpu_b->eip);
    assert_int_equal(cpu_a.eflags, cpu_b->eflags);
    assert_int_equal(cpu_a.cr0, cpu_b->cr0);
    assert_memory_equal(&cpu_a.seg[VMP_CS], &cpu_b->seg[VMP_CS], sizeof cpu_a.seg[0]);
    assert_int_equal(vclock_now(&b.vm->clock), clock_a); /* paused at the saved value */
    unload(&a);

    run_for(&b, 100);
    assert_true(counter(&b) > count_a);
    assert_true(vclock_now(&b.vm->clock) > clock_a);
    unload(&b);
}

/* Saving a resumed guest into its own container: only the chunk the guest
 * changed (the counter's) is stored anew; the rest is copied by digest.
 * The saved FXSAVE image holds nothing of the host. */
static void test_vm_snap_incremental(void **state)
{
    struct loaded a, b;
    struct vmp_vm_save_stats st1, st2;
    char out[256];

    (void)state;
    snprintf(out, sizeof out, "%s/inc.vmpk", tmp);
    load(&a, src_path);
    run_for(&a, 50);
    /* host leftovers in the FXSAVE image are not saved (vm_snap.c) */
    cpu_state(a.vm->cpu)->fxsave[10] = 0xCD;  /* x87 last instruction pointer */
    cpu_state(a.vm->cpu)->fxsave[29] = 0xFF;  /* MXCSR_MASK */
    cpu_state(a.vm->cpu)->fxsave[300] = 0xAB; /* XMM8 */
    assert_int_equal(vmp_vm_save(a.vm, out, NULL, NULL, &st1), 0);
    unload(&a);

    load(&b, out);
    assert_int_equal(cpu_state(b.vm->cpu)->fxsave[10], 0);
    assert_int_equal(cpu_state(b.vm->cpu)->fxsave[29], 0);
    assert_int_equal(cpu_state(b.vm->cpu)->fxsave[300], 0);
    assert_int_equal(cpu_state(b.vm->cpu)->fxsave[0], 0x7F); /* FCW kept */
    run_for(&b, 50);
    assert_int_equal(vmp_vm_save(b.vm, out, NULL, NULL, &st2), 0);
    assert_int_equal(st2.ram_new, 1);
    assert_int_equal(st2.ram_copied, st1.ram_new - 1);
    assert_int_equal(st2.ram_zero, st1.ram_zero);
    unload(&b);
    load(&a, out); /* the replaced file opens and resumes */
    unload(&a);
}

/* Requests the VM refuses, and a save that cannot be written: the client
 * hears why and the guest runs on. */
static void test_vm_snap_control_refusals(void **state)
{
    struct loaded a;
    struct client cl;
    struct vmp_vm_exit ex;
    uint32_t before;

    (void)state;
    load(&a, src_path);
    assert_int_equal(vmp_vm_control_open(a.vm, xdg, "snap-t2", src_path), 0);
    /* a second VM under the same name is refused */
    {
        struct loaded other;

        load(&other, src_path);
        assert_int_equal(vmp_vm_control_open(other.vm, xdg, "snap-t2", src_path), VMP_ERR_STATE);
        assert_non_null(strstr(vmp_vm_errmsg(other.vm), "snap-t2"));
        unload(&other);
    }
    client_start(&cl, "snap-t2", "suspend relative.vmpk", 50);
    run_for(&a, 300);
    pthread_join(cl.t, NULL);
    assert_int_equal(cl.rc, VMP_ERR_INVALID);
    assert_non_null(strstr(cl.reply, "absolute"));

    client_start(&cl, "snap-t2", "bogus", 50);
    run_for(&a, 300);
    pthread_join(cl.t, NULL);
    assert_int_equal(cl.rc, VMP_ERR_INVALID);
    assert_non_null(strstr(cl.reply, "unknown request"));

    client_start(&cl, "snap-t2", "suspend /nonexistent-dir/x.vmpk", 50);
    assert_int_equal(vmp_vm_run(a.vm, &ex), 0);
    assert_int_equal(ex.reason, VMP_VM_SUSPEND);
    assert_true(vmp_vm_control_suspend(a.vm, NULL, 0, NULL) != 0);
    pthread_join(cl.t, NULL);
    assert_int_equal(cl.rc, VMP_ERR_INVALID);
    assert_non_null(strstr(cl.reply, "runs on"));
    before = counter(&a);
    run_for(&a, 50);
    assert_true(counter(&a) > before);

    client_start(&cl, "snap-t2", "quit", 50);
    assert_int_equal(vmp_vm_run(a.vm, &ex), 0);
    pthread_join(cl.t, NULL);
    assert_int_equal(cl.rc, 0);
    assert_int_equal(ex.reason, VMP_VM_QUIT);
    unload(&a);
}

/* A guest suspended inside HLT with interrupts on stays halted after the
 * resume until an interrupt comes (none does here): no spurious wake-up. */
static void test_vm_snap_halted_stays_halted(void **state)
{
    struct loaded a, b;
    char out[256];

    (void)state;
    snprintf(out, sizeof out, "%s/hlt-s.vmpk", tmp);
    load(&a, hlt_path);
    run_for(&a, 100);
    assert_int_equal(counter(&a), 0);
    assert_int_equal(cpu_state(a.vm->cpu)->halted, 1);
    run_for(&a, 50); /* continuing after a stop: still halted */
    assert_int_equal(counter(&a), 0);
    assert_int_equal(vmp_vm_save(a.vm, out, NULL, NULL, NULL), 0);
    unload(&a);

    load(&b, out);
    assert_int_equal(cpu_state(b.vm->cpu)->halted, 1);
    run_for(&b, 100);
    assert_int_equal(counter(&b), 0);
    assert_int_equal(cpu_state(b.vm->cpu)->halted, 1);
    unload(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_snap_control_suspend_resume),
        cmocka_unit_test(test_vm_snap_incremental),
        cmocka_unit_test(test_vm_snap_control_refusals),
        cmocka_unit_test(test_vm_snap_halted_stays_halted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
