/*
 * ctl.c - the control socket of a running VM: a Unix stream socket with a
 * one-request-per-connection line protocol (spec/snapshot.md 5).
 */
#define _GNU_SOURCE
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmpack/error.h>

struct ctl_conn {
    int fd;
    int finished; /* the final line was sent */
};

struct ctl_server {
    int fd;
    char path[VMP_CTL_PATH_MAX];
    dev_t dev;
    ino_t ino;
    char name[64];
    char container[1024];
    char state[32];
    ctl_handler *handler;
    void *ctx;
};

static int ctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int ctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int vmp_ctl_dir(const char *xdg, char *buf, size_t buflen, char *err, size_t errlen)
{
    struct stat sb;
    int n;

    if (xdg != NULL && xdg[0] != '\0')
        n = snprintf(buf, buflen, "%s/vmpack", xdg);
    else
        n = snprintf(buf, buflen, "/tmp/vmpack-%u", (unsigned)getuid());
    if (n < 0 || (size_t)n >= buflen)
        return ctl_fail(err, errlen, VMP_ERR_LIMIT, "socket folder name too long");
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return ctl_fail(err, errlen, VMP_ERR_IO, "%s: mkdir: %s", buf, strerror(errno));
    /* In /tmp anyone could have made it first: it must be ours and closed. */
    if (lstat(buf, &sb) != 0)
        return ctl_fail(err, errlen, VMP_ERR_IO, "%s: %s", buf, strerror(errno));
    if (!S_ISDIR(sb.st_mode) || sb.st_uid != getuid() || (sb.st_mode & 077) != 0)
        return ctl_fail(err, errlen, VMP_ERR_IO,
                        "%s: expected a folder of uid %u with mode 0700, found mode %o uid %u", buf,
                        (unsigned)getuid(), (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
    return 0;
}

int vmp_ctl_name_valid(const char *name)
{
    size_t i, n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > 63 || name[0] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        char ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int ctl_addr(const char *dir, const char *name, struct sockaddr_un *sa, char *err,
                    size_t errlen)
{
    int n;

    if (!vmp_ctl_name_valid(name))
        return ctl_fail(err, errlen, VMP_ERR_INVALID,
                        "VM name '%s': expected 1-63 of A-Z a-z 0-9 . _ -", name ? name : "");
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s.sock", dir, name);
    if (n < 0 || (size_t)n >= sizeof sa->sun_path)
        return ctl_fail(err, errlen, VMP_ERR_LIMIT, "%s/%s.sock: longer than %zu bytes", dir, name,
                        sizeof sa->sun_path - 1);
    return 0;
}

/* 1: something listens there; 0: nothing (a stale socket was removed, or
 * there was none); negative: an error. */
static int ctl_probe(const struct sockaddr_un *sa, char *err, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

    if (fd < 0)
        return ctl_fail(err, errlen, VMP_ERR_IO, "socket: %s", strerror(errno));
    rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    if (rc == 0) {
        close(fd);
        return 1;
    }
    rc = errno;
    close(fd);
    if (rc == ENOENT)
        return 0;
    if (rc == ECONNREFUSED) {
        /* A socket file with no listener: its VM died without cleaning up. */
        if (unlink(sa->sun_path) != 0 && errno != ENOENT)
            return ctl_fail(err, errlen, VMP_ERR_IO, "%s: stale, cannot remove: %s", sa->sun_path,
                            strerror(errno));
        return 0;
    }
    return ctl_fail(err, errlen, VMP_ERR_IO, "%s: connect: %s", sa->sun_path, strerror(rc));
}

int ctl_server_open(const char *dir, const char *name, const char *container, ctl_handler *handler,
                    void *ctx, struct ctl_server **out, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct ctl_server *s;
    struct stat sb;
    int rc;

    *out = NULL;
    rc = ctl_addr(dir, name, &sa, err, errlen);
    if (rc != 0)
        return rc;
    rc = ctl_probe(&sa, err, errlen);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return ctl_fail(err, errlen, VMP_ERR_STATE, "a VM named '%s' is running (%s)", name,
                        sa.sun_path);
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return ctl_fail(err, errlen, VMP_ERR_NOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", sa.sun_path);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->container, sizeof s->container, "%s", container ? container : "");
    snprintf(s->state, sizeof s->state, "starting");
    s->handler = handler;
    s->ctx = ctx;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd < 0) {
        rc = ctl_fail(err, errlen, VMP_ERR_IO, "socket: %s", strerror(errno));
        goto fail;
    }
    if (bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        rc = ctl_fail(err, errlen, errno == EADDRINUSE ? VMP_ERR_STATE : VMP_ERR_IO, "%s: bind: %s",
                      s->path, strerror(errno));
        goto fail;
    }
    if (stat(s->path, &sb) == 0) {
        s->dev = sb.st_dev;
        s->ino = sb.st_ino;
    }
    if (listen(s->fd, 8) != 0) {
        rc = ctl_fail(err, errlen, VMP_ERR_IO, "%s: listen: %s", s->path, strerror(errno));
        unlink(s->path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->fd >= 0)
        close(s->fd);
    free(s);
    return rc;
}

void ctl_server_close(struct ctl_server *s)
{
    struct stat sb;

    if (s == NULL)
        return;
    /* Only our own socket: a later VM of the same name may have replaced
     * it after we were declared stale. */
    if (stat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
        unlink(s->path);
    close(s->fd);
    free(s);
}

int ctl_server_fd(const struct ctl_server *s)
{
    return s->fd;
}

void ctl_server_set_state(struct ctl_server *s, const char *state)
{
    snprintf(s->state, sizeof s->state, "%s", state);
}

static void ctl_send(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away; the work goes on */
        buf += n;
        len -= (size_t)n;
    }
}

static void ctl_vline(struct ctl_conn *c, const char *prefix, const char *fmt, va_list ap)
{
    char line[VMP_CTL_LINE_MAX];
    size_t n;
    int k;

    n = (size_t)snprintf(line, sizeof line, "%s", prefix);
    k = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (k < 0)
        k = 0;
    n = strlen(line);
    /* One line each: a newline in the text would end it early. */
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ctl_send(c->fd, line, n);
}

void ctl_progress(struct ctl_conn *c, const char *fmt, ...)
{
    va_list ap;

    if (c->finished)
        return;
    va_start(ap, fmt);
    ctl_vline(c, "- ", fmt, ap);
    va_end(ap);
}

void ctl_reply(struct ctl_conn *c, int ok, const char *fmt, ...)
{
    va_list ap;

    if (c->finished)
        return;
    va_start(ap, fmt);
    ctl_vline(c, ok ? "ok " : "error ", fmt, ap);
    va_end(ap);
    c->finished = 1;
}

void ctl_conn_close(struct ctl_conn *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c);
}

/* Reads one line (without the newline) from fd, waiting at most
 * timeout_ms for each read (0: forever). 0, or -1 on EOF, error, timeout
 * or a line too long. */
static int ctl_read_line(int fd, char *buf, size_t buflen, size_t *have, char *line, size_t linelen,
                         int timeout_ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    char *nl;
    ssize_t n;
    size_t len;

    for (;;) {
        nl = memchr(buf, '\n', *have);
        if (nl != NULL) {
            len = (size_t)(nl - buf);
            if (len >= linelen)
                return -1;
            memcpy(line, buf, len);
            line[len] = '\0';
            memmove(buf, nl + 1, *have - len - 1);
            *have -= len + 1;
            return 0;
        }
        if (*have == buflen)
            return -1;
        n = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        n = read(fd, buf + *have, buflen - *have);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        *have += (size_t)n;
    }
}

int ctl_server_handle(struct ctl_server *s)
{
    struct ctl_conn *c;
    char buf[VMP_CTL_LINE_MAX], line[VMP_CTL_LINE_MAX], *arg;
    size_t have = 0;
    int fd, keep;

    fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
            return 0;
        return VMP_ERR_IO;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return VMP_ERR_NOMEM;
    }
    c->fd = fd;
    if (ctl_read_line(fd, buf, sizeof buf, &have, line, sizeof line, CTL_REQUEST_MS) != 0) {
        ctl_reply(c, 0, "expected one request line within %d ms", CTL_REQUEST_MS);
        ctl_conn_close(c);
        return 0;
    }
    arg = strchr(line, ' ');
    if (arg != NULL)
        *arg++ = '\0';
    else
        arg = line + strlen(line);
    if (strcmp(line, "status") == 0) {
        ctl_reply(c, 1, "name=%s pid=%ld state=%s container=%s", s->name, (long)getpid(), s->state,
                  s->container);
        keep = 0;
    } else if (s->handler != NULL) {
        keep = s->handler(s->ctx, c, line, arg);
    } else {
        ctl_reply(c, 0, "unknown request '%s'", line);
        keep = 0;
    }
    if (keep == 1)
        return 0;
    if (!c->finished)
        ctl_reply(c, 1, "%s", line);
    ctl_conn_close(c);
    return 0;
}

int vmp_ctl_request(const char *dir, const char *name, const char *line,
                void (*on_line)(void *ctx, const char *text), void *ctx, int timeout_ms,
                char *reply, size_t replylen, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    char buf[VMP_CTL_LINE_MAX], in[VMP_CTL_LINE_MAX], *req = NULL;
    size_t have = 0, len;
    int fd = -1, rc;

    if (reply != NULL && replylen > 0)
        reply[0] = '\0';
    rc = ctl_addr(dir, name, &sa, err, errlen);
    if (rc != 0)
        return rc;
    len = strlen(line);
    if (len + 1 > VMP_CTL_LINE_MAX || memchr(line, '\n', len) != NULL)
        return ctl_fail(err, errlen, VMP_ERR_INVALID, "request: one line of at most %d bytes",
                        VMP_CTL_LINE_MAX - 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ctl_fail(err, errlen, VMP_ERR_IO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;

        close(fd);
        if (e == ENOENT)
            return ctl_fail(err, errlen, VMP_ERR_NOT_FOUND, "no VM named '%s' (no %s)", name,
                            sa.sun_path);
        if (e == ECONNREFUSED) {
            unlink(sa.sun_path);
            return ctl_fail(err, errlen, VMP_ERR_STATE, "VM '%s' is gone (stale socket %s removed)",
                            name, sa.sun_path);
        }
        return ctl_fail(err, errlen, VMP_ERR_IO, "%s: connect: %s", sa.sun_path, strerror(e));
    }
    req = malloc(len + 1);
    if (req == NULL) {
        rc = ctl_fail(err, errlen, VMP_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(req, line, len);
    req[len] = '\n';
    ctl_send(fd, req, len + 1);
    for (;;) {
        if (ctl_read_line(fd, buf, sizeof buf, &have, in, sizeof in, timeout_ms) != 0) {
            rc = ctl_fail(err, errlen, VMP_ERR_IO, "VM '%s' did not answer '%s'%s", name, line,
                          timeout_ms > 0 ? " in time" : "");
            goto out;
        }
        if (strncmp(in, "- ", 2) == 0) {
            if (on_line != NULL)
                on_line(ctx, in + 2);
            continue;
        }
        if (strcmp(in, "ok") == 0 || strncmp(in, "ok ", 3) == 0) {
            if (reply != NULL && replylen > 0)
                snprintf(reply, replylen, "%s", in[2] ? in + 3 : "");
            rc = 0;
            goto out;
        }
        if (strncmp(in, "error ", 6) == 0) {
            if (reply != NULL && replylen > 0)
                snprintf(reply, replylen, "%s", in + 6);
            rc = ctl_fail(err, errlen, VMP_ERR_INVALID, "VM '%s': %s", name, in + 6);
            goto out;
        }
        rc = ctl_fail(err, errlen, VMP_ERR_IO, "VM '%s': unexpected answer line '%.80s'", name, in);
        goto out;
    }
out:
    free(req);
    close(fd);
    return rc;
}

int vmp_ctl_list(const char *dir, vmp_ctl_list_fn *fn, void *ctx, char *err, size_t errlen)
{
    struct dirent *e;
    char name[64], reply[VMP_CTL_LINE_MAX], why[512];
    size_t n;
    DIR *d;
    int rc;

    d = opendir(dir);
    if (d == NULL)
        return ctl_fail(err, errlen, VMP_ERR_IO, "%s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        n = strlen(e->d_name);
        if (n <= 5 || n - 5 >= sizeof name || strcmp(e->d_name + n - 5, ".sock") != 0)
            continue;
        memcpy(name, e->d_name, n - 5);
        name[n - 5] = '\0';
        if (!vmp_ctl_name_valid(name))
            continue;
        why[0] = '\0';
        rc = vmp_ctl_request(dir, name, "status", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, why,
                         sizeof why);
        if (rc == 0)
            fn(ctx, name, reply, NULL);
        else if (rc == VMP_ERR_STATE)
            fn(ctx, name, NULL, "stale socket removed");
        else if (rc != VMP_ERR_NOT_FOUND)
            fn(ctx, name, NULL, why);
    }
    closedir(d);
    return 0;
}
