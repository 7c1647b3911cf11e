/*
 * cli_ctl.c - the control socket client pieces `vmpack ps`, `stop` and
 * `suspend` share (cli_ctl.h).
 */
#include "cli_ctl.h"

#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmpack/ctl.h>

int cli_ctl_dir(const char *cmd, const char *name, char *dir, size_t dirlen)
{
    char err[512];

    if (!vmp_ctl_name_valid(name))
        return cli_usage(cmd, "'%s' is not a VM name (1-63 of A-Z a-z 0-9 . _ -)", name);
    if (vmp_ctl_dir(getenv("XDG_RUNTIME_DIR"), dir, dirlen, err, sizeof err) != 0)
        return cli_error(cmd, "%s", err);
    return CLI_OK;
}

int cli_ctl_field(const char *reply, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key), n;
    const char *p, *e;

    out[0] = '\0';
    for (p = reply; (p = strstr(p, key)) != NULL; p++)
        if ((p == reply || p[-1] == ' ') && p[klen] == '=')
            break;
    if (p == NULL)
        return -1;
    p += klen + 1;
    e = strcmp(key, "path") == 0 || strcmp(key, "container") == 0 ? NULL : strchr(p, ' ');
    if (e == NULL)
        e = p + strlen(p);
    n = (size_t)(e - p) < outlen - 1 ? (size_t)(e - p) : outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

unsigned long long cli_ctl_num(const char *reply, const char *key)
{
    char v[32];

    return cli_ctl_field(reply, key, v, sizeof v) == 0 ? strtoull(v, NULL, 10) : 0;
}

static int ctl_pid_gone(long pid)
{
    char path[64], buf[256], *p;
    FILE *f;
    int gone = 0;

    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 1;
    /* proc(5): "pid (comm) S ...", comm may hold ')' */
    if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
        gone = p[2] == 'Z' || p[2] == 'X';
    fclose(f);
    return gone;
}

int cli_ctl_wait_exit(long pid, double max_s)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    double until = cli_now() + max_s;

    while (!ctl_pid_gone(pid)) {
        if (cli_now() > until)
            return -1;
        nanosleep(&ts, NULL);
    }
    return 0;
}
