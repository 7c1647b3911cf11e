/*
 * dt_worker.c - start, drive and restart the native and translated
 * runners (dt_worker.h). The exchange buffer is a memfd that survives a
 * worker's restart; only the process is replaced.
 */
#define _GNU_SOURCE
#include "dt_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dt_proto.h"

static void worker_close_fds(struct dt_worker *w)
{
    if (w->cmd_fd >= 0)
        close(w->cmd_fd);
    if (w->reply_fd >= 0)
        close(w->reply_fd);
    w->cmd_fd = w->reply_fd = -1;
}

static int worker_spawn(struct dt_worker *w)
{
    int cmd[2], reply[2];
    pid_t pid;

    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(reply, O_CLOEXEC) != 0) {
        snprintf(w->errmsg, sizeof w->errmsg, "pipe: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(w->errmsg, sizeof w->errmsg, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(cmd[1]);
        close(reply[0]);
        if (w->kind == DT_W_NATIVE) {
            char fdarg[16];
            if (dup2(cmd[0], 0) < 0 || dup2(reply[1], 1) < 0)
                _exit(127);
            snprintf(fdarg, sizeof fdarg, "%d", w->mem_fd);
            execl(w->arg, w->arg, fdarg, (char *)NULL);
            fprintf(stderr, "difftest: cannot run %s: %s\n", w->arg, strerror(errno));
            _exit(127);
        }
        _exit(dt_xlat_serve(w->xchg, cmd[0], reply[1], w->arg) == 0 ? 0 : 1);
    }
    close(cmd[0]);
    close(reply[1]);
    w->pid = pid;
    w->cmd_fd = cmd[1];
    w->reply_fd = reply[0];
    return 0;
}

int dt_worker_start(struct dt_worker *w, enum dt_worker_kind kind, const char *arg)
{
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->arg = arg;
    w->cmd_fd = w->reply_fd = -1;
    signal(SIGPIPE, SIG_IGN);
    /* no MFD_CLOEXEC: the native runner inherits it by number */
    w->mem_fd = memfd_create("difftest-xchg", 0);
    if (w->mem_fd < 0 || ftruncate(w->mem_fd, DT_XCHG_BYTES) != 0) {
        snprintf(w->errmsg, sizeof w->errmsg, "memfd: %s", strerror(errno));
        return -1;
    }
    w->xchg = mmap(NULL, DT_XCHG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, w->mem_fd, 0);
    if (w->xchg == MAP_FAILED) {
        w->xchg = NULL;
        snprintf(w->errmsg, sizeof w->errmsg, "mmap: %s", strerror(errno));
        return -1;
    }
    return worker_spawn(w);
}

uint8_t *dt_worker_case(struct dt_worker *w)
{
    return w->xchg;
}

int dt_worker_go(struct dt_worker *w)
{
    char c = 'c';
    memset(w->xchg + DT_RESULT_OFF, 0, sizeof(struct dt_result));
    if (write(w->cmd_fd, &c, 1) != 1)
        return -1; /* dt_worker_wait sees the dead worker */
    return 0;
}

static void worker_reap(struct dt_worker *w, uint32_t status, const char *why)
{
    struct dt_result *res = (struct dt_result *)(w->xchg + DT_RESULT_OFF);
    int ws = 0;

    kill(w->pid, SIGKILL);
    waitpid(w->pid, &ws, 0);
    memset(res, 0, sizeof *res);
    res->status = status;
    if (WIFSIGNALED(ws) && status == DT_ST_CRASH)
        snprintf(res->msg, sizeof res->msg, "%s worker %s: killed by signal %d",
                 w->kind == DT_W_NATIVE ? "native" : "translated", why, WTERMSIG(ws));
    else
        snprintf(res->msg, sizeof res->msg, "%s worker %s (exit status %d)",
                 w->kind == DT_W_NATIVE ? "native" : "translated", why,
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    worker_close_fds(w);
    w->restarts++;
}

int dt_worker_wait(struct dt_worker *w, int timeout_ms)
{
    struct pollfd pfd = {.fd = w->reply_fd, .events = POLLIN};
    char c;
    int n;

    do {
        n = poll(&pfd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        worker_reap(w, DT_ST_TIMEOUT, "timed out");
        return worker_spawn(w);
    }
    if (n > 0 && read(w->reply_fd, &c, 1) == 1 && c == 'r')
        return 0;
    worker_reap(w, DT_ST_CRASH, "died");
    return worker_spawn(w);
}

void dt_worker_stop(struct dt_worker *w)
{
    if (w->pid > 0) {
        char c = 'q';
        int ws;
        if (write(w->cmd_fd, &c, 1) != 1)
            kill(w->pid, SIGKILL);
        worker_close_fds(w);
        waitpid(w->pid, &ws, 0);
        w->pid = 0;
    }
    if (w->xchg)
        munmap(w->xchg, DT_XCHG_BYTES);
    if (w->mem_fd >= 0)
        close(w->mem_fd);
    w->xchg = NULL;
    w->mem_fd = -1;
}
