/*
 * xr_sysconv.h - the i386 Linux user ABI's structs that differ from
 * x86-64's, and pure conversions from host values. Layouts follow the
 * kernel's i386 uapi headers (asm/stat.h, asm-generic/statfs.h, ...):
 * long and pointers are 4 bytes, long long is 4-byte aligned.
 */
#ifndef VMP_XR_SYSCONV_H
#define VMP_XR_SYSCONV_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#define XR_PACKED __attribute__((packed, aligned(4)))

struct i386_stat64 {
    uint64_t st_dev;
    uint8_t pad0[4];
    uint32_t st_ino_lo;
    uint32_t st_mode;
    uint32_t st_nlink;
    uint32_t st_uid;
    uint32_t st_gid;
    uint64_t st_rdev;
    uint8_t pad3[4];
    int64_t st_size;
    uint32_t st_blksize;
    uint64_t st_blocks;
    uint32_t st_atime_sec, st_atime_nsec;
    uint32_t st_mtime_sec, st_mtime_nsec;
    uint32_t st_ctime_sec, st_ctime_nsec;
    uint64_t st_ino;
} XR_PACKED;

struct i386_stat {
    uint32_t st_dev;
    uint32_t st_ino;
    uint16_t st_mode;
    uint16_t st_nlink;
    uint16_t st_uid;
    uint16_t st_gid;
    uint32_t st_rdev;
    uint32_t st_size;
    uint32_t st_blksize;
    uint32_t st_blocks;
    uint32_t st_atime_sec, st_atime_nsec;
    uint32_t st_mtime_sec, st_mtime_nsec;
    uint32_t st_ctime_sec, st_ctime_nsec;
    uint32_t unused4, unused5;
} XR_PACKED;

struct i386_timespec { int32_t tv_sec, tv_nsec; };
struct i386_timespec64 { int64_t tv_sec, tv_nsec; } XR_PACKED;
struct i386_timeval { int32_t tv_sec, tv_usec; };
struct i386_iovec { uint32_t base, len; };
struct i386_rlimit { uint32_t cur, max; };
struct i386_tms { int32_t utime, stime, cutime, cstime; };

struct i386_sysinfo {
    int32_t uptime;
    uint32_t loads[3];
    uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint32_t totalhigh, freehigh;
    uint32_t mem_unit;
    char f[8];
};

struct i386_rusage {
    struct i386_timeval utime, stime;
    int32_t fields[14];         /* maxrss .. nivcsw, in struct rusage order */
};

struct i386_flock64 {
    int16_t l_type, l_whence;
    int64_t l_start, l_len;
    int32_t l_pid;
} XR_PACKED;

struct i386_statfs64 {
    uint32_t f_type, f_bsize;
    uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int32_t f_fsid[2];
    uint32_t f_namelen, f_frsize, f_flags;
    uint32_t f_spare[4];
} XR_PACKED;

struct i386_user_desc {
    uint32_t entry_number;
    uint32_t base_addr;
    uint32_t limit;
    uint32_t flags;     /* seg_32bit:1 contents:2 read_exec_only:1
                           limit_in_pages:1 seg_not_present:1 useable:1 */
};

#define XR_RLIM32_INFINITY 0xFFFFFFFFu

void xr_conv_stat64(const struct stat *st, struct i386_stat64 *out);
/* 0, or -EOVERFLOW when a value does not fit the old 32-bit struct. */
int xr_conv_stat(const struct stat *st, struct i386_stat *out);
/* 0, or -EOVERFLOW when the seconds do not fit 32 bits. */
int xr_conv_timespec(const struct timespec *ts, struct i386_timespec *out);
void xr_conv_timespec64(const struct timespec *ts, struct i386_timespec64 *out);
int xr_conv_timeval(const struct timeval *tv, struct i386_timeval *out);
void xr_conv_rlimit(const struct rlimit *rl, struct i386_rlimit *out);
void xr_conv_rlimit_in(const struct i386_rlimit *in, struct rlimit *out);
void xr_conv_sysinfo(const struct sysinfo *si, struct i386_sysinfo *out);
void xr_conv_rusage(const struct rusage *ru, struct i386_rusage *out);
void xr_conv_tms(const struct tms *t, struct i386_tms *out);
void xr_conv_statfs64(const struct statfs *sf, struct i386_statfs64 *out);
/* Descriptor attribute (struct vmp_x86_seg attr encoding) and byte limit
 * of a set_thread_area request (SDM 3A 3.4.5). */
uint16_t xr_conv_desc_attr(const struct i386_user_desc *d);
uint32_t xr_conv_desc_limit(const struct i386_user_desc *d);

#endif
