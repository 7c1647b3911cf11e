/* test_vm.c - the public VM API (vmpack/vm.h) up to the point where the
 * vCPU runs: defaults, call order, and the refusals of vmp_vm_load with
 * messages, on containers written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmpack/vm.h>
#include <vmpack/vmpack.h>

static char path[64];

static int zero_source(void *ctx, uint64_t chunk, void *buf, size_t len)
{
    (void)ctx;
    (void)chunk;
    memset(buf, 0, len);
    return 0;
}

/* A container with the given memory size, kernel bytes and disk count. */
static void write_container(uint64_t mem_bytes, const void *kernel, size_t kernel_len,
                            unsigned ndisks, uint32_t power)
{
    struct vmp_config cfg;
    vmp_writer *w = NULL;
    static uint8_t disk[8192];
    unsigned i;
    int fd;

    snprintf(path, sizeof path, "/tmp/test_vm.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    vmp_config_init(&cfg);
    cfg.mem_bytes = mem_bytes;
    cfg.power = power;
    assert_int_equal(vmp_profile_builtin("i686", &cfg.cpu), 0);
    assert_int_equal(vmp_writer_create(&w), 0);
    assert_int_equal(vmp_writer_open(w, path), 0);
    for (i = 0; i < ndisks; i++) {
        struct vmp_device *d = &cfg.devices[cfg.ndevices++];
        char name[16];
        struct vmp_image_desc desc = {name, VMP_IMAGE_DISK, 0, sizeof disk, 4096};
        int pfd[2];

        snprintf(name, sizeof name, "disk%u", i);
        strcpy(d->kind, "virtio-blk");
        snprintf(d->id, sizeof d->id, "vd%c", 'a' + i);
        strcpy(d->image, name);
        assert_int_equal(pipe(pfd), 0);
        assert_int_equal(write(pfd[1], disk, sizeof disk), (ssize_t)sizeof disk);
        close(pfd[1]);
        assert_int_equal(vmp_writer_add_image_fd(w, &desc, pfd[0]), 0);
        close(pfd[0]);
    }
    if (power == VMP_POWER_SUSPENDED) {
        /* what a suspended container must hold: a RAM image, a CPU section */
        struct vmp_image_desc ram = {"ram", VMP_IMAGE_RAM, 0, mem_bytes, 0};
        static const uint8_t cpu_section[64];

        assert_int_equal(vmp_writer_add_image_cb(w, &ram, zero_source, NULL), 0);
        assert_int_equal(vmp_writer_add_section(w, VMP_X86_SECTION_ID, 1, VMP_SECTION_REQUIRED,
                                                cpu_section, sizeof cpu_section),
                         0);
    }
    assert_int_equal(vmp_writer_set_config(w, &cfg), 0);
    if (kernel != NULL)
        assert_int_equal(vmp_writer_set_kernel_mem(w, kernel, kernel_len), 0);
    assert_int_equal(vmp_writer_commit(w, NULL), 0);
    vmp_writer_destroy(w);
}

/* Load path into a fresh vm: the status, and the message in msg. */
static int load(char *msg, size_t msglen)
{
    vmp_reader *r;
    vmp_vm *vm;
    struct vmp_vm_options o;
    int rc;

    vmp_vm_options_init(&o);
    o.console_in_fd = -1;
    o.work_dir = "/tmp";
    assert_int_equal(vmp_reader_create(&r), 0);
    assert_int_equal(vmp_reader_open(r, path), 0);
    assert_int_equal(vmp_vm_create(&vm), 0);
    rc = vmp_vm_load(vm, r, &o);
    snprintf(msg, msglen, "%s", vmp_vm_errmsg(vm));
    vmp_vm_destroy(vm);
    vmp_reader_destroy(r);
    unlink(path);
    return rc;
}

static void test_vm_defaults_and_order(void **state)
{
    struct vmp_vm_options o;
    struct vmp_vm_exit ex;
    vmp_vm *vm;

    (void)state;
    vmp_vm_options_init(&o);
    assert_int_equal(o.console_in_fd, 0);
    assert_int_equal(o.console_out_fd, 1);
    assert_int_equal(o.console_err_fd, 2);
    assert_null(o.work_dir);
    vmp_vm_destroy(NULL);
    vmp_vm_request_stop(NULL);
    assert_int_equal(vmp_vm_create(&vm), 0);
    assert_int_equal(vmp_vm_run(vm, &ex), VMP_ERR_STATE);
    assert_non_null(strstr(vmp_vm_errmsg(vm), "before a successful vmp_vm_load"));
    vmp_vm_request_stop(vm); /* before load: nothing to stop, no crash */
    vmp_vm_destroy(vm);
}

static void test_vm_load_no_kernel(void **state)
{
    char msg[512];

    (void)state;
    write_container(64 << 20, NULL, 0, 1, VMP_POWER_OFF);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_NOT_FOUND);
    assert_non_null(strstr(msg, "no kernel"));
}

static void test_vm_load_bad_kernel(void **state)
{
    static uint8_t junk[4096];
    char msg[512];

    (void)state;
    memset(junk, 0x90, sizeof junk);
    write_container(64 << 20, junk, sizeof junk, 0, VMP_POWER_OFF);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "kernel: "));
    assert_non_null(strstr(msg, "0x1fe")); /* the loader names the field's offset */
}

static void test_vm_load_memory_sizes(void **state)
{
    static uint8_t junk[4096];
    char msg[512];

    (void)state;
    write_container(16 << 20, junk, sizeof junk, 0, VMP_POWER_OFF);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "from 32 MiB to 3 GiB"));
    write_container((64 << 20) + 4096, junk, sizeof junk, 0, VMP_POWER_OFF);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "multiple of 1 MiB"));
}

static void test_vm_load_too_many_disks(void **state)
{
    static uint8_t junk[4096];
    char msg[512];

    (void)state;
    write_container(64 << 20, junk, sizeof junk, 4, VMP_POWER_OFF);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "device vdd"));
}

/* A suspended container loads through snapshot_load: a CPU section that
 * does not decode is refused, naming the section. */
static void test_vm_load_suspended_bad_cpu(void **state)
{
    char msg[512];

    (void)state;
    write_container(64 << 20, NULL, 0, 0, VMP_POWER_SUSPENDED);
    assert_int_equal(load(msg, sizeof msg), VMP_ERR_FORMAT);
    assert_non_null(strstr(msg, "suspended state"));
    assert_non_null(strstr(msg, VMP_X86_SECTION_ID));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_defaults_and_order),
        cmocka_unit_test(test_vm_load_no_kernel),
        cmocka_unit_test(test_vm_load_bad_kernel),
        cmocka_unit_test(test_vm_load_memory_sizes),
        cmocka_unit_test(test_vm_load_too_many_disks),
        cmocka_unit_test(test_vm_load_suspended_bad_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
