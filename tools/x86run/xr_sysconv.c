/*
 * xr_sysconv.c - host (x86-64) struct values to their i386 Linux forms.
 * Sizes are checked against the kernel's i386 layouts at compile time.
 */
#include <errno.h>
#include <string.h>

#include "xr_sysconv.h"

_Static_assert(sizeof(struct i386_stat64) == 96, "i386 struct stat64 is 96 bytes");
_Static_assert(sizeof(struct i386_stat) == 64, "i386 struct stat is 64 bytes");
_Static_assert(sizeof(struct i386_timespec64) == 16, "__kernel_timespec is 16 bytes");
_Static_assert(sizeof(struct i386_sysinfo) == 64, "i386 struct sysinfo is 64 bytes");
_Static_assert(sizeof(struct i386_rusage) == 72, "i386 struct rusage is 72 bytes");
_Static_assert(sizeof(struct i386_flock64) == 24, "i386 struct flock64 is 24 bytes");
_Static_assert(sizeof(struct i386_statfs64) == 84, "i386 struct statfs64 is 84 bytes");

void xr_conv_stat64(const struct stat *st, struct i386_stat64 *out)
{
    memset(out, 0, sizeof *out);
    out->st_dev = st->st_dev;
    out->st_ino_lo = (uint32_t)st->st_ino;
    out->st_mode = st->st_mode;
    out->st_nlink = (uint32_t)st->st_nlink;
    out->st_uid = st->st_uid;
    out->st_gid = st->st_gid;
    out->st_rdev = st->st_rdev;
    out->st_size = st->st_size;
    out->st_blksize = (uint32_t)st->st_blksize;
    out->st_blocks = (uint64_t)st->st_blocks;
    out->st_atime_sec = (uint32_t)st->st_atim.tv_sec;
    out->st_atime_nsec = (uint32_t)st->st_atim.tv_nsec;
    out->st_mtime_sec = (uint32_t)st->st_mtim.tv_sec;
    out->st_mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
    out->st_ctime_sec = (uint32_t)st->st_ctim.tv_sec;
    out->st_ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
    out->st_ino = st->st_ino;
}

int xr_conv_stat(const struct stat *st, struct i386_stat *out)
{
    memset(out, 0, sizeof *out);
    if (st->st_ino > UINT32_MAX || st->st_size > INT32_MAX || st->st_nlink > UINT16_MAX ||
        st->st_dev > UINT32_MAX || st->st_rdev > UINT32_MAX)
        return -EOVERFLOW;
    out->st_dev = (uint32_t)st->st_dev;
    out->st_ino = (uint32_t)st->st_ino;
    out->st_mode = (uint16_t)st->st_mode;
    out->st_nlink = (uint16_t)st->st_nlink;
    out->st_uid = st->st_uid > UINT16_MAX ? 65534 : (uint16_t)st->st_uid;
    out->st_gid = st->st_gid > UINT16_MAX ? 65534 : (uint16_t)st->st_gid;
    out->st_rdev = (uint32_t)st->st_rdev;
    out->st_size = (uint32_t)st->st_size;
    out->st_blksize = (uint32_t)st->st_blksize;
    out->st_blocks = (uint32_t)st->st_blocks;
    out->st_atime_sec = (uint32_t)st->st_atim.tv_sec;
    out->st_atime_nsec = (uint32_t)st->st_atim.tv_nsec;
    out->st_mtime_sec = (uint32_t)st->st_mtim.tv_sec;
    out->st_mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
    out->st_ctime_sec = (uint32_t)st->st_ctim.tv_sec;
    out->st_ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
    return 0;
}

int xr_conv_timespec(const struct timespec *ts, struct i386_timespec *out)
{
    if (ts->tv_sec > INT32_MAX || ts->tv_sec < INT32_MIN)
        return -EOVERFLOW;
    out->tv_sec = (int32_t)ts->tv_sec;
    out->tv_nsec = (int32_t)ts->tv_nsec;
    return 0;
}

void xr_conv_timespec64(const struct timespec *ts, struct i386_timespec64 *out)
{
    out->tv_sec = ts->tv_sec;
    out->tv_nsec = ts->tv_nsec;
}

int xr_conv_timeval(const struct timeval *tv, struct i386_timeval *out)
{
    if (tv->tv_sec > INT32_MAX || tv->tv_sec < INT32_MIN)
        return -EOVERFLOW;
    out->tv_sec = (int32_t)tv->tv_sec;
    out->tv_usec = (int32_t)tv->tv_usec;
    return 0;
}

static uint32_t conv_rlim(rlim_t v)
{
    return v == RLIM_INFINITY || v >= XR_RLIM32_INFINITY ? XR_RLIM32_INFINITY : (uint32_t)v;
}

void xr_conv_rlimit(const struct rlimit *rl, struct i386_rlimit *out)
{
    out->cur = conv_rlim(rl->rlim_cur);
    out->max = conv_rlim(rl->rlim_max);
}

void xr_conv_rlimit_in(const struct i386_rlimit *in, struct rlimit *out)
{
    out->rlim_cur = in->cur == XR_RLIM32_INFINITY ? RLIM_INFINITY : in->cur;
    out->rlim_max = in->max == XR_RLIM32_INFINITY ? RLIM_INFINITY : in->max;
}

void xr_conv_sysinfo(const struct sysinfo *si, struct i386_sysinfo *out)
{
    /* Scale the memory unit up until every size fits 32 bits, as the
     * kernel's compat sysinfo does. */
    uint64_t unit = si->mem_unit ? si->mem_unit : 1;
    uint64_t sizes[8] = {si->totalram, si->freeram, si->sharedram, si->bufferram,
                         si->totalswap, si->freeswap, si->totalhigh, si->freehigh};
    unsigned shift = 0;
    for (;;) {
        int fits = 1;
        for (unsigned i = 0; i < 8; i++)
            if ((sizes[i] >> shift) > UINT32_MAX)
                fits = 0;
        if (fits || shift >= 32)
            break;
        shift++;
    }
    memset(out, 0, sizeof *out);
    out->uptime = si->uptime > INT32_MAX ? INT32_MAX : (int32_t)si->uptime;
    for (unsigned i = 0; i < 3; i++)
        out->loads[i] = (uint32_t)si->loads[i];
    out->totalram = (uint32_t)(sizes[0] >> shift);
    out->freeram = (uint32_t)(sizes[1] >> shift);
    out->sharedram = (uint32_t)(sizes[2] >> shift);
    out->bufferram = (uint32_t)(sizes[3] >> shift);
    out->totalswap = (uint32_t)(sizes[4] >> shift);
    out->freeswap = (uint32_t)(sizes[5] >> shift);
    out->procs = si->procs;
    out->totalhigh = (uint32_t)(sizes[6] >> shift);
    out->freehigh = (uint32_t)(sizes[7] >> shift);
    out->mem_unit = (uint32_t)(unit << shift);
}

static int32_t conv_long(long v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

void xr_conv_rusage(const struct rusage *ru, struct i386_rusage *out)
{
    out->utime.tv_sec = conv_long(ru->ru_utime.tv_sec);
    out->utime.tv_usec = (int32_t)ru->ru_utime.tv_usec;
    out->stime.tv_sec = conv_long(ru->ru_stime.tv_sec);
    out->stime.tv_usec = (int32_t)ru->ru_stime.tv_usec;
    long f[14] = {ru->ru_maxrss, ru->ru_ixrss, ru->ru_idrss, ru->ru_isrss,
                  ru->ru_minflt, ru->ru_majflt, ru->ru_nswap, ru->ru_inblock,
                  ru->ru_oublock, ru->ru_msgsnd, ru->ru_msgrcv, ru->ru_nsignals,
                  ru->ru_nvcsw, ru->ru_nivcsw};
    for (unsigned i = 0; i < 14; i++)
        out->fields[i] = conv_long(f[i]);
}

void xr_conv_tms(const struct tms *t, struct i386_tms *out)
{
    out->utime = conv_long(t->tms_utime);
    out->stime = conv_long(t->tms_stime);
    out->cutime = conv_long(t->tms_cutime);
    out->cstime = conv_long(t->tms_cstime);
}

void xr_conv_statfs64(const struct statfs *sf, struct i386_statfs64 *out)
{
    memset(out, 0, sizeof *out);
    out->f_type = (uint32_t)sf->f_type;
    out->f_bsize = (uint32_t)sf->f_bsize;
    out->f_blocks = sf->f_blocks;
    out->f_bfree = sf->f_bfree;
    out->f_bavail = sf->f_bavail;
    out->f_files = sf->f_files;
    out->f_ffree = sf->f_ffree;
    memcpy(out->f_fsid, &sf->f_fsid, sizeof out->f_fsid);
    out->f_namelen = (uint32_t)sf->f_namelen;
    out->f_frsize = (uint32_t)sf->f_frsize;
    out->f_flags = (uint32_t)sf->f_flags;
}

uint16_t xr_conv_desc_attr(const struct i386_user_desc *d)
{
    unsigned seg_32bit = d->flags & 1;
    unsigned contents = (d->flags >> 1) & 3;
    unsigned read_exec_only = (d->flags >> 3) & 1;
    unsigned limit_in_pages = (d->flags >> 4) & 1;
    unsigned not_present = (d->flags >> 5) & 1;
    unsigned useable = (d->flags >> 6) & 1;
    /* type: bit 3 code, bit 2 expand-down/conforming, bit 1 writable/
     * readable, bit 0 accessed; S=1, DPL=3 (SDM 3A 3.4.5.1). */
    unsigned type = (contents << 2) | ((!read_exec_only) << 1) | 1;
    unsigned lo = type | 1u << 4 | 3u << 5 | (!not_present) << 7;
    unsigned hi = useable | seg_32bit << 2 | limit_in_pages << 3;
    return (uint16_t)(lo | hi << 8);
}

uint32_t xr_conv_desc_limit(const struct i386_user_desc *d)
{
    uint32_t limit = d->limit & 0xFFFFF;
    return (d->flags >> 4) & 1 ? (limit << 12) | 0xFFF : limit;
}
