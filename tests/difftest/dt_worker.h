/*
 * dt_worker.h - the processes that run cases: the native runner (a 32-bit
 * executable, dt_runner.c) and the translated runner (a forked child that
 * drives vmm/cpu, dt_xlat.c). A worker that dies or hangs is killed and
 * started again, and the case reads DT_ST_CRASH or DT_ST_TIMEOUT: a
 * translator crash is a finding, never the end of a run.
 *
 * Lifecycle:
 *   1. dt_worker_start(&w, kind, arg): arg is the runner's path (native)
 *      or the profile name (translated; NULL for "host").
 *   2. Fill dt_worker_case(&w) (the exchange buffer, dt_proto.h), then
 *      dt_worker_go(&w) and dt_worker_wait(&w, ms); the result is at
 *      DT_RESULT_OFF. go/wait are split so two workers run in parallel.
 *   3. dt_worker_stop(&w).
 */
#ifndef DT_WORKER_H
#define DT_WORKER_H

#include <stdint.h>
#include <sys/types.h>

enum dt_worker_kind { DT_W_NATIVE = 0, DT_W_XLAT = 1 };

struct dt_worker {
    enum dt_worker_kind kind;
    const char *arg;
    pid_t pid;
    int cmd_fd, reply_fd;
    int mem_fd;
    uint8_t *xchg;
    unsigned restarts;
    char errmsg[200];
};

int dt_worker_start(struct dt_worker *w, enum dt_worker_kind kind, const char *arg);
uint8_t *dt_worker_case(struct dt_worker *w);
int dt_worker_go(struct dt_worker *w);
/* 0: a result is in the buffer (possibly CRASH/TIMEOUT); -1: could not
 * restart the worker (errmsg says why). */
int dt_worker_wait(struct dt_worker *w, int timeout_ms);
void dt_worker_stop(struct dt_worker *w);

/* Options of the translated runner, set before dt_worker_start (the
 * forked child inherits them). */
struct dt_xlat_opts {
    unsigned code_cache_kb;     /* 0: 16 MiB; small values force cache flushes */
    int keep_cache;             /* 1: no cpu_flush between cases (the same code
                                   address gets new bytes: SMC detection) */
    unsigned kick_us;           /* >0: cpu_kick every so many microseconds */
};
void dt_xlat_configure(const struct dt_xlat_opts *opts);

/* The translated runner's loop, run in the forked child (dt_xlat.c). */
int dt_xlat_serve(uint8_t *xchg, int cmd_fd, int reply_fd, const char *profile);
/* 1 if this build has the translated runner. */
int dt_xlat_available(void);

#endif
