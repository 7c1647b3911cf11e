/*
 * test_ctl.c - vmm/ctl.c with the server polled on the main thread (as the
 * board's I/O loop does) and the client on a second thread of the same
 * process: status, handled verbs with progress, errors, a connection the
 * handler keeps, a name taken twice, stale sockets, the socket folder's
 * mode, listing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmpack/error.h>

#include "ctl.h"

struct fx {
    char base[32];
    char dir[48];
};

struct owner {
    int quit;
    int suspends;
    struct ctl_conn *kept;
    char last_arg[256];
};

static int owner_handle(void *ctx, struct ctl_conn *c, const char *verb, const char *arg)
{
    struct owner *o = ctx;

    snprintf(o->last_arg, sizeof o->last_arg, "%s", arg);
    if (strcmp(verb, "suspend") == 0) {
        if (arg[0] == '\0') {
            ctl_reply(c, 0, "suspend: expected a path");
            return 0;
        }
        o->suspends++;
        ctl_progress(c, "saving ram 50%%");
        ctl_progress(c, "saving ram 100%%");
        ctl_reply(c, 1, "saved %s", arg);
        return 0;
    }
    if (strcmp(verb, "quit") == 0) {
        o->quit = 1;
        return 0; /* the server sends the default "ok" */
    }
    if (strcmp(verb, "later") == 0) {
        ctl_progress(c, "working");
        o->kept = c;
        return 1;
    }
    ctl_reply(c, 0, "unknown request '%s'", verb);
    return 0;
}

struct req {
    const char *dir, *name, *line;
    int rc;
    int nprogress;
    char progress[4][128];
    char reply[512], err[512];
    volatile int done;
};

static void on_line(void *ctx, const char *text)
{
    struct req *q = ctx;

    if (q->nprogress < 4)
        snprintf(q->progress[q->nprogress], sizeof q->progress[0], "%s", text);
    q->nprogress++;
}

static void *client_main(void *arg)
{
    struct req *q = arg;

    q->rc = vmp_ctl_request(q->dir, q->name, q->line, on_line, q, VMP_CTL_TIMEOUT_MS, q->reply,
                        sizeof q->reply, q->err, sizeof q->err);
    q->done = 1;
    return NULL;
}

/* Serves s until the client thread is done (at most ~5 s). */
static void serve_until(struct ctl_server *s, struct req *q, pthread_t th)
{
    struct pollfd p = {ctl_server_fd(s), POLLIN, 0};
    int i;

    for (i = 0; i < 500 && !q->done; i++) {
        if (poll(&p, 1, 10) > 0)
            assert_int_equal(ctl_server_handle(s), 0);
    }
    pthread_join(th, NULL);
    assert_true(q->done);
}

static void request(struct fx *f, struct ctl_server *s, const char *name, const char *line,
                    struct req *q)
{
    pthread_t th;

    memset(q, 0, sizeof *q);
    q->dir = f->dir;
    q->name = name;
    q->line = line;
    assert_int_equal(pthread_create(&th, NULL, client_main, q), 0);
    serve_until(s, q, th);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];

    assert_non_null(f);
    snprintf(f->base, sizeof f->base, "/tmp/vmp-ctl.XXXXXX");
    assert_non_null(mkdtemp(f->base));
    if (vmp_ctl_dir(f->base, f->dir, sizeof f->dir, err, sizeof err) != 0)
        fail_msg("vmp_ctl_dir: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[256];

    /* Whatever sockets a test left. */
    snprintf(p, sizeof p, "%s/stale.sock", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/vm1.sock", f->dir);
    unlink(p);
    rmdir(f->dir);
    rmdir(f->base);
    free(f);
    return 0;
}

static void test_ctl_dir_mode(void **state)
{
    struct fx *f = *state;
    struct stat sb;
    char dir[128], err[256] = "";

    assert_int_equal(stat(f->dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_non_null(strstr(f->dir, "/vmpack"));
    /* A folder others can enter is refused, not used. */
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(vmp_ctl_dir(f->base, dir, sizeof dir, err, sizeof err), VMP_ERR_IO);
    assert_non_null(strstr(err, "0700"));
    assert_int_equal(chmod(f->dir, 0700), 0);
    /* Without XDG_RUNTIME_DIR: /tmp/vmpack-UID. */
    assert_int_equal(vmp_ctl_dir(NULL, dir, sizeof dir, err, sizeof err), 0);
    assert_non_null(strstr(dir, "/tmp/vmpack-"));
}

static void test_ctl_status_and_verbs(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL;
    struct owner o = {0};
    struct req q;
    char err[256] = "", want[128];

    if (ctl_server_open(f->dir, "vm1", "/x/a.vmpk", owner_handle, &o, &s, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    ctl_server_set_state(s, "running");

    request(f, s, "vm1", "status", &q);
    assert_int_equal(q.rc, 0);
    snprintf(want, sizeof want, "name=vm1 pid=%ld state=running container=/x/a.vmpk",
             (long)getpid());
    assert_string_equal(q.reply, want);

    request(f, s, "vm1", "suspend /tmp/out.vmpk", &q);
    assert_int_equal(q.rc, 0);
    assert_int_equal(o.suspends, 1);
    assert_string_equal(o.last_arg, "/tmp/out.vmpk");
    assert_int_equal(q.nprogress, 2);
    assert_string_equal(q.progress[1], "saving ram 100%");
    assert_string_equal(q.reply, "saved /tmp/out.vmpk");

    request(f, s, "vm1", "suspend", &q);
    assert_int_equal(q.rc, VMP_ERR_INVALID);
    assert_non_null(strstr(q.err, "expected a path"));
    assert_int_equal(o.suspends, 1);

    request(f, s, "vm1", "frobnicate", &q);
    assert_int_equal(q.rc, VMP_ERR_INVALID);
    assert_non_null(strstr(q.err, "unknown request 'frobnicate'"));

    request(f, s, "vm1", "quit", &q);
    assert_int_equal(q.rc, 0);
    assert_int_equal(o.quit, 1);

    /* A multi-line request is refused by the client itself. */
    assert_int_equal(
        vmp_ctl_request(f->dir, "vm1", "status\nquit", NULL, NULL, 100, NULL, 0, err, sizeof err),
        VMP_ERR_INVALID);
    ctl_server_close(s);
}

static void test_ctl_kept_connection(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL;
    struct owner o = {0};
    struct req q;
    pthread_t th;
    struct pollfd p;
    char err[256] = "";
    int i;

    assert_int_equal(ctl_server_open(f->dir, "vm1", "a", owner_handle, &o, &s, err, sizeof err), 0);
    memset(&q, 0, sizeof q);
    q.dir = f->dir;
    q.name = "vm1";
    q.line = "later";
    assert_int_equal(pthread_create(&th, NULL, client_main, &q), 0);
    p = (struct pollfd){ctl_server_fd(s), POLLIN, 0};
    for (i = 0; i < 500 && o.kept == NULL; i++)
        if (poll(&p, 1, 10) > 0)
            assert_int_equal(ctl_server_handle(s), 0);
    assert_non_null(o.kept);
    /* The server is free for others while the handler holds the client. */
    assert_false(q.done);
    ctl_progress(o.kept, "half way");
    ctl_reply(o.kept, 1, "finished");
    ctl_conn_close(o.kept);
    pthread_join(th, NULL);
    assert_int_equal(q.rc, 0);
    assert_int_equal(q.nprogress, 2);
    assert_string_equal(q.progress[1], "half way");
    assert_string_equal(q.reply, "finished");
    ctl_server_close(s);
}

static void test_ctl_name_taken(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL, *s2 = NULL;
    char err[256] = "", p[256];

    assert_int_equal(ctl_server_open(f->dir, "vm1", "a", NULL, NULL, &s, err, sizeof err), 0);
    assert_int_equal(ctl_server_open(f->dir, "vm1", "b", NULL, NULL, &s2, err, sizeof err),
                     VMP_ERR_STATE);
    assert_null(s2);
    assert_non_null(strstr(err, "'vm1' is running"));
    ctl_server_close(s);
    snprintf(p, sizeof p, "%s/vm1.sock", f->dir);
    assert_int_equal(access(p, F_OK), -1); /* close removes the socket */
    assert_int_equal(ctl_server_open(f->dir, "../x", "a", NULL, NULL, &s2, err, sizeof err),
                     VMP_ERR_INVALID);
    assert_int_equal(ctl_server_open(f->dir, "", "a", NULL, NULL, &s2, err, sizeof err),
                     VMP_ERR_INVALID);
}

/* A socket file with nobody listening: what a killed VM leaves. */
static void make_stale(struct fx *f)
{
    struct sockaddr_un sa = {0};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/stale.sock", f->dir);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    assert_int_equal(access(sa.sun_path, F_OK), 0);
}

static void test_ctl_stale_socket(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL;
    char err[256] = "", p[256];

    snprintf(p, sizeof p, "%s/stale.sock", f->dir);
    make_stale(f);
    assert_int_equal(
        vmp_ctl_request(f->dir, "stale", "status", NULL, NULL, 100, NULL, 0, err, sizeof err),
        VMP_ERR_STATE);
    assert_non_null(strstr(err, "stale"));
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(
        vmp_ctl_request(f->dir, "stale", "status", NULL, NULL, 100, NULL, 0, err, sizeof err),
        VMP_ERR_NOT_FOUND);
    /* A new VM takes over a stale name. */
    make_stale(f);
    assert_int_equal(ctl_server_open(f->dir, "stale", "a", NULL, NULL, &s, err, sizeof err), 0);
    ctl_server_close(s);
}

struct seen {
    int live, stale;
    char status[512];
};

static void on_vm(void *ctx, const char *name, const char *status, const char *why)
{
    struct seen *s = ctx;

    if (status != NULL && strcmp(name, "vm1") == 0) {
        s->live++;
        snprintf(s->status, sizeof s->status, "%s", status);
    } else if (status == NULL && strcmp(name, "stale") == 0 && strstr(why, "stale") != NULL) {
        s->stale++;
    }
}

struct lister {
    const char *dir;
    struct seen seen;
    int rc;
    volatile int done;
};

static void *list_main(void *arg)
{
    struct lister *l = arg;
    char err[256];

    l->rc = vmp_ctl_list(l->dir, on_vm, &l->seen, err, sizeof err);
    l->done = 1;
    return NULL;
}

static void test_ctl_list(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL;
    struct lister l = {0};
    struct pollfd p;
    pthread_t th;
    char err[256] = "", path[256];
    int i;

    assert_int_equal(ctl_server_open(f->dir, "vm1", "/c.vmpk", NULL, NULL, &s, err, sizeof err), 0);
    ctl_server_set_state(s, "paused");
    make_stale(f);
    l.dir = f->dir;
    assert_int_equal(pthread_create(&th, NULL, list_main, &l), 0);
    p = (struct pollfd){ctl_server_fd(s), POLLIN, 0};
    for (i = 0; i < 500 && !l.done; i++)
        if (poll(&p, 1, 10) > 0)
            assert_int_equal(ctl_server_handle(s), 0);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.seen.live, 1);
    assert_int_equal(l.seen.stale, 1);
    assert_non_null(strstr(l.seen.status, "state=paused container=/c.vmpk"));
    snprintf(path, sizeof path, "%s/stale.sock", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    ctl_server_close(s);
}

static void test_ctl_silent_client(void **state)
{
    struct fx *f = *state;
    struct ctl_server *s = NULL;
    struct sockaddr_un sa = {0};
    char err[256] = "", buf[256];
    ssize_t n;
    int fd;

    /* A client that connects and says nothing is answered with an error
     * after the timeout and dropped; the server keeps working. */
    assert_int_equal(ctl_server_open(f->dir, "vm1", "a", NULL, NULL, &s, err, sizeof err), 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/vm1.sock", f->dir);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(write(fd, "stat", 4), 4); /* no newline */
    assert_int_equal(ctl_server_handle(s), 0);
    n = read(fd, buf, sizeof buf - 1);
    assert_true(n > 6);
    buf[n] = '\0';
    assert_memory_equal(buf, "error ", 6);
    close(fd);
    ctl_server_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctl_dir_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_status_and_verbs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_kept_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_name_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_stale_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctl_silent_client, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
