/*
 * xr_sysnr.h - i386 Linux system call numbers that x86run knows, in the
 * numbering of the kernel's arch/x86/entry/syscalls/syscall_32.tbl.
 * X(number, name): the list drives both the enum and the names for --strace.
 */
#ifndef VMP_XR_SYSNR_H
#define VMP_XR_SYSNR_H

#define XR_SYSCALLS(X) \
    X(1, exit) X(2, fork) X(3, read) X(4, write) X(5, open) X(6, close) \
    X(7, waitpid) X(8, creat) X(9, link) X(10, unlink) X(11, execve) X(12, chdir) \
    X(13, time) X(15, chmod) X(19, lseek) X(20, getpid) X(24, getuid) X(27, alarm) \
    X(33, access) X(36, sync) X(37, kill) X(38, rename) X(39, mkdir) X(40, rmdir) \
    X(41, dup) X(42, pipe) X(43, times) X(45, brk) X(47, getgid) X(49, geteuid) \
    X(50, getegid) X(54, ioctl) X(55, fcntl) X(57, setpgid) X(60, umask) X(63, dup2) \
    X(64, getppid) X(65, getpgrp) X(66, setsid) X(75, setrlimit) X(76, getrlimit) \
    X(77, getrusage) X(78, gettimeofday) X(83, symlink) X(85, readlink) X(90, mmap) \
    X(91, munmap) X(92, truncate) X(93, ftruncate) X(94, fchmod) X(106, stat) \
    X(107, lstat) X(108, fstat) X(114, wait4) X(116, sysinfo) X(118, fsync) \
    X(119, sigreturn) X(120, clone) X(122, uname) X(125, mprotect) X(132, getpgid) \
    X(133, fchdir) X(136, personality) X(140, _llseek) X(142, _newselect) X(143, flock) \
    X(145, readv) X(146, writev) X(147, getsid) X(148, fdatasync) X(158, sched_yield) \
    X(162, nanosleep) X(163, mremap) X(168, poll) X(172, prctl) X(173, rt_sigreturn) \
    X(174, rt_sigaction) X(175, rt_sigprocmask) X(176, rt_sigpending) X(180, pread64) X(181, pwrite64) \
    X(183, getcwd) X(186, sigaltstack) X(190, vfork) X(191, ugetrlimit) X(192, mmap2) \
    X(193, truncate64) X(194, ftruncate64) X(195, stat64) X(196, lstat64) \
    X(197, fstat64) X(198, lchown32) X(199, getuid32) X(200, getgid32) \
    X(201, geteuid32) X(202, getegid32) X(205, getgroups32) X(207, fchown32) \
    X(209, getresuid32) X(211, getresgid32) X(212, chown32) X(219, madvise) \
    X(220, getdents64) X(221, fcntl64) X(224, gettid) X(238, tkill) X(240, futex) \
    X(242, sched_getaffinity) X(243, set_thread_area) X(244, get_thread_area) \
    X(252, exit_group) X(258, set_tid_address) X(265, clock_gettime) \
    X(266, clock_getres) X(267, clock_nanosleep) X(268, statfs64) X(269, fstatfs64) \
    X(270, tgkill) X(272, fadvise64_64) X(295, openat) X(296, mkdirat) \
    X(298, fchownat) X(300, fstatat64) X(301, unlinkat) X(302, renameat) \
    X(303, linkat) X(304, symlinkat) X(305, readlinkat) X(306, fchmodat) \
    X(307, faccessat) X(311, set_robust_list) X(320, utimensat) X(330, dup3) \
    X(331, pipe2) X(333, preadv) X(334, pwritev) X(340, prlimit64) X(353, renameat2) \
    X(355, getrandom) X(383, statx) X(386, rseq) X(403, clock_gettime64) \
    X(406, clock_getres_time64) X(407, clock_nanosleep_time64) \
    X(412, utimensat_time64) X(422, futex_time64) X(439, faccessat2)

enum xr_sysnr {
#define XR_SYSNR_ENUM(n, name) XR_NR_##name = n,
    XR_SYSCALLS(XR_SYSNR_ENUM)
#undef XR_SYSNR_ENUM
};

#endif
