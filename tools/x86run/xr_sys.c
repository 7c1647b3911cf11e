/*
 * xr_sys.c - the i386 Linux system calls of an x86run guest, forwarded to
 * the host.
 *
 * Convention (i386 int 0x80): EAX holds the number, EBX ECX EDX ESI EDI EBP
 * the arguments, EAX gets the result or -errno. Every guest pointer goes
 * through xr_ptr()/xr_str() (checked against x86run's map of the guest):
 * a bad one gives -EFAULT. Structs whose i386 layout differs from x86-64's
 * are converted (xr_sysconv.c). What a single-threaded static program
 * without signal handlers needs is implemented; process creation (fork,
 * clone, execve, wait4) is not and returns -ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cpu.h"
#include "xr.h"
#include "xr_sysconv.h"
#include "xr_sysnr.h"

#define SYS_PATH_MAX 4096
#define SYS_IOV_MAX 1024

/* i386 values that differ from x86-64's. */
#define I386_F_GETLK 5
#define I386_F_SETLK 6
#define I386_F_SETLKW 7
#define I386_F_GETLK64 12
#define I386_F_SETLK64 13
#define I386_F_SETLKW64 14

static long sys_ret(long r) { return r < 0 ? -errno : r; }

const char *xr_syscall_name(uint32_t nr)
{
    switch (nr) {
#define XR_SYSNR_NAME(n, name) case n: return #name;
        XR_SYSCALLS(XR_SYSNR_NAME)
#undef XR_SYSNR_NAME
    }
    return NULL;
}

/* Path argument: a checked host string or NULL (-> -EFAULT). */
#define PATH(gla) xr_str(xr, (gla), SYS_PATH_MAX)

static int sys_dirfd(uint32_t fd) { return (int32_t)fd; }

static long sys_stat_out(struct xr *xr, int r, const struct stat *st, uint32_t buf, int old)
{
    if (r < 0)
        return -errno;
    if (old) {
        struct i386_stat s32;
        int e = xr_conv_stat(st, &s32);
        if (e < 0)
            return e;
        return xr_copy_out(xr, buf, &s32, sizeof s32);
    }
    struct i386_stat64 s64;
    xr_conv_stat64(st, &s64);
    return xr_copy_out(xr, buf, &s64, sizeof s64);
}

/* readlink of /proc/self/exe names the guest program, not x86run. */
static int sys_is_self_exe(const char *path)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/%d/exe", (int)getpid());
    return !strcmp(path, "/proc/self/exe") || !strcmp(path, self) ||
           !strcmp(path, "/proc/thread-self/exe");
}

static long sys_readlinkat(struct xr *xr, uint32_t dirfd, uint32_t path_gla, uint32_t buf,
                           uint32_t size)
{
    const char *path = PATH(path_gla);
    if (!path)
        return -EFAULT;
    if ((int32_t)size <= 0)
        return -EINVAL;
    char *dst = xr_ptr(xr, buf, size, XR_P_W);
    if (!dst)
        return -EFAULT;
    if (sys_is_self_exe(path)) {
        size_t n = strlen(xr->exe_path);
        if (n > size)
            n = size;
        memcpy(dst, xr->exe_path, n);
        return (long)n;
    }
    return sys_ret(readlinkat(sys_dirfd(dirfd), path, dst, size));
}

static long sys_rw_vec(struct xr *xr, long nr, uint32_t fd, uint32_t iov_gla, uint32_t cnt,
                       int64_t off)
{
    if (cnt > SYS_IOV_MAX)
        return -EINVAL;
    struct i386_iovec v32[SYS_IOV_MAX];
    struct iovec v[SYS_IOV_MAX];
    int writing = nr == XR_NR_writev || nr == XR_NR_pwritev;
    if (xr_copy_in(xr, v32, iov_gla, cnt * sizeof v32[0]) < 0)
        return -EFAULT;
    for (uint32_t i = 0; i < cnt; i++) {
        v[i].iov_len = v32[i].len;
        v[i].iov_base = xr_ptr(xr, v32[i].base, v32[i].len, writing ? XR_P_R : XR_P_W);
        if (!v[i].iov_base)
            return -EFAULT;
    }
    switch (nr) {
    case XR_NR_readv: return sys_ret(readv((int)fd, v, (int)cnt));
    case XR_NR_writev: return sys_ret(writev((int)fd, v, (int)cnt));
    case XR_NR_preadv: return sys_ret(preadv((int)fd, v, (int)cnt, off));
    default: return sys_ret(pwritev((int)fd, v, (int)cnt, off));
    }
}

/*
 * getdents64: struct linux_dirent64 has one layout, but the directory
 * offsets (d_off) do not: ext4 and others hand a 64-bit process 64-bit hash
 * cookies and a 32-bit one 32-bit cookies (is_32bit_api() in fs/ext4/dir.c).
 * An i386 glibc's readdir fails with EOVERFLOW on a d_off that does not fit
 * its 32-bit off_t, so the call is made as the i386 system call it is: int
 * 0x80 from 64-bit code enters the kernel's ia32 emulation, with a bounce
 * buffer below 4 GiB. Without ia32 emulation, the 64-bit call is the
 * fallback.
 */
#define SYS_BOUNCE_BYTES 65536u

static long sys_getdents64(uint32_t fd, void *dst, uint32_t count)
{
    static uint8_t *bounce;
    if (!bounce) {
        void *p = mmap(NULL, SYS_BOUNCE_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        bounce = p == MAP_FAILED ? (uint8_t *)1 : p;
    }
    if (bounce != (uint8_t *)1 && (uintptr_t)bounce + SYS_BOUNCE_BYTES <= (1ull << 32)) {
        uint32_t n = count < SYS_BOUNCE_BYTES ? count : SYS_BOUNCE_BYTES;
        long r = XR_NR_getdents64;
        __asm__ volatile("int $0x80"
                         : "+a"(r)
                         : "b"(fd), "c"((uint32_t)(uintptr_t)bounce), "d"(n)
                         : "memory", "cc", "r8", "r9", "r10", "r11");
        r = (int32_t)r;
        if (r != -ENOSYS) {
            if (r > 0)
                memcpy(dst, bounce, (size_t)r);
            return r;
        }
    }
    return sys_ret(syscall(SYS_getdents64, (int)fd, dst, count));
}

/* mmap2: placement in x86run's map, then the translator maps it. */
static long sys_mmap(struct xr *xr, uint32_t addr, uint32_t len, uint32_t prot,
                     uint32_t flags, uint32_t fd, uint64_t off_bytes)
{
    if (len == 0 || (off_bytes & (XR_PAGE_SIZE - 1)))
        return -EINVAL;
    uint64_t len_pages = ((uint64_t)len + XR_PAGE_SIZE - 1) & ~(uint64_t)(XR_PAGE_SIZE - 1);
    if (len_pages >= XR_STACK_TOP)
        return -ENOMEM;
    uint32_t n = (uint32_t)len_pages;
    uint32_t type = flags & 0x0f;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    uint32_t gla;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if ((addr & (XR_PAGE_SIZE - 1)) || (uint64_t)addr + n > XR_STACK_TOP - XR_STACK_BYTES ||
            addr < XR_MMAP_BOTTOM)
            return (flags & MAP_FIXED) ? -EINVAL : -ENOMEM;
        if (!xr_mem_is_free(xr, addr, n)) {
            if (flags & MAP_FIXED_NOREPLACE)
                return -EEXIST;
            int rc = xr_mem_unmap(xr, addr, n);
            if (rc < 0)
                return rc;
        }
        gla = addr;
    } else if (addr && !(addr & (XR_PAGE_SIZE - 1)) && addr >= XR_MMAP_BOTTOM &&
               (uint64_t)addr + n <= xr->mmap_top && xr_mem_is_free(xr, addr, n)) {
        gla = addr;
    } else {
        gla = xr_mem_find_free(xr, n, xr->mmap_top);
        if (!gla)
            return -ENOMEM;
    }
    int anon = (flags & MAP_ANONYMOUS) != 0;
    struct stat st;
    if (!anon) {
        if (fstat((int)fd, &st) < 0)
            return -EBADF;
        if (S_ISDIR(st.st_mode))
            return -ENODEV;
    }
    /* File contents are copied in (a private mapping's semantics); writes to
     * a MAP_SHARED mapping therefore do not reach the file. */
    int rc = xr_mem_map(xr, gla, n, anon ? (int)prot : PROT_READ | PROT_WRITE);
    if (rc < 0)
        return rc;
    if (!anon) {
        char *dst = xr_ptr(xr, gla, n, XR_P_W);
        uint64_t done = 0;
        while (dst && done < len) {
            ssize_t r = pread((int)fd, dst + done, len - done, (off_t)(off_bytes + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            done += (uint64_t)r;
        }
        if (xr->strace && type != MAP_PRIVATE && (prot & PROT_WRITE))
            fprintf(stderr, "x86run: MAP_SHARED writable file mapping is a private copy\n");
        rc = xr_mem_protect(xr, gla, n, (int)prot);
        if (rc < 0) {
            xr_mem_unmap(xr, gla, n);
            return rc;
        }
    }
    return gla;
}

static long sys_mremap(struct xr *xr, uint32_t old, uint32_t old_len, uint32_t new_len,
                       uint32_t flags)
{
    uint32_t o = (old_len + XR_PAGE_SIZE - 1) & ~(XR_PAGE_SIZE - 1);
    uint32_t nn = (new_len + XR_PAGE_SIZE - 1) & ~(XR_PAGE_SIZE - 1);
    if ((old & (XR_PAGE_SIZE - 1)) || nn == 0 || (flags & ~1u))
        return -EINVAL;      /* only MREMAP_MAYMOVE */
    uint8_t f = xr->pages[old >> XR_PAGE_SHIFT];
    if (!xr_ptr(xr, old, o, 0))
        return -EFAULT;
    if (nn <= o) {
        if (nn < o)
            xr_mem_unmap(xr, old + nn, o - nn);
        return old;
    }
    int prot = ((f & XR_P_R) ? PROT_READ : 0) | ((f & XR_P_W) ? PROT_WRITE : 0) |
               ((f & XR_P_X) ? PROT_EXEC : 0);
    if ((uint64_t)old + nn <= xr->mmap_top && xr_mem_is_free(xr, old + o, nn - o)) {
        int rc = xr_mem_map(xr, old + o, nn - o, prot);
        if (rc < 0)
            return rc;
        return old;
    }
    if (!(flags & 1))
        return -ENOMEM;
    uint32_t gla = xr_mem_find_free(xr, nn, xr->mmap_top);
    if (!gla)
        return -ENOMEM;
    int rc = xr_mem_map(xr, gla, nn, PROT_READ | PROT_WRITE);
    if (rc < 0)
        return rc;
    void *dst = xr_ptr(xr, gla, o, XR_P_W);
    void *src = xr_ptr(xr, old, o, 0);
    if (!dst || !src)
        return -EFAULT;
    if (f & XR_P_R)
        memcpy(dst, src, o);
    xr_mem_protect(xr, gla, nn, prot);
    xr_mem_unmap(xr, old, o);
    return gla;
}

static long sys_set_thread_area(struct xr *xr, uint32_t gla, int set)
{
    struct i386_user_desc d;
    if (xr_copy_in(xr, &d, gla, sizeof d) < 0)
        return -EFAULT;
    if (!set) {
        unsigned idx = d.entry_number - XR_TLS_FIRST;
        if (idx >= XR_TLS_COUNT)
            return -EINVAL;
        /* Report back what was stored (flags rebuilt from the attribute). */
        const struct xr_tls *t = &xr->tls[idx];
        uint16_t a = t->attr;
        d.base_addr = t->base;
        d.limit = (a & 0x800) ? t->limit_bytes >> 12 : t->limit_bytes;
        d.flags = ((a >> 10) & 1) | ((a >> 2) & 3) << 1 | (!((a >> 1) & 1)) << 3 |
                  ((a >> 11) & 1) << 4 | (!((a >> 7) & 1)) << 5 | ((a >> 8) & 1) << 6;
        if (!t->used)
            d.flags = 1u << 3 | 1u << 5; /* read_exec_only, not present */
        return xr_copy_out(xr, gla, &d, sizeof d);
    }
    if (d.entry_number == 0xFFFFFFFFu) {
        unsigned i;
        for (i = 0; i < XR_TLS_COUNT && xr->tls[i].used; i++)
            ;
        if (i == XR_TLS_COUNT)
            return -ESRCH;
        d.entry_number = XR_TLS_FIRST + i;
        if (xr_copy_out(xr, gla, &d, sizeof d) < 0)
            return -EFAULT;
    }
    unsigned idx = d.entry_number - XR_TLS_FIRST;
    if (idx >= XR_TLS_COUNT)
        return -EINVAL;
    struct xr_tls *t = &xr->tls[idx];
    /* An empty descriptor (Linux's LDT_empty): clears the entry. */
    int empty = d.base_addr == 0 && d.limit == 0 && (d.flags & 0x7f) == (1u << 3 | 1u << 5);
    t->used = !empty;
    t->base = d.base_addr;
    t->limit_bytes = xr_conv_desc_limit(&d);
    t->attr = empty ? 0 : xr_conv_desc_attr(&d);
    int rc = cpu_user_set_tls(xr->cpu, d.entry_number, t->base, t->limit_bytes, t->attr);
    if (rc < 0)
        return rc;
    /* Linux reloads a segment register that holds the changed selector. */
    struct vmp_x86_state *s = cpu_state(xr->cpu);
    uint16_t sel = (uint16_t)(d.entry_number << 3 | 3);
    for (int r = VMP_FS; r <= VMP_GS; r++) {
        if (s->seg[r].selector == sel) {
            s->seg[r].base = t->base;
            s->seg[r].limit = t->limit_bytes;
            s->seg[r].attr = t->attr;
            cpu_state_changed(xr->cpu);
        }
    }
    return 0;
}

/* A signal the guest sends itself: pending until xr_syscall acts on it. */
static long sys_self_signal(struct xr *xr, uint32_t sig, int code)
{
    if (sig > 64)
        return -EINVAL;
    if (sig)
        xr_signal_send(xr, (int)sig, code);
    return 0;
}

static long sys_fcntl(struct xr *xr, uint32_t fd, uint32_t cmd, uint32_t arg)
{
    struct flock fl;
    switch (cmd) {
    case I386_F_GETLK64: case I386_F_SETLK64: case I386_F_SETLKW64: {
        struct i386_flock64 f;
        if (xr_copy_in(xr, &f, arg, sizeof f) < 0)
            return -EFAULT;
        fl = (struct flock){.l_type = f.l_type, .l_whence = f.l_whence, .l_start = f.l_start,
                            .l_len = f.l_len, .l_pid = f.l_pid};
        int hcmd = cmd == I386_F_GETLK64 ? F_GETLK : cmd == I386_F_SETLK64 ? F_SETLK : F_SETLKW;
        if (fcntl((int)fd, hcmd, &fl) < 0)
            return -errno;
        if (cmd != I386_F_GETLK64)
            return 0;
        f.l_type = fl.l_type;
        f.l_whence = fl.l_whence;
        f.l_start = fl.l_start;
        f.l_len = fl.l_len;
        f.l_pid = fl.l_pid;
        return xr_copy_out(xr, arg, &f, sizeof f);
    }
    case I386_F_GETLK: case I386_F_SETLK: case I386_F_SETLKW: {
        struct { int16_t type, whence; int32_t start, len, pid; } f;
        if (xr_copy_in(xr, &f, arg, sizeof f) < 0)
            return -EFAULT;
        fl = (struct flock){.l_type = f.type, .l_whence = f.whence, .l_start = f.start,
                            .l_len = f.len, .l_pid = f.pid};
        if (fcntl((int)fd, (int)cmd, &fl) < 0)
            return -errno;
        if (cmd != I386_F_GETLK)
            return 0;
        if (fl.l_start > INT32_MAX || fl.l_len > INT32_MAX)
            return -EOVERFLOW;
        f.type = fl.l_type;
        f.whence = fl.l_whence;
        f.start = (int32_t)fl.l_start;
        f.len = (int32_t)fl.l_len;
        f.pid = fl.l_pid;
        return xr_copy_out(xr, arg, &f, sizeof f);
    }
    case F_DUPFD: case F_GETFD: case F_SETFD: case F_GETFL: case F_SETFL:
    case F_SETOWN: case F_GETOWN: case F_SETSIG: case F_GETSIG:
    case F_SETLEASE: case F_GETLEASE: case F_NOTIFY: case F_DUPFD_CLOEXEC:
    case F_SETPIPE_SZ: case F_GETPIPE_SZ: case F_ADD_SEALS: case F_GET_SEALS:
        return sys_ret(fcntl((int)fd, (int)cmd, (long)(int32_t)arg));
    }
    return -EINVAL;
}

static long sys_ioctl(struct xr *xr, uint32_t fd, uint32_t req, uint32_t arg)
{
    uint32_t in = 0, out = 0;
    switch (req) {
    case 0x5401: out = 36; break;               /* TCGETS: same layout */
    case 0x5402: case 0x5403: case 0x5404: in = 36; break; /* TCSETS* */
    case 0x5413: out = 8; break;                /* TIOCGWINSZ */
    case 0x5414: in = 8; break;                 /* TIOCSWINSZ */
    case 0x541B: case 0x540F: out = 4; break;   /* FIONREAD, TIOCGPGRP */
    case 0x5410: case 0x5421: in = 4; break;    /* TIOCSPGRP, FIONBIO */
    case 0x5450: case 0x5451:                   /* FIONCLEX, FIOCLEX */
        return sys_ret(syscall(SYS_ioctl, (int)fd, (unsigned long)req, 0UL));
    default:
        if (xr->strace)
            fprintf(stderr, "x86run: ioctl 0x%x not forwarded\n", req);
        return -ENOTTY;
    }
    void *p = xr_ptr(xr, arg, in + out, in ? XR_P_R : XR_P_W);
    if (!p)
        return -EFAULT;
    return sys_ret(syscall(SYS_ioctl, (int)fd, (unsigned long)req, p));
}

static long sys_select(struct xr *xr, const uint32_t *a)
{
    int32_t nfds = (int32_t)a[0];
    if (nfds < 0 || nfds > FD_SETSIZE)
        return -EINVAL;
    uint32_t bytes = (uint32_t)(nfds + 31) / 32 * 4;
    fd_set sets[3];
    fd_set *hp[3];
    for (int i = 0; i < 3; i++) {
        hp[i] = NULL;
        if (!a[1 + i])
            continue;
        FD_ZERO(&sets[i]);
        if (xr_copy_in(xr, &sets[i], a[1 + i], bytes) < 0)
            return -EFAULT;
        hp[i] = &sets[i];
    }
    struct timeval tv, *tvp = NULL;
    struct i386_timeval t32;
    if (a[4]) {
        if (xr_copy_in(xr, &t32, a[4], sizeof t32) < 0)
            return -EFAULT;
        tv.tv_sec = t32.tv_sec;
        tv.tv_usec = t32.tv_usec;
        tvp = &tv;
    }
    long r = sys_ret(select(nfds, hp[0], hp[1], hp[2], tvp));
    if (r < 0)
        return r;
    for (int i = 0; i < 3; i++)
        if (hp[i] && xr_copy_out(xr, a[1 + i], hp[i], bytes) < 0)
            return -EFAULT;
    if (tvp) {
        xr_conv_timeval(&tv, &t32);
        xr_copy_out(xr, a[4], &t32, sizeof t32);
    }
    return r;
}

/* The guest's time arguments: 32-bit (is64 = 0) or 64-bit timespec. */
static int sys_ts_in(struct xr *xr, uint32_t gla, int is64, struct timespec *ts)
{
    if (is64) {
        struct i386_timespec64 t;
        if (xr_copy_in(xr, &t, gla, sizeof t) < 0)
            return -EFAULT;
        ts->tv_sec = t.tv_sec;
        ts->tv_nsec = (long)t.tv_nsec;
    } else {
        struct i386_timespec t;
        if (xr_copy_in(xr, &t, gla, sizeof t) < 0)
            return -EFAULT;
        ts->tv_sec = t.tv_sec;
        ts->tv_nsec = t.tv_nsec;
    }
    return 0;
}

static long sys_ts_out(struct xr *xr, uint32_t gla, int is64, const struct timespec *ts)
{
    if (is64) {
        struct i386_timespec64 t;
        xr_conv_timespec64(ts, &t);
        return xr_copy_out(xr, gla, &t, sizeof t);
    }
    struct i386_timespec t;
    int e = xr_conv_timespec(ts, &t);
    return e < 0 ? e : xr_copy_out(xr, gla, &t, sizeof t);
}

static long sys_clock_nanosleep(struct xr *xr, uint32_t clk, uint32_t flags, uint32_t req,
                                uint32_t rem, int is64)
{
    struct timespec r, left = {0, 0};
    if (sys_ts_in(xr, req, is64, &r) < 0)
        return -EFAULT;
    int e = clock_nanosleep((clockid_t)clk, (int)flags, &r, &left);
    if (e == EINTR && rem && !(flags & TIMER_ABSTIME))
        sys_ts_out(xr, rem, is64, &left);
    return -e;
}

static long sys_utimensat(struct xr *xr, uint32_t dirfd, uint32_t path_gla, uint32_t times,
                          uint32_t flags, int is64)
{
    const char *path = NULL;
    struct timespec ts[2], *tsp = NULL;
    if (path_gla && !(path = PATH(path_gla)))
        return -EFAULT;
    if (times) {
        uint32_t sz = is64 ? sizeof(struct i386_timespec64) : sizeof(struct i386_timespec);
        if (sys_ts_in(xr, times, is64, &ts[0]) < 0 || sys_ts_in(xr, times + sz, is64, &ts[1]) < 0)
            return -EFAULT;
        tsp = ts;
    }
    return sys_ret(syscall(SYS_utimensat, sys_dirfd(dirfd), path, tsp, (int)flags));
}

static long sys_futex(struct xr *xr, uint32_t uaddr, uint32_t op, uint32_t val)
{
    switch (op & 0x7f) {       /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
    case 0: case 9: {          /* FUTEX_WAIT, FUTEX_WAIT_BITSET */
        uint32_t cur;
        if (xr_copy_in(xr, &cur, uaddr, 4) < 0)
            return -EFAULT;
        if (cur != val)
            return -EAGAIN;
        /* One thread: nobody could wake us. */
        return -ETIMEDOUT;
    }
    case 1: case 10:           /* FUTEX_WAKE, FUTEX_WAKE_BITSET: nobody waits */
        return 0;
    }
    return -ENOSYS;
}

static long sys_uname(struct xr *xr, uint32_t buf)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    snprintf(u.machine, sizeof u.machine, "i686");
    return xr_copy_out(xr, buf, &u, 6 * 65);
}

static long sys_rt_sigaction(struct xr *xr, uint32_t sig, uint32_t act, uint32_t oact,
                             uint32_t setsize)
{
    if (setsize != 8 || sig == 0 || sig > 64)
        return -EINVAL;
    struct xr_sigaction32 a;
    const uint32_t sz = 20;    /* handler, flags, restorer, mask[2] */
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if (act && xr_copy_in(xr, &a, act, sz) < 0)
        return -EFAULT;
    if (oact && xr_copy_out(xr, oact, &xr->sigact[sig], sz) < 0)
        return -EFAULT;
    if (act) {
        xr->sigact[sig] = a;
        /* Setting SIG_IGN discards a pending instance (signal(7)). */
        if (a.handler == 1)
            xr->sigpending &= ~(1ull << (sig - 1));
    }
    return 0;
}

static long sys_rt_sigprocmask(struct xr *xr, uint32_t how, uint32_t set, uint32_t oset,
                               uint32_t setsize)
{
    if (setsize != 8)
        return -EINVAL;
    uint64_t old = xr->sigmask, m;
    if (set) {
        if (xr_copy_in(xr, &m, set, 8) < 0)
            return -EFAULT;
        m &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
        switch (how) {
        case SIG_BLOCK: xr->sigmask |= m; break;
        case SIG_UNBLOCK: xr->sigmask &= ~m; break;
        case SIG_SETMASK: xr->sigmask = m; break;
        default: return -EINVAL;
        }
    }
    if (oset && xr_copy_out(xr, oset, &old, 8) < 0)
        return -EFAULT;
    return 0;
}

static uint32_t sys_uid16(uint32_t id) { return id > 0xFFFF ? 65534 : id; }

static long sys_dispatch(struct xr *xr, uint32_t nr, const uint32_t *a)
{
    struct stat st;
    const char *p1, *p2;
    void *buf;
    switch (nr) {
    case XR_NR_exit:
    case XR_NR_exit_group:
        xr->exited = 1;
        xr->exit_status = (int)(a[0] & 0xff);
        return -1;
    case XR_NR_read:
    case XR_NR_write:
    case XR_NR_pread64:
    case XR_NR_pwrite64: {
        /* Only the accessible prefix of the buffer is passed: Linux copies up
         * to the first bad page and returns what it did (EFAULT if nothing). */
        int to_guest = nr == XR_NR_read || nr == XR_NR_pread64;
        uint32_t n;
        if (!(buf = xr_ptr_prefix(xr, a[1], a[2], to_guest ? XR_P_W : XR_P_R, &n)))
            return -EFAULT;
        int64_t off = (int64_t)((uint64_t)a[4] << 32 | a[3]);
        switch (nr) {
        case XR_NR_read: return sys_ret(read((int)a[0], buf, n));
        case XR_NR_write: return sys_ret(write((int)a[0], buf, n));
        case XR_NR_pread64: return sys_ret(pread((int)a[0], buf, n, off));
        default: return sys_ret(pwrite((int)a[0], buf, n, off));
        }
    }
    case XR_NR_readv: case XR_NR_writev:
        return sys_rw_vec(xr, nr, a[0], a[1], a[2], 0);
    case XR_NR_preadv: case XR_NR_pwritev:
        return sys_rw_vec(xr, nr, a[0], a[1], a[2], (int64_t)((uint64_t)a[4] << 32 | a[3]));
    case XR_NR_open:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(openat(AT_FDCWD, p1, (int)a[1], (mode_t)a[2]));
    case XR_NR_creat:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(creat(p1, (mode_t)a[1]));
    case XR_NR_openat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(openat(sys_dirfd(a[0]), p1, (int)a[2], (mode_t)a[3]));
    case XR_NR_close:
        return sys_ret(close((int)a[0]));
    case XR_NR_lseek: {
        off_t r = lseek((int)a[0], (off_t)(int32_t)a[1], (int)a[2]);
        if (r < 0)
            return -errno;
        return r > INT32_MAX ? -EOVERFLOW : r;
    }
    case XR_NR__llseek: {
        off_t r = lseek((int)a[0], (off_t)((uint64_t)a[1] << 32 | a[2]), (int)a[4]);
        if (r < 0)
            return -errno;
        int64_t r64 = r;
        return xr_copy_out(xr, a[3], &r64, 8);
    }
    case XR_NR_link: case XR_NR_rename: case XR_NR_symlink:
        if (!(p1 = PATH(a[0])) || !(p2 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(nr == XR_NR_link ? link(p1, p2) : nr == XR_NR_rename ? rename(p1, p2)
                                                                            : symlink(p1, p2));
    case XR_NR_linkat:
        if (!(p1 = PATH(a[1])) || !(p2 = PATH(a[3])))
            return -EFAULT;
        return sys_ret(linkat(sys_dirfd(a[0]), p1, sys_dirfd(a[2]), p2, (int)a[4]));
    case XR_NR_renameat: case XR_NR_renameat2:
        if (!(p1 = PATH(a[1])) || !(p2 = PATH(a[3])))
            return -EFAULT;
        return sys_ret(syscall(SYS_renameat2, sys_dirfd(a[0]), p1, sys_dirfd(a[2]), p2,
                               nr == XR_NR_renameat ? 0u : a[4]));
    case XR_NR_symlinkat:
        if (!(p1 = PATH(a[0])) || !(p2 = PATH(a[2])))
            return -EFAULT;
        return sys_ret(symlinkat(p1, sys_dirfd(a[1]), p2));
    case XR_NR_unlink: case XR_NR_chdir: case XR_NR_rmdir:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(nr == XR_NR_unlink ? unlink(p1) : nr == XR_NR_chdir ? chdir(p1)
                                                                           : rmdir(p1));
    case XR_NR_unlinkat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(unlinkat(sys_dirfd(a[0]), p1, (int)a[2]));
    case XR_NR_mkdir:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(mkdir(p1, (mode_t)a[1]));
    case XR_NR_mkdirat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(mkdirat(sys_dirfd(a[0]), p1, (mode_t)a[2]));
    case XR_NR_fchdir:
        return sys_ret(fchdir((int)a[0]));
    case XR_NR_chmod:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(chmod(p1, (mode_t)a[1]));
    case XR_NR_fchmod:
        return sys_ret(fchmod((int)a[0], (mode_t)a[1]));
    case XR_NR_fchmodat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(syscall(SYS_fchmodat, sys_dirfd(a[0]), p1, (mode_t)a[2]));
    case XR_NR_chown32: case XR_NR_lchown32:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(nr == XR_NR_chown32 ? chown(p1, a[1], a[2]) : lchown(p1, a[1], a[2]));
    case XR_NR_fchown32:
        return sys_ret(fchown((int)a[0], a[1], a[2]));
    case XR_NR_fchownat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(fchownat(sys_dirfd(a[0]), p1, a[2], a[3], (int)a[4]));
    case XR_NR_access:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(syscall(SYS_faccessat, AT_FDCWD, p1, (int)a[1]));
    case XR_NR_faccessat:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(syscall(SYS_faccessat, sys_dirfd(a[0]), p1, (int)a[2]));
    case XR_NR_faccessat2:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_ret(syscall(SYS_faccessat2, sys_dirfd(a[0]), p1, (int)a[2], (int)a[3]));
    case XR_NR_readlink:
        return sys_readlinkat(xr, (uint32_t)AT_FDCWD, a[0], a[1], a[2]);
    case XR_NR_readlinkat:
        return sys_readlinkat(xr, a[0], a[1], a[2], a[3]);
    case XR_NR_truncate: case XR_NR_truncate64:
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        return sys_ret(truncate(p1, nr == XR_NR_truncate ? (off_t)(int32_t)a[1]
                                                         : (off_t)((uint64_t)a[2] << 32 | a[1])));
    case XR_NR_ftruncate:
        return sys_ret(ftruncate((int)a[0], (off_t)(int32_t)a[1]));
    case XR_NR_ftruncate64:
        return sys_ret(ftruncate((int)a[0], (off_t)((uint64_t)a[2] << 32 | a[1])));
    case XR_NR_stat: case XR_NR_lstat: case XR_NR_stat64: case XR_NR_lstat64: {
        if (!(p1 = PATH(a[0])))
            return -EFAULT;
        int lnk = nr == XR_NR_lstat || nr == XR_NR_lstat64;
        int r = fstatat(AT_FDCWD, p1, &st, lnk ? AT_SYMLINK_NOFOLLOW : 0);
        return sys_stat_out(xr, r, &st, a[1], nr == XR_NR_stat || nr == XR_NR_lstat);
    }
    case XR_NR_fstat: case XR_NR_fstat64:
        return sys_stat_out(xr, fstat((int)a[0], &st), &st, a[1], nr == XR_NR_fstat);
    case XR_NR_fstatat64:
        if (!(p1 = PATH(a[1])))
            return -EFAULT;
        return sys_stat_out(xr, fstatat(sys_dirfd(a[0]), p1, &st, (int)a[3]), &st, a[2], 0);
    case XR_NR_statx:          /* struct statx has one layout on every arch */
        if (!(p1 = PATH(a[1])) || !(buf = xr_ptr(xr, a[4], 256, XR_P_W)))
            return -EFAULT;
        return sys_ret(syscall(SYS_statx, sys_dirfd(a[0]), p1, (int)a[2], a[3], buf));
    case XR_NR_statfs64: case XR_NR_fstatfs64: {
        struct statfs sf;
        struct i386_statfs64 s64;
        if (a[1] != sizeof s64)
            return -EINVAL;
        int r;
        if (nr == XR_NR_statfs64) {
            if (!(p1 = PATH(a[0])))
                return -EFAULT;
            r = statfs(p1, &sf);
        } else {
            r = fstatfs((int)a[0], &sf);
        }
        if (r < 0)
            return -errno;
        xr_conv_statfs64(&sf, &s64);
        return xr_copy_out(xr, a[2], &s64, sizeof s64);
    }
    case XR_NR_getdents64:
        if (!(buf = xr_ptr(xr, a[1], a[2], XR_P_W)))
            return -EFAULT;
        return sys_getdents64(a[0], buf, a[2]);
    case XR_NR_getcwd:
        if (!(buf = xr_ptr(xr, a[0], a[1], XR_P_W)))
            return -EFAULT;
        return sys_ret(syscall(SYS_getcwd, buf, (size_t)a[1]));
    case XR_NR_umask:
        return umask((mode_t)a[0]);
    case XR_NR_dup:
        return sys_ret(dup((int)a[0]));
    case XR_NR_dup2:
        return sys_ret(dup2((int)a[0], (int)a[1]));
    case XR_NR_dup3:
        return sys_ret(dup3((int)a[0], (int)a[1], (int)a[2]));
    case XR_NR_pipe: case XR_NR_pipe2: {
        int fds[2];
        if (!xr_ptr(xr, a[0], 8, XR_P_W))
            return -EFAULT;
        if (pipe2(fds, nr == XR_NR_pipe ? 0 : (int)a[1]) < 0)
            return -errno;
        return xr_copy_out(xr, a[0], fds, 8);
    }
    case XR_NR_fcntl: case XR_NR_fcntl64:
        if (nr == XR_NR_fcntl && a[1] >= I386_F_GETLK64 && a[1] <= I386_F_SETLKW64)
            return -EINVAL;
        return sys_fcntl(xr, a[0], a[1], a[2]);
    case XR_NR_ioctl:
        return sys_ioctl(xr, a[0], a[1], a[2]);
    case XR_NR_flock:
        return sys_ret(flock((int)a[0], (int)a[1]));
    case XR_NR_fsync:
        return sys_ret(fsync((int)a[0]));
    case XR_NR_fdatasync:
        return sys_ret(fdatasync((int)a[0]));
    case XR_NR_sync:
        sync();
        return 0;
    case XR_NR_fadvise64_64:
        return 0;
    case XR_NR_poll:           /* struct pollfd is the same on both */
        if (a[1] > 65536)
            return -EINVAL;
        if (!(buf = xr_ptr(xr, a[0], a[1] * 8, XR_P_W)))
            return -EFAULT;
        return sys_ret(poll(buf, a[1], (int)a[2]));
    case XR_NR__newselect:
        return sys_select(xr, a);
    case XR_NR_brk:
        return xr_brk(xr, a[0]);
    case XR_NR_mmap2:
        return sys_mmap(xr, a[0], a[1], a[2], a[3], a[4], (uint64_t)a[5] * XR_PAGE_SIZE);
    case XR_NR_mmap: {         /* old_mmap: one pointer to six arguments */
        uint32_t m[6];
        if (xr_copy_in(xr, m, a[0], sizeof m) < 0)
            return -EFAULT;
        return sys_mmap(xr, m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    case XR_NR_munmap:
        if (a[0] & (XR_PAGE_SIZE - 1) || a[1] == 0)
            return -EINVAL;
        return xr_mem_unmap(xr, a[0], a[1]);
    case XR_NR_mprotect:
        return xr_mem_protect(xr, a[0], a[1], (int)a[2]);
    case XR_NR_mremap:
        return sys_mremap(xr, a[0], a[1], a[2], a[3]);
    case XR_NR_madvise:
        /* MADV_DONTNEED on private anonymous memory reads back as zeros. */
        if (a[2] == MADV_DONTNEED && (buf = xr_ptr(xr, a[0], a[1], XR_P_W)))
            memset(buf, 0, a[1]);
        return 0;
    case XR_NR_time: {
        time_t t = time(NULL);
        int32_t t32 = (int32_t)t;
        if (a[0] && xr_copy_out(xr, a[0], &t32, 4) < 0)
            return -EFAULT;
        return t32;
    }
    case XR_NR_gettimeofday: {
        struct timeval tv;
        struct i386_timeval t32;
        gettimeofday(&tv, NULL);
        if (a[0]) {
            int e = xr_conv_timeval(&tv, &t32);
            if (e < 0)
                return e;
            if (xr_copy_out(xr, a[0], &t32, sizeof t32) < 0)
                return -EFAULT;
        }
        if (a[1]) {
            int32_t tz[2] = {0, 0};
            if (xr_copy_out(xr, a[1], tz, sizeof tz) < 0)
                return -EFAULT;
        }
        return 0;
    }
    case XR_NR_clock_gettime: case XR_NR_clock_gettime64:
    case XR_NR_clock_getres: case XR_NR_clock_getres_time64: {
        struct timespec ts;
        int is64 = nr == XR_NR_clock_gettime64 || nr == XR_NR_clock_getres_time64;
        int get = nr == XR_NR_clock_gettime || nr == XR_NR_clock_gettime64;
        if ((get ? clock_gettime((clockid_t)a[0], &ts) : clock_getres((clockid_t)a[0], &ts)) < 0)
            return -errno;
        if (!a[1])
            return 0;
        return sys_ts_out(xr, a[1], is64, &ts);
    }
    case XR_NR_nanosleep:
        return sys_clock_nanosleep(xr, CLOCK_MONOTONIC, 0, a[0], a[1], 0);
    case XR_NR_clock_nanosleep: case XR_NR_clock_nanosleep_time64:
        return sys_clock_nanosleep(xr, a[0], a[1], a[2], a[3],
                                   nr == XR_NR_clock_nanosleep_time64);
    case XR_NR_utimensat: case XR_NR_utimensat_time64:
        return sys_utimensat(xr, a[0], a[1], a[2], a[3], nr == XR_NR_utimensat_time64);
    case XR_NR_times: {
        struct tms t;
        struct i386_tms t32;
        clock_t c = times(&t);
        xr_conv_tms(&t, &t32);
        if (a[0] && xr_copy_out(xr, a[0], &t32, sizeof t32) < 0)
            return -EFAULT;
        return (long)(int32_t)c;
    }
    case XR_NR_getrusage: {
        struct rusage ru;
        struct i386_rusage r32;
        if (getrusage((int)(int32_t)a[0], &ru) < 0)
            return -errno;
        xr_conv_rusage(&ru, &r32);
        return xr_copy_out(xr, a[1], &r32, sizeof r32);
    }
    case XR_NR_sysinfo: {
        struct sysinfo si;
        struct i386_sysinfo s32;
        if (sysinfo(&si) < 0)
            return -errno;
        xr_conv_sysinfo(&si, &s32);
        return xr_copy_out(xr, a[0], &s32, sizeof s32);
    }
    case XR_NR_uname:
        return sys_uname(xr, a[0]);
    case XR_NR_getrandom:
        if (!(buf = xr_ptr(xr, a[0], a[1], XR_P_W)))
            return -EFAULT;
        return sys_ret(getrandom(buf, a[1], a[2]));
    case XR_NR_getrlimit: case XR_NR_ugetrlimit: {
        struct rlimit rl;
        struct i386_rlimit r32;
        if (getrlimit((int)a[0], &rl) < 0)
            return -errno;
        xr_conv_rlimit(&rl, &r32);
        return xr_copy_out(xr, a[1], &r32, sizeof r32);
    }
    case XR_NR_setrlimit: {
        struct rlimit rl;
        struct i386_rlimit r32;
        if (xr_copy_in(xr, &r32, a[1], sizeof r32) < 0)
            return -EFAULT;
        xr_conv_rlimit_in(&r32, &rl);
        return sys_ret(setrlimit((int)a[0], &rl));
    }
    case XR_NR_prlimit64: {    /* struct rlimit64 is two u64 on both */
        void *nl = NULL, *ol = NULL;
        if (a[0] != 0 && a[0] != (uint32_t)getpid())
            return -EPERM;
        if (a[2] && !(nl = xr_ptr(xr, a[2], 16, XR_P_R)))
            return -EFAULT;
        if (a[3] && !(ol = xr_ptr(xr, a[3], 16, XR_P_W)))
            return -EFAULT;
        return sys_ret(syscall(SYS_prlimit64, 0, (int)a[1], nl, ol));
    }
    case XR_NR_getpid: return getpid();
    case XR_NR_getppid: return getppid();
    case XR_NR_gettid: return gettid();
    case XR_NR_getpgrp: return getpgrp();
    case XR_NR_getpgid: return sys_ret(getpgid((pid_t)a[0]));
    case XR_NR_getsid: return sys_ret(getsid((pid_t)a[0]));
    case XR_NR_setpgid: return sys_ret(setpgid((pid_t)a[0], (pid_t)a[1]));
    case XR_NR_setsid: return sys_ret(setsid());
    case XR_NR_getuid: return sys_uid16(getuid());
    case XR_NR_getgid: return sys_uid16(getgid());
    case XR_NR_geteuid: return sys_uid16(geteuid());
    case XR_NR_getegid: return sys_uid16(getegid());
    case XR_NR_getuid32: return getuid();
    case XR_NR_getgid32: return getgid();
    case XR_NR_geteuid32: return geteuid();
    case XR_NR_getegid32: return getegid();
    case XR_NR_getresuid32: case XR_NR_getresgid32: {
        uint32_t id[3];
        if (nr == XR_NR_getresuid32)
            getresuid(&id[0], &id[1], &id[2]);
        else
            getresgid(&id[0], &id[1], &id[2]);
        for (int i = 0; i < 3; i++)
            if (xr_copy_out(xr, a[i], &id[i], 4) < 0)
                return -EFAULT;
        return 0;
    }
    case XR_NR_getgroups32: {
        if ((int32_t)a[0] < 0 || a[0] > 65536)
            return -EINVAL;
        if (a[0] && !(buf = xr_ptr(xr, a[1], a[0] * 4, XR_P_W)))
            return -EFAULT;
        return sys_ret(getgroups((int)a[0], a[0] ? buf : NULL));
    }
    case XR_NR_personality:
        return 0;              /* PER_LINUX */
    case XR_NR_prctl:
        if (a[0] == 15) {      /* PR_SET_NAME */
            const char *s = xr_str(xr, a[1], 4096);
            if (!s)
                return -EFAULT;
            snprintf(xr->comm, sizeof xr->comm, "%s", s);
            return 0;
        }
        if (a[0] == 16)        /* PR_GET_NAME */
            return xr_copy_out(xr, a[1], xr->comm, sizeof xr->comm);
        return -EINVAL;
    case XR_NR_sched_yield:
        return sched_yield();
    case XR_NR_sched_getaffinity: {
        unsigned char mask[128];
        if (a[0] != 0 && a[0] != (uint32_t)getpid())
            return -ESRCH;
        long r = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
        if (r < 0)
            return -errno;
        if (a[1] < (uint32_t)r || (a[1] & 3))
            return -EINVAL;
        return xr_copy_out(xr, a[2], mask, (uint32_t)r) < 0 ? -EFAULT : r;
    }
    case XR_NR_set_thread_area:
        return sys_set_thread_area(xr, a[0], 1);
    case XR_NR_get_thread_area:
        return sys_set_thread_area(xr, a[0], 0);
    case XR_NR_set_tid_address:
        return gettid();
    case XR_NR_set_robust_list:
        return a[1] == 12 ? 0 : -EINVAL;   /* sizeof(struct robust_list_head) */
    case XR_NR_rseq:
        return -ENOSYS;
    case XR_NR_futex: case XR_NR_futex_time64:
        return sys_futex(xr, a[0], a[1], a[2]);
    case XR_NR_rt_sigaction:
        return sys_rt_sigaction(xr, a[0], a[1], a[2], a[3]);
    case XR_NR_rt_sigprocmask:
        return sys_rt_sigprocmask(xr, a[0], a[1], a[2], a[3]);
    case XR_NR_rt_sigpending: {
        if (a[1] != 8)
            return -EINVAL;
        uint64_t pend = xr->sigpending & xr->sigmask;
        return xr_copy_out(xr, a[0], &pend, 8);
    }
    case XR_NR_sigaltstack:
        return xr_signal_altstack(xr, a[0], a[1]);
    case XR_NR_alarm:
        return 0;
    case XR_NR_kill:
        if ((int32_t)a[0] == getpid() || a[0] == 0)
            return sys_self_signal(xr, a[1], 0 /* SI_USER */);
        return sys_ret(kill((pid_t)a[0], (int)a[1]));
    case XR_NR_tkill:
        if ((int32_t)a[0] == gettid())
            return sys_self_signal(xr, a[1], -6 /* SI_TKILL */);
        return -ESRCH;
    case XR_NR_tgkill:
        if ((int32_t)a[0] == getpid() && (int32_t)a[1] == gettid())
            return sys_self_signal(xr, a[2], -6);
        return -ESRCH;
    case XR_NR_sigreturn:
        return xr_signal_return(xr, 0);
    case XR_NR_rt_sigreturn:
        return xr_signal_return(xr, 1);
    }
    /* fork, vfork, clone, execve, waitpid, wait4, sigreturn and the rest. */
    return -ENOSYS;
}

int xr_syscall(struct xr *xr)
{
    struct vmp_x86_state *s = cpu_state(xr->cpu);
    uint32_t nr = s->gpr[VMP_EAX];
    uint32_t a[6] = {s->gpr[VMP_EBX], s->gpr[VMP_ECX], s->gpr[VMP_EDX],
                     s->gpr[VMP_ESI], s->gpr[VMP_EDI], s->gpr[VMP_EBP]};
    xr->nsyscalls++;
    long r = sys_dispatch(xr, nr, a);
    /* x86run ignores SIGPIPE itself; a write to a broken pipe raises it in
     * the guest instead (pipe(7)). */
    if (r == -EPIPE && (nr == XR_NR_write || nr == XR_NR_writev || nr == XR_NR_pwrite64 ||
                        nr == XR_NR_pwritev))
        xr_signal_send(xr, SIGPIPE, 0);
    if (xr->strace) {
        const char *name = xr_syscall_name(nr);
        if (name)
            fprintf(stderr, "x86run: %s(0x%x, 0x%x, 0x%x, 0x%x, 0x%x, 0x%x) = %ld\n", name, a[0],
                    a[1], a[2], a[3], a[4], a[5], r);
        else
            fprintf(stderr, "x86run: unknown system call %u = -ENOSYS\n", nr);
    }
    if (xr->exited || xr->fatal_signal)
        return -1;
    if (!xr->regs_restored)
        s->gpr[VMP_EAX] = (uint32_t)r;
    xr->regs_restored = 0;
    /* Signals are acted on when the guest returns from the kernel. */
    return xr_signal_deliver_pending(xr);
}
