/*
 * test_sys_guest.c - runs the tiny guest programs of tests/guest/ with
 * CPU_MODE_SYSTEM and a fake board: port 0x3F8 writes are the output, a
 * write to port 0xF4 is the exit code, HLT with IF=1 raises the fake
 * interrupt source's vector 0x20 (a timer tick), so does a write of the
 * vector to port 0xF5 (an IRQ raised at once), HLT with IF=0 ends the
 * run (spec/machine.md: halted). Each guest prints one letter per check;
 * the test compares the whole output.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "cpu.h"

#define RAM_BYTES (16u << 20)
#define LOAD_GPA 0x100000u

struct board {
    char out[256];
    size_t nout;
    int exit_code;
    int pending;        /* vector to deliver, or -1 */
    unsigned acks;
    uint64_t ns;
    uint32_t last_write;
    unsigned mmio_writes;
    uint8_t seq;        /* port 0xF6: the next byte it reads as */
    unsigned in_bytes;  /* bytes read from port 0xF6 */
    char log[64];       /* bytes written to port 0xF7 */
    size_t nlog;
};

/* Port 0xF6 reads as a counter, one per byte (a word read gives two
 * consecutive bytes): the guest sees whether INS lost or repeated data. */
static uint32_t fake_in(void *opaque, uint16_t port, unsigned size)
{
    struct board *b = opaque;
    if (port != 0xf6)
        return 0xffffffffu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)b->seq++ << (8 * i);
    b->in_bytes += size;
    return v;
}

static void fake_out(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
    struct board *b = opaque;
    if (port == 0x3f8 && b->nout + 1 < sizeof b->out)
        b->out[b->nout++] = (char)value;
    else if (port == 0xf4)
        b->exit_code = (int)(value & 0xff);
    else if (port == 0xf5)
        b->pending = (int)(value & 0xff); /* the guest raises an IRQ */
    else if (port == 0xf7)
        for (unsigned i = 0; i < size && b->nlog + 1 < sizeof b->log; i++)
            b->log[b->nlog++] = (char)(value >> (8 * i));
}

/* MMIO: 0xD0000000-0xD0000fff is claimed; a read returns the low byte of
 * the address in every byte, except 0xD0000ff0 which returns the last
 * write; anything else is unclaimed. */
static int fake_mmio_read(void *opaque, uint32_t gpa, unsigned size, uint32_t *value)
{
    struct board *b = opaque;
    if (gpa < 0xD0000000u || gpa >= 0xD0001000u)
        return -1;
    uint32_t v = (gpa & 0xffu) * 0x01010101u;
    if (gpa == 0xD0000ff0u)
        v = b->last_write;
    *value = size == 4 ? v : v & ((1u << (size * 8)) - 1);
    return 0;
}

static int fake_mmio_write(void *opaque, uint32_t gpa, unsigned size, uint32_t value)
{
    struct board *b = opaque;
    (void)size;
    if (gpa < 0xD0000000u || gpa >= 0xD0001000u)
        return -1;
    b->last_write = value;
    b->mmio_writes++;
    return 0;
}

static int fake_ack(void *opaque)
{
    struct board *b = opaque;
    int v = b->pending;
    b->pending = -1;
    if (v >= 0)
        b->acks++;
    return v;
}

static uint64_t fake_clock(void *opaque)
{
    struct board *b = opaque;
    return b->ns += 1000;
}

static const struct cpu_io_ops fake_ops = {fake_in, fake_out, fake_mmio_read, fake_mmio_write,
                                           fake_ack, fake_clock};

/* Run tests/guest/<name>.bin; returns the last exit reason; the CPU's
 * counters at the end in *stats if it is not NULL. */
static enum cpu_exit_reason run_guest_stats(const char *name, struct board *b,
                                            struct cpu_stats *stats)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", VMP_GUEST_DIR, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t image[1 << 20];
    size_t n = fread(image, 1, sizeof image, fp);
    fclose(fp);
    assert_true(n > 0);

    int fd = memfd_create("test-ram", 0);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, RAM_BYTES), 0);
    assert_int_equal(pwrite(fd, image, n, LOAD_GPA), (ssize_t)n);

    memset(b, 0, sizeof *b);
    b->pending = -1;
    b->exit_code = -1; /* a guest that stops without writing port 0xF4 fails */
    struct cpu_config cfg = {0};
    cfg.mode = CPU_MODE_SYSTEM;
    static struct vmp_cpu_profile prof;
    memset(&prof, 0, sizeof prof);
    strcpy(prof.name, "test");
    prof.nleaves = 4;
    prof.leaves[0].eax = 1;
    prof.leaves[1].leaf = 1;
    prof.leaves[1].eax = 0x000006d8;
    prof.leaves[1].edx = 1u << 0 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 11 | 1u << 15; /* i686 + SEP */
    prof.leaves[2].leaf = 0x80000000u;
    prof.leaves[2].eax = 0x80000001u;
    prof.leaves[3].leaf = 0x80000001u;
    prof.leaves[3].edx = 1u << 27; /* RDTSCP */
    cfg.profile = &prof;
    cfg.ram_fd = fd;
    cfg.ram_bytes = RAM_BYTES;
    cfg.io = &fake_ops;
    cfg.io_opaque = b;
    struct cpu *cpu;
    assert_int_equal(cpu_create(&cfg, &cpu), 0);
    cpu_state(cpu)->eip = LOAD_GPA;

    struct cpu_exit ex;
    enum cpu_exit_reason last = CPU_EXIT_INTERNAL;
    for (int i = 0; i < 100; i++) {
        int rc = cpu_run(cpu, &ex);
        last = ex.reason;
        if (rc != 0 || ex.reason == CPU_EXIT_INTERNAL) {
            print_error("internal: %s\n", cpu_errmsg(cpu));
            break;
        }
        if (ex.reason == CPU_EXIT_HLT && (cpu_state(cpu)->eflags & 0x200)) {
            b->pending = 0x20; /* the fake timer fires */
            continue;
        }
        if (ex.reason == CPU_EXIT_KICK)
            continue;
        break;
    }
    b->out[b->nout] = 0;
    b->log[b->nlog] = 0;
    if (stats)
        cpu_get_stats(cpu, stats);
    cpu_destroy(cpu);
    close(fd);
    return last;
}

/* Run the guest and check that it printed out (one letter per check
 * passed), wrote exit code 0 and stopped with CLI; HLT. */
static void expect_guest(const char *name, const char *out, struct board *b,
                         struct cpu_stats *stats)
{
    enum cpu_exit_reason r = run_guest_stats(name, b, stats);
    assert_string_equal(b->out, out);
    assert_int_equal(b->exit_code, 0);
    assert_int_equal(r, CPU_EXIT_HLT);
}

static void test_sys_guest_basic(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_basic", "UGRSPITAZDL", &b, NULL);
    assert_int_equal(b.acks, 2);
}

static void test_sys_guest_paging(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_paging", "LAFMDWC", &b, NULL);
}

static void test_sys_guest_mmio(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_mmio", "LZSURMT", &b, NULL);
    assert_int_equal(b.mmio_writes, 17); /* cmp and test do not write */
}

/* The MMIO forms of sys_mmio2.S: ADC/SBB, BT*, SETcc, CMPXCHG, PUSH/POP m
 * (flags against the same instruction on RAM) and accesses crossing a
 * page. Each stopped the CPU with an internal
 * error before. */
static void test_sys_guest_mmio2(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_mmio2", "ABCSPFW", &b, NULL);
}

/* TF single-steps (sys_tf.S): #DB after each instruction that began with
 * TF set, through translated, MMIO-emulated and C-emulated instructions. */
static void test_sys_guest_tf(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_tf", "PSI", &b, NULL);
}

static void test_sys_guest_isolation(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_isolation", "YEIJKWRHM", &b, NULL);
}

/* The code cache and the views across CR3 writes (global pages kept only
 * while they map the same frame, other pages not), writes through a linear
 * alias of a code page, and FS base switches between block sets. */
static void test_sys_guest_xcache(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_xcache", "GNTLPF", &b, NULL);
}

/* One shadow view per privilege: rights checked against what the other
 * privilege mapped (user vs supervisor pages, WP, D bits, INVLPG in both,
 * a supervisor code block not run at ring 3, SMC across privileges), and
 * privilege changes that do not empty the views: the 300 system calls of
 * the N loop map a handful of pages, not hundreds. */
static void test_sys_guest_privview(void **state)
{
    (void)state;
    struct board b;
    struct cpu_stats st;
    expect_guest("sys_privview", "UVODKSNW", &b, &st);
    /* paging on (a CR3 write, then CR0.PG) and CR0.WP: a few emptyings */
    assert_true(st.view_flushes <= 4);
    assert_true(st.view_maps < 100);
}

/* INS/OUTS in system mode: REP and single, byte/word/dword, DF=0 and 1,
 * ES's base for INS and an FS override for OUTS, page faults midway that
 * restart without losing or repeating an element, CPL > IOPL at ring 3
 * (#GP(0), the port not read), the TSS's I/O bit map (one port allowed)
 * and IOPL 3 (allowed). */
static void test_sys_guest_strio(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_strio", "iwdbeopqgmG", &b, NULL);
    assert_string_equal(b.log, "abcde56781234xyzw");
    assert_int_equal(b.in_bytes, 26);
}

/* Task switches through the translator: far JMP to a TSS and back, far
 * CALL through a task gate and IRET with NT, INT n through an IDT task
 * gate, #DF through a task gate (Linux i386's handler), with CR3 and FS
 * from the TSS in effect at once; #TS and #GP for a short and a busy TSS. */
static void test_sys_guest_task(void **state)
{
    (void)state;
    struct board b;
    expect_guest("sys_task", "JCIDE", &b, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sys_guest_isolation),
        cmocka_unit_test(test_sys_guest_mmio),
        cmocka_unit_test(test_sys_guest_mmio2),
        cmocka_unit_test(test_sys_guest_tf),
        cmocka_unit_test(test_sys_guest_basic),
        cmocka_unit_test(test_sys_guest_paging),
        cmocka_unit_test(test_sys_guest_xcache),
        cmocka_unit_test(test_sys_guest_privview),
        cmocka_unit_test(test_sys_guest_strio),
        cmocka_unit_test(test_sys_guest_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
