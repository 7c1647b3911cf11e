/*
 * test_x86run_sys.c - x86run's ELF loader, initial stack and system call
 * layer against a fake vCPU (fake_cpu.c): no translator needed. argv[1] is
 * a static i386 program to load.
 */
#define _GNU_SOURCE
#include <asm/unistd_32.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu.h"
#include "fake_cpu.h"
#include "xr.h"
#include "xr_sysconv.h"
#include "xr_sysnr.h"

static const char *prog_path;

struct fx {
    struct cpu *cpu;
    struct xr xr;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->cpu = fake_cpu_create();
    assert_non_null(f->cpu);
    assert_int_equal(xr_init(&f->xr, f->cpu), 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    xr_fini(&f->xr);
    fake_cpu_destroy(f->cpu);
    free(f);
    return 0;
}

/* Run one int 0x80 with the given arguments; returns EAX. */
static int32_t sc(struct fx *f, uint32_t nr, uint32_t b, uint32_t c, uint32_t d, uint32_t s,
                  uint32_t di, uint32_t bp)
{
    struct vmp_x86_state *st = cpu_state(f->cpu);
    st->gpr[VMP_EAX] = nr;
    st->gpr[VMP_EBX] = b;
    st->gpr[VMP_ECX] = c;
    st->gpr[VMP_EDX] = d;
    st->gpr[VMP_ESI] = s;
    st->gpr[VMP_EDI] = di;
    st->gpr[VMP_EBP] = bp;
    if (xr_syscall(&f->xr) < 0)
        return INT32_MIN;
    return (int32_t)st->gpr[VMP_EAX];
}

#define SC(f, nr, ...) sc(f, nr, __VA_ARGS__)

/* A scratch page in the guest at 0x10000000. */
#define SCRATCH 0x10000000u

static char *scratch(struct fx *f)
{
    if (xr_mem_is_free(&f->xr, SCRATCH, XR_PAGE_SIZE))
        assert_int_equal(xr_mem_map(&f->xr, SCRATCH, 4 * XR_PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
    return xr_ptr(&f->xr, SCRATCH, 4 * XR_PAGE_SIZE, XR_P_W);
}

static void test_sysnr_matches_kernel_numbering(void **state)
{
    (void)state;
#define CHECK_NR(n, name) assert_int_equal(n, __NR_##name);
    XR_SYSCALLS(CHECK_NR)
#undef CHECK_NR
    assert_string_equal(xr_syscall_name(__NR_openat), "openat");
    assert_null(xr_syscall_name(9999));
}

static void test_elf_load_maps_segments_with_permissions(void **state)
{
    struct fx *f = *state;
    struct xr_image img;
    char err[256];
    assert_int_equal(xr_load_elf(&f->xr, prog_path, &img, err, sizeof err), 0);

    Elf32_Ehdr eh;
    FILE *fp = fopen(prog_path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(&eh, sizeof eh, 1, fp), 1);
    fclose(fp);
    assert_int_equal(img.entry, eh.e_entry);
    assert_int_equal(img.phnum, eh.e_phnum);
    /* The entry point is mapped executable and not writable; the break
     * starts page aligned after the image. */
    uint8_t pf = f->xr.pages[img.entry >> XR_PAGE_SHIFT];
    assert_true(pf & XR_P_X);
    assert_false(pf & XR_P_W);
    assert_int_equal(f->xr.brk_start % XR_PAGE_SIZE, 0);
    assert_true(f->xr.brk_start >= img.end);
    /* The program headers are visible where AT_PHDR will say. */
    const Elf32_Phdr *ph = xr_ptr(&f->xr, img.phdr_gla, img.phnum * sizeof *ph, XR_P_R);
    assert_non_null(ph);
    int loads = 0;
    for (unsigned i = 0; i < img.phnum; i++)
        loads += ph[i].p_type == PT_LOAD;
    assert_true(loads >= 1);
}

static void test_elf_load_rejects_non_i386(void **state)
{
    struct fx *f = *state;
    struct xr_image img;
    char err[256] = "";
    assert_int_equal(xr_load_elf(&f->xr, "/proc/self/exe", &img, err, sizeof err), -1);
    assert_non_null(strstr(err, "i386"));
    assert_int_equal(xr_load_elf(&f->xr, "/nonexistent/prog", &img, err, sizeof err), -1);
}

static uint32_t auxv_get(const uint32_t *auxv, uint32_t type, int *found)
{
    for (; auxv[0] != AT_NULL; auxv += 2)
        if (auxv[0] == type) {
            *found = 1;
            return auxv[1];
        }
    *found = 0;
    return 0;
}

static void test_stack_holds_argv_envp_auxv(void **state)
{
    struct fx *f = *state;
    struct xr_image img;
    char err[256];
    assert_int_equal(xr_load_elf(&f->xr, prog_path, &img, err, sizeof err), 0);
    char *argv[] = {"prog", "one", "two words", NULL};
    char *envp[] = {"A=1", "PATH=/bin", NULL};
    uint32_t sp = xr_setup_stack(&f->xr, &img, 3, argv, envp, 0x178bfbffu, "/x/prog");
    assert_int_not_equal(sp, 0);
    assert_int_equal(sp % 16, 0);
    const uint32_t *w = xr_ptr(&f->xr, sp, 64, XR_P_R);
    assert_non_null(w);
    assert_int_equal(w[0], 3);
    assert_string_equal(xr_str(&f->xr, w[1], 100), "prog");
    assert_string_equal(xr_str(&f->xr, w[3], 100), "two words");
    assert_int_equal(w[4], 0);
    assert_string_equal(xr_str(&f->xr, w[5], 100), "A=1");
    assert_string_equal(xr_str(&f->xr, w[6], 100), "PATH=/bin");
    assert_int_equal(w[7], 0);
    const uint32_t *auxv = xr_ptr(&f->xr, sp + 8 * 4, 19 * 8, XR_P_R);
    assert_non_null(auxv);
    int found;
    assert_int_equal(auxv_get(auxv, AT_PAGESZ, &found), 4096);
    assert_int_equal(auxv_get(auxv, AT_ENTRY, &found), img.entry);
    assert_int_equal(auxv_get(auxv, AT_PHDR, &found), img.phdr_gla);
    assert_int_equal(auxv_get(auxv, AT_PHNUM, &found), img.phnum);
    assert_int_equal(auxv_get(auxv, AT_HWCAP, &found), 0x178bfbffu);
    assert_int_equal(auxv_get(auxv, AT_SECURE, &found), 0);
    assert_true(found);
    assert_string_equal(xr_str(&f->xr, auxv_get(auxv, AT_PLATFORM, &found), 16), "i686");
    assert_string_equal(xr_str(&f->xr, auxv_get(auxv, AT_EXECFN, &found), 16), "/x/prog");
    uint32_t rnd = auxv_get(auxv, AT_RANDOM, &found);
    assert_true(found);
    assert_non_null(xr_ptr(&f->xr, rnd, 16, XR_P_R));
    auxv_get(auxv, 32 /* AT_SYSINFO */, &found);
    assert_false(found);
}

static void test_sys_bad_pointers_give_efault(void **state)
{
    struct fx *f = *state;
    scratch(f);
    /* write from unmapped memory, read into a read-only page, a path in
     * unmapped memory: -EFAULT. A buffer that runs off the end of the
     * mapping: the accessible prefix is transferred, as Linux does. */
    assert_int_equal(SC(f, __NR_write, 1, 0x1000, 10, 0, 0, 0), -EFAULT);
    assert_int_equal(xr_mem_protect(&f->xr, SCRATCH, XR_PAGE_SIZE, PROT_READ), 0);
    int fd = open("/dev/zero", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(SC(f, __NR_read, (uint32_t)fd, SCRATCH, 16, 0, 0, 0), -EFAULT);
    assert_int_equal(SC(f, __NR_read, (uint32_t)fd, SCRATCH + 4 * XR_PAGE_SIZE - 8, 16, 0, 0, 0),
                     8);
    assert_int_equal(SC(f, __NR_read, (uint32_t)fd, SCRATCH + 4 * XR_PAGE_SIZE, 16, 0, 0, 0),
                     -EFAULT);
    assert_int_equal(SC(f, __NR_read, (uint32_t)fd, SCRATCH + XR_PAGE_SIZE, 16, 0, 0, 0), 16);
    close(fd);
    assert_int_equal(SC(f, __NR_openat, (uint32_t)AT_FDCWD, 0xFFFFF000u, 0, 0, 0, 0), -EFAULT);
    assert_int_equal(SC(f, __NR_write, 1, 0xFFFFFFF0u, 0x100, 0, 0, 0), -EFAULT);
    assert_int_equal(SC(f, __NR_fstat64, 0, 0x2000, 0, 0, 0, 0), -EFAULT);
}

static void test_sys_stat64_layout(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    char path[] = "/tmp/x86run_statXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "12345", 5), 5);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    strcpy(g, path);
    assert_int_equal(SC(f, __NR_stat64, SCRATCH, SCRATCH + 1024, 0, 0, 0, 0), 0);
    const uint8_t *b = (const uint8_t *)g + 1024;
    uint32_t mode, ino_lo;
    int64_t size;
    uint64_t ino;
    memcpy(&mode, b + 16, 4);
    memcpy(&size, b + 44, 8);
    memcpy(&ino_lo, b + 12, 4);
    memcpy(&ino, b + 88, 8);
    assert_int_equal(mode, st.st_mode);
    assert_int_equal(size, 5);
    assert_int_equal(ino, st.st_ino);
    assert_int_equal(ino_lo, (uint32_t)st.st_ino);
    assert_int_equal(SC(f, __NR_fstat64, (uint32_t)fd, SCRATCH + 2048, 0, 0, 0, 0), 0);
    assert_memory_equal(b, g + 2048, 96);
    /* statx passes through: stx_size at offset 40. */
    g[0] = 0;
    assert_int_equal(SC(f, __NR_statx, (uint32_t)fd, SCRATCH, 0x1000 /* AT_EMPTY_PATH */,
                        0x7ff, SCRATCH + 3000, 0), 0);
    memcpy(&size, g + 3000 + 40, 8);
    assert_int_equal(size, 5);
    close(fd);
    unlink(path);
    assert_int_equal(SC(f, __NR_stat64, SCRATCH + 4000, SCRATCH + 1024, 0, 0, 0, 0), -ENOENT);
}

static void test_sys_mmap_munmap_mprotect(void **state)
{
    struct fx *f = *state;
    int32_t a = SC(f, __NR_mmap2, 0, 3 * XR_PAGE_SIZE + 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, (uint32_t)-1, 0);
    uint32_t gla = (uint32_t)a;
    assert_true(gla < 0xFFFFF000u);   /* not -errno */
    assert_int_equal(gla % XR_PAGE_SIZE, 0);
    assert_true(gla + 4 * XR_PAGE_SIZE <= XR_MMAP_TOP);
    uint8_t *p = xr_ptr(&f->xr, gla, 4 * XR_PAGE_SIZE, XR_P_W);
    assert_non_null(p);
    assert_int_equal(p[4 * XR_PAGE_SIZE - 1], 0);
    /* A second mapping does not overlap the first. */
    int32_t b = SC(f, __NR_mmap2, 0, XR_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                   (uint32_t)-1, 0);
    assert_true((uint32_t)b + XR_PAGE_SIZE <= gla || (uint32_t)b >= gla + 4 * XR_PAGE_SIZE);
    assert_int_equal(SC(f, __NR_mprotect, gla, XR_PAGE_SIZE, PROT_READ, 0, 0, 0), 0);
    assert_null(xr_ptr(&f->xr, gla, 1, XR_P_W));
    assert_non_null(xr_ptr(&f->xr, gla, 1, XR_P_R));
    assert_int_equal(SC(f, __NR_munmap, gla, 4 * XR_PAGE_SIZE, 0, 0, 0, 0), 0);
    assert_null(xr_ptr(&f->xr, gla, 1, XR_P_R));
    assert_int_equal(SC(f, __NR_mprotect, gla, XR_PAGE_SIZE, PROT_READ, 0, 0, 0), -ENOMEM);
    /* MAP_FIXED replaces; MAP_FIXED_NOREPLACE refuses. */
    assert_int_equal(SC(f, __NR_mmap2, 0x20000000u, XR_PAGE_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint32_t)-1, 0),
                     (int32_t)0x20000000);
    assert_int_equal(SC(f, __NR_mmap2, 0x20000000u, XR_PAGE_SIZE, PROT_READ,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint32_t)-1, 0),
                     -EEXIST);
    /* A file mapping shows the file's bytes at the page offset. */
    char path[] = "/tmp/x86run_mmapXXXXXX";
    int fd = mkstemp(path);
    char page[2 * 4096];
    memset(page, 'a', 4096);
    memset(page + 4096, 'b', 4096);
    assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
    int32_t m = SC(f, __NR_mmap2, 0, 100, PROT_READ, MAP_PRIVATE, (uint32_t)fd, 1);
    assert_true((uint32_t)m < 0xFFFFF000u);
    const char *mp = xr_ptr(&f->xr, (uint32_t)m, 100, XR_P_R);
    assert_non_null(mp);
    assert_int_equal(mp[0], 'b');
    assert_null(xr_ptr(&f->xr, (uint32_t)m, 1, XR_P_W));
    close(fd);
    unlink(path);
}

static void test_sys_brk_grows_and_shrinks(void **state)
{
    struct fx *f = *state;
    f->xr.brk_start = f->xr.brk_cur = 0x08100000u;
    assert_int_equal(SC(f, __NR_brk, 0, 0, 0, 0, 0, 0), 0x08100000);
    assert_int_equal(SC(f, __NR_brk, 0x08123456u, 0, 0, 0, 0, 0), 0x08123456);
    assert_non_null(xr_ptr(&f->xr, 0x08123455u, 1, XR_P_W));
    assert_null(xr_ptr(&f->xr, 0x08124000u, 1, XR_P_R));
    assert_int_equal(SC(f, __NR_brk, 0x08101000u, 0, 0, 0, 0, 0), 0x08101000);
    assert_null(xr_ptr(&f->xr, 0x08101000u, 1, XR_P_R));
    /* Below the start or into the mmap area: the break stays. */
    assert_int_equal(SC(f, __NR_brk, 0x08000000u, 0, 0, 0, 0, 0), 0x08101000);
    assert_int_equal(SC(f, __NR_brk, XR_STACK_TOP, 0, 0, 0, 0, 0), 0x08101000);
}

static void test_sys_time_structs(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_int_equal(SC(f, __NR_clock_gettime, CLOCK_REALTIME, SCRATCH, 0, 0, 0, 0), 0);
    int32_t t32[2];
    memcpy(t32, g, 8);
    assert_true(t32[0] >= now.tv_sec && t32[0] <= now.tv_sec + 5);
    assert_true(t32[1] >= 0 && t32[1] < 1000000000);
    assert_int_equal(SC(f, __NR_clock_gettime64, CLOCK_REALTIME, SCRATCH + 16, 0, 0, 0, 0), 0);
    int64_t t64[2];
    memcpy(t64, g + 16, 16);
    assert_true(t64[0] >= now.tv_sec && t64[0] <= now.tv_sec + 5);
    assert_int_equal(SC(f, __NR_gettimeofday, SCRATCH + 64, 0, 0, 0, 0, 0), 0);
    memcpy(t32, g + 64, 8);
    assert_true(t32[0] >= now.tv_sec && t32[1] < 1000000);
    int32_t t = SC(f, __NR_time, SCRATCH + 80, 0, 0, 0, 0, 0);
    assert_true(t >= now.tv_sec);
    assert_memory_equal(&t, g + 80, 4);
    /* nanosleep of 1 ms with a 32-bit timespec */
    int32_t req[2] = {0, 1000000};
    memcpy(g + 96, req, 8);
    assert_int_equal(SC(f, __NR_nanosleep, SCRATCH + 96, 0, 0, 0, 0, 0), 0);
}

static void test_sys_uname_says_i686(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    assert_int_equal(SC(f, __NR_uname, SCRATCH, 0, 0, 0, 0, 0), 0);
    assert_string_equal(g, "Linux");
    assert_string_equal(g + 4 * 65, "i686");
}

static void test_sys_readlink_proc_self_exe_names_guest(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    strcpy(f->xr.exe_path, "/opt/guest/prog");
    strcpy(g, "/proc/self/exe");
    assert_int_equal(SC(f, __NR_readlink, SCRATCH, SCRATCH + 100, 200, 0, 0, 0), 15);
    assert_memory_equal(g + 100, "/opt/guest/prog", 15);
    assert_int_equal(SC(f, __NR_readlink, SCRATCH, SCRATCH + 100, 4, 0, 0, 0), 4);
}

static void test_sys_set_thread_area_tells_translator(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    /* glibc's TLS_INIT_TP: entry -1, base, limit 0xfffff, seg_32bit,
     * limit_in_pages, useable. */
    struct i386_user_desc d = {0xFFFFFFFFu, 0x0804a000u, 0xFFFFF, 0x51};
    memcpy(g, &d, sizeof d);
    assert_int_equal(SC(f, __NR_set_thread_area, SCRATCH, 0, 0, 0, 0, 0), 0);
    memcpy(&d, g, sizeof d);
    assert_int_equal(d.entry_number, 6);
    const struct fake_tls *t = fake_cpu_last_tls(f->cpu);
    assert_true(t->called);
    assert_int_equal(t->entry, 6);
    assert_int_equal(t->base, 0x0804a000u);
    assert_int_equal(t->limit, 0xFFFFFFFFu);
    assert_int_equal(t->flags, 0xDF3);  /* data RW accessed, S, DPL3, P; AVL D/B G */
    struct vmp_x86_state *st = cpu_state(f->cpu);
    st->seg[VMP_GS].selector = 0x33;
    /* get_thread_area reads it back. */
    struct i386_user_desc q = {6, 0, 0, 0};
    memcpy(g + 64, &q, sizeof q);
    assert_int_equal(SC(f, __NR_get_thread_area, SCRATCH + 64, 0, 0, 0, 0, 0), 0);
    memcpy(&q, g + 64, sizeof q);
    assert_int_equal(q.base_addr, 0x0804a000u);
    assert_int_equal(q.limit, 0xFFFFF);
    assert_int_equal(q.flags & 0x7f, 0x51);
    /* Changing the entry that GS holds reloads GS's base (as Linux does). */
    d.base_addr = 0x0900000u;
    memcpy(g, &d, sizeof d);
    assert_int_equal(SC(f, __NR_set_thread_area, SCRATCH, 0, 0, 0, 0, 0), 0);
    assert_int_equal(st->seg[VMP_GS].base, 0x0900000u);
}

static void test_sys_exit_group_and_signals(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    assert_int_equal(SC(f, __NR_kill, (uint32_t)getpid(), 0, 0, 0, 0, 0), 0);
    assert_int_equal(SC(f, __NR_kill, (uint32_t)getpid(), SIGCHLD, 0, 0, 0, 0), 0);
    /* A recorded handler of SIG_IGN makes the signal harmless. */
    uint32_t act[5] = {1, 0, 0, 0, 0};
    memcpy(g, act, sizeof act);
    assert_int_equal(SC(f, __NR_rt_sigaction, SIGUSR1, SCRATCH, SCRATCH + 64, 8, 0, 0), 0);
    assert_int_equal(SC(f, __NR_rt_sigaction, SIGUSR1, 0, SCRATCH + 64, 8, 0, 0), 0);
    assert_memory_equal(g + 64, act, sizeof act);
    assert_int_equal(SC(f, __NR_kill, (uint32_t)getpid(), SIGUSR1, 0, 0, 0, 0), 0);
    assert_int_equal(SC(f, __NR_rt_sigaction, SIGKILL, SCRATCH, 0, 8, 0, 0), -EINVAL);
    /* abort(): tgkill(self, SIGABRT) ends the guest by that signal. */
    assert_int_equal(SC(f, __NR_tgkill, (uint32_t)getpid(), (uint32_t)gettid(), SIGABRT, 0, 0, 0),
                     INT32_MIN);
    assert_int_equal(f->xr.fatal_signal, SIGABRT);
    f->xr.fatal_signal = 0;
    assert_int_equal(SC(f, __NR_exit_group, 300, 0, 0, 0, 0, 0), INT32_MIN);
    assert_true(f->xr.exited);
    assert_int_equal(f->xr.exit_status, 300 & 0xff);
}

static void test_signal_frame_and_rt_sigreturn_roundtrip(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    struct xr_image img;
    char err[256];
    assert_int_equal(xr_load_elf(&f->xr, prog_path, &img, err, sizeof err), 0);
    char *argv[] = {"prog", NULL};
    char *envp[] = {NULL};
    uint32_t sp = xr_setup_stack(&f->xr, &img, 1, argv, envp, 0, "prog");
    assert_int_not_equal(sp, 0);
    struct vmp_x86_state *st = cpu_state(f->cpu);
    st->gpr[VMP_ESP] = sp;
    st->eip = 0x08050000u;
    st->eflags = 0x202 | 0x400;     /* DF set: the handler must see it clear */
    /* SIGUSR1: SA_SIGINFO | SA_RESTORER; SIGUSR2 blocked while it runs */
    uint32_t act[5] = {0x08049000u, 0x04000004u, 0x08049100u, 1u << (SIGUSR2 - 1), 0};
    memcpy(g, act, sizeof act);
    assert_int_equal(SC(f, __NR_rt_sigaction, SIGUSR1, SCRATCH, 0, 8, 0, 0), 0);
    /* kill(self): the call returns 0, then the handler is entered with
     * EAX = signal, EDX = &info, ECX = &uc, ESP = frame. */
    assert_int_equal(SC(f, __NR_kill, (uint32_t)getpid(), SIGUSR1, 0x77, 0, 0, 0), SIGUSR1);
    assert_int_equal(st->eip, 0x08049000u);
    assert_int_equal(st->eflags & 0x400, 0);
    uint32_t frame = st->gpr[VMP_ESP];
    assert_int_equal((frame + 4) % 16, 0);
    const uint32_t *fr = xr_ptr(&f->xr, frame, 16, XR_P_R);
    assert_non_null(fr);
    assert_int_equal(fr[0], 0x08049100u);          /* pretcode: the restorer */
    assert_int_equal(fr[1], SIGUSR1);
    assert_int_equal(fr[2], st->gpr[VMP_EDX]);
    assert_int_equal(fr[3], st->gpr[VMP_ECX]);
    const int32_t *info = xr_ptr(&f->xr, fr[2], 128, XR_P_R);
    assert_int_equal(info[0], SIGUSR1);
    assert_int_equal(info[2], 0);                   /* SI_USER */
    assert_int_equal(info[3], getpid());
    assert_int_equal(f->xr.sigmask, (1ull << (SIGUSR1 - 1)) | (1ull << (SIGUSR2 - 1)));
    /* The saved EDX in uc_mcontext (offset 20 + 36) is the caller's 0x77. */
    const uint32_t *uc = xr_ptr(&f->xr, fr[3], 116, XR_P_R);
    assert_int_equal(uc[(20 + 36) / 4], 0x77);
    /* The handler returns to the restorer (ret pops pretcode), which calls
     * rt_sigreturn: everything is as before the signal. */
    st->gpr[VMP_ESP] = frame + 4;
    assert_int_equal(SC(f, __NR_rt_sigreturn, 1, 2, 3, 4, 5, 6), 0);
    assert_int_equal(st->eip, 0x08050000u);
    assert_int_equal(st->gpr[VMP_ESP], sp);
    assert_int_equal(st->gpr[VMP_EDX], 0x77);
    assert_int_equal(st->gpr[VMP_ECX], SIGUSR1);
    assert_int_equal(st->eflags & 0x400, 0x400);
    assert_int_equal(f->xr.sigmask, 0);
    /* A garbage frame ends the guest with SIGSEGV. */
    st->gpr[VMP_ESP] = 0x1000;
    assert_int_equal(SC(f, __NR_rt_sigreturn, 0, 0, 0, 0, 0, 0), INT32_MIN);
    assert_int_equal(f->xr.fatal_signal, SIGSEGV);
}

static void test_sys_unimplemented_is_enosys(void **state)
{
    struct fx *f = *state;
    assert_int_equal(SC(f, __NR_fork, 0, 0, 0, 0, 0, 0), -ENOSYS);
    assert_int_equal(SC(f, __NR_execve, 0, 0, 0, 0, 0, 0), -ENOSYS);
    assert_int_equal(SC(f, __NR_rseq, 0, 0, 0, 0, 0, 0), -ENOSYS);
    assert_int_equal(SC(f, 9999, 0, 0, 0, 0, 0, 0), -ENOSYS);
}

static void test_sys_writev_and_llseek(void **state)
{
    struct fx *f = *state;
    char *g = scratch(f);
    char path[] = "/tmp/x86run_iovXXXXXX";
    int fd = mkstemp(path);
    strcpy(g + 100, "hello ");
    strcpy(g + 200, "world");
    uint32_t iov[4] = {SCRATCH + 100, 6, SCRATCH + 200, 5};
    memcpy(g, iov, sizeof iov);
    assert_int_equal(SC(f, __NR_writev, (uint32_t)fd, SCRATCH, 2, 0, 0, 0), 11);
    iov[2] = 0x1000;    /* a bad buffer in the middle fails the call */
    memcpy(g, iov, sizeof iov);
    assert_int_equal(SC(f, __NR_writev, (uint32_t)fd, SCRATCH, 2, 0, 0, 0), -EFAULT);
    assert_int_equal(SC(f, __NR__llseek, (uint32_t)fd, 0, 6, SCRATCH + 300, SEEK_SET, 0), 0);
    int64_t pos;
    memcpy(&pos, g + 300, 8);
    assert_int_equal(pos, 6);
    assert_int_equal(SC(f, __NR_read, (uint32_t)fd, SCRATCH + 400, 100, 0, 0, 0), 5);
    assert_memory_equal(g + 400, "world", 5);
    close(fd);
    unlink(path);
}

static void test_conv_sysinfo_scales_unit(void **state)
{
    (void)state;
    struct sysinfo si = {0};
    si.totalram = 64ull << 30;      /* 64 GiB in bytes: too big for 32 bits */
    si.freeram = 1ull << 30;
    si.mem_unit = 1;
    struct i386_sysinfo o;
    xr_conv_sysinfo(&si, &o);
    assert_true(o.mem_unit > 1);
    assert_int_equal((uint64_t)o.totalram * o.mem_unit, 64ull << 30);
    assert_int_equal((uint64_t)o.freeram * o.mem_unit, 1ull << 30);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s STATIC_I386_PROGRAM\n", argv[0]);
        return 2;
    }
    prog_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysnr_matches_kernel_numbering),
        cmocka_unit_test_setup_teardown(test_elf_load_maps_segments_with_permissions, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_elf_load_rejects_non_i386, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stack_holds_argv_envp_auxv, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_bad_pointers_give_efault, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_stat64_layout, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_mmap_munmap_mprotect, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_brk_grows_and_shrinks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_time_structs, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_uname_says_i686, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_readlink_proc_self_exe_names_guest, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_set_thread_area_tells_translator, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_exit_group_and_signals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_signal_frame_and_rt_sigreturn_roundtrip, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_unimplemented_is_enosys, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sys_writev_and_llseek, fx_setup, fx_teardown),
        cmocka_unit_test(test_conv_sysinfo_scales_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
