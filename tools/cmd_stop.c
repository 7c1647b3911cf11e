/*
 * cmd_stop.c - `vmpack stop NAME`: ends the running VM NAME without saving
 * it, through its control socket's "quit" (spec/snapshot.md 5), then waits
 * for the VM process to end. The container stays as it was; the guest's
 * state since then is lost, as after a power cut.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmpack/ctl.h>

int cmd_stop(int argc, char **argv);

/* How long the VM process may take to end after its "ok". */
#define STOP_EXIT_WAIT_S 10.0

static void help(void)
{
    printf("usage: vmpack stop NAME\n\n"
           "End the running VM NAME (see `vmpack ps`) without saving it: its vCPU\n"
           "stops at the next block boundary and its process exits (`vmpack run`\n"
           "exits 0). Its container is not written: the guest's state and disk\n"
           "writes since the container was made are lost, as after a power cut.\n"
           "To keep them, use `vmpack suspend NAME` instead. A VM that is saving a\n"
           "suspend refuses the stop.\n\n"
           "  -h, --help   show this help\n\n"
           "Exit status: 0 once the VM process has ended; 1 if no VM of that name\n"
           "runs, it refused, or it did not end within %.0f s; 2 for bad arguments.\n",
           STOP_EXIT_WAIT_S);
}

/* "pid=N" in a status answer ("name=... pid=... state=..."), or 0. */
static long stop_pid(const char *status)
{
    const char *p = strstr(status, " pid=");

    return p != NULL ? strtol(p + 5, NULL, 10) : 0;
}

/* A process that ended but was not reaped yet (a zombie) counts as gone. */
static int stop_pid_gone(long pid)
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
    if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
        gone = p[2] == 'Z' || p[2] == 'X';
    fclose(f);
    return gone;
}

int cmd_stop(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct timespec ts = {0, 20 * 1000 * 1000};
    char dir[256], err[4096], reply[VMP_CTL_LINE_MAX];
    const char *name;
    double until;
    long pid;
    int c, rc;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_bad_option("stop", c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage("stop", "expected one VM name (see vmpack ps)");
    name = argv[optind];
    if (!vmp_ctl_name_valid(name))
        return cli_usage("stop", "'%s' is not a VM name (1-63 of A-Z a-z 0-9 . _ -)", name);
    if (vmp_ctl_dir(getenv("XDG_RUNTIME_DIR"), dir, sizeof dir, err, sizeof err) != 0)
        return cli_error("stop", "%s", err);

    /* the PID first: "quit" answers before the process ends */
    rc = vmp_ctl_request(dir, name, "status", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, err,
                     sizeof err);
    if (rc != 0)
        return cli_error("stop", "%s", err);
    pid = stop_pid(reply);
    rc = vmp_ctl_request(dir, name, "quit", NULL, NULL, VMP_CTL_TIMEOUT_MS, reply, sizeof reply, err,
                     sizeof err);
    if (rc != 0)
        return cli_error("stop", "VM '%s': %s", name, err);
    until = cli_now() + STOP_EXIT_WAIT_S;
    while (pid > 0 && !stop_pid_gone(pid)) {
        if (cli_now() > until)
            return cli_error("stop",
                             "VM '%s' (process %ld) accepted the stop but has not ended "
                             "after %.0f s",
                             name, pid, STOP_EXIT_WAIT_S);
        nanosleep(&ts, NULL);
    }
    printf("stopped VM '%s' (process %ld); its container was not written\n", name, pid);
    return CLI_OK;
}
